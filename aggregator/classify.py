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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from re import _constants, _parser  # parsed patterns, for what their matches must contain

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
_TOKEN = re.compile(r"[a-z0-9]+")  # what the pre-check of Latin terms and acronyms looks up
_TOKEN_BYTES = bytes(c if chr(c).isascii() and chr(c).isalnum() and not chr(c).isupper() else 32
                     for c in range(256))  # fmt: skip
_HAN_RUN = re.compile(r"[\uac00-\ud7a3\u4e00-\u9fff]+")  # ... and of Korean terms
_FOLDABLE = re.compile(r"[\x00-\x7f\uac00-\ud7a3\u4e00-\u9fff]+")
# Letters that ``re`` equates with an ASCII one when case is ignored (NFKC leaves two).
_FOLDS = re.compile(r"[\u0130\u0131\u017f\u212a]")
_ASCII = re.compile(r"[\x00-\x7f]+")
_DASHES = re.compile(r"[‐‑‒–—―]")
_NORTH = re.compile(r"\bN\.\s?(?=Korea)")
_SOUTH = re.compile(r"\bS\.\s?(?=Korea)")
_US = re.compile(r"\bU\.(S|N|K)\.(?=\W|$)")
_Need = tuple  # see _needs
_JOIN = 80  # characters between two stretches below which one scan covers both
_LINE_EDGE = re.compile(r"\n(?:\s|(?<=\s\n))")  # a line that begins or ends with a space


def _is_word(char: str) -> bool:
    """A letter or digit that joins a Latin term to its neighbour (Hangul does not)."""
    return char.isalnum() and not ("\uac00" <= char <= "\ud7a3")


@dataclass(frozen=True)
class _Field:
    """A title or a body in matching form, with what the pre-checks of every group look up.

    ``lower`` is ``text`` with ASCII letters lower-cased (same length, so positions
    agree); ``tokens`` its runs of ASCII letters and digits; ``han`` the first one and
    two characters of each run of Hangul and Hanja in ``text``; ``folds`` whether the
    text has a letter that case-insensitive matching equates with an ASCII one.
    """

    text: str
    lower: str
    backwards: str  # text reversed
    lower_backwards: str
    tokens: frozenset[str]
    han: frozenset[str]
    folds: bool
    patterns: dict[re.Pattern[str], list[tuple[int, str]]] = field(
        default_factory=dict, repr=False, compare=False
    )


def _field(text: str) -> _Field:
    lower = text.lower()
    if not text.isascii():  # str.lower also changes non-ASCII letters (É, Σ), which must stay
        others = _ASCII.sub("", text)
        if others.lower() != others:
            lower = text.translate(_ASCII_LOWER)
    runs = () if text.isascii() else _HAN_RUN.findall(text)
    han = frozenset([run[:2] for run in runs] + [run[0] for run in runs])
    # Runs of ASCII letters and digits, split out of UTF-8 (other characters' bytes are not
    # ASCII) at C speed; finding each with a regex costs three times as much.
    ascii_runs = lower.encode("utf-8", "surrogatepass").translate(_TOKEN_BYTES).decode("ascii")
    tokens = frozenset(ascii_runs.split())
    folds = _FOLDS.search(text) is not None
    return _Field(text, lower, text[::-1], lower[::-1], tokens, han, folds)


def _spans(
    keys: Iterable[str], haystack: str, backwards: str, breaks: re.Pattern[str]
) -> list[tuple[int, int]]:
    """The stretches of ``haystack`` between two characters that ``breaks`` finds, which
    no match can contain, around each place where one of ``keys`` is (``backwards`` is
    ``haystack`` reversed, to look back with a regex).

    A scan of each stretch finds what a scan of the whole would find in it, and a
    stretch without a key has no match to find. Stretches close to each other are
    joined, as scanning what lies between costs less than one more scan.
    """
    places = []
    for key in keys:
        at = haystack.find(key)
        while at >= 0:
            places.append(at)
            at = haystack.find(key, at + 1)
    places.sort()
    size, spans, end = len(haystack), [], -_JOIN
    for at in places:
        if at > end:
            after = breaks.search(haystack, at)
            stop = after.start() if after else size
            if at - end < _JOIN:
                spans[-1] = (spans[-1][0], stop)
            else:
                before = breaks.search(backwards, size - at)
                spans.append((size - before.start() if before else 0, stop))
            end = stop
    return spans


