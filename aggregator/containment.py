"""Versions of one story that hold the other: a copy cut at another length or under
another headline, a flash and its full version, different write-ups of one event.

Pure, symmetric decisions on two items' headlines and texts (issue #18), taken by
``dedup.matching_stories`` after the cheaper ones (equal keys, close signatures) failed.
The thresholds were set on the labelled real pairs' tune half
(tests/data/stories/real/pairs.jsonl), never on the held-out half.
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property, lru_cache
from urllib.parse import urlsplit

from aggregator.fingerprints import (
    bare_title,
    body_shingles,
    clean_body,
    containment,
    first_sentence,
    head_shingles,
    is_version,
    spaceless_grams,
    text_grams,
    title_grams,
    title_numbers,
)
from aggregator.headlines import clause_ends

# A copy an outlet cut at another length, or carried with another headline, holds nearly
# all of the shorter text (0.84-1.0 in the labelled copies; a follow-up and a template
# notice of other days, up to 0.86): containment, not likeness, counts then. Such a copy
# opens as the other does, so only texts sharing a beginning's key are measured.
CONTAINED = 0.9
MIN_CONTAINED_SHINGLES = 50
# A flash and the full version, or a one-line item and its copy, share a headline but
# for a few words: nearly all of the shorter headline's grams are in the other's.
HEADLINE_CONTAINED = 0.9
MIN_HEADLINE_GRAMS = 8
HEADLINE_SUPPORT = 0.35
# A headline labelled as a version (flash, short, full, breaking) says it has others:
# its flash may state a detail fewer or more.
VERSION_HEADLINE_CONTAINED = 0.75
# Different write-ups of one event share a quarter of a headline's words and names and half
# of the shorter text (quotes, figures, the agency's wording); a follow-up, an analysis or a
# template notice shares less of the text within hours (up to 0.44 in the labelled pairs).
WRITE_UP_TITLE = 0.25
WRITE_UP_TEXT = 0.5
# A version whose figures were brought up to date (a flash's 90 balloons, the full
# version's 600) states other numbers in its headline, yet holds most of the other's text;
# a follow-up with the next count shares up to 0.61 of it in the labelled pairs.
REVISED_TEXT = 0.7
# Different outlets' write-ups of one event name it alike: the words and names of each
# headline (numbers aside) are mostly in the other's headline and text beginning, however
# differently the texts go on. In the labelled tune pairs, two thirds of them within a day
# (a third of the write-ups not merged otherwise), when a reaction, an analysis or a
# follow-up by another outlet reached 0.65 at most; one outlet's own articles on one subject
# (follow-ups, templates, series) do reach it, so the rule is for other outlets' items only.
# It was measured on Korean headlines (character pairs): where words are spaced, a
# headline's few common words are found in unrelated texts (the benchmark corpus merged
# different stories), so it needs MIN_NAMED_PAIRS pairs of a script without spaces.
NAMED_ALIKE = 2 / 3
# A headline naming an event in a script without spaces has a dozen character pairs and
# more (all but a few of the labelled write-ups); shorter ones ("한국은행 물가 상승률") name
# a subject rather than an event.
MIN_NAMED_PAIRS = 12

# Other outlets' write-ups of one event, published within half a day, are worded apart and
# share less of their texts (the agency's facts and quotes): with a quarter of the
# headlines' grams, 0.4 of the shorter text, when another outlet's follow-up or reaction
# held 0.33 at most in the labelled tune pairs (one outlet's own follow-ups, up to 0.47,
# keep WRITE_UP_TEXT). An editorial, a column or a Q&A on the event holds more of the
# report it discusses (up to 0.74), so neither may be one (``opinion``).
OTHER_WRITE_UP_TEXT = 0.4
# Within half a day: the tune write-ups this joins were 6 to 12.4 hours apart, when other
# outlets' items further apart holding as much were often the next day's follow-ups
# (another party's reaction, the fallout), previews of one match and template reports of
# another day (the daily count, a film's millionth viewer): 9 of the 37 such joins in the
# knews replay were wrong, 4 of the 100 within the window.
WRITTEN_UP_WINDOW = timedelta(hours=12, minutes=30)
# Within that window, other outlets' write-ups of one event whose texts are short (a
# teaser cut at 120 characters, a headline alone) or worded apart still end their
# headlines' clauses on the event: what was done ("기각", "송환", "건의하겠다") or the matter
# ("화상면담"), each in the other's headline or text beginning, with ENDED_TITLE of their
# grams alike. A follow-up or a reaction names the event too, but ends on its own news
# ("검거" after "조사", "환영" after "타결"). In the labelled tune pairs: 8 write-ups more
# (0.665 to 0.710 of them), no wrong merge. With 0.3 of the grams, 20 more, but a cabinet
# meeting's preview and its decision joined (0.39), and of 214 new joins in the knews
# replay 12 were wrong (a preview and its event, two cities' awards of one kind, one
# bank's results and four banks'), most under 0.4; with 0.4, 84 new joins, all right.
ENDED_TITLE = 0.4

# A text's beginning, where a report states the event it is about: what another outlet's
# headline for the same event is measured against. Further on, reports recall the
# background, which follow-ups share (the tune pairs' write-ups merge the same with 200
# characters as with 500 or all of the text).
LEAD_CHARS = 200
# A wire's text another outlet carries under its own headline ("'19세120일 막내 멀티골'
# 강성진…" / "'막내 강성진 멀티골' 한국, 홍콩 3-0…": other numbers, few words alike) opens as
# the wire's does, past the byline (OPENED of the shorter beginning's shingles, 0.65-1.0 in
# the labelled copies; a league roundup holding one game's report, 0.09), holds COPIED of
# the shorter text (0.81-0.93 where CONTAINED missed them; templates of other days, up to
# 0.88) and every figure of it but one in ten (FIGURES_HELD: another day's weather or
# count states other figures, 0.6-0.8). Within a day, that is a copy whatever the headlines,
# but only another outlet's: one outlet's own articles open alike with one photo caption
# and share its background paragraphs (0.8 and more in the unlabelled feeds).
OPENED = 0.6
COPIED = 0.8
FIGURES_HELD = 0.9
# A text that opens with a bullet lists stories (a wire's daily digest, "▲…▲…"; an obituary
# column): it holds one story's text among others', and is none of them.
_LISTING = re.compile(r"^\s*▲")
# A headline naming a day's personnel notices and nothing else ("7월27일 인사", "오늘의 인사 -
# 2022년 7월 27일") heads a column of several organizations' notices: it holds one
# organization's notice ("[인사]금융결제원") among others', and is none of them.
_DATE_MARKS = r"[\s\d년월일.,:·\-–—\[\]()]*"
_PERSONNEL_COLUMN = re.compile(rf"^{_DATE_MARKS}(?:오늘의\s*)?인사{_DATE_MARKS}$")
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")

# Who a flash's headline says it is from, before what it reports: "韩联参称…" (the joint
# chiefs say), "韩军：…" (the military:). A wire's flash names the source, its full version
# often reports the fact alone.
_ATTRIBUTION = re.compile(r"^\s*[^\s：:，,]{1,6}?(?:称|：|:)\s*")

# A wire's flash and the full version replacing it (Yonhap's 快讯 / 简讯 / 详讯, issue #18):
# the desk rewrites the headline (another attribution, a detail more or less) and adds
# paragraphs, but the full version still states the flash's first sentence, reworded at
# most: FLASH_HELD of its grams (MIN_FLASH_GRAMS at least) are in the full version's
# headline and first FULL_CHARS characters (0.72-1.0 in the labelled tune pairs the other
# rules missed; the desk's other items on one event or subject within hours, up to 0.63 in
# the Chinese feed, and none between that and 0.7 but digests). One outlet's items,
# published within VERSION_WINDOW (6 hours at most in the labelled versions), in the order
# the labels say: a full version follows its flash. Not Korean outlets' labels: their
# roundups ((종합)) add other parties' remarks and their flashes ([속보]) precede analyses
# (3 of 5 such joins in the knews replay, wrong).
# A flash with no text states its headline (source aside; its figures all in the full
# headline: exit polls a roundup holds are apart); a corrected one, 0.5, as another launch.
VERSION_WINDOW = timedelta(hours=6)
# A full version whose headline keeps every word of the flash's (labels and attribution
# aside) may come the next morning: within a day. The desk's preview ("明在首尔举行") and
# next day's follow-up change the headline's words.
KEPT_HEADLINE_WINDOW = timedelta(hours=24)
_FLASH_LABEL = re.compile(r"^\s*(?:快讯|简讯|速报)\s*[:：]|[\[【]\s*(?:快讯|简讯)\s*[\]】]")
_FULL_LABEL = re.compile(r"^\s*详讯\s*[:：]|[\[【]\s*详讯\s*[\]】]")
FLASH_HELD = 0.7
MIN_FLASH_GRAMS = 12
FULL_CHARS = 300


@dataclass(frozen=True)
class Version:
    """What one item's containment is judged by: its headline's grams, whether it is
    labelled as a version, and its text (shingled only when measured); its headline's
    words and names and its text's beginning are cut when first asked for."""

    grams: frozenset[str]
    versioned: bool
    body: str
    title: str = field(default="", compare=False)

    @cached_property
    def named(self) -> frozenset[str]:
        """Its headline's words and names: its grams without digits, not its figures and
        dates (the headline numbers guard compares those; "2022년 7월 25일" is in many)."""
        return frozenset(gram for gram in self.grams if not any(map(str.isdigit, gram)))

    @cached_property
    def named_pairs(self) -> frozenset[str]:
        """Those of them that are character pairs of a script written without spaces."""
        return spaceless_grams(self.named)

    @cached_property
    def named_words(self) -> frozenset[str]:
        """Those of them that are words of a spaced script."""
        return self.named - self.named_pairs

    @cached_property
    def reported(self) -> frozenset[str]:
        """Its headline's grams without its labels and the source it names first."""
        return text_grams(_ATTRIBUTION.sub("", bare_title(self.title), count=1))

    @cached_property
    def opening(self) -> frozenset[bytes]:
        """The shingles of its text's beginning, byline and notice aside."""
        return frozenset(head_shingles(self.body))

    @cached_property
    def figures(self) -> frozenset[str]:
        """The numbers its text states ("1만8000", "33.3")."""
        return frozenset(_FIGURE.findall(self.body))

    @property
    def listing(self) -> bool:
        """Whether it lists stories (its text opens with ▲) or personnel notices (its headline)."""
        return bool(_LISTING.match(self.body) or _PERSONNEL_COLUMN.match(self.title))

    @cached_property
    def cleaned(self) -> str:
        """Its text without the outlet's notice: a flash's may be nothing else."""
        return clean_body(self.body)

    @cached_property
    def first_sentence(self) -> frozenset[str]:
        """The grams of its text's first sentence, dateline and notice aside."""
        return text_grams(first_sentence(self.cleaned))

    @cached_property
    def beginning(self) -> frozenset[str]:
        """The grams of its headline and its text's first FULL_CHARS characters."""
        return text_grams(f"{self.title}\n{self.cleaned[:FULL_CHARS]}")

    @cached_property
    def told(self) -> frozenset[str]:
        """The grams of its headline and its text's first LEAD_CHARS characters."""
        lead = clean_body(self.body[: 2 * LEAD_CHARS])[:LEAD_CHARS]
        return text_grams(f"{self.title}\n{lead}")


