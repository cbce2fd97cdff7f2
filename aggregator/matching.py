"""What topic rules match, compiled once: terms and patterns as regexes, and what they begin with.

Split from classify.py, which reads topic files and scores items, because matching
is a domain of its own with one invariant: what each group finds is exactly what a
plain ``finditer`` of its regexes over the whole text gives, with the word-boundary
checks of each kind of term (tests/support/classify_reference.py does just that,
and tests/test_classify_differential.py holds the classifier to it).

A group's terms of one kind compile to one regex (``Scan``), and every regex knows
the strings its matches can begin with, lower-cased (its *openings*: a term's first
words; for a pattern, what its parsed form says), so that automaton.py can find
where each may match in one pass over a text and try it only there.

Matching works on canonical text (``canonical``): NFKC, plain quotes and dashes,
"US" for "U.S.". ``Field.lower`` is that text with ASCII letters lower-cased,
the same length, so positions in the two agree; openings are looked for in it
(in ``Field.folded``, which also folds the four letters ``re`` equates with ASCII).
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from re import _constants, _parser  # parsed patterns, for what their matches begin with
from typing import Any

from aggregator.text import normalize

_CJK = re.compile(r"[\uac00-\ud7a3\u4e00-\u9fff]")  # Hangul syllables, CJK ideographs (Hanja)
# Two ideographs or more: a Chinese word, found anywhere (no spaces in Chinese); one (北) is a
_CHINESE_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")  # Korean headline abbreviation (issue 17)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_SUFFIX = r"(?:'s|s|es)?"  # plural and possessive endings of English terms
# Characters whose other cases are found by lower-casing ASCII letters and by ``_FOLDS``:
# a pattern's opening that ignores case may only hold these.
_FOLDABLE = re.compile(r"[\x00-\x7f\uac00-\ud7a3\u4e00-\u9fff]")
# The letters that ``re`` equates with an ASCII one when case is ignored (NFKC leaves two).
_FOLDS_TO = {"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"}
_FOLDS = str.maketrans(_FOLDS_TO)
_DASHES = re.compile(r"[‐‑‒–—―]")
_NORTH = re.compile(r"\bN\.\s?(?=Korea)")
_SOUTH = re.compile(r"\bS\.\s?(?=Korea)")
_US = re.compile(r"\bU\.(S|N|K)\.(?=\W|$)")
_LINE_EDGE = re.compile(r"\n(?:\s|(?<=\s\n))")  # a line that begins or ends with a space
# What ``[\s-]+`` between the words of a term begins with: ``\s`` is ``str.isspace``, and
# no character above U+3000 (IDEOGRAPHIC SPACE) is a space.
_SEPARATORS = "-" + "".join(c for c in map(chr, range(0x3001)) if c.isspace())
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
    agree); ``folded`` is ``lower`` with the letters that ``re`` equates with an ASCII
    one when case is ignored (İ ı ſ K) replaced by it, where openings are looked for, so
    that it also finds where a pattern that ignores case matches them.
    """

    text: str
    lower: str
    folded: str


def make_field(text: str) -> Field:
    if text.isascii():
        lower = text.lower()
        return Field(text, lower, lower)
    # bytes.lower changes ASCII letters only (str.lower also changes É, Σ, which must stay);
    # "surrogatepass": JSON can carry a lone surrogate.
    lower = text.encode("utf-8", "surrogatepass").lower().decode("utf-8", "surrogatepass")
    folded = lower.translate(_FOLDS) if any(c in text for c in _FOLDS_TO) else lower
    return Field(text, lower, folded)


@dataclass(frozen=True)
class Scan:
    """One regex of a group: its terms of one kind ("latin", "acronym", "cjk", "chinese") or its
    patterns ("pattern"), and the lower-cased strings its matches begin with (None: unknown).

    Terms are a plain literal alternation, which ``re`` scans by its first characters,
    with the word-boundary checks done in Python on the few matches. Latin terms are
    matched in ``Field.lower``, the others in the text as written; patterns ignore case
    unless they say otherwise.
    """

    kind: str
    regex: re.Pattern[str]
    openings: frozenset[str] | None


@dataclass(frozen=True)
class Matcher:
    """A group's scans: its terms by kind, and its patterns."""

    scans: tuple[Scan, ...] = ()


def _shortest(openings: Iterable[str]) -> frozenset[str]:
    """The openings that no other one begins: where "lawmaker" is, "lawmakers" adds no start."""
    kept: list[str] = []
    for opening in sorted(set(openings)):
        if not (kept and opening.startswith(kept[-1])):
            kept.append(opening)
    return frozenset(kept)


def _term_pattern(term: str) -> tuple[str, str, list[str]]:
    """Which kind of term this is ("chinese", "cjk", "acronym" or "latin"), its regex and
    its openings: what a match begins with.

    That is its first word, and for a Latin term or acronym of several words what
    separates the first two: a single space and the second word (how text mostly writes it, which
    keeps "the North" from trying every "the"), or a space and another separator, or
    any other separator.
    """
    term = canonical(term)
    if _CHINESE_WORD.fullmatch(term):
        return "chinese", re.escape(term), [term]
    if _CJK.search(term):
        parts = term.split()  # the space between them is optional (\s?)
        return "cjk", r"\s?".join(re.escape(part) for part in parts), [parts[0]]
    kind = "acronym" if term.isupper() and len(term) > 1 else "latin"
    if kind == "latin":
        term = term.translate(_ASCII_LOWER)
    words = [word for word in re.split(r"[\s-]+", term) if word]
    core = r"[\s-]+".join(re.escape(word) for word in words)
    if len(words) < 2:
        return kind, core, words or [""]  # "": a term of separators only, no opening known
    first, second = words[0], words[1]
    return (
        kind,
        core,
        [
            f"{first} {second}",
            *(f"{first} {separator}" for separator in _SEPARATORS),
            *(first + separator for separator in _SEPARATORS if separator != " "),
        ],
    )


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
    lower-casing ASCII finds (``_FOLDABLE``).
    """
    run = ""
    for index, (op, value, ignore_case) in enumerate(items):
        if op is _constants.LITERAL:
            char = chr(value)
            if (ignore_case and not _FOLDABLE.fullmatch(char)) or _SURROGATE.match(char):
                break  # the automaton cannot look for a surrogate
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
    cores: dict[str, list[str]] = {"latin": [], "acronym": [], "cjk": [], "chinese": []}
    openings: dict[str, list[str]] = {kind: [] for kind in cores}
    for term in terms:
        kind, core, term_openings = _term_pattern(term)
        cores[kind].append(core)
        openings[kind].extend(opening.translate(_ASCII_LOWER) for opening in term_openings)
    scans = [
        Scan(
            kind,
            re.compile(f"(?:{_trie(cores[kind])}){'' if kind in ('cjk', 'chinese') else _SUFFIX}"),
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
