"""Pure identity decisions: permanent entry ids, content fingerprints, new/edited/unchanged.

Nothing here touches storage or the clock: the pipeline hands in what the
input said, what the store already knows and ``now``, and gets back what to
write (or nothing).
"""

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aggregator.containment import (
    Version,
    copied,
    holds,
    link_host,
    revised,
    version,
    versions,
)
from aggregator.fingerprints import (
    SIGNATURE_SLOTS,
    full_slot_values,
    is_global_id,
    similarity,
    story_keys,
    title_numbers,
)
from aggregator.headlines import opinion
from aggregator.text import html_to_text, normalize
from aggregator.types import ItemData, ItemWrite, KnownItem, Report, StoryCandidate
from aggregator.writeups import written_alike


def entry_id(authority: str, source_key: str, item_key: str) -> str:
    """A permanent tag: URI (RFC 4151) for an item: opaque, not a path or a row number."""
    digest = hashlib.sha256(f"{source_key}\n{item_key}".encode()).hexdigest()[:32]
    return f"tag:{authority}:entry:{digest}"


def content_hash(item: ItemData, body: str | None = None) -> str:
    """Fingerprint of what we publish, blind to whitespace and markup-only changes.

    ``body`` is ``body_text(item.content_html)`` when the caller already has it.
    """
    parts = (
        normalize(item.title),
        body_text(item.content_html) if body is None else body,
        item.author or "",
        item.site_name or "",
        item.link or "",
        item.published.isoformat() if item.published else "",
        item.language or "",
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def body_text(content_html: str) -> str:
    """An item's body as its content hash reads it: plain text, normalized."""
    return normalize(html_to_text(content_html))


def _plausible(claimed: datetime | None, now: datetime) -> datetime | None:
    """A claimed date, but never later than ``now``, the moment the item is seen (issue #19:
    an entry dated ahead would top every feed until that time came)."""
    return None if claimed is None else min(claimed, now)


def decide(
    item: ItemData,
    known: KnownItem | None,
    *,
    authority: str,
    source_key: str,
    now: datetime,
    body: str | None = None,
) -> ItemWrite | None:
    """New item, edited item (same id, later ``updated``), or None when nothing changed.

    ``body``: the item's ``body_text``, when it was worked out already.
    """
    fingerprint = content_hash(item, body)
    if known is not None and known.content_hash == fingerprint:
        return None
    claimed_published = _plausible(item.published, now)
    claimed_updated = _plausible(item.updated, now)
    if known is None:
        published = claimed_published or claimed_updated or now
        updated = max(claimed_updated or published, published)
        return ItemWrite(
            None, entry_id(authority, source_key, item.key), item, published, updated, fingerprint
        )
    published = min(claimed_published or known.published, known.first_seen)
    # An edit must move ``updated`` forward, or readers would never notice it.
    updated = claimed_updated if claimed_updated and claimed_updated > known.updated else now
    if updated <= known.updated:
        updated = known.updated + timedelta(seconds=1)
    return ItemWrite(
        known.id, known.entry_id, item, published, max(updated, published), fingerprint
    )


# --- Canonical links -------------------------------------------------------------------------

TRACKING_PARAMETERS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_ga", "ref_src"}
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str, extra_tracking: frozenset[str] = frozenset()) -> str:
    """The form of a link two sources agree on.

    Scheme and host lower-cased, default ports and fragments dropped, tracking
    parameters removed (utm_*, fbclid, gclid, … and ``extra_tracking``), the
    remaining query parameters sorted.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    if parts.username:
        host = f"{parts.username}@{host}"
    dropped = TRACKING_PARAMETERS | extra_tracking
    query = sorted(
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not name.lower().startswith("utm_") and name.lower() not in dropped
    )
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


# --- Identity within a source, and stories across sources ------------------------------------

BROKEN_ID_SHARE = 0.1  # a fetch where this share of ids repeat on different stories
CHURNING_ID_SHARE = 0.5  # a fetch where this share of known links arrive under new ids


def with_canonical_link(item: ItemData, extra_tracking: frozenset[str]) -> ItemData:
    """The item with its link canonical; an id that was the link becomes the canonical link."""
    if not item.link:
        return item
    link = canonical_url(item.link, extra_tracking)
    key = link if item.key in (item.link, link) else item.key
    return replace(item, link=link, key=key)


def identity_key(item: ItemData) -> str:
    """The stronger key for a source whose ids cannot be trusted: its link, else its text."""
    if item.link:
        return item.link
    text = normalize(item.title) + "\n" + normalize(html_to_text(item.content_html))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def trusted_ids(items: tuple[ItemData, ...], known_keys_by_link: dict[str, str]) -> bool:
    """Whether a fetch's own ids identify its entries (as FreshRSS checks each fetch).

    Not when too many ids repeat on entries with different links or titles (the
    same guid on different stories), nor when most already-known links arrive
    under ids the store has not seen (a new guid on every fetch).
    """
    if not items:
        return True
    seen: dict[str, tuple[str, str | None]] = {}
    repeated = 0
    for item in items:
        story = (normalize(item.title), item.link)
        if item.key in seen and seen[item.key] != story:
            repeated += 1
        seen.setdefault(item.key, story)
    if repeated >= 2 and repeated >= BROKEN_ID_SHARE * len(items):
        return False
    linked = [i for i in items if i.link and i.link in known_keys_by_link]
    churned = [i for i in linked if known_keys_by_link[i.link or ""] != i.key]
    return not (len(churned) >= 2 and len(churned) >= CHURNING_ID_SHARE * len(linked))


def identify(items: tuple[ItemData, ...], known_keys_by_link: dict[str, str]) -> list[ItemData]:
    """The fetch's items keyed by their ids, or by ``identity_key`` when the ids are broken.

    Repeats of one key keep the first entry, as feeds list newest first.
    """
    if not trusted_ids(items, known_keys_by_link):
        items = tuple(replace(item, key=identity_key(item)) for item in items)
    unique: dict[str, ItemData] = {}
    for item in items:
        unique.setdefault(item.key, item)
    return list(unique.values())


# Versions of one story are published within hours of each other (flashes, section
# feeds, syndicated copies and roundups within a day in the real feeds labelled): the
# same text or close texts further apart are a recurring notice, a template article, or
# a later development. A shared headline or first sentence alone says less, so it must
# be closer still.
STORY_WINDOW = timedelta(days=2)
TITLE_WINDOW = timedelta(hours=12)
# Different stories may carry one headline (a generic one, or a truncated one): when
# both texts are long, a shared headline needs texts somewhat alike too (different
# stories with one headline were up to 0.28 alike in the benchmark corpus with blake2b
# shingle hashes, 0.31 with xxh3's: the estimate moves by a few hundredths with the
# hash, so the bar sits clear of both; the real pairs merge the same at 0.3 and 0.35).
TITLE_SUPPORT = 0.35
# Another outlet's copy of a text comes out within a day (print editions dated the evening
# before, online ones the next afternoon, in the labelled pairs); write-ups: ``writeups``.
WRITE_UP_WINDOW = timedelta(hours=24)


def matching_stories(
    slots: tuple[int, ...] | None,
    title: str,
    published: datetime,
    candidates: list[StoryCandidate],
    threshold: float,
    body: str = "",
    link: str | None = None,
) -> set[int]:
    """The stories of every candidate telling the same story as a new item.

    "Same story" is symmetric and depends on the two items alone: published within
    STORY_WINDOW, and never a list of stories (a digest) and one story unless their
    texts are equal; the numbers of one headline all in the other's (series parts,
    template notices and different polls differ in them; within TITLE_WINDOW a version
    brought up to date may, ``containment.revised``, and so may another outlet's copy,
    below), and then the same normalized text whatever its length, signatures at least
    ``threshold`` alike, or within TITLE_WINDOW the same first sentence (byline aside) or
    the same headline (version labels aside; with texts TITLE_SUPPORT alike when both
    have signatures). Or, the texts being ``body`` and the candidates', one holds the
    other (``containment.holds``: its text, or within TITLE_WINDOW its headline, or a
    share of both, as different write-ups of one event do), or they are one outlet's
    flash and its full version (``containment.versions``). Or, the item's ``link`` and
    the candidate's naming different outlets, neither an opinion piece
    (``headlines.opinion``), they are write-ups of one event (``writeups.written_alike``:
    headlines sharing a quarter of their grams and one text holding less of the other, or
    naming the event alike, or ending on one word); or, within WRITE_UP_WINDOW, opinion or
    not, one text is the other's under another headline
    (``containment.copied``). Every match counts, not only the best: an item close to two
    stories joins them, as it would had it come first.
    """
    mine = full_slot_values(slots) if slots is not None else None
    numbers = title_numbers(title)
    held = version(title, body)
    mine_outlet = outlet(link, "")
    mine_opinion = opinion(title, link)
    found = set()
    for candidate in candidates:
        apart = abs(candidate.published - published)
        if apart > STORY_WINDOW:
            continue
        theirs = version(candidate.title, candidate.body)
        if held.listing is not theirs.listing and "text" not in candidate.shared:
            continue  # a digest and one story it lists
        if not _numbers_agree(numbers, title_numbers(candidate.title)):
            if (apart <= TITLE_WINDOW and revised(held, theirs)) or _carried(
                held, theirs, candidate, apart, mine_outlet, every_figure=True
            ):
                found.add(candidate.story_id)
            continue
        if slots is None or candidate.signature is None:
            alike = None  # a short text: its headline or first sentence is all there is
        elif mine is not None and candidate.values is not None:
            alike = len(mine & candidate.values) / SIGNATURE_SLOTS  # = similarity()
        else:
            alike = similarity(slots, candidate.signature)
        shared = candidate.shared
        if (
            "text" in shared
            or (alike is not None and alike >= threshold)
            or (apart <= TITLE_WINDOW and "lead" in shared)
            or (
                apart <= TITLE_WINDOW
                and "title" in shared
                and (alike is None or alike >= TITLE_SUPPORT)
            )
            or holds(
                held,
                theirs,
                headlines_near=apart <= TITLE_WINDOW,
                short=alike is None,
                heads_meet="head" in shared,
            )
            or (
                not mine_opinion
                and _other_outlets(mine_outlet, candidate.link)
                and not opinion(candidate.title, candidate.link)
                and written_alike(held, theirs, apart)
            )
            or _carried(held, theirs, candidate, apart, mine_outlet, every_figure=False)
            or versions(held, theirs, (link, candidate.link), candidate.published - published)
        ):
            found.add(candidate.story_id)
    return found


def same_story(first: ItemData, second: ItemData, threshold: float) -> bool:
    """Whether two items are one story as an ingest decides it (what the labelled pairs measure):
    the same canonical link or global id, else ``matching_stories`` (undated: published at once)."""
    first, second = (with_canonical_link(item, frozenset()) for item in (first, second))
    if (first.link and first.link == second.link) or (
        is_global_id(first.key) and first.key == second.key
    ):
        return True
    texts = [html_to_text(item.content_html) for item in (first, second)]
    mine, theirs = (
        story_keys(item.title, text) for item, text in zip((first, second), texts, strict=True)
    )
    when = first.published or second.published or datetime.min.replace(tzinfo=UTC)
    shared = shared_keys(mine[1:4], theirs[1:4], mine.heads, theirs.heads)
    candidate = StoryCandidate(
        0,
        0,
        theirs.slots,
        full_slot_values(theirs.slots) if theirs.slots else None,
        second.published or when,
        second.title,
        shared,
        texts[1],
        second.link,
    )
    return bool(
        matching_stories(
            mine.slots, first.title, when, [candidate], threshold, texts[0], first.link
        )
    )


def shared_keys(
    mine: tuple[int | None, ...],
    theirs: tuple[int | None, ...],
    my_heads: tuple[int, ...],
    their_heads: tuple[int, ...],
) -> frozenset[str]:
    """``StoryCandidate.shared`` of two items' text, title and lead keys and text
    beginnings' keys (``fingerprints.StoryKeys``), as the band index finds it."""
    named = zip(("text", "title", "lead"), mine, theirs, strict=True)
    found = {name for name, key, other in named if key is not None and key == other}
    return frozenset(found | ({"head"} if set(my_heads) & set(their_heads) else set()))


