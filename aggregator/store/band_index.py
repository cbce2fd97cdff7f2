"""The band index inside one transaction: items' band keys written with their publication
time, and a new item's near-duplicate candidates read back from it.

A candidate is only ever a match when published within a window of the new item
(``dedup.STORY_WINDOW``), so the caller says which dates and window a lookup wants. The
ranking of candidates is unchanged, but the best-ranked members published outside the
span are never fetched with their texts to be dropped at once: in a store holding a year
of items that was nearly every candidate of a crowded key (issue #22).
"""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select

from aggregator.store.candidates import most_shared, remember, signature_slots
from aggregator.store.dialect import NEWEST_MEMBERS, OneOf, insert_rows, newest_band_members
from aggregator.store.engine import Transaction
from aggregator.store.schema import epoch_seconds, item_bands, items
from aggregator.text import html_to_text
from aggregator.types import StoryCandidate

# What ``story_candidates``' named keys are, in order (fingerprints.StoryKeys).
NAMED_KEYS = ("text", "title", "lead")
# Near-duplicate candidates compared per new item, the ones sharing the most bands.
MAX_STORY_CANDIDATES = 20
# Candidates' rows an ingest remembers at most (Storage.remembering_candidates), the least
# recently wanted forgotten first: a bound on the writer's memory (issue #22; RESULTS.md).
REMEMBERED_CANDIDATES = 5_000

_NOTHING_SHARED: frozenset[str] = frozenset()
_CANDIDATE_COLUMNS = ("id", "signature", "published", "title", "content_html", "link")
_SIGNATURES = select(*(items.c[name] for name in _CANDIDATE_COLUMNS)).where(
    OneOf(items.c.id, "ids")
)
_STORIES = select(items.c.id, items.c.story_id).where(OneOf(items.c.id, "ids"))
_DELETE_BANDS = delete(item_bands).where(item_bands.c.item_id == bindparam("item"))


def _spans(
    band_sets: Sequence[Sequence[int]], published: Sequence[datetime], window: timedelta
) -> dict[int, tuple[int, int]]:
    """Each band key's span of publication times, in seconds since 1970: ``window`` before
    the earliest of the sets having the key to ``window`` after the latest."""
    spans: dict[int, tuple[int, int]] = {}
    for keys, when in zip(band_sets, published, strict=True):
        low, high = epoch_seconds(when - window), epoch_seconds(when + window)
        for key in keys:
            known = spans.get(key, (low, high))
            spans[key] = (min(known[0], low), max(known[1], high))
    return spans


def _shared(
    member_sets: dict[int, set[int]],
    named: tuple[int | None, ...],
    heads: Sequence[int],
    best: list[int],
) -> dict[int, frozenset[str]]:
    """Which of a new item's named keys, and whether any of its heads' keys, each of its
    ``best`` candidates has (``StoryCandidate.shared``); those having none are left out
    (most are: a set asked of each kind of key, not the kinds asked of each candidate)."""
    having = [(n, member_sets.get(key)) for n, key in zip(NAMED_KEYS, named, strict=True)]
    having.append(("head", set().union(*(member_sets.get(key, ()) for key in heads))))
    names: dict[int, list[str]] = {}
    for name, holders in having:
        for item in holders.intersection(best) if holders else ():
            names.setdefault(item, []).append(name)
    return {item: frozenset(found) for item, found in names.items()}


