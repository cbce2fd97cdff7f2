"""The topic rules measured on labelled examples; F1 of at least 0.9 for each topic."""

import json
from pathlib import Path

import pytest

from aggregator.classify import load_topics
from aggregator.errors import InputError
from aggregator.evaluation import Example, evaluate, format_report, load_examples, misclassified
from tests.conftest import DATA, REPO

TOPICS = load_topics(REPO / "config" / "topics")
SETS = sorted((DATA / "topics").glob("*.jsonl"))


def test_the_labelled_set_is_large_varied_and_bilingual() -> None:
    examples = [e for path in SETS for e in load_examples(path)]
    assert len(examples) >= 80
    assert sum(not e.topics for e in examples) >= len(examples) / 4
    hangul = sum(any("\uac00" <= ch <= "\ud7a3" for ch in e.title) for e in examples)
    assert hangul >= 25
    assert len({e.id for e in examples}) == len(examples)


def test_f1_of_every_topic_is_at_least_0_9() -> None:
    examples = [e for path in SETS for e in load_examples(path)]
    scores = evaluate(examples, TOPICS)
    report = (
        format_report(scores, len(examples)) + "\n" + "\n".join(misclassified(examples, TOPICS))
    )
    for topic in TOPICS:
        assert scores[topic.id].f1 >= 0.9, report


def test_scores_count_true_and_false_positives_and_misses() -> None:
    examples = [
        Example(
            "a",
            "Inter-Korean hotline restored",
            "Seoul and Pyongyang talked.",
            frozenset({"inter-korean"}),
        ),
        Example("b", "BTS world tour", "Seoul concerts sold out.", frozenset({"inter-korean"})),
        Example("c", "South Korea-US alliance summit", "Washington and Seoul met.", frozenset()),
    ]
    scores = evaluate(examples, TOPICS)
    assert (scores["inter-korean"].true_positives, scores["inter-korean"].false_negatives) == (1, 1)
    assert scores["inter-korean"].precision == 1.0 and scores["inter-korean"].recall == 0.5
    assert scores["alliance"].false_positives == 1 and scores["alliance"].precision == 0.0
    assert [line.split(":")[0] for line in misclassified(examples, TOPICS)] == ["b", "c"]


def test_a_bad_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"id": "x", "title": "t", "topics": []}) + "\n{not json\n")
    with pytest.raises(InputError, match=r"bad\.jsonl:2"):
        load_examples(path)
