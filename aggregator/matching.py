"""Where topic rules match in an item: terms and patterns compiled once, looked for in one pass.

Split from classify.py, which reads topic files and scores items, because finding
matches is a domain of its own with one invariant: what each group finds must be
exactly what a plain ``finditer`` of the group's regex over the whole text gives
(tests/test_classify_equivalence.py holds outputs recorded from such a matcher),
while costing as little as possible per item, classification being the largest
CPU cost of an item's analysis (issue #7).

How: a group's terms of one kind compile to one regex (``Scan``), and every
regex knows the strings its matches can begin with, lower-cased (its
*openings*: a term's first word; for a pattern, what its parsed form says). One
Aho-Corasick automaton per topic (``KeyFinder``, ahocorasick-rs), built when the
topic is loaded, finds every opening of all its groups in one pass over the
lower-cased text, at C speed. A regex is then tried only where one of its
openings is, with ``Pattern.match``, and from the end of the previous match on:
``finditer`` tries every position in order, and since no match can begin
anywhere else, that gives what ``finditer`` gives. A regex without known
openings scans the whole text.

Matching works on canonical text (``canonical``): NFKC, plain quotes and dashes,
"US" for "U.S.". ``Field.lower`` is that text with ASCII letters lower-cased,
the same length, so positions in the two agree; openings are looked for in it.
"""

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from re import _constants, _parser  # parsed patterns, for what their matches begin with
from typing import Any

from ahocorasick_rs import AhoCorasick

from aggregator.text import normalize

_CJK = re.compile(r"[\uac00-\ud7a3\u4e00-\u9fff]")  # Hangul syllables, CJK ideographs (Hanja)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_SUFFIX = r"(?:'s|s|es)?"  # plural and possessive endings of English terms
# Characters that case-insensitive matching compares by lower-casing their ASCII letters:
# a pattern's opening that ignores case may only hold these.
_FOLDABLE = re.compile(r"[\x00-\x7f\uac00-\ud7a3\u4e00-\u9fff]")
# Letters that ``re`` equates with an ASCII one when case is ignored (NFKC leaves two).
_FOLDS = re.compile(r"[\u0130\u0131\u017f\u212a]")
_ASCII = re.compile(r"[\x00-\x7f]+")
_DASHES = re.compile(r"[‐‑‒–—―]")
_NORTH = re.compile(r"\bN\.\s?(?=Korea)")
_SOUTH = re.compile(r"\bS\.\s?(?=Korea)")
_US = re.compile(r"\bU\.(S|N|K)\.(?=\W|$)")
_LINE_EDGE = re.compile(r"\n(?:\s|(?<=\s\n))")  # a line that begins or ends with a space
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_ZERO_WIDTH = (_constants.AT, _constants.ASSERT, _constants.ASSERT_NOT)


def _abbreviations(text: str) -> str:
    # Headline abbreviations: "N. Korea", "S. Korean" (Yonhap's style) name the Koreas.
    if "N." in text:
        text = _NORTH.sub("North ", text)
    if "S." in text:
        text = _SOUTH.sub("South ", text)
    return text


def canonical(text: str, lines: bool = False) -> str:
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


@dataclass(frozen=True)
class Field:
    """A title or a body in canonical form, as the scans read it.

    ``lower`` is ``text`` with ASCII letters lower-cased (same length, so positions
    agree); ``folds`` whether the text has a letter that case-insensitive matching
    equates with an ASCII one, which the openings of patterns do not account for.
    """

    text: str
    lower: str
    folds: bool
    patterns: dict[re.Pattern[str], list[tuple[int, str]]] = field(
        default_factory=dict, repr=False, compare=False
    )


def make_field(text: str) -> Field:
    if text.isascii():
        return Field(text, text.lower(), False)
    lower = text.lower()  # str.lower also changes non-ASCII letters (É, Σ), which must stay
    others = _ASCII.sub("", text)
    if others.lower() != others:
        lower = text.translate(_ASCII_LOWER)
    return Field(text, lower, _FOLDS.search(text) is not None)


def _is_word(char: str) -> bool:
    """A letter or digit that joins a Latin term to its neighbour (Hangul does not)."""
    return char.isalnum() and not ("\uac00" <= char <= "\ud7a3")


