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

A group marked ``standalone`` names the subject outright ("inter-Korean",
주한미군, 국회), so a match of it satisfies the ``requires`` groups by itself.

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
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aggregator.errors import ConfigError
from aggregator.text import normalize
from aggregator.types import RuleHit, TopicMatch

TITLE_FACTOR = 3.0
EARLY_PARAGRAPHS = 3
LATE_FACTOR = 0.6
REPEAT_FACTOR = 0.5
_CJK = re.compile(r"[\uac00-\ud7a3\u4e00-\u9fff]")  # Hangul syllables, CJK ideographs (Hanja)
_TOPIC_KEYS = {"id", "title", "description", "threshold", "rules", "exclude", "requires"}
_GROUP_KEYS = {"name", "weight", "terms", "patterns", "standalone"}
_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_SUFFIX = r"(?:'s|s|es)?"  # plural and possessive endings of English terms


def _is_word(char: str) -> bool:
    """A letter or digit that joins a Latin term to its neighbour (Hangul does not)."""
    return char.isalnum() and not ("\uac00" <= char <= "\ud7a3")


@dataclass(frozen=True)
class _Matcher:
    """A group's terms compiled for speed: plain literal alternations, which ``re``
    scans by their first characters, with the word-boundary checks done in Python on
    the few matches. Latin terms are matched in ASCII-lowercased text (same length,
    so positions agree); acronyms and Korean terms in the text as written.
    """

    latin: re.Pattern[str] | None
    acronyms: re.Pattern[str] | None
    cjk: re.Pattern[str] | None
    patterns: re.Pattern[str] | None
    # A cheap test before each scan: every term's longest word, which any match of the
    # term contains literally (lower-cased for Latin terms, as written for the others).
    # A scan runs only when one of its kind's words is in the text, found at C speed.
    latin_words: tuple[str, ...] = ()
    acronym_words: tuple[str, ...] = ()
    cjk_words: tuple[str, ...] = ()

    def find(self, text: str, lower: str) -> list[tuple[int, str]]:
        """Where and what matched in ``text`` (``lower`` is its ASCII-lowercased twin)."""
        found: list[tuple[int, str]] = []
        for regex, haystack, words in (
            (self.latin, lower, self.latin_words),
            (self.acronyms, text, self.acronym_words),
        ):
            if regex is None or not any(w in haystack for w in words):
                continue
            for m in regex.finditer(haystack):
                start, end = m.span()
                before = text[start - 1] if start else " "
                after = text[end] if end < len(text) else " "
                if not _is_word(before) and before != "-" and not _is_word(after):
                    found.append((start, text[start:end]))
        if self.cjk is not None and any(w in text for w in self.cjk_words):
            for m in self.cjk.finditer(text):
                start = m.start()
                if not start or not (text[start - 1].isalnum() or text[start - 1] == "_"):
                    found.append((start, m.group()))
        if self.patterns:
            found.extend((m.start(), m.group()) for m in self.patterns.finditer(text))
        return sorted(found)


@dataclass(frozen=True)
class RuleGroup:
    """Terms that count together, under one name and weight.

    ``matcher`` is compiled once, when the topic is loaded; it is left out of
    repr and equality, which the terms and patterns as written already decide.
    """

    name: str
    weight: float
    terms: tuple[str, ...]
    patterns: tuple[str, ...] = ()
    standalone: bool = False
    matcher: _Matcher = field(default=_Matcher(None, None, None, None), repr=False, compare=False)


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


def _canonical(text: str) -> str:
    """The form both rules and items are matched in: NFKC, plain quotes and dashes, "US"."""
    text = normalize(text).replace("’", "'").replace("‘", "'")
    text = re.sub(r"[‐‑‒–—―]", "-", text)
    # Headline abbreviations: "N. Korea", "S. Korean" (Yonhap's style) name the Koreas.
    text = re.sub(r"\bN\.\s?(?=Korea)", "North ", text)
    text = re.sub(r"\bS\.\s?(?=Korea)", "South ", text)
    return re.sub(r"\bU\.(S|N|K)\.(?=\W|$)", r"U\1", text)


def _term_pattern(term: str) -> tuple[str, str]:
    """Which kind of term this is ("cjk", "acronym" or "latin") and its regex."""
    term = _canonical(term)
    if _CJK.search(term):
        return "cjk", r"\s?".join(re.escape(part) for part in term.split())
    kind = "acronym" if term.isupper() and len(term) > 1 else "latin"
    if kind == "latin":
        term = term.translate(_ASCII_LOWER)
    words = [re.escape(word) for word in re.split(r"[\s-]+", term) if word]
    return kind, r"[\s-]+".join(words)


_ATOM = re.compile(r"\[\\s-\]\+|\\s\?|\\.|.", re.DOTALL)  # [\s-]+, \s?, \x or x


