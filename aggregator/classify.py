"""Pure, multi-label, explainable topic classification from editorial rules in config/topics/.

A topic file reads like an editor's definition: weighted groups of terms and
phrases (English and Korean), exclusions that count against, groups of which
at least one term must appear ("requires", e.g. a South Korean angle), and a
threshold. Scoring, per rule group:

- a match in the title counts ``TITLE_FACTOR`` times the weight;
- body matches count the weight times a position factor (early paragraphs
  weigh more), with diminishing returns for repeats (each further match
  counts half the previous), so one term repeated cannot carry a topic alone.

English terms match case-insensitively on word boundaries, with plural and
possessive endings; all-capital acronyms (USFK, DMZ) match case-sensitively.
Korean terms match at the start of a word and allow any Hangul after them, so
a term followed by a particle (북한은, 국회에서) still matches.
"""

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aggregator.errors import ConfigError
from aggregator.text import normalize
from aggregator.types import RuleHit, TopicMatch

TITLE_FACTOR = 3.0
EARLY_PARAGRAPHS = 3
LATE_FACTOR = 0.6
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_TOPIC_KEYS = {"id", "title", "description", "threshold", "rules", "exclude", "requires"}
_RULE_KEYS = {"name", "weight", "terms"}


@dataclass(frozen=True)
class RuleGroup:
    """Terms that count together, under one name and weight."""

    name: str
    weight: float
    terms: tuple[str, ...]
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Topic:
    """One topic: what it is, its rules, and the score an item needs to belong."""

    id: str
    title: str
    description: str
    threshold: float
    rules: tuple[RuleGroup, ...]
    exclusions: tuple[RuleGroup, ...]
    requires: tuple[RuleGroup, ...]


def _canonical(text: str) -> str:
    """The form both rules and items are matched in: NFKC, plain quotes and dashes, "US"."""
    text = normalize(text).replace("’", "'").replace("‘", "'")
    text = re.sub(r"[‐‑‒–—―]", "-", text)
    return re.sub(r"\bU\.(S|N|K)\.(?=\W|$)", r"U\1", text)


def _term_pattern(term: str) -> str:
    term = _canonical(term)
    if _HANGUL.search(term):
        # Start of a word; any Hangul (a particle, a suffix) may follow. Spaces are optional
        # between Hangul words, since writers vary (한미 동맹 / 한미동맹).
        body = r"\s?".join(re.escape(part) for part in term.split())
        return rf"(?<![\uac00-\ud7a3]){body}"
    words = [re.escape(word) for word in re.split(r"[\s-]+", term) if word]
    joined = r"[\s-]+".join(words)
    flags = "" if term.isupper() and len(term) > 1 else "(?i:"
    core = f"{flags}{joined}{')' if flags else ''}"
    return rf"(?<![\w-]){core}(?:'s|s|es)?(?![\w])"


def _group(path: Path, key: str, raw: object, default_weight: float | None) -> RuleGroup:
    if not isinstance(raw, dict):
        raise ConfigError(path, key, "must be a table with terms (and a weight)")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise ConfigError(path, f"{key}.{sorted(unknown)[0]}", "unknown setting")
    terms = raw.get("terms")
    if (
        not isinstance(terms, list)
        or not terms
        or not all(isinstance(t, str) and t.strip() for t in terms)
    ):
        raise ConfigError(path, f"{key}.terms", "must be a non-empty list of strings")
    weight = raw.get("weight", default_weight)
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise ConfigError(path, f"{key}.weight", "must be a number")
    name = raw.get("name", terms[0])
    if not isinstance(name, str):
        raise ConfigError(path, f"{key}.name", "must be a string")
    # Longest first, so "South Korea-US alliance" wins over "alliance" at the same place.
    ordered = sorted({t.strip() for t in terms}, key=len, reverse=True)
    pattern = re.compile("|".join(f"(?:{_term_pattern(t)})" for t in ordered))
    return RuleGroup(name, float(weight), tuple(terms), pattern)


