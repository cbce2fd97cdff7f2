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
Groups whose matches only decide whether they match at all (``requires``) are worked
out only when asked: a standalone group's match makes them moot.

tests/test_classify_differential.py holds this to a straightforward reference (every
scan's ``finditer`` over the whole text) on every labelled item, real ones included.
"""

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

from ahocorasick_rs import AhoCorasick, Implementation

from aggregator.matching import Field, Scan

_SURROGATE = re.compile(r"[\ud800-\udfff]")

Found = list[tuple[int, str]]  # where a match begins in the field, and the text it matched
_Starts = list[int] | None  # where a scan's openings are; None: try the whole field


def _matches(scan: Scan, haystack: str, starts: _Starts) -> Iterable[re.Match[str]]:
    """What ``scan.regex.finditer(haystack)`` gives, trying only ``starts`` (every position
    where a match can begin) unless None; ``Pattern.match`` sees the text before a
    position, as ``\\b`` needs."""
    if starts is None:
        return scan.regex.finditer(haystack)
    matches: list[re.Match[str]] = []
    end = 0
    match_at = scan.regex.match
    for at in sorted(starts):
        if at >= end and (match := match_at(haystack, at)):
            end = match.end()
            matches.append(match)
    return matches


def _words(scan: Scan, text: Field, starts: _Starts) -> Found:
    """Latin terms (matched in ``Field.lower``) and acronyms (as written): whole words,
    no letter or digit but Hangul on either side, no hyphen before."""
    written = text.text
    size = len(written)
    found: Found = []
    for match in _matches(scan, text.lower if scan.kind == "latin" else written, starts):
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
    found: Found = []
    for match in _matches(scan, written, starts):
        at = match.start()
        before = written[at - 1] if at else " "
        glued = "\u4e00" <= before <= "\u9fff" and "\uac00" <= written[at] <= "\ud7a3"
        if glued or not (before.isalnum() or before == "_"):
            found.append((at, match.group()))
    return found


def _anywhere(scan: Scan, text: Field, starts: _Starts) -> Found:
    """Chinese terms and patterns: every match, as the text wrote it."""
    return [(m.start(), m.group()) for m in _matches(scan, text.text, starts)]


_BY_KIND = {"latin": _words, "acronym": _words, "cjk": _hangul, "chinese": _anywhere}


class GroupFinder:
    """What rule groups match in a field. Each group is given as a key (any int, say its
    ``id``) and its scans: what ``groups`` match is worked out for every field, what
    ``asked`` ones match only when asked (``FieldMatches.of``)."""

    def __init__(
        self,
        groups: Iterable[tuple[int, Sequence[Scan]]],
        asked: Iterable[tuple[int, Sequence[Scan]]] = (),
    ) -> None:
        numbers: dict[tuple[str, str, int], int] = {}  # identical scans are worked out once
        self.scans: list[Scan] = []
        self._worked_out: list[list[int]] = []  # per scan number, the keys of its ``groups``
        self.scans_of: dict[int, list[int]] = {}  # per group key, its scans' numbers
        for every, given in ((True, groups), (False, asked)):
            for group, scans in given:
                for scan in scans:
                    key = (scan.kind, scan.regex.pattern, scan.regex.flags)
                    number = numbers.get(key)
                    if number is None:
                        number = numbers[key] = len(self.scans)
                        self.scans.append(scan)
                        self._worked_out.append([])
                    if number not in self.scans_of.setdefault(group, []):
                        self.scans_of[group].append(number)
                        if every:
                            self._worked_out[number].append(group)
        # An opening of several scans is in the automaton once for each (it reports each),
        # so that every match it reports is of one scan.
        keys = [
            (opening, n) for n, scan in enumerate(self.scans) for opening in scan.openings or ()
        ]
        self._owner = [number for _, number in keys]
        self._always = [n for n, scan in enumerate(self.scans) if scan.openings is None]
        self.finders = [_BY_KIND.get(scan.kind, _anywhere) for scan in self.scans]
        # A DFA: about twice as fast per pass as the default here, built in milliseconds.
        self._automaton = AhoCorasick(
            [opening for opening, _ in keys], implementation=Implementation.DFA
        )

    def find(self, text: Field) -> "FieldMatches":
        """What the groups match in ``text``."""
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
        by_group: dict[int, Found] = {}
        done: dict[int, Found] = {}
        finders, scans, worked_out = self.finders, self.scans, self._worked_out
        for number, at in starts.items():
            if not worked_out[number]:
                continue  # only ``asked`` groups have this scan
            found = done[number] = finders[number](scans[number], text, at)
            if found:
                for group in worked_out[number]:
                    earlier = by_group.get(group)
                    # A group's other kinds of terms may have matched too.
                    by_group[group] = found if earlier is None else sorted(earlier + found)
        return FieldMatches(self, text, starts, by_group, done)


class FieldMatches:
    """What the groups of a ``GroupFinder`` match in one field: ``found`` holds the
    matches, in order, of each group worked out for every field that has any; ``of``
    works out those of any group (once per scan)."""

    def __init__(
        self,
        finder: GroupFinder,
        text: Field,
        starts: dict[int, _Starts],
        found: dict[int, Found],
        done: dict[int, Found],
    ) -> None:
        self.found = found
        self._finder = finder
        self._text = text
        self._starts = starts
        self._done = done  # per scan number worked out, what it matched

    def of(self, group: int) -> Found | None:
        """The group's matches in order; None when it has none."""
        finder, starts, done = self._finder, self._starts, self._done
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
