"""Pure, multi-label, explainable topic classification from editorial rules in config/topics/.

A topic file reads like an editor's definition (the format is documented at the
top of each file in config/topics/): weighted groups of terms, phrases and
names in English and Korean; exclusions that count against; ``requires``
groups of which at least one term must appear (e.g. a South Korean side);
and a threshold. Scoring, per rule group:

- a match in the title counts ``TITLE_FACTOR`` times the weight, because a
  headline states what the story is about;
- body matches count the weight times a position factor (the first
  ``EARLY_PARAGRAPHS`` paragraphs weigh more than passing mentions further
  down), with diminishing returns: each further match counts half the one
  before, so one term repeated cannot carry a topic alone.

Passing mentions do not count (../shared/TOPICS.md): an item whose title shows no
evidence for a topic (a group marked ``context``, which only sets the scene, does not
count) needs ``BODY_ONLY_FACTOR`` times the topic's threshold from its body alone: a
headline states what the story is about, and a story that names the alliance in its
fifth paragraph is seldom about it. A title-only item is judged by its title.

A group marked ``standalone`` names the subject outright ("inter-Korean",
주한미군, 국회), so a match of it satisfies the ``requires`` groups by itself.

A news digest (Yonhap's 要闻简报, "▲headline" lines each followed by its story's text,
and 主要报纸头条, "《paper》headline" lines) is judged story by story: it is in every
topic one of the stories it tells is in, and its hits name the story (TOPICS.md: a
digest is judged by what its text says).

Matching works on NFKC text. English terms match case-insensitively on word
boundaries, with plural and possessive endings; all-capital acronyms (USFK,
DMZ) match as written, and may be followed by a Korean particle (NCG는).
Korean and Hanja terms (북한, 北, 韓美) match at the start of a word and allow
any continuation, so a term followed by a particle (북한은, 국회에서) still
matches; a space inside a Korean term is optional in the text (한미 동맹 /
한미동맹). ``patterns`` are regular expressions, any case unless wrapped in
``(?-i:...)``, for what a list of terms cannot say (a romanized Korean name).
"""

import re
import tomllib
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from pathlib import Path

from aggregator.automaton import Found, GroupFinder
from aggregator.errors import ConfigError
from aggregator.matching import Field, Matcher, canonical, compile_matcher, make_field
from aggregator.types import RuleHit, TopicMatch

TITLE_FACTOR = 3.0
BODY_ONLY_FACTOR = 1.5
EARLY_PARAGRAPHS = 3
LATE_FACTOR = 0.6
REPEAT_FACTOR = 0.5
_TOPIC_KEYS = {"id", "title", "description", "threshold", "rules", "exclude", "requires"}
_GROUP_KEYS = {"name", "weight", "terms", "patterns", "standalone", "context"}
_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# What a digest's title says it is: one day's news or one day's front pages (issue 17).
DIGEST_TITLES = ("要闻简报", "主要报纸头条", "头条新闻")
_PAPER = re.compile(r"^《[^》]*》")  # "《朝鲜日报》": whose front page the headline is


@dataclass(frozen=True)
class RuleGroup:
    """Terms that count together, under one name and weight.

    The terms and patterns as written decide repr and equality (and so the rules'
    fingerprint); ``matcher`` is compiled from them when first used, not when the topic
    is loaded: compiling every group takes longer than the rest of a round where no
    item is new, which classifies nothing (issue #22, ``bench_knews``).
    """

    name: str
    weight: float
    terms: tuple[str, ...]
    patterns: tuple[str, ...] = ()
    standalone: bool = False
    context: bool = False

    @cached_property
    def matcher(self) -> Matcher:
        return compile_matcher(self.terms, self.patterns)


@dataclass(frozen=True)
class Topic:
    """One topic: what it is, its rules, and the score an item needs to belong."""

    id: str
    title: str
    description: str
    threshold: float
    rules: tuple[RuleGroup, ...]
    exclusions: tuple[RuleGroup, ...] = ()
    requires: tuple[RuleGroup, ...] = ()


def _strings(path: Path, key: str, value: object, required: bool) -> tuple[str, ...]:
    if value is None and not required:
        return ()
    if (
        not isinstance(value, list)
        or (required and not value)
        or not all(isinstance(t, str) and t.strip() for t in value)
    ):
        raise ConfigError(path, key, "must be a non-empty list of non-empty strings")
    return tuple(t.strip() for t in value)


