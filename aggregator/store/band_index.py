"""The band index inside one transaction: items' band keys written with their publication
time, and a new item's near-duplicate candidates read back from it.

A candidate is only ever a match when published within a window of the new item
(``dedup.STORY_WINDOW``), so the caller says which span of time each lookup wants and
the index hands on only the members published within it: in a store holding a year of
items a crowded key's older members are no longer split, ranked, fetched with their
texts and then dropped (issue #22).
"""

from collections.abc import Mapping, Sequence
from datetime import datetime

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

_CANDIDATE_COLUMNS = ("id", "signature", "published", "title", "content_html", "link")
_SIGNATURES = select(*(items.c[name] for name in _CANDIDATE_COLUMNS)).where(
    OneOf(items.c.id, "ids")
)
_STORIES = select(items.c.id, items.c.story_id).where(OneOf(items.c.id, "ids"))
_DELETE_BANDS = delete(item_bands).where(item_bands.c.item_id == bindparam("item"))


def _spans(
    band_sets: Sequence[Sequence[int]], within: Sequence[tuple[datetime, datetime]]
) -> list[dict[int, tuple[int, int]]]:
    """For each set, each of its keys' span of publication times, in seconds since 1970:
    the set's own, merged with the overlapping spans of other sets having the key (one
    lookup reads a key once for a source whose new items were published together, and
    apart for items published weeks apart)."""
    wanted: dict[int, list[tuple[int, int]]] = {}
    own = [(epoch_seconds(earliest), epoch_seconds(latest)) for earliest, latest in within]
    for keys, span in zip(band_sets, own, strict=True):
        for key in set(keys):
            wanted.setdefault(key, []).append(span)
    merged: dict[int, list[tuple[int, int]]] = {}
    for key, spans in wanted.items():
        spans.sort()
        joined = [spans[0]]
        for low, high in spans[1:]:
            if low <= joined[-1][1]:
                joined[-1] = (joined[-1][0], max(joined[-1][1], high))
            else:
                joined.append((low, high))
        merged[key] = joined
    return [
        {key: next(span for span in merged[key] if span[0] <= low <= span[1]) for key in set(keys)}
        for keys, (low, _) in zip(band_sets, own, strict=True)
    ]


def _members(joined: str) -> tuple[list[int], set[int]]:
    """A key's members as the lookup joins them: in ascending order, and as a set."""
    members = sorted(map(int, joined.split(",")))
    return members, set(members)


def _sharing(
    view: Mapping[int, tuple[list[int], set[int]]],
    named: tuple[int | None, ...],
    heads: Sequence[int],
) -> list[tuple[str, set[int]]]:
    """The items having each of a new item's named keys, and any of its heads' keys."""
    empty: tuple[list[int], set[int]] = ([], set())
    found = [(n, view.get(key, empty)[1]) for n, key in zip(NAMED_KEYS, named, strict=True)]
    return [*found, ("head", set().union(*(view.get(key, empty)[1] for key in heads)))]


class BandIndex(Transaction):
    """The band index's reads and writes in one transaction (``StoreTransaction`` has them)."""

    def story_candidates(
        self,
        band_sets: Sequence[Sequence[int]],
        within: Sequence[tuple[datetime, datetime]],
        named_keys: Sequence[tuple[int | None, ...]] | None = None,
        head_sets: Sequence[Sequence[int]] | None = None,
    ) -> list[list[StoryCandidate]]:
        """For each set of band keys: stored items sharing bands with it, a new item's
        near-duplicate candidates, ranked by how many bands they share (a near-duplicate
        shares many, an item on the same subject one or two). Of each key's newest
        NEWEST_MEMBERS only those published within the set's span of ``within`` (earliest,
        latest; or within another set's overlapping it, having the key) are counted, and
        the best-ranked few compared: the cost stays bounded however crowded the index gets
        and however long it has been filled. One query answers a whole source's new items before
        they are written (the writer compares them with each other); its stored items count
        too (a wire's flash and full version, issue #18). ``named_keys`` (per set: its text,
        title and lead keys) and ``head_sets`` (its text beginning's keys) say which of them
        a candidate shares (``StoryCandidate.shared``; ``fingerprints.StoryKeys``)."""
        spans = _spans(band_sets, within)
        wanted = {(key, span) for keys in spans for key, span in keys.items()}
        if not wanted:
            return [[] for _ in band_sets]
        read = newest_band_members(self.connection, sorted(wanted), NEWEST_MEMBERS)
        found = {wanted_span: _members(joined) for wanted_span, joined in read if joined}
        # Each set's view of the index: its keys' members within its span.
        views = [
            {key: found[key, span] for key, span in keys.items() if (key, span) in found}
            for keys in spans
        ]
        ranked = [
            most_shared(
                {key: members for key, (members, _) in view.items()},
                {key: members for key, (_, members) in view.items()},
                keys,
                MAX_STORY_CANDIDATES,
            )
            for keys, view in zip(band_sets, views, strict=True)
        ]
        named = named_keys or [(None, None, None)] * len(band_sets)
        heads = head_sets or [()] * len(band_sets)
        rows = self._candidate_rows({item for best in ranked for item in best})
        return [
            [
                StoryCandidate(
                    item,
                    story,
                    *signature_slots(signature),
                    published,
                    headline,
                    frozenset(name for name, items in sharing if item in items),
                    body,
                    link,
                )
                for sharing in (_sharing(view, keys, head),)
                for item in best
                for story, signature, published, headline, body, link in (rows[item],)
            ]
            for best, keys, head, view in zip(ranked, named, heads, views, strict=True)
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
            (key, item, epoch_seconds(published))
            for item, (keys, published) in bands.items()
            for key in set(keys)
        ]
        insert_rows(self.connection, item_bands, rows)

    def set_bands(
        self, item_id: int, keys: Sequence[int], published: datetime, *, new: bool = False
    ) -> None:
        """Replace an item's band keys, dated ``published`` as the item now is (``new``: it
        has none yet, nothing to delete). Whatever changes an item's date writes them again."""
        if not new:
            self.connection.execute(_DELETE_BANDS, {"item": item_id})
        self.add_bands({item_id: (keys, published)})