@lru_cache(maxsize=1024)
def version(title: str, body: str) -> Version:
    """An item's ``Version``, once (with what its cached properties work out): a writer
    compares the same candidates with each new item of a source, and each new item with
    the source's others (issue #22)."""
    return Version(title_grams(title), is_version(title), body, title)


def holds(
    mine: Version, theirs: Version, *, headlines_near: bool, short: bool, heads_meet: bool
) -> bool:
    """Whether one item holds the other: its text (CONTAINED of the shorter one), or,
    ``headlines_near`` (published within the headline window), its headline
    (HEADLINE_CONTAINED, or VERSION_HEADLINE_CONTAINED of a version's, the source a flash
    names first aside, with texts HEADLINE_SUPPORT held unless one is ``short``, without
    a signature), or a share of both (WRITE_UP_TITLE of the headlines, WRITE_UP_TEXT
    of the shorter text). The texts are only measured when something calls for it: the
    headlines, or ``heads_meet`` (the texts' beginnings share a key)."""
    headline = write_up = False
    if headlines_near and min(len(mine.grams), len(theirs.grams)) >= MIN_HEADLINE_GRAMS:
        bar = (
            VERSION_HEADLINE_CONTAINED if mine.versioned or theirs.versioned else HEADLINE_CONTAINED
        )
        alike = containment(mine.grams, theirs.grams)
        if bar == VERSION_HEADLINE_CONTAINED:
            alike = max(alike, containment(mine.reported, theirs.reported))
        headline = alike >= bar and not _numbered(mine, theirs)
        if headline and short:
            return True
        write_up = jaccard(mine.grams, theirs.grams) >= WRITE_UP_TITLE
    if not (headline or write_up or heads_meet):
        return False
    held = _text_held(mine, theirs)
    return (
        held >= CONTAINED
        or (headline and held >= HEADLINE_SUPPORT)
        or (write_up and held >= WRITE_UP_TEXT)
    )