def _group(path: Path, key: str, raw: object, default_weight: float | None) -> RuleGroup:
    if not isinstance(raw, dict):
        raise ConfigError(path, key, "must be a table with terms (and a weight)")
    unknown = set(raw) - _GROUP_KEYS
    if unknown:
        raise ConfigError(path, f"{key}.{sorted(unknown)[0]}", "unknown setting")
    patterns = _strings(path, f"{key}.patterns", raw.get("patterns"), required=False)
    terms = _strings(path, f"{key}.terms", raw.get("terms"), required=not patterns)
    weight = raw.get("weight", default_weight)
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise ConfigError(path, f"{key}.weight", "is required and must be a number")
    name = raw.get("name", (terms or patterns)[0])
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(path, f"{key}.name", "must be a non-empty string")
    standalone, context = raw.get("standalone", False), raw.get("context", False)
    for flag, value in (("standalone", standalone), ("context", context)):
        if not isinstance(value, bool):
            raise ConfigError(path, f"{key}.{flag}", "must be true or false")
    for index, regex in enumerate(patterns):
        try:
            re.compile(f"(?:{regex})", re.IGNORECASE)  # as it will be combined
        except re.error as error:
            raise ConfigError(path, f"{key}.patterns[{index}]", f"invalid regex: {error}") from None
    return RuleGroup(name.strip(), float(weight), terms, patterns, standalone, context)


def load_topic(path: Path) -> Topic:
    """Read one topic file; errors name the file, the key and the problem."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(path, None, f"cannot read: {error}") from None
    except tomllib.TOMLDecodeError as error:  # its message names the line and column
        raise ConfigError(path, None, f"invalid TOML: {error}") from None
    unknown = set(raw) - _TOPIC_KEYS
    if unknown:
        raise ConfigError(path, sorted(unknown)[0], "unknown setting")
    for key in ("id", "title", "description"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ConfigError(path, key, "is required and must be a non-empty string")
    if not _ID.fullmatch(raw["id"]) or raw["id"] == "all":
        raise ConfigError(path, "id", "must be lower-case letters, digits and hyphens, not 'all'")
    if raw["id"] != path.stem:
        raise ConfigError(path, "id", f"{raw['id']!r} must match the file name {path.stem!r}")
    threshold = raw.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or threshold <= 0:
        raise ConfigError(path, "threshold", "is required and must be a positive number")

    def groups(key: str, default_weight: float | None) -> tuple[RuleGroup, ...]:
        value = raw.get(key, [])
        if not isinstance(value, list):
            raise ConfigError(path, key, f"must be an array of tables ([[{key}]])")
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
    """Every ``*.toml`` topic in ``folder``, sorted by id.

    Topic ids are unique by construction: each must equal its file's name.
    """
    if not folder.is_dir():
        raise ConfigError(folder, "topics.folder", "topics folder not found")
    topics = tuple(load_topic(path) for path in sorted(folder.glob("*.toml")))
    if not topics:
        raise ConfigError(folder, "topics.folder", "no topic files (*.toml) in the folder")
    return tuple(sorted(topics, key=lambda t: t.id))


def _label(group: RuleGroup, found: Found) -> str:
    """The group's name and the words that matched, as the text wrote them."""
    if len(found) == 1:
        return f"{group.name} ({found[0][1].casefold()})"
    return f"{group.name} ({', '.join(dict.fromkeys([f.casefold() for _, f in found]))})"


@dataclass(frozen=True)
class _Text:
    """An item's title and body in matching form, the body as one string so each group
    scans it once; ``late`` is where its paragraphs after the first EARLY_PARAGRAPHS
    begin (its length when it has no more)."""

    title: Field
    body: Field
    late: int


def _prepare(title: str, body: str) -> _Text:
    paragraphs = [p for p in body.split("\n") if p.strip()]
    joined = canonical("\n".join(paragraphs), lines=True) if paragraphs else ""
    late = -1
    for _ in range(EARLY_PARAGRAPHS):
        late = joined.find("\n", late + 1)
        if late < 0:
            late = len(joined) - 1
            break
    return _Text(make_field(canonical(title)), make_field(joined), late + 1)


@lru_cache(maxsize=1024)
def _repeats(early: int, count: int) -> float:
    """What ``count`` body matches of a group count for, ``early`` of them in the first
    paragraphs: each further one counts REPEAT_FACTOR times the one before, early first."""
    return sum((1.0 if k < early else LATE_FACTOR) * REPEAT_FACTOR**k for k in range(count))


def _hits(group: RuleGroup, title: Found | None, body: Found | None, late: int) -> list[RuleHit]:
    hits: list[RuleHit] = []
    if title:
        weight = group.weight * TITLE_FACTOR
        hits.append(RuleHit(_label(group, title), "title", len(title), weight))
    if body:
        contribution = _repeats(bisect_left(body, (late,)), len(body))
        hits.append(RuleHit(_label(group, body), "body", len(body), group.weight * contribution))
    return hits


_Keyed = tuple[tuple[RuleGroup, int], ...]  # groups with their keys in the finder


@dataclass(frozen=True)
class _Plan:
    """The finder for all groups of some topics, and per topic its rules, exclusions and
    requirements with their keys in it."""

    finder: GroupFinder
    topics: tuple[tuple[Topic, _Keyed, _Keyed, _Keyed], ...]


_plans: dict[tuple[int, ...], tuple[tuple[Topic, ...], _Plan]] = {}


