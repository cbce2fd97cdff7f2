"""How well the topic rules do on labelled examples: precision, recall and F1 per topic.

Examples are JSON Lines, one item per line:
``{"id": "...", "title": "...", "body": "...", "topics": ["alliance"], "note": "why"}``.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aggregator.classify import Topic, classify
from aggregator.errors import InputError


@dataclass(frozen=True)
class Example:
    """One labelled item: its text and the topics an editor says it belongs to."""

    id: str
    title: str
    body: str
    topics: frozenset[str]
    note: str = ""


@dataclass(frozen=True)
class Scores:
    """Counts and rates for one topic (or, under "micro", all topics pooled)."""

    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def load_examples(path: Path) -> list[Example]:
    """Read labelled examples; a bad line is reported with the file and line number."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            examples.append(
                Example(
                    raw["id"],
                    raw["title"],
                    raw.get("body", ""),
                    frozenset(raw["topics"]),
                    raw.get("note", ""),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise InputError(f"{path}:{number}", f"not a labelled example: {error}") from None
    return examples


def predictions(examples: Sequence[Example], topics: Sequence[Topic]) -> list[frozenset[str]]:
    return [
        frozenset(m.topic_id for m in classify(e.title, e.body, topics) if m.matched)
        for e in examples
    ]


def evaluate(examples: Sequence[Example], topics: Sequence[Topic]) -> dict[str, Scores]:
    """Scores per topic id, plus "micro" over all topics."""
    predicted = predictions(examples, topics)
    result = {}
    for topic in topics:
        tp = sum(
            topic.id in p and topic.id in e.topics for e, p in zip(examples, predicted, strict=True)
        )
        fp = sum(
            topic.id in p and topic.id not in e.topics
            for e, p in zip(examples, predicted, strict=True)
        )
        fn = sum(
            topic.id not in p and topic.id in e.topics
            for e, p in zip(examples, predicted, strict=True)
        )
        result[topic.id] = Scores(tp, fp, fn)
    result["micro"] = Scores(
        sum(s.true_positives for s in result.values()),
        sum(s.false_positives for s in result.values()),
        sum(s.false_negatives for s in result.values()),
    )
    return result


def misclassified(examples: Sequence[Example], topics: Sequence[Topic]) -> list[str]:
    """One line per example whose predicted topics differ from its labels."""
    lines = []
    for example, predicted in zip(examples, predictions(examples, topics), strict=True):
        if predicted != example.topics:
            missing = ", ".join(sorted(example.topics - predicted)) or "-"
            extra = ", ".join(sorted(predicted - example.topics)) or "-"
            lines.append(f"{example.id}: missing {missing}; extra {extra}: {example.title}")
    return lines


def format_report(scores: dict[str, Scores], examples: int) -> str:
    """A table of precision, recall and F1 per topic."""
    lines = [
        f"{examples} labelled examples",
        f"{'topic':<20} {'precision':>9} {'recall':>7} {'F1':>6} {'tp':>4} {'fp':>4} {'fn':>4}",
    ]
    for topic, s in scores.items():
        lines.append(
            f"{topic:<20} {s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f} "
            f"{s.true_positives:>4} {s.false_positives:>4} {s.false_negatives:>4}"
        )
    return "\n".join(lines)