def versions(
    mine: Version, theirs: Version, links: tuple[str | None, str | None], after: timedelta
) -> bool:
    """Whether two items of one outlet (their ``links``' host), ``theirs`` published
    ``after`` ``mine`` (before it when negative), are a flash and its full version, in the
    order they were published (either, when published together)."""
    host = link_host(links[0])
    if not host or host != link_host(links[1]) or abs(after) > KEPT_HEADLINE_WINDOW:
        return False
    apart = abs(after)
    return (after >= timedelta(0) and _expanded(mine, theirs, apart)) or (
        after <= timedelta(0) and _expanded(theirs, mine, apart)
    )


def _expanded(flash: Version, full: Version, apart: timedelta) -> bool:
    """Whether the later of two items, ``apart``, is the full version of the earlier, a
    flash: one labelled so (the later a full version, or the earlier a flash), within
    VERSION_WINDOW or, holding every gram of the flash's headline, KEPT_HEADLINE_WINDOW;
    and the full version's headline and beginning hold FLASH_HELD of the grams of the
    flash's first sentence, or when it has no text of its headline's (its source aside, its
    figures all in the full version's headline)."""
    if not (_FULL_LABEL.search(full.title) or _FLASH_LABEL.search(flash.title)):
        return False
    if apart > VERSION_WINDOW and not flash.reported <= full.reported:
        return False
    stated = flash.first_sentence
    if not flash.cleaned.strip():  # a flash without text states its headline
        if not title_numbers(flash.title) <= title_numbers(full.title):
            return False  # its figures are one part of what the later item rounds up
        stated = flash.reported
    if len(stated) < MIN_FLASH_GRAMS:
        return False
    return len(stated & full.beginning) >= FLASH_HELD * len(stated)