def _matches_at(
    regex: re.Pattern[str], haystack: str, starts: list[int]
) -> Iterator[re.Match[str]]:
    """What ``regex.finditer(haystack)`` gives, trying only ``starts``, which hold every
    position where a match can begin (``Pattern.match`` sees the text before a position,
    as lookbehinds and ``\\b`` need). The regex must not match the empty string."""
    end = 0
    for at in sorted(starts):
        if at >= end and (match := regex.match(haystack, at)):
            end = match.end()
            yield match


@dataclass(frozen=True, eq=False)  # by identity: the key finder's results are keyed by scans
class Scan:
    """One regex of a group: its terms of one kind ("latin", "acronym", "cjk"), or its
    patterns ("pattern"), and the lower-cased strings its matches begin with (None: not
    known, so it scans the whole text).

    Terms are a plain literal alternation, which ``re`` scans by its first characters,
    with the word-boundary checks done in Python on the few matches. Latin terms are
    matched in ``Field.lower``, the others in the text as written; patterns ignore case
    unless they say otherwise.
    """

    kind: str
    regex: re.Pattern[str]
    openings: frozenset[str] | None

    def find(self, text: Field, starts: list[int] | None, found: list[tuple[int, str]]) -> None:
        """Add where and what matched to ``found``; ``starts`` are where the openings are."""
        if self.kind == "pattern":
            found.extend(self._patterns(text, starts))
            return
        if self.openings is not None and not starts:
            return
        written = text.text
        haystack = text.lower if self.kind == "latin" else written
        matches = (
            self.regex.finditer(haystack)
            if self.openings is None
            else _matches_at(self.regex, haystack, starts or [])
        )
        for match in matches:
            at, stop = match.span()
            before = written[at - 1] if at else " "
            if self.kind == "cjk":
                if not (before.isalnum() or before == "_"):
                    found.append((at, match.group()))
                continue
            after = written[stop] if stop < len(written) else " "
            if not _is_word(before) and before != "-" and not _is_word(after):
                found.append((at, written[at:stop]))

    def _patterns(self, text: Field, starts: list[int] | None) -> list[tuple[int, str]]:
        matches = text.patterns.get(self.regex)
        if matches is None:  # groups of two topics may share a pattern
            if self.openings is None or text.folds:
                every = self.regex.finditer(text.text)
            elif starts:
                every = _matches_at(self.regex, text.text, starts)
            else:
                return []
            matches = [(m.start(), m.group()) for m in every]
            text.patterns[self.regex] = matches
        return matches


@dataclass(frozen=True)
class Matcher:
    """A group's scans: its terms by kind, and its patterns."""

    scans: tuple[Scan, ...] = ()

    def find(self, text: Field, starts: dict[Scan, list[int]]) -> list[tuple[int, str]]:
        """Where and what matched in the field, in order; ``starts`` as ``KeyFinder`` gives."""
        found: list[tuple[int, str]] = []
        for scan in self.scans:
            scan.find(text, starts.get(scan), found)
        found.sort()
        return found


class KeyFinder:
    """Where in a text the openings of some scans are, in one pass over it."""

    def __init__(self, scans: Sequence[Scan]) -> None:
        self.scans = tuple(scans)
        owners: dict[str, list[Scan]] = defaultdict(list)
        for scan in self.scans:
            for opening in scan.openings or ():
                owners[opening].append(scan)
        self._owners = [tuple(scans_of) for scans_of in owners.values()]
        self._automaton = AhoCorasick(list(owners))

    def __reduce__(self) -> tuple[type, tuple[tuple[Scan, ...]]]:
        # Rebuilt where unpickled (worker processes), holding the very scans that the
        # groups pickled with it hold, as results are keyed by them.
        return KeyFinder, (self.scans,)

    def starts(self, lower: str) -> dict[Scan, list[int]]:
        """Per scan, where in ``lower`` (a ``Field.lower``) one of its openings begins."""
        try:
            matches = self._automaton.find_matches_as_indexes(lower, overlapping=True)
        except UnicodeEncodeError:  # a lone surrogate (JSON can carry "\ud800"): in no opening
            lower = _SURROGATE.sub("\ufffd", lower)
            matches = self._automaton.find_matches_as_indexes(lower, overlapping=True)
        found: dict[Scan, list[int]] = defaultdict(list)
        owners = self._owners
        for index, at, _ in matches:
            for scan in owners[index]:
                found[scan].append(at)
        return found


