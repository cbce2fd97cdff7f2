"""What every rule group of some topics finds in a field, from one automaton pass (issue 22).

One Aho-Corasick automaton (ahocorasick-rs, a DFA) holds the openings of every
distinct scan of every group of the topics (``matching.Scan``: a group's terms of one
kind, or its patterns, as one regex, with the lower-cased strings its matches begin
with), each tagged with the scans it opens. One pass over a field's ``folded`` text
gives, per scan, where its matches can begin; the scan's regex is tried only there,
in order and from the end of its previous match on, which gives what
``regex.finditer`` over the whole field gives (no match can begin elsewhere), with
the word-boundary checks of its kind. Each scan is worked out once per field,
however many groups share it, and a group's matches are those of its scans, in order.

tests/test_classify_differential.py holds this to a straightforward reference (every
scan's ``finditer`` over the whole text) on every labelled item, real ones included.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from ahocorasick_rs import AhoCorasick, Implementation

from aggregator.matching import Field, Scan

_SURROGATE = re.compile(r"[\ud800-\udfff]")

Found = list[tuple[int, str]]  # where a match begins in the field, and the text it matched
_Starts = list[int] | None  # where a scan's openings are; None: try the whole field


def _words(scan: Scan, text: Field, starts: _Starts) -> Found:
    """Latin terms (matched in ``Field.lower``) and acronyms (as written): whole words,
    no letter or digit but Hangul on either side, no hyphen before."""
    written = text.text
    haystack = text.lower if scan.kind == "latin" else written
    if starts is None:
        matches: Iterable[re.Match[str]] = scan.regex.finditer(haystack)
    else:
        matches = _tried(scan.regex.match, haystack, starts)
    size = len(written)
    found: Found = []
    for match in matches:
        at, stop = match.span()
        before = written[at - 1] if at else " "
        after = written[stop] if stop < size else " "
        if (
            not (before.isalnum() and not "\uac00" <= before <= "\ud7a3")
            and before != "-"
            and not (after.isalnum() and not "\uac00" <= after <= "\ud7a3")
        ):
            found.append((at, written[at:stop]))
    return found


def _hangul(scan: Scan, text: Field, starts: _Starts) -> Found:
    """Korean and Hanja terms: at the start of a word (or right after a Hanja, 尹지지율)."""
    written = text.text
    if starts is None:
        matches: Iterable[re.Match[str]] = scan.regex.finditer(written)
    else:
        matches = _tried(scan.regex.match, written, starts)
    found: Found = []
    for match in matches:
        at = match.start()
        before = written[at - 1] if at else " "
        glued = "\u4e00" <= before <= "\u9fff" and "\uac00" <= written[at] <= "\ud7a3"
        if glued or not (before.isalnum() or before == "_"):
            found.append((at, match.group()))
    return found


def _anywhere(scan: Scan, text: Field, starts: _Starts) -> Found:
    """Chinese terms and patterns: every match, as the text wrote it."""
    written = text.text
    if starts is None:
        return [(m.start(), m.group()) for m in scan.regex.finditer(written)]
    return [(m.start(), m.group()) for m in _tried(scan.regex.match, written, starts)]


def _tried(
    match_at: Callable[[str, int], re.Match[str] | None], haystack: str, starts: list[int]
) -> list[re.Match[str]]:
    """What ``finditer`` gives, trying only ``starts`` (every position where a match can
    begin); ``Pattern.match`` sees the text before a position, as ``\\b`` needs."""
    matches: list[re.Match[str]] = []
    end = 0
    for at in sorted(starts):
        if at >= end and (match := match_at(haystack, at)):
            end = match.end()
            matches.append(match)
    return matches


_BY_KIND = {"latin": _words, "acronym": _words, "cjk": _hangul, "chinese": _anywhere}


class GroupFinder:
    """What rule groups match in a field. Each group is given as a key (any int, say its
    ``id``) and its scans; ``find`` returns the matches of every group that has any."""

    def __init__(self, groups: Iterable[tuple[int, Sequence[Scan]]]) -> None:
        numbers: dict[tuple[str, str, int], int] = {}  # identical scans are worked out once
        self.scans: list[Scan] = []
        self._groups_of: list[list[int]] = []  # per scan number, the keys of its groups
        self.scans_of: dict[int, list[int]] = {}  # per group key, its scans' numbers
        for group, scans in groups:
            for scan in scans:
                key = (scan.kind, scan.regex.pattern, scan.regex.flags)
                number = numbers.get(key)
                if number is None:
                    number = numbers[key] = len(self.scans)
                    self.scans.append(scan)
                    self._groups_of.append([])
                if group not in self._groups_of[number]:
                    self._groups_of[number].append(group)
                    self.scans_of.setdefault(group, []).append(number)
        # An opening of several scans is in the automaton once for each (it reports each),
        # so that every match it reports is of one scan.
        keys = [
            (opening, n) for n, scan in enumerate(self.scans) for opening in scan.openings or ()
        ]
        self._owner = [number for _, number in keys]
        self._always = [n for n, scan in enumerate(self.scans) if scan.openings is None]
        self._groups = [frozenset(groups) for groups in self._groups_of]
        self.finders = [_BY_KIND.get(scan.kind, _anywhere) for scan in self.scans]
        # A DFA: about twice as fast per pass as the default here, built in milliseconds.
        self._automaton = AhoCorasick(
            [opening for opening, _ in keys], implementation=Implementation.DFA
        )

    def find(self, text: Field) -> "FieldMatches":
        """Where the groups' openings are in ``text``; their matches are worked out when asked."""
        folded = text.folded
        try:
            keys = self._automaton.find_matches_as_indexes(folded, overlapping=True)
        except UnicodeEncodeError:  # a lone surrogate (JSON can carry "\ud800"): in no opening
            folded = _SURROGATE.sub("\ufffd", folded)
            keys = self._automaton.find_matches_as_indexes(folded, overlapping=True)
        starts: dict[int, _Starts] = defaultdict(list)
        owner = self._owner
        for index, at, _ in keys:
            starts[owner[index]].append(at)
        for number in self._always:
            starts[number] = None
        present: set[int] = set()
        groups = self._groups
        for number in starts:
            present.update(groups[number])
        return FieldMatches(self, text, starts, present)


class FieldMatches:
    """What the groups of a ``GroupFinder`` match in one field. ``present`` holds the keys
    of the groups that may match (an opening of theirs is there); ``of`` works out, once
    per scan, what one of them does match."""

    def __init__(
        self, finder: GroupFinder, text: Field, starts: dict[int, _Starts], present: set[int]
    ) -> None:
        self.present = present
        self._finder = finder
        self._text = text
        self._starts = starts
        self._found: dict[int, Found] = {}  # per scan number worked out

    def of(self, group: int) -> Found | None:
        """The group's matches in order; None when it has none."""
        if group not in self.present:
            return None
        finder, starts, done = self._finder, self._starts, self._found
        result: Found | None = None
        for number in finder.scans_of[group]:
            if number not in starts:
                continue
            found = done.get(number)
            if found is None:
                scan = finder.scans[number]
                found = done[number] = finder.finders[number](scan, self._text, starts[number])
            if found:
                result = found if result is None else sorted(result + found)
        return result