def revised(mine: Version, theirs: Version) -> bool:
    """Whether two items whose headlines state different numbers are one version of a story
    brought up to date: headlines sharing WRITE_UP_TITLE of their grams, not only a part's
    number apart, and REVISED_TEXT of the shorter text held by the other. Only for items
    published within the headline window (the caller's to check)."""
    if jaccard(mine.grams, theirs.grams) < WRITE_UP_TITLE or _numbered(mine, theirs):
        return False
    return _text_held(mine, theirs) >= REVISED_TEXT


def copied(mine: Version, theirs: Version, *, every_figure: bool) -> bool:
    """Whether one text is the other carried under another headline: their beginnings
    OPENED alike, COPIED of the shorter text and FIGURES_HELD of its figures held by the
    other, or ``every_figure`` (when the headlines state other numbers: a count brought up
    to date is ``revised``'s to judge) all of them. Only for other outlets' items published
    within a day (the caller's to check)."""
    if _text_held(mine, theirs) < COPIED or containment(mine.opening, theirs.opening) < OPENED:
        return False
    pieces, others = body_shingles(mine.body), body_shingles(theirs.body)
    shorter, longer = (mine, theirs) if len(pieces) <= len(others) else (theirs, mine)
    share = 1.0 if every_figure else FIGURES_HELD
    return len(shorter.figures & longer.figures) >= share * len(shorter.figures)