def _trie(cores: Sequence[str]) -> str:
    """An alternation of escaped terms as a prefix tree: "(?:a(?:lly|lliance)|...)".

    Python's ``re`` tries alternatives one by one at every position; sharing prefixes
    makes a group of fifty terms cost little more than one. Longer continuations are
    tried first, so the longest term wins at a position.
    """
    root: dict[str, dict] = {}
    for core in cores:
        node = root
        for atom in _ATOM.findall(core):
            node = node.setdefault(atom, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        branches = [atom + emit(child) for atom, child in sorted(node.items()) if atom]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if "" in node else body

    return emit(root)


def _longest_word(term: str, kind: str) -> str:
    """The term's longest word, as any match of the term contains it literally."""
    term = _canonical(term)
    if kind == "latin":
        term = term.translate(_ASCII_LOWER)
    words = term.split() if kind == "cjk" else re.split(r"[\s-]+", term)
    return max(words, key=len)


def _matcher(terms: Sequence[str], patterns: Sequence[str]) -> _Matcher:
    """Compile a group's terms by kind, and its patterns (any case unless they say)."""
    cores: dict[str, list[str]] = {"cjk": [], "acronym": [], "latin": []}
    words: dict[str, set[str]] = {"cjk": set(), "acronym": set(), "latin": set()}
    for term in terms:
        kind, core = _term_pattern(term)
        cores[kind].append(core)
        words[kind].add(_longest_word(term, kind))

    def alternation(parts: list[str], suffix: str = "") -> re.Pattern[str] | None:
        return re.compile(f"(?:{_trie(parts)}){suffix}") if parts else None

    return _Matcher(
        latin=alternation(cores["latin"], _SUFFIX),
        acronyms=alternation(cores["acronym"], _SUFFIX),
        cjk=alternation(cores["cjk"]),
        patterns=(
            re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE) if patterns else None
        ),
        latin_words=tuple(sorted(words["latin"])),
        acronym_words=tuple(sorted(words["acronym"])),
        cjk_words=tuple(sorted(words["cjk"])),
    )


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
    standalone = raw.get("standalone", False)
    if not isinstance(standalone, bool):
        raise ConfigError(path, f"{key}.standalone", "must be true or false")
    for index, regex in enumerate(patterns):
        try:
            re.compile(f"(?:{regex})", re.IGNORECASE)  # as it will be combined
        except re.error as error:
            raise ConfigError(path, f"{key}.patterns[{index}]", f"invalid regex: {error}") from None
    matcher = _matcher(terms, patterns)
    return RuleGroup(name.strip(), float(weight), terms, patterns, standalone, matcher)


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


def _label(group: RuleGroup, found: list[str]) -> str:
    """The group's name and the words that matched, as the text wrote them."""
    seen = dict.fromkeys(f.casefold() for f in found)
    return f"{group.name} ({', '.join(seen)})"


@dataclass(frozen=True)
class _Text:
    """An item's title and body in matching form, the body as one string so each group
    scans it once; ``starts`` are where its paragraphs begin."""

    title: str
    title_lower: str
    body: str
    body_lower: str
    starts: tuple[int, ...]


def _prepare(title: str, body: str) -> _Text:
    canonical_title = _canonical(title)
    paragraphs = [_canonical(p) for p in body.split("\n") if p.strip()]
    starts, offset = [], 0
    for paragraph in paragraphs:
        starts.append(offset)
        offset += len(paragraph) + 1
    joined = "\n".join(paragraphs)
    return _Text(
        canonical_title,
        canonical_title.translate(_ASCII_LOWER),
        joined,
        joined.translate(_ASCII_LOWER),
        tuple(starts),
    )


def _hits(group: RuleGroup, text: _Text) -> list[RuleHit]:
    hits: list[RuleHit] = []
    in_title = [found for _, found in group.matcher.find(text.title, text.title_lower)]
    if in_title:
        hits.append(
            RuleHit(_label(group, in_title), "title", len(in_title), group.weight * TITLE_FACTOR)
        )
    in_body = group.matcher.find(text.body, text.body_lower)
    if in_body:
        factors = sorted(
            (
                1.0 if bisect_right(text.starts, at) <= EARLY_PARAGRAPHS else LATE_FACTOR
                for at, _ in in_body
            ),
            reverse=True,
        )
        contribution = sum(f * REPEAT_FACTOR**k for k, f in enumerate(factors))
        label = _label(group, [found for _, found in in_body])
        hits.append(RuleHit(label, "body", len(in_body), group.weight * contribution))
    return hits


def classify(title: str, body: str, topics: Sequence[Topic]) -> tuple[TopicMatch, ...]:
    """Score an item against every topic; one TopicMatch per topic, in the given order.

    ``body`` is plain text, paragraphs separated by newlines.
    """
    text = _prepare(title, body)
    matches = []
    for topic in topics:
        hits: list[RuleHit] = []
        outright = False
        for group in topic.rules:
            group_hits = _hits(group, text)
            hits.extend(group_hits)
            outright = outright or (group.standalone and bool(group_hits))
        excluded = [h for g in topic.exclusions for h in _hits(g, text)]
        score = round(sum(h.weight for h in hits) + sum(h.weight for h in excluded), 2)
        missing = ()
        if not outright:
            missing = tuple(
                g.name
                for g in topic.requires
                if not g.matcher.find(text.title, text.title_lower)
                and not g.matcher.find(text.body, text.body_lower)
            )
        matched = score >= topic.threshold and not missing
        matches.append(
            TopicMatch(
                topic.id, score, topic.threshold, matched, tuple(hits), tuple(excluded), missing
            )
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
