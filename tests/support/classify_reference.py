"""The topic classifier as it was before it was made fast: the reference the fast one is
held to (tests/test_classify_differential.py).

Straightforward on purpose: every scan of every group reads the whole field with
``regex.finditer`` (no automaton, no openings, no group skipped), with the word-boundary
checks of its kind, and the scores are summed as classify.py summed them when
tests/data/classify-expected.json was recorded. Only the rules' regexes (``Scan.regex``,
``compile_matcher``) and the canonical text are shared with the classifier.
"""

import re
from collections.abc import Sequence

from aggregator.classify import (
    BODY_ONLY_FACTOR,
    EARLY_PARAGRAPHS,
    LATE_FACTOR,
    REPEAT_FACTOR,
    TITLE_FACTOR,
    RuleGroup,
    Topic,
    digest_match,
    digest_stories,
)
from aggregator.matching import Field, Scan, canonical
from aggregator.types import RuleHit, TopicMatch

_ASCII = re.compile(r"[\x00-\x7f]+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_FOLDS = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def make_field(text: str) -> Field:
    """The field as matching reads it: ASCII letters lower-cased (``lower``), and in
    ``folded`` also the four letters ``re`` equates with an ASCII one ignoring case."""
    lower = text.lower()
    others = _ASCII.sub("", text)
    if others.lower() != others:  # str.lower also changes É, Σ, which must stay
        lower = text.translate(_ASCII_LOWER)
    return Field(text, lower, lower.translate(_FOLDS))


def _hangul(char: str) -> bool:
    return "\uac00" <= char <= "\ud7a3"


def scan_matches(scan: Scan, text: Field) -> list[tuple[int, str]]:
    """Where and what one scan matches in the whole field."""
    written = text.text
    if scan.kind == "pattern":
        return [(m.start(), m.group()) for m in scan.regex.finditer(written)]
    found = []
    if scan.kind in ("cjk", "chinese"):  # Korean at the start of a word; Chinese anywhere
        for match in scan.regex.finditer(written):
            at = match.start()
            before = written[at - 1] if at else " "
            glued = "\u4e00" <= before <= "\u9fff" and _hangul(written[at])
            if scan.kind == "chinese" or glued or not (before.isalnum() or before == "_"):
                found.append((at, match.group()))
        return found
    haystack = text.lower if scan.kind == "latin" else written
    for match in scan.regex.finditer(haystack):
        at, stop = match.span()
        before = written[at - 1] if at else " "
        after = written[stop] if stop < len(written) else " "
        if (
            not (before.isalnum() and not _hangul(before))
            and before != "-"
            and not (after.isalnum() and not _hangul(after))
        ):
            found.append((at, written[at:stop]))
    return found


def group_matches(group: RuleGroup, text: Field) -> list[tuple[int, str]]:
    """Where and what a group matches in the field, in order."""
    found = [hit for scan in group.matcher.scans for hit in scan_matches(scan, text)]
    found.sort()
    return found


def prepare(title: str, body: str) -> tuple[Field, Field, int]:
    """The title and body as fields, and where the body's late paragraphs begin."""
    paragraphs = [p for p in body.split("\n") if p.strip()]
    joined = canonical("\n".join(paragraphs), lines=True) if paragraphs else ""
    late = -1
    for _ in range(EARLY_PARAGRAPHS):
        late = joined.find("\n", late + 1)
        if late < 0:
            late = len(joined) - 1
            break
    return make_field(canonical(title)), make_field(joined), late + 1


def _label(group: RuleGroup, found: list[str]) -> str:
    seen = dict.fromkeys(f.casefold() for f in found)
    return f"{group.name} ({', '.join(seen)})"


def _hits(group: RuleGroup, title: Field, body: Field, late: int) -> list[RuleHit]:
    hits = []
    title_found = [found for _, found in group_matches(group, title)]
    if title_found:
        weight = group.weight * TITLE_FACTOR
        hits.append(RuleHit(_label(group, title_found), "title", len(title_found), weight))
    body_found = group_matches(group, body)
    if body_found:
        early = len([at for at, _ in body_found if at < late])
        contribution = sum(
            (1.0 if k < early else LATE_FACTOR) * REPEAT_FACTOR**k for k in range(len(body_found))
        )
        label = _label(group, [found for _, found in body_found])
        hits.append(RuleHit(label, "body", len(body_found), group.weight * contribution))
    return hits


def classify(title: str, body: str, topics: Sequence[Topic]) -> tuple[TopicMatch, ...]:
    """What ``aggregator.classify.classify`` must give: a digest story by story, with the
    classifier's own way of splitting it and of joining its stories' verdicts."""
    stories = digest_stories(title, body)
    if stories is None:
        return _classify_story(title, body, topics)
    scored = [_classify_story(headline, text, topics) for headline, text in stories]
    return tuple(digest_match(matches) for matches in zip(*scored, strict=True))


def _classify_story(title: str, body: str, topics: Sequence[Topic]) -> tuple[TopicMatch, ...]:
    title_field, body_field, late = prepare(title, body)
    matches = []
    for topic in topics:
        hits: list[RuleHit] = []
        outright = titled = False
        for group in topic.rules:
            group_hits = _hits(group, title_field, body_field, late)
            hits.extend(group_hits)
            outright = outright or (group.standalone and bool(group_hits))
            titled = titled or (not group.context and any(h.where == "title" for h in group_hits))
        excluded = [h for g in topic.exclusions for h in _hits(g, title_field, body_field, late)]
        score = round(sum(h.weight for h in hits) + sum(h.weight for h in excluded), 2)
        missing = ()
        if not outright:
            missing = tuple(
                g.name
                for g in topic.requires
                if not (group_matches(g, title_field) or group_matches(g, body_field))
            )
        threshold = topic.threshold if titled else topic.threshold * BODY_ONLY_FACTOR
        matched = score >= threshold and not missing
        matches.append(
            TopicMatch(topic.id, score, threshold, matched, tuple(hits), tuple(excluded), missing)
        )
    return tuple(matches)