@dataclass(frozen=True)
class _Scan:
    """A group's terms of one kind ("latin", "acronym" or "cjk") compiled for speed: a
    plain literal alternation, which ``re`` scans by its first characters, with the
    word-boundary checks done in Python on the few matches. Latin terms are matched in
    ASCII-lowercased text (same length, so positions agree), the others as written.

    It scans only the stretches of text around its ``keys`` (``_spans``), which any
    match contains, and only when the ``_Field`` has one, found by a set look-up: for
    Latin terms and acronyms a run of ASCII letters and digits of each term, which any
    match has as a whole token of the lower-cased text (a term's last run may carry an
    "s" or "es" ending); for Korean terms the first one or two characters of a run of
    Hangul or Hanja in the term's first word, with which a run in the text begins. No
    keys (None): it scans the whole text. ``breaks`` finds what no match contains.
    """

    kind: str
    regex: re.Pattern[str]
    keys: frozenset[str] | None
    breaks: re.Pattern[str]

    def find(self, field: _Field, found: list[tuple[int, str]]) -> None:
        text, cjk = field.text, self.kind == "cjk"
        if self.keys is None:
            spans = [(0, len(text))]
        elif keys := self.keys.intersection(field.han if cjk else field.tokens):
            spans = (
                _spans(keys, text, field.backwards, self.breaks)
                if cjk
                else _spans(keys, field.lower, field.lower_backwards, self.breaks)
            )
        else:
            return
        haystack = field.lower if self.kind == "latin" else text
        for start, end in spans:
            for m in self.regex.finditer(haystack, start, end):
                at, stop = m.span()
                before = text[at - 1] if at else " "
                if cjk:
                    if not (before.isalnum() or before == "_"):
                        found.append((at, m.group()))
                    continue
                after = text[stop] if stop < len(text) else " "
                if not _is_word(before) and before != "-" and not _is_word(after):
                    found.append((at, text[at:stop]))


@dataclass(frozen=True)
class _Matcher:
    """A group's terms by kind, and its patterns with what any of their matches contains
    (``_needs``; None: nothing known, always scan)."""

    scans: tuple[_Scan, ...] = ()
    patterns: re.Pattern[str] | None = None
    needs: _Need | None = None

    def find(self, field: _Field) -> list[tuple[int, str]]:
        """Where and what matched in the field, in order."""
        found: list[tuple[int, str]] = []
        for scan in self.scans:
            scan.find(field, found)
        if self.patterns is not None and (self.needs is None or _holds(self.needs, field)):
            matches = field.patterns.get(self.patterns)
            if matches is None:  # groups of two topics may share a pattern
                matches = [(m.start(), m.group()) for m in self.patterns.finditer(field.text)]
                field.patterns[self.patterns] = matches
            found.extend(matches)
        found.sort()
        return found


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
    matcher: _Matcher = field(default=_Matcher(), repr=False, compare=False)


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


def _abbreviations(text: str) -> str:
    # Headline abbreviations: "N. Korea", "S. Korean" (Yonhap's style) name the Koreas.
    if "N." in text:
        text = _NORTH.sub("North ", text)
    if "S." in text:
        text = _SOUTH.sub("South ", text)
    return text


def _canonical(text: str, lines: bool = False) -> str:
    """The form both rules and items are matched in: NFKC, plain quotes and dashes, "US".

    With ``lines`` (a body), each line is made canonical as if on its own, as paragraphs
    are scored on their own; the steps that cannot reach across a line break run over
    the whole text at once, which costs a fraction of a call per line.
    """
    if not lines:
        text = _abbreviations(normalize(text))
    else:
        # NFKC and the folding of spaces never touch a line break: one call does for all
        # lines, but for stripping each line; a line that becomes empty would be lost.
        whole = normalize(text)
        if _LINE_EDGE.search(whole):
            whole = "\n".join(line.strip() for line in whole.split("\n"))
        if whole.count("\n") != text.count("\n"):
            whole = "\n".join(normalize(line) for line in text.split("\n"))
        text = whole
        if "N." in text or "S." in text:  # their "N. Korea" must not reach the next line
            text = "\n".join(_abbreviations(line) for line in text.split("\n"))
    if "’" in text or "‘" in text:
        text = text.replace("’", "'").replace("‘", "'")
    if any(dash in text for dash in "‐‑‒–—―"):  # a dozen str scans cost less than one regex
        text = _DASHES.sub("-", text)
    return _US.sub(r"U\1", text) if "U." in text else text


def _term_pattern(term: str) -> tuple[str, str, frozenset[str] | None, str]:
    """Which kind of term this is ("cjk", "acronym" or "latin"), its regex, the strings
    its pre-check looks for and the characters its matches have (see ``_Matcher``)."""
    term = _canonical(term)
    if _CJK.search(term):
        core = r"\s?".join(re.escape(part) for part in term.split())
        run = _HAN_RUN.search(term.split()[0])
        return "cjk", core, frozenset([run.group()[:2]]) if run else None, term
    kind = "acronym" if term.isupper() and len(term) > 1 else "latin"
    if kind == "latin":
        term = term.translate(_ASCII_LOWER)
    words = [word for word in re.split(r"[\s-]+", term) if word]
    written = " ".join(words).translate(_ASCII_LOWER)
    runs = _TOKEN.findall(written)
    key = max(runs, key=len) if runs else None
    keys = (
        frozenset([key, f"{key}s", f"{key}es"] if written.endswith(key) else [key]) if key else None
    )
    core = r"[\s-]+".join(re.escape(word) for word in words)
    return kind, core, keys, f"{written}-'se"  # with what separators and endings add


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