def _shortest(openings: Iterable[str]) -> frozenset[str]:
    """The openings that no other one begins: where "lawmaker" is, "lawmakers" adds no start."""
    kept: list[str] = []
    for opening in sorted(set(openings)):
        if not (kept and opening.startswith(kept[-1])):
            kept.append(opening)
    return frozenset(kept)


def _term_pattern(term: str) -> tuple[str, str, str]:
    """Which kind of term this is ("cjk", "acronym" or "latin"), its regex and its opening."""
    term = canonical(term)
    if _CJK.search(term):
        parts = term.split()
        return "cjk", r"\s?".join(re.escape(part) for part in parts), parts[0]
    kind = "acronym" if term.isupper() and len(term) > 1 else "latin"
    if kind == "latin":
        term = term.translate(_ASCII_LOWER)
    words = [word for word in re.split(r"[\s-]+", term) if word]
    return kind, r"[\s-]+".join(re.escape(word) for word in words), words[0] if words else ""


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


_Item = tuple[Any, Any, bool]  # a parsed regex's op, its value, and whether case is ignored


def _flagged(items: Iterable[tuple[Any, Any]], ignore_case: bool) -> list[_Item]:
    return [(op, value, ignore_case) for op, value in items]


def _union(alternatives: Iterable[set[str] | None]) -> set[str] | None:
    every: set[str] = set()
    for openings in alternatives:
        if openings is None:
            return None
        every |= openings
    return every


def _openings(items: Sequence[_Item]) -> set[str] | None:
    """The strings, lower-cased, one of which begins any match of the parsed regex
    ``items``; None when not known.

    A run of literal characters at the start is one; a zero-width assertion begins
    nothing; a group, an alternation or a repeat opens with what it opens with,
    followed by what comes after it (when it may match nothing, also what comes after
    it alone). A character that case is ignored for must be one whose other cases
    lower-casing ASCII finds (``_FOLDABLE``; a field with other folds scans in full).
    """
    run = ""
    for index, (op, value, ignore_case) in enumerate(items):
        if op is _constants.LITERAL:
            char = chr(value)
            if (ignore_case and not _FOLDABLE.fullmatch(char)) or _SURROGATE.match(char):
                break  # the key finder cannot look for a surrogate
            run += char.translate(_ASCII_LOWER)
            continue
        if run:
            break
        if op in _ZERO_WIDTH:
            continue
        rest = items[index + 1 :]
        if op is _constants.SUBPATTERN:
            _, add, remove, sub = value
            inner = bool((ignore_case or add & re.I) and not remove & re.I)
            return _openings([*_flagged(sub, inner), *rest])
        if op is _constants.BRANCH:
            return _union(_openings([*_flagged(b, ignore_case), *rest]) for b in value[1])
        if op is _constants.IN and all(kind is _constants.LITERAL for kind, _ in value):
            return _union(_openings([(kind, c, ignore_case), *rest]) for kind, c in value)
        if op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT):
            low, _, sub = value
            once = _openings([*_flagged(sub, ignore_case), *rest])
            return once if low >= 1 else _union([once, _openings(rest)])
        return None
    return {run} if run else None


def compile_matcher(terms: Sequence[str], patterns: Sequence[str]) -> Matcher:
    """Compile a group's terms by kind, and its patterns (any case unless they say)."""
    cores: dict[str, list[str]] = {"latin": [], "acronym": [], "cjk": []}
    openings: dict[str, list[str]] = {"latin": [], "acronym": [], "cjk": []}
    for term in terms:
        kind, core, opening = _term_pattern(term)
        cores[kind].append(core)
        openings[kind].append(opening.translate(_ASCII_LOWER))
    scans = [
        Scan(
            kind,
            re.compile(f"(?:{_trie(cores[kind])}){'' if kind == 'cjk' else _SUFFIX}"),
            None if "" in openings[kind] else _shortest(openings[kind]),  # "" from a term "-"
        )
        for kind in cores
        if cores[kind]
    ]
    if patterns:
        combined = "|".join(f"(?:{p})" for p in patterns)
        parsed = _parser.parse(combined, re.IGNORECASE)
        known = None  # finditer treats empty matches its own way: scan such patterns in full
        if parsed.getwidth()[0] > 0:
            known = _openings(_flagged(parsed, bool(parsed.state.flags & re.IGNORECASE)))
        regex = re.compile(combined, re.IGNORECASE)
        scans.append(Scan("pattern", regex, None if known is None else _shortest(known)))
    return Matcher(tuple(scans))