def load_topic(path: Path) -> Topic:
    """Read one topic file; errors name the file, the key and the problem."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(path, None, f"cannot read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, None, f"invalid TOML: {error}") from None
    unknown = set(raw) - _TOPIC_KEYS
    if unknown:
        raise ConfigError(path, sorted(unknown)[0], "unknown setting")
    for key in ("id", "title", "description"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ConfigError(path, key, "is required and must be a non-empty string")
    if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", raw["id"]) or raw["id"] == "all":
        raise ConfigError(path, "id", "must be lower-case letters, digits and hyphens, not 'all'")
    if raw["id"] != path.stem:
        raise ConfigError(path, "id", f"{raw['id']!r} must match the file name {path.stem!r}")
    threshold = raw.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or threshold <= 0:
        raise ConfigError(path, "threshold", "is required and must be a positive number")

    def groups(key: str, default_weight: float | None) -> tuple[RuleGroup, ...]:
        value = raw.get(key, [])
        if not isinstance(value, list):
            raise ConfigError(path, key, "must be an array of tables ([[" + key + "]])")
        return tuple(
            _group(path, f"{key}[{i}]", entry, default_weight) for i, entry in enumerate(value)
        )

    rules = groups("rules", None)
    if not rules:
        raise ConfigError(path, "rules", "a topic needs at least one [[rules]] group")
    return Topic(
        id=raw["id"],
        title=raw["title"].strip(),
        description=" ".join(raw["description"].split()),
        threshold=float(threshold),
        rules=rules,
        exclusions=groups("exclude", None),
        requires=groups("requires", 0.0),
    )


def load_topics(folder: Path) -> tuple[Topic, ...]:
    """Every ``*.toml`` topic in ``folder``, sorted by id."""
    if not folder.is_dir():
        raise ConfigError(folder, "topics.folder", "topics folder not found")
    topics = tuple(load_topic(path) for path in sorted(folder.glob("*.toml")))
    if not topics:
        raise ConfigError(folder, "topics.folder", "no topic files (*.toml) in the folder")
    return topics


def _hits(group: RuleGroup, title: str, paragraphs: Sequence[str]) -> list[RuleHit]:
    hits: list[RuleHit] = []
    title_count = len(group.pattern.findall(title))
    if title_count:
        hits.append(RuleHit(group.name, "title", title_count, group.weight * TITLE_FACTOR))
    factors = []
    for index, paragraph in enumerate(paragraphs):
        factor = 1.0 if index < EARLY_PARAGRAPHS else LATE_FACTOR
        factors.extend([factor] * len(group.pattern.findall(paragraph)))
    if factors:
        factors.sort(reverse=True)
        # Each further match counts half the one before: repetition adds little.
        contribution = sum(f * 0.5**k for k, f in enumerate(factors))
        hits.append(RuleHit(group.name, "body", len(factors), group.weight * contribution))
    return hits


def classify(title: str, body: str, topics: Sequence[Topic]) -> tuple[TopicMatch, ...]:
    """Score an item against every topic; one TopicMatch per topic, in the given order."""
    canonical_title = _canonical(title)
    paragraphs = [_canonical(p) for p in body.split("\n") if p.strip()]
    matches = []
    for topic in topics:
        hits = tuple(h for g in topic.rules for h in _hits(g, canonical_title, paragraphs))
        excluded = tuple(h for g in topic.exclusions for h in _hits(g, canonical_title, paragraphs))
        score = round(sum(h.weight for h in hits) + sum(h.weight for h in excluded), 2)
        missing = [
            g.name
            for g in topic.requires
            if not g.pattern.search(canonical_title)
            and not any(g.pattern.search(p) for p in paragraphs)
        ]
        matched = score >= topic.threshold and not missing
        matches.append(
            TopicMatch(topic.id, score, topic.threshold, matched, hits, excluded, tuple(missing))
        )
    return tuple(matches)


def explain(matches: Sequence[TopicMatch]) -> str:
    """Per topic: the verdict, score against threshold, and each rule that matched and where."""
    lines = []
    for match in matches:
        verdict = "IN" if match.matched else "not in"
        lines.append(f"  {verdict} {match.topic_id}: score {match.score:g} / {match.threshold:g}")
        for hit in match.hits:
            lines.append(f"      + {hit.rule!r} in {hit.where} ×{hit.count}: {hit.weight:+.2f}")
        for hit in match.excluded_by:
            lines.append(f"      - {hit.rule!r} in {hit.where} ×{hit.count}: {hit.weight:+.2f}")
        for name in match.missing:
            lines.append(f"      ! requires {name!r}: no match")
    return "\n".join(lines)