def _carried(
    held: Version,
    theirs: Version,
    candidate: StoryCandidate,
    apart: timedelta,
    mine_outlet: str,
    *,
    every_figure: bool,
) -> bool:
    """Whether another outlet's candidate, published within WRITE_UP_WINDOW, is the item's
    text under another headline or the other way round (``containment.copied``). Only
    texts whose beginnings share a key are measured: copies open alike."""
    return (
        apart <= WRITE_UP_WINDOW
        and "head" in candidate.shared
        and _other_outlets(mine_outlet, candidate.link)
        and copied(held, theirs, every_figure=every_figure)
    )


def _other_outlets(mine: str, link: str | None) -> bool:
    """Whether a candidate's ``link`` names an outlet, and not ``mine`` (``outlet``)."""
    return bool(mine) and outlet(link, "") not in ("", mine)


def _numbers_agree(mine: frozenset[str], theirs: frozenset[str]) -> bool:
    """Whether two headlines' numbers can be one story's: one's are all in the other's."""
    return mine <= theirs or theirs <= mine


def outlet(link: str | None, name: str) -> str:
    """Who published an item: its link's host (without ``www.``), else its source's name.

    One outlet publishes an article in several section feeds (politics, all news),
    and one feed may carry several outlets' articles, so the link says who wrote it.
    """
    return link_host(link) or name


def other_outlets(entry_link: str | None, entry_outlet: str, members: list[Report]) -> list[Report]:
    """The story's other versions a reader is shown: other outlets only, each once.

    ``members`` are the story's items other than its entry, in the order they
    are listed (earliest published first): the entry's own outlet and its own
    link are left out, and of an outlet's several versions only the first stays.
    """
    listed: dict[str, Report] = {}
    for member in members:
        who = outlet(member.link, member.source_title)
        if who != entry_outlet and (member.link is None or member.link != entry_link):
            listed.setdefault(who, member)
    return list(listed.values())
