"""The classifier gives exactly the outputs recorded in tests/data/classify-expected.json.

The outputs were recorded from the original, straightforward matcher (one scan
per group, kind and field) before it was made fast, so any change to what
matches, where, how often or with what weight shows up here: over every
labelled example in tests/data/topics/ and over generated texts that mix all
terms of the shipped topics in the ways that make matchers disagree (terms that
overlap or start one another, particles, plural and possessive endings,
hyphens and dashes, acronyms glued to Hangul, terms inside longer words, mixed
case, full-width and dotted forms). Examples are recorded in full; generated
texts, which are many and hit many groups, by a digest of their full output.

When the topic rules or the examples change on purpose, the recording is stale
(the test says so); record it again, from the straightforward reference classifier
(tests/support/classify_reference.py), with

    python -m tests.test_classify_equivalence --write
"""

import hashlib
import json
import sys

from aggregator.classify import classify, load_topics
from aggregator.types import TopicMatch
from tests.support import classify_reference as reference
from tests.support.project import DATA, REPO
from tests.support.topic_texts import GENERATED, generated_texts, labelled_texts

EXPECTED = DATA / "classify-expected.json"


def _plain(matches: tuple[TopicMatch, ...]) -> list[list[object]]:
    """A TopicMatch tuple as JSON: every field, every hit's label, count and weight."""

    def hits(found: tuple) -> list[list[object]]:
        return [[h.rule, h.where, h.count, h.weight] for h in found]

    return [
        [m.topic_id, m.score, m.threshold, m.matched, hits(m.hits), hits(m.excluded_by),
         list(m.missing)]
        for m in matches
    ]  # fmt: skip


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False).encode()).hexdigest()[:16]


def _inputs() -> str:
    """What the recording depends on besides the classifier: the rules and the texts."""
    topics = load_topics(REPO / "config" / "topics")
    return _digest([repr(topics), sorted(labelled_texts().items()), generated_texts()])


def record() -> dict[str, object]:
    """The reference classifier's outputs (the fast one is held to them)."""
    topics = load_topics(REPO / "config" / "topics")
    return {
        "inputs": _inputs(),
        "examples": {
            key: _plain(reference.classify(title, body, topics))
            for key, (title, body) in labelled_texts().items()
        },
        "generated": [
            _digest(_plain(reference.classify(t, b, topics))) for t, b in generated_texts()
        ],
    }


def test_the_recording_is_of_these_rules_and_texts() -> None:
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    assert expected["inputs"] == _inputs(), "rules or texts changed: record again (see docstring)"


def test_every_labelled_example_classifies_exactly_as_recorded() -> None:
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))["examples"]
    topics = load_topics(REPO / "config" / "topics")
    texts = labelled_texts()
    assert sorted(texts) == sorted(expected)
    for key, (title, body) in texts.items():
        assert _plain(classify(title, body, topics)) == expected[key], key


def test_every_generated_text_classifies_exactly_as_recorded() -> None:
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))["generated"]
    topics = load_topics(REPO / "config" / "topics")
    texts = generated_texts()
    assert len(texts) == len(expected) == GENERATED
    for index, (title, body) in enumerate(texts):
        output = _plain(classify(title, body, topics))
        assert _digest(output) == expected[index], (index, title, body, output)


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(__doc__)
    text = json.dumps(record(), ensure_ascii=False, separators=(",", ":"))
    EXPECTED.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {EXPECTED} ({len(text.encode()):,} bytes)")
