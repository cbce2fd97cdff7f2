"""How well the topic rules do on labelled examples: precision, recall and F1 per topic.

Examples are JSON Lines, one item per line (issue 6):
``{"id": "...", "title": "...", "body": "...", "topics": ["alliance"], "note": "why"}``.
An empty ``topics`` list means the item belongs in no topic, which is what keeps
precision honest. Everything here is a function of data except ``load_examples``.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from aggregator.classify import Topic, classify
from aggregator.errors import InputError

MICRO = "micro-average"


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
    """Counts and rates for one topic (or all topics pooled, for the micro-average).

    With nothing predicted, precision is 1 (no wrong calls); with nothing to
    find, recall is 1 (nothing missed).
    """

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        found = self.tp + self.fp
        return self.tp / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.tp + self.fn
        return self.tp / wanted if wanted else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


@dataclass(frozen=True)
class Miss:
    """An example the rules got wrong: the labelled topics they missed and the ones they added."""

    example: Example
    missing: frozenset[str]
    extra: frozenset[str]

    def __str__(self) -> str:
        missing = ", ".join(sorted(self.missing)) or "-"
        extra = ", ".join(sorted(self.extra)) or "-"
        return f"{self.example.id}: missing {missing}; extra {extra}: {self.example.title}"


def _text(raw: dict[str, object], key: str, required: bool) -> str:
    value = raw.get(key, None if required else "")
    if not isinstance(value, str):
        raise ValueError(f"{key!r} must be a string" if key in raw else f"{key!r} is required")
    return value


def _example(raw: object) -> Example:
    if not isinstance(raw, dict):
        raise ValueError("must be a JSON object")
    topics = raw.get("topics")
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise ValueError("'topics' must be a list of topic ids (empty for none)")
    example = Example(
        id=_text(raw, "id", True),
        title=_text(raw, "title", True),
        body=_text(raw, "body", False),
        topics=frozenset(topics),
        note=_text(raw, "note", False),
    )
    if not example.id.strip():
        raise ValueError("'id' must not be empty")
    return example


def load_examples(path: Path) -> list[Example]:
    """Read labelled examples; a bad line is reported with the file and its line number."""
    examples: list[Example] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            example = _example(json.loads(line))
        except (json.JSONDecodeError, ValueError) as error:
            raise InputError(f"{path}:{number}", f"not a labelled example: {error}") from None
        if example.id in seen:
            raise InputError(
                f"{path}:{number}", f"id {example.id!r} already used on line {seen[example.id]}"
            )
        seen[example.id] = number
        examples.append(example)
    return examples


def _predictions(examples: Sequence[Example], topics: Sequence[Topic]) -> list[frozenset[str]]:
    return [
        frozenset(m.topic_id for m in classify(e.title, e.body, topics) if m.matched)
        for e in examples
    ]


def evaluate(examples: Sequence[Example], topics: Sequence[Topic]) -> dict[str, Scores]:
    """Scores per topic id, in the order of ``topics``."""
    pairs = list(zip(examples, _predictions(examples, topics), strict=True))
    return {
        topic.id: Scores(
            tp=sum(topic.id in got and topic.id in e.topics for e, got in pairs),
            fp=sum(topic.id in got and topic.id not in e.topics for e, got in pairs),
            fn=sum(topic.id not in got and topic.id in e.topics for e, got in pairs),
        )
        for topic in topics
    }


def micro_average(scores: Mapping[str, Scores]) -> Scores:
    """All topics pooled: every (example, topic) decision counts once."""
    return Scores(
        tp=sum(s.tp for s in scores.values()),
        fp=sum(s.fp for s in scores.values()),
        fn=sum(s.fn for s in scores.values()),
    )


def misclassified(examples: Sequence[Example], topics: Sequence[Topic]) -> list[Miss]:
    """The examples whose predicted topics differ from their labels, in input order."""
    return [
        Miss(example, example.topics - got, got - example.topics)
        for example, got in zip(examples, _predictions(examples, topics), strict=True)
        if got != example.topics
    ]


def format_report(scores: Mapping[str, Scores], examples: int | None = None) -> str:
    """A table: one row per topic, then the micro-average; ``examples`` adds a heading."""
    width = max([len(MICRO), *(len(topic) for topic in scores)])
    header = (
        f"{'topic':<{width}} {'precision':>9} {'recall':>7} {'F1':>6} {'tp':>4} {'fp':>4} {'fn':>4}"
    )
    lines = [f"{examples} labelled examples"] if examples is not None else []
    lines.append(header)
    for topic, s in [*scores.items(), (MICRO, micro_average(scores))]:
        lines.append(
            f"{topic:<{width}} {s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f} "
            f"{s.tp:>4} {s.fp:>4} {s.fn:>4}"
        )
    return "\n".join(lines)