class BandIndex(Transaction):
    """The band index's reads and writes in one transaction (``StoreTransaction`` has them)."""

    def story_candidates(
        self,
        band_sets: Sequence[Sequence[int]],
        published: Sequence[datetime],
        window: timedelta,
        named_keys: Sequence[tuple[int | None, ...]] | None = None,
        head_sets: Sequence[Sequence[int]] | None = None,
    ) -> list[list[StoryCandidate]]:
        """For each set of band keys: stored items sharing bands with it, a new item's
        near-duplicate candidates, ranked by how many bands they share (a near-duplicate
        shares many, an item on the same subject one or two), then by nearness to the set's
        ``published`` date (``candidates.most_shared``). Only each key's newest
        NEWEST_MEMBERS are counted and the best-ranked few compared: the cost stays bounded
        however crowded the index gets. Of those, the ones published more than ``window``
        before or after the set's ``published`` date are left out before their rows are read
        (``dedup.matching_stories`` would drop them first thing). One query answers a whole
        source's new items before they are written (the writer compares them with each
        other); its stored items count too (a wire's flash and full version, issue #18).
        ``named_keys`` (per set: its text, title and lead keys) and ``head_sets`` (its text
        beginning's keys) say which of them a candidate shares (``StoryCandidate.shared``;
        ``fingerprints.StoryKeys``)."""
        spans = _spans(band_sets, published, window)
        if not spans:
            return [[] for _ in band_sets]
        members: dict[int, list[int]] = {}
        dated: set[int] = set()  # members published within their key's span
        epochs: dict[int, int] = {}  # each member's publication time
        for key, joined in newest_band_members(self.connection, list(spans), NEWEST_MEMBERS):
            if joined:
                ids, times = joined.split(";")
                members[key] = found = list(map(int, ids.split(",")))
                dates = list(map(int, times.split(",")))
                epochs.update(zip(found, dates, strict=True))
                low, high = spans[key]
                dated.update(
                    item for item, at in zip(found, dates, strict=True) if low <= at <= high
                )
        # A member within its own item's window is within the span of every key it is
        # found by (each span holds the windows of every set having the key).
        ranked = [
            [
                item
                for item in most_shared(
                    members, keys, MAX_STORY_CANDIDATES, epochs, epoch_seconds(when)
                )
                if item in dated
            ]
            for keys, when in zip(band_sets, published, strict=True)
        ]
        named = named_keys or [(None, None, None)] * len(band_sets)
        heads = head_sets or [()] * len(band_sets)
        # As sets only the keys ``shared`` asks about: most keys are only ranked by.
        asked = {key for keys in named for key in keys}.union(*heads)
        member_sets = {key: set(members[key]) for key in asked if key in members}
        rows = self._candidate_rows({item for best in ranked for item in best})
        return [
            [
                StoryCandidate(
                    item,
                    story,
                    *signature_slots(signature),
                    published,
                    headline,
                    shared.get(item, _NOTHING_SHARED),
                    body,
                    link,
                )
                for shared in (_shared(member_sets, keys, head, best),)
                for item in best
                for story, signature, published, headline, body, link in (rows[item],)
            ]
            for best, keys, head in zip(ranked, named, heads, strict=True)
        ]

    def _candidate_rows(
        self, wanted: set[int]
    ) -> dict[int, tuple[int, bytes | None, datetime, str, str, str | None]]:
        """The story, signature, publication date, title, text and link of each wanted item:
        all but the story are read unless remembered (stories change when stories join)."""
        if not wanted:
            return {}
        remembered = {} if self.remembered is None else self.remembered
        missing = sorted(wanted.difference(remembered))
        rows = self.connection.execute(_SIGNATURES, {"ids": missing}) if missing else ()
        read = {
            item: (signature, published, title, html_to_text(html), link)
            for item, signature, published, title, html, link in rows
        }
        if self.remembered is not None:
            remember(remembered, read, wanted, REMEMBERED_CANDIDATES)
        stories = dict(self.connection.execute(_STORIES, {"ids": sorted(wanted)}).all())
        return {item: (stories[item], *(read.get(item) or remembered[item])) for item in wanted}

    def add_bands(self, bands: Mapping[int, tuple[Sequence[int], datetime]]) -> None:
        """Index new items' band keys (item id -> its keys and its publication date), in one
        statement."""
        rows = [
            (key, item, epoch)
            for item, (keys, published) in bands.items()
            for epoch in (epoch_seconds(published),)
            for key in set(keys)
        ]
        # In the index's order: each row lands next to the one before it, on a page just
        # written, not on one read again from disk (issue #22: a tenth less time inserting).
        rows.sort()
        insert_rows(self.connection, item_bands, rows)

    def set_bands(
        self, item_id: int, keys: Sequence[int], published: datetime, *, new: bool = False
    ) -> None:
        """Replace an item's band keys, dated ``published`` as the item now is (``new``: it
        has none yet, nothing to delete). Whatever changes an item's date writes them again."""
        if not new:
            self.connection.execute(_DELETE_BANDS, {"item": item_id})
        self.add_bands({item_id: (keys, published)})