def _plan(topics: Sequence[Topic]) -> _Plan:
    """One finder for all groups of ``topics``, so that one pass over a text serves them
    all; built when these topics are first used, then kept with them (so their ids cannot
    be reused while it is kept). Callers classify item after item with the same topics."""
    key = tuple(map(id, topics))
    kept = _plans.get(key)
    if kept is None:
        if len(_plans) >= 8:  # topics reloaded many times: forget the old ones
            _plans.clear()
        finder = GroupFinder(
            ((id(g), g.matcher.scans) for t in topics for g in (*t.rules, *t.exclusions)),
            ((id(g), g.matcher.scans) for t in topics for g in t.requires),
        )

        def keyed(groups: tuple[RuleGroup, ...]) -> _Keyed:
            return tuple((group, id(group)) for group in groups)

        plan = _Plan(
            finder,
            tuple((t, keyed(t.rules), keyed(t.exclusions), keyed(t.requires)) for t in topics),
        )
        kept = _plans[key] = (tuple(topics), plan)
    return kept[1]


def digest_stories(title: str, body: str) -> tuple[tuple[str, str], ...] | None:
    """The stories a news digest tells, each as (headline, text); None for an item that is
    not a digest, or a digest whose text lists no story (judged as one item)."""
    if not any(marker in title for marker in DIGEST_TITLES):
        return None
    stories: list[tuple[str, list[str]]] = []
    text: list[str] | None = None
    for line in body.split("\n"):
        line = line.strip()
        if line.startswith("▲"):
            text = []
            stories.append((line[1:], text))
        elif line.startswith("《"):
            stories.append((_PAPER.sub("", line), []))
            text = None
        elif line and text is not None:
            text.append(line)
    return tuple((headline, "\n".join(lines)) for headline, lines in stories) or None


def digest_match(matches: Sequence[TopicMatch]) -> TopicMatch:
    """A digest's verdict on one topic from its stories' (in order): the story that is most
    clearly in the topic, else the one that came nearest; its hits say which story."""
    number, best = max(
        enumerate(matches, start=1),
        key=lambda pair: (pair[1].matched, pair[1].score - pair[1].threshold),
    )

    def told(hits: tuple[RuleHit, ...]) -> tuple[RuleHit, ...]:
        return tuple(replace(hit, where=f"{hit.where} of story {number}") for hit in hits)

    return replace(best, hits=told(best.hits), excluded_by=told(best.excluded_by))


def classify(title: str, body: str, topics: Sequence[Topic]) -> tuple[TopicMatch, ...]:
    """Score an item against every topic; one TopicMatch per topic, in the given order.

    ``body`` is plain text, paragraphs separated by newlines. A news digest is scored
    story by story (``digest_stories``, ``digest_match``).
    """
    stories = digest_stories(title, body)
    if stories is None:
        return _classify_story(title, body, topics)
    scored = [_classify_story(headline, text, topics) for headline, text in stories]
    return tuple(map(digest_match, zip(*scored, strict=True)))


def _classify_story(title: str, body: str, topics: Sequence[Topic]) -> tuple[TopicMatch, ...]:
    text = _prepare(title, body)
    plan = _plan(topics)
    in_title, in_body = plan.finder.find(text.title), plan.finder.find(text.body)
    title_groups, body_groups = in_title.found, in_body.found
    late = text.late
    matches = []
    for topic, rules, exclusions, requires in plan.topics:
        hits: list[RuleHit] = []
        outright = titled = False
        for group, key in rules:
            title_found, body_found = title_groups.get(key), body_groups.get(key)
            if title_found is None and body_found is None:
                continue
            hits.extend(_hits(group, title_found, body_found, late))
            outright = outright or group.standalone
            titled = titled or (title_found is not None and not group.context)
        excluded = [
            hit
            for group, key in exclusions
            if key in title_groups or key in body_groups
            for hit in _hits(group, title_groups.get(key), body_groups.get(key), late)
        ]
        score = round(sum(h.weight for h in hits) + sum(h.weight for h in excluded), 2)
        missing = ()
        if not outright:
            missing = tuple(
                group.name
                for group, key in requires
                if in_title.of(key) is None and in_body.of(key) is None
            )
        threshold = topic.threshold if titled else topic.threshold * BODY_ONLY_FACTOR
        matched = score >= threshold and not missing
        matches.append(
            TopicMatch(topic.id, score, threshold, matched, tuple(hits), tuple(excluded), missing)
        )
    return tuple(matches)


def explain(matches: Sequence[TopicMatch]) -> str:
    """Per topic: the verdict, score against threshold, each rule that matched and where."""
    lines = []
    for match in matches:
        verdict = "IN" if match.matched else "not in"
        lines.append(f"  {verdict} {match.topic_id}: score {match.score:g} / {match.threshold:g}")
        for hit in match.hits:
            lines.append(f"      + {hit.rule} in {hit.where} ×{hit.count}: {hit.weight:+.2f}")
        for hit in match.excluded_by:
            lines.append(f"      - {hit.rule} in {hit.where} ×{hit.count}: {hit.weight:+.2f}")
        for name in match.missing:
            lines.append(f"      ! requires {name!r}: no match")
    return "\n".join(lines)
