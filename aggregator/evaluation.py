"""How well the topic rules do on labelled examples: precision, recall and F1 per topic.

Examples are JSON Lines, one item per line (issue 6):
``{"id": "...", "title": "...", "body": "...", "topics": ["alliance"], "note": "why"}``,
optionally with ``"lang"``, ``"borderline"`` and ``"split"`` as labels into feed files
carry them (``labels.py``, issue 17). An empty ``topics`` list means the item belongs
in no topic, which is what keeps precision honest. Borderline items (a judge could
go either way) are measured apart, so that they neither inflate nor sink the figures.
Everything here is a function of data except ``load_examples``.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from aggregator.classify import Topic, classify, explain
from aggregator.errors import InputError
from aggregator.ingest.fields import guess_language
from aggregator.types import TopicMatch

MICRO = "micro-average"


@dataclass(frozen=True)
class Example:
    """One labelled item: its text and the topics an editor says it belongs to."""

    id: str
    title: str
    body: str
    topics: frozenset[str]
    note: str = ""
    language: str | None = None
    borderline: bool = False
    split: str | None = None


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
    """An example the rules got wrong: the labelled topics they missed and the ones they added,
    and how the rules scored it against every topic."""

    example: Example
    missing: frozenset[str]
    extra: frozenset[str]
    matches: tuple[TopicMatch, ...] = ()

    def explained(self) -> str:
        """The miss, then the rule hits behind each wrong verdict (a missed topic's shortfall,
        an added topic's evidence)."""
        wrong = self.missing | self.extra
        return "\n".join([str(self), explain([m for m in self.matches if m.topic_id in wrong])])

    def __str__(self) -> str:
        missing = ", ".join(sorted(self.missing)) or "-"
        extra = ", ".join(sorted(self.extra)) or "-"
        return f"{self.example.id}: missing {missing}; extra {extra}: {self.example.title}"


def _text(raw: dict[str, object], key: str, required: bool) -> str:
    value = raw.get(key, None if required else "")
    if not isinstance(value, str):
        raise ValueError(f"{key!r} must be a string" if key in raw else f"{key!r} is required")
    return value


def label_fields(raw: dict[str, object]) -> tuple[frozenset[str], bool]:
    """A label's topics and borderline flag, checked alike whether the label holds its text or
    points into a feed file (``labels.py``); ValueError saying what is wrong."""
    topics = raw.get("topics")
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise ValueError("'topics' must be a list of topic ids (empty for none)")
    borderline = raw.get("borderline", False)
    if not isinstance(borderline, bool):
        raise ValueError("'borderline' must be true or false")
    return frozenset(topics), borderline


def example_from_json(raw: object) -> Example:
    """An example written out in full; ValueError saying what is wrong with it."""
    if not isinstance(raw, dict):
        raise ValueError("must be a JSON object")
    topics, borderline = label_fields(raw)
    for key in ("lang", "split"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise ValueError(f"{key!r} must be a string")
    example = Example(
        id=_text(raw, "id", True),
        title=_text(raw, "title", True),
        body=_text(raw, "body", False),
        topics=topics,
        note=_text(raw, "note", False),
        borderline=borderline,
        split=raw.get("split"),
    )
    language = raw.get("lang") or guess_language(f"{example.title} {example.body}")
    example = replace(example, language=language)
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
            example = example_from_json(json.loads(line))
        except (json.JSONDecodeError, ValueError) as error:
            raise InputError(f"{path}:{number}", f"not a labelled example: {error}") from None
        if example.id in seen:
            raise InputError(
                f"{path}:{number}", f"id {example.id!r} already used on line {seen[example.id]}"
            )
        seen[example.id] = number
        examples.append(example)
    return examples


def _matches(examples: Sequence[Example], topics: Sequence[Topic]) -> list[tuple[TopicMatch, ...]]:
    return [classify(e.title, e.body, topics) for e in examples]


def _predictions(examples: Sequence[Example], topics: Sequence[Topic]) -> list[frozenset[str]]:
    return [frozenset(m.topic_id for m in got if m.matched) for got in _matches(examples, topics)]


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
    misses = []
    for example, matches in zip(examples, _matches(examples, topics), strict=True):
        got = frozenset(m.topic_id for m in matches if m.matched)
        if got != example.topics:
            misses.append(Miss(example, example.topics - got, got - example.topics, matches))
    return misses


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


def full_report(examples: Sequence[Example], topics: Sequence[Topic]) -> str:
    """Every topic's figures on the clear-cut examples, all languages together and then per
    language, followed by the borderline examples' figures, counted apart."""
    clear = [e for e in examples if not e.borderline]
    borderline = [e for e in examples if e.borderline]
    languages = sorted({e.language or "unknown" for e in clear})
    sections = [f"all languages: {format_report(evaluate(clear, topics), len(clear))}"]
    for language in languages:
        some = [e for e in clear if (e.language or "unknown") == language]
        sections.append(f"{language}: {format_report(evaluate(some, topics), len(some))}")
    if borderline:
        sections.append(
            "borderline, not counted above: "
            + format_report(evaluate(borderline, topics), len(borderline))
        )
    return "\n\n".join(sections)