def _needs(items: Iterable, ignore_case: bool) -> _Need | None:
    """What any match of the parsed regex ``items`` contains, as a tree of ("text", string,
    whether case is ignored), ("all", needs) and ("any", needs); None when nothing that
    can be looked for directly.

    A run of literal characters is needed, and so is what a group, a part repeated at
    least once, or every branch of an alternation needs. A string that ignores case is
    looked for in lower-cased text, so only ASCII, Hangul and Hanja letters may be in it.
    """
    needs: list[_Need | None] = []
    run: list[str] = []
    for op, value in (*items, (None, None)):
        if op is _constants.LITERAL:
            run.append(chr(value))
            continue
        if run:
            text = "".join(run)
            if not ignore_case:
                needs.append(("text", text, False))
            elif _FOLDABLE.fullmatch(text):
                needs.append(("text", text.translate(_ASCII_LOWER), True))
            run = []
        if op is _constants.SUBPATTERN:
            _, add, remove, sub = value
            needs.append(_needs(sub, bool((ignore_case or add & re.I) and not remove & re.I)))
        elif op is _constants.BRANCH:
            branches = [_needs(branch, ignore_case) for branch in value[1]]
            if all(branches):
                needs.append(("any", branches))
        elif op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT) and value[0] >= 1:
            needs.append(_needs(value[2], ignore_case))
    known = [need for need in needs if need is not None]
    return (known[0] if len(known) == 1 else ("all", known)) if known else None


def _holds(need: _Need, field: _Field) -> bool:
    """Whether the field has what the need asks (see ``_needs``)."""
    if need[0] == "text":
        _, text, folded = need
        return (field.folds or text in field.lower) if folded else text in field.text
    if need[0] == "all":
        return all(_holds(part, field) for part in need[1])
    return any(_holds(part, field) for part in need[1])


def _matcher(terms: Sequence[str], patterns: Sequence[str]) -> _Matcher:
    """Compile a group's terms by kind, and its patterns (any case unless they say)."""
    cores: dict[str, list[str]] = {"latin": [], "acronym": [], "cjk": []}
    keys: dict[str, set[str] | None] = {"latin": set(), "acronym": set(), "cjk": set()}
    chars: dict[str, set[str]] = {"latin": set(), "acronym": set(), "cjk": set()}
    for term in terms:
        kind, core, term_keys, written = _term_pattern(term)
        cores[kind].append(core)
        chars[kind].update(written)
        known = keys[kind]
        keys[kind] = None if known is None or term_keys is None else known | term_keys
    scans = tuple(
        _Scan(
            kind,
            re.compile(f"(?:{_trie(cores[kind])}){'' if kind == 'cjk' else _SUFFIX}"),
            None if keys[kind] is None else frozenset(keys[kind]),
            re.compile(f"[^\\s{''.join(re.escape(c) for c in sorted(chars[kind]))}]"),
        )
        for kind in cores
        if cores[kind]
    )
    if not patterns:
        return _Matcher(scans)
    combined = "|".join(f"(?:{p})" for p in patterns)
    parsed = _parser.parse(combined, re.IGNORECASE)
    needs = _needs(parsed, bool(parsed.state.flags & re.IGNORECASE))
    return _Matcher(scans, re.compile(combined, re.IGNORECASE), needs)


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

    title: _Field
    body: _Field
    starts: tuple[int, ...]


def _prepare(title: str, body: str) -> _Text:
    paragraphs = [p for p in body.split("\n") if p.strip()]
    joined = _canonical("\n".join(paragraphs), lines=True) if paragraphs else ""
    starts, offset = [], 0
    for paragraph in joined.split("\n") if paragraphs else ():
        starts.append(offset)
        offset += len(paragraph) + 1
    return _Text(_field(_canonical(title)), _field(joined), tuple(starts))


def _hits(group: RuleGroup, text: _Text) -> list[RuleHit]:
    hits: list[RuleHit] = []
    in_title = [found for _, found in group.matcher.find(text.title)]
    if in_title:
        hits.append(
            RuleHit(_label(group, in_title), "title", len(in_title), group.weight * TITLE_FACTOR)
        )
    in_body = group.matcher.find(text.body)
    if in_body:
        starts = text.starts
        factors = sorted(
            [
                1.0 if bisect_right(starts, at) <= EARLY_PARAGRAPHS else LATE_FACTOR
                for at, _ in in_body
            ],
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
                if not g.matcher.find(text.title) and not g.matcher.find(text.body)
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
