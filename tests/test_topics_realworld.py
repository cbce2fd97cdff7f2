"""The shipped topic rules on real news nobody here wrote, held at their figures (issue 17).

tests/data/topics/real/*.jsonl label items of ../shared/realworld (Korean outlets' feeds of
July 2022, Yonhap's Chinese feed of 2024) by reference, judged by ../shared/TOPICS.md. A
third of them (sha1 of link or guid, mod 3 == 0) is held out: the rules were never tuned
on it, and this test reads only that third. Every topic must keep, per language, the F1
it had when the floor was set (README, "Topic feeds"); a rule change that loses ground
on real writing fails here. Borderline items are not counted.

The feeds are read in place; without them the test is skipped on a user's machine, but
fails in CI (CI=true), where they must be present.
"""

import os

import pytest

from aggregator.classify import load_topics
from aggregator.evaluation import Example, evaluate, format_report
from aggregator.labels import load_labelled
from tests.support.project import DATA, REPO

REALWORLD = REPO.parent / "shared" / "realworld"
LABELS = sorted((DATA / "topics" / "real").glob("*.jsonl"))
TOPICS = load_topics(REPO / "config" / "topics")

# Held-out F1 per language and topic when the floor was set; raise them when the rules
# do better, never lower them to let a rule change through. (Set again on 2026-12-05
# when knews-c, yna-cn-b and yna-cn-c joined the held-out third: on the earlier sets
# alone, the rules of that day scored at or above the earlier floors.)
FLOORS = {
    "ko": {"alliance": 0.82, "domestic-politics": 0.90, "inter-korean": 0.92},
    "zh": {"alliance": 0.80, "domestic-politics": 0.92, "inter-korean": 0.88},
}


@pytest.fixture(scope="module")
def heldout() -> list[Example]:
    if not REALWORLD.is_dir():
        reason = f"{REALWORLD} (real outlets' feeds) is not on this machine"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must have it")
        pytest.skip(reason)
    examples: list[Example] = []
    for path in LABELS:
        labelled = load_labelled(path, REALWORLD, split="heldout")
        assert not labelled.problems, "\n".join(labelled.problems)
        examples.extend(e for e in labelled.examples if not e.borderline)
    return examples


def test_the_real_labels_are_there() -> None:
    assert LABELS, f"no labels in {DATA / 'topics' / 'real'}"


@pytest.mark.parametrize("language", sorted(FLOORS))
def test_every_topic_keeps_its_f1_on_held_out_real_news(
    heldout: list[Example], language: str
) -> None:
    examples = [e for e in heldout if e.language == language]
    assert len(examples) >= 100, f"only {len(examples)} held-out {language} items"
    scores = evaluate(examples, TOPICS)
    # Counts only: the held-out items' texts and errors stay unread while rules are tuned.
    report = format_report(scores, len(examples))
    for topic, floor in FLOORS[language].items():
        # Rounded as reported: 18 of 24 found with 3 wrong is 0.800, not 0.7999…
        assert round(scores[topic].f1, 3) >= floor, f"{language} {topic} below {floor}\n{report}"
