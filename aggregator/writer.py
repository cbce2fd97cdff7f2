"""Store one source: its metadata, fetch state and items, in one transaction.

    read      what the store knows of the source's items (by key, by link), which of
              them retention removed, and the stories other sources told
    plan      dedup.decide for each item -> ItemPlan (pure: new, edited, or unchanged)
    write     the edits, then the new items with their stories, band keys and topics

The reads come in the order the decisions need them: which key an item goes by
depends on the links the store knows, and what is new on those keys.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from aggregator import dedup, fulltext
from aggregator.analysis import ItemAnalysis, analyze, text_key
from aggregator.app import Aggregator
from aggregator.classify import Topic
from aggregator.fingerprints import full_slot_values
from aggregator.ingest.parallel import Analyses
from aggregator.store import retention
from aggregator.store.sources import save_fetch_state
from aggregator.store.writes import StoreTransaction, StoryIdentities
from aggregator.tally import Stored
from aggregator.types import ItemData, ItemWrite, KnownItem, SourceData, StoryCandidate

Planned = tuple[ItemWrite, ItemAnalysis]


@dataclass(frozen=True)
class ItemPlan:
    """What to write of one source's items: inserts and in-place edits, each with its
    analysis (signature, band keys, topics)."""

    inserts: tuple[Planned, ...]
    updates: tuple[Planned, ...]


def plan_items(
    entries: Iterable[ItemData],
    known: Mapping[str, KnownItem],
    removed: set[str],
    analyses: Analyses | None,
    *,
    topics: tuple[Topic, ...],
    authority: str,
    source_key: str,
    now: datetime,
) -> ItemPlan:
    """Decide each item (pure): new, edited, or unchanged and left out.

    An item retention ``removed`` is left out too: a source still listing it must
    not revive it. ``analyses`` are those a worker process worked out already.
    """
    inserts: list[Planned] = []
    updates: list[Planned] = []
    for item in entries:
        if item.key in removed:
            continue
        analysis = analyses.get(text_key(item)) if analyses else None
        write = dedup.decide(
            item,
            known.get(item.key),
            authority=authority,
            source_key=source_key,
            now=now,
            body=analysis.body if analysis else None,
        )
        if write is None:
            continue
        planned = (write, analysis or analyze(item, topics))
        (inserts if write.id is None else updates).append(planned)
    return ItemPlan(tuple(inserts), tuple(updates))


def store_source(
    app: Aggregator,
    data: SourceData,
    body_hash: str | None,
    now: datetime,
    fetch_state: dict[str, object] | None = None,
    analyses: Analyses | None = None,
    holder: str | None = None,
    pages: fulltext.PagePolicy | None = None,
) -> Stored:
    """Write one source, its fetch state and its items in one transaction.

    With ``holder`` (a worker's id) only while that worker's lease holds, releasing it.
    With ``pages``, written items whose article page it wants are marked so.
    """
    tracking = app.settings.dedup.tracking_parameters
    with app.storage.transaction() as tx:
        source_id = tx.save_source(data.source, body_hash, now, data.date_offset)
        if fetch_state is not None:
            save_fetch_state(tx, source_id, fetch_state, holder)
        canonical = tuple(dedup.with_canonical_link(item, tracking) for item in data.items)
        known_links = tx.known_keys_by_link(source_id, (i.link for i in canonical if i.link))
        entries = dedup.identify(canonical, known_links)
        known = tx.known_items(source_id, (item.key for item in entries))
        unknown = [item for item in entries if item.key not in known]
        removed = retention.tombstoned(tx, data.source.key, [item.key for item in unknown])
        identities = tx.stories_by_identity(source_id, ((i.link, i.key) for i in unknown))
        plan = plan_items(
            entries,
            known,
            removed,
            analyses,
            topics=app.topics,
            authority=app.settings.id_authority,
            source_key=data.source.key,
            now=now,
        )
        written: list[tuple[int, ItemWrite, ItemAnalysis, bool]] = []
        for write, analysis in plan.updates:
            assert write.id is not None  # an edit of a stored item
            tx.update_item(write, analysis.slots)
            tx.set_bands(write.id, analysis.bands, write.published)
            tx.set_topics(write.id, dict(analysis.topics))
            written.append((write.id, write, analysis, False))
        ids, merged = _insert_new(app, tx, source_id, plan.inserts, identities, now)
        new = [(i, write, a, True) for i, (write, a) in zip(ids, plan.inserts, strict=True)]
        if pages is not None:
            fulltext.note_writes(tx, pages, written + new)
        tx.index_search({i: (write.item.title, a.body) for i, write, a, _ in written + new})
    return Stored(len(plan.inserts), len(plan.updates), merged)


def _insert_new(
    app: Aggregator,
    tx: StoreTransaction,
    source_id: int,
    inserts: tuple[Planned, ...],
    identities: StoryIdentities,
    now: datetime,
) -> tuple[list[int], int]:
    """Write a source's new items together, a few statements for all of them; their ids, and
    how many joined a story told by another source (same link or global id, or near-duplicate
    text).
    """
    if not inserts:
        return [], 0
    threshold = app.settings.dedup.similarity
    indexed = [n for n, (_, analysis) in enumerate(inserts) if analysis.bands]
    candidates = tx.story_candidates(
        [inserts[n][1].bands for n in indexed],
        [inserts[n][0].published for n in indexed],
        dedup.STORY_WINDOW,
        [(a.text, a.title, a.lead) for n in indexed for a in (inserts[n][1],)],
        [inserts[n][1].heads for n in indexed],
    )
    matched: list[set[int]] = [set() for _ in inserts]
    for n, found in zip(indexed, candidates, strict=True):
        write, analysis = inserts[n]
        matched[n] = dedup.matching_stories(
            analysis.slots,
            write.item.title,
            write.published,
            found,
            threshold,
            analysis.body,
            write.item.link,
        )
    for n, (write, _) in enumerate(inserts):
        story = identities.story(write.item.link, write.item.key)
        if story is not None:
            matched[n].add(story)
    merged = sum(bool(stories) for stories in matched)
    ids = tx.insert_items(source_id, [(write, a.slots) for write, a in inserts], now)
    for n, m in _same_story_pairs(inserts, threshold):
        matched[n].add(ids[m])
    tx.join_stories(list(zip(ids, matched, strict=True)))
    tx.add_bands(
        {item_id: (a.bands, w.published) for item_id, (w, a) in zip(ids, inserts, strict=True)}
    )
    tx.add_topics({item_id: dict(a.topics) for item_id, (_, a) in zip(ids, inserts, strict=True)})
    return ids, merged


def _same_story_pairs(inserts: tuple[Planned, ...], threshold: float) -> list[tuple[int, int]]:
    """The pairs of one source's new items telling one story, by the decision items of a
    source take with stored ones: an outlet's feed lists an article under several of its
    URLs, and a wire's flash beside its full version. Only items sharing a band key are
    compared."""
    by_key: dict[int, list[int]] = {}
    for n, (_, analysis) in enumerate(inserts):
        for key in set(analysis.bands):
            by_key.setdefault(key, []).append(n)
    later: dict[int, set[int]] = {}
    for group in by_key.values():
        # In ascending order, as enumerated: each item's later ones follow it (a key all of
        # a source's items share made testing every pair the pairs' largest cost, issue #22).
        for place, n in enumerate(group[:-1]):
            later.setdefault(n, set()).update(group[place + 1 :])
    # Each item's slot values once, however many of the others it is compared with.
    values = {
        m: full_slot_values(slots)
        for m in set().union(*later.values())
        if (slots := inserts[m][1].slots)
    }
    found = []
    for n, others in sorted(later.items()):
        write, analysis = inserts[n]
        mine = (analysis.text, analysis.title, analysis.lead)
        candidates = [
            StoryCandidate(
                m,
                m,
                theirs.slots,
                values.get(m),
                other.published,
                other.item.title,
                dedup.shared_keys(
                    mine, (theirs.text, theirs.title, theirs.lead), analysis.heads, theirs.heads
                ),
                theirs.body,
                other.item.link,
            )
            for m in sorted(others)
            for other, theirs in (inserts[m],)
        ]
        stories = dedup.matching_stories(
            analysis.slots,
            write.item.title,
            write.published,
            candidates,
            threshold,
            analysis.body,
            write.item.link,
        )
        found += [(n, m) for m in sorted(stories)]
    return found