def named_alike(mine: Version, theirs: Version) -> bool:
    """Whether each headline's words and names are NAMED_ALIKE in the other's headline and
    text beginning, both headlines holding MIN_NAMED_PAIRS character pairs of a script
    without spaces: NAMED_ALIKE of those pairs, and of its spaced words if it has any (a
    Latin word is worth more than a pair: "통일부 signaled …" is not "통일부 proposed …").
    Only for other outlets' items published within a day (the caller's to check)."""
    if min(len(mine.named_pairs), len(theirs.named_pairs)) < MIN_NAMED_PAIRS:
        return False
    return all(
        _named_in(pairs, told) and _named_in(words, told)
        for pairs, words, told in (
            (mine.named_pairs, mine.named_words, theirs.told),
            (theirs.named_pairs, theirs.named_words, mine.told),
        )
    )


def written_up(mine: Version, theirs: Version, apart: timedelta) -> bool:
    """Whether two other outlets' items published ``apart`` are write-ups of one event:
    within WRITTEN_UP_WINDOW, headlines sharing WRITE_UP_TITLE of their grams
    (MIN_HEADLINE_GRAMS each) and OTHER_WRITE_UP_TEXT of the shorter text held by the
    other, or headlines sharing ENDED_TITLE of their grams that ``ended_alike``. Only for
    other outlets' items, neither an ``opinion`` piece (the caller's to check)."""
    if apart > WRITTEN_UP_WINDOW or min(len(mine.grams), len(theirs.grams)) < MIN_HEADLINE_GRAMS:
        return False
    alike = jaccard(mine.grams, theirs.grams)
    if alike < WRITE_UP_TITLE:
        return False
    return _text_held(mine, theirs) >= OTHER_WRITE_UP_TEXT or (
        alike >= ENDED_TITLE and ended_alike(mine, theirs)
    )


def clear_caches() -> None:
    """Let go of the versions and headlines' clause ends kept for one ingest's comparisons
    before the regeneration needs memory, as ``fingerprints.clear_caches``."""
    version.cache_clear()
    clause_ends.cache_clear()


def ended_alike(mine: Version, theirs: Version) -> bool:
    """Whether each headline ends one of its clauses on a gram of the other's headline and
    text beginning, both holding MIN_NAMED_PAIRS character pairs of a script without
    spaces (where it was measured; a spaced headline's last word is a common one)."""
    if min(len(mine.named_pairs), len(theirs.named_pairs)) < MIN_NAMED_PAIRS:
        return False
    return all(clause_ends(a.title) & b.told for a, b in ((mine, theirs), (theirs, mine)))


@lru_cache(maxsize=8192)
def link_host(link: str | None) -> str:
    """A link's host without ``www.`` ("" without one), worked out once per link: a writer
    asks it of the same candidates' links for each new item (issue #22)."""
    return ((urlsplit(link).hostname or "") if link else "").removeprefix("www.")


def _named_in(grams: frozenset[str], told: frozenset[str]) -> bool:
    """Whether NAMED_ALIKE of ``grams`` (if any) are in ``told``."""
    return len(grams & told) >= NAMED_ALIKE * len(grams)


def jaccard(first: frozenset, second: frozenset) -> float:  # type: ignore[type-arg]
    """The share of the two sets' union they have in common (0 when both are empty)."""
    union = len(first | second)
    return len(first & second) / union if union else 0.0


def _text_held(mine: Version, theirs: Version) -> float:
    """How much of the shorter text the other holds; 0 when either has fewer than
    MIN_CONTAINED_SHINGLES shingles (a short text holds or is held by chance)."""
    pieces, others = body_shingles(mine.body), body_shingles(theirs.body)
    if min(len(pieces), len(others)) < MIN_CONTAINED_SHINGLES:
        return 0.0
    return containment(pieces, others)


def _numbered(mine: Version, theirs: Version) -> bool:
    """Whether one headline is the other with only numbers added ("… (3)"): numbered
    notices or parts, not versions."""
    extra = mine.grams ^ theirs.grams
    return bool(extra) and all(gram.isdigit() for gram in extra)
