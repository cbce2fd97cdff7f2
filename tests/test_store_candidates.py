"""Near-duplicate candidates from the band index, on real SQLite and PostgreSQL: exactly the
stored items sharing the most band keys (counting each key's newest
NEWEST_MEMBERS), ties to the one published nearest in time, then to the lowest id, also
on crowded keys."""

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select

from aggregator import dedup, fingerprints
from aggregator.store import Storage
from aggregator.store.band_index import MAX_STORY_CANDIDATES
from aggregator.store.candidates import most_shared, remember
from aggregator.store.dialect import NEWEST_MEMBERS
from aggregator.store.schema import epoch_seconds, item_bands, items
from aggregator.store.writes import StoreTransaction
from aggregator.types import ItemData, SourceInfo

NOW = datetime(2026, 11, 29, tzinfo=UTC)
CROWDED = 1000  # a band key most stored items share (news on one subject)


def ranking(
    members: dict[int, list[int]],
    keys: Sequence[int],
    most: int,
    published: Mapping[int, int] | None = None,
    when: int = 0,
) -> list[int]:
    """The definition: count the keys each item shares, best first, ties to the item
    ``published`` nearest to ``when`` (all at once when not given), then the lowest id."""
    shared = Counter(item for key in set(keys) for item in members.get(key, ()))
    dates = published or {}
    return sorted(
        shared, key=lambda item: (-shared[item], abs(dates.get(item, when) - when), item)
    )[:most]


def test_most_shared_is_the_counted_ranking() -> None:
    rng = random.Random(7)
    for _ in range(300):
        # Few keys, items and dates, so items often share several keys and counts and
        # distances tie.
        members = {
            key: sorted(rng.sample(range(1, 200), rng.choice([1, 3, 30, 150])))
            for key in range(rng.randint(1, 12))
        }
        published = {item: rng.randrange(10) for item in range(1, 200)}
        keys = [rng.randrange(15) for _ in range(rng.randint(0, 16))]
        most, when = rng.choice([1, 5, 20]), rng.randrange(10)
        found = most_shared(members, keys, most, published, when)
        assert found == ranking(members, keys, most, published, when)


def _store(
    tx: StoreTransaction, source: str, bands: list[list[int]], published: datetime = NOW
) -> list[int]:
    """Items of one source with these band keys (and a signature each); their ids."""
    source_id = tx.save_source(SourceInfo(key=source, kind="seed", title=source), None, NOW)
    writes = []
    for n, _ in enumerate(bands):
        item = ItemData(
            key=f"{source}/{n}", title=f"{source} {n}", content_html="", published=published
        )
        write = dedup.decide(item, None, authority="example.org,2026", source_key=source, now=NOW)
        assert write is not None
        writes.append((write, tuple(range(n, n + fingerprints.SIGNATURE_SLOTS))))
    ids = tx.insert_items(source_id, writes, NOW)
    tx.add_bands({item: (keys, published) for item, keys in zip(ids, bands, strict=True)})
    return ids


def test_candidates_on_crowded_band_keys_are_the_counted_ranking(storage: Storage) -> None:
    rng = random.Random(11)
    stored: dict[int, list[int]] = {}
    positions: dict[int, int] = {}  # item id -> its place in its source (its signature)
    with storage.transaction() as tx:
        for source in ("seed:a", "seed:b", "seed:c"):
            bands = [
                [CROWDED, *rng.sample(range(1, 40), rng.randint(1, 6))]
                + ([CROWDED + 1] if rng.random() < 0.5 else [])
                for _ in range(40)
            ]
            ids = _store(tx, source, bands)
            stored.update(zip(ids, bands, strict=True))
            positions.update({item: n for n, item in enumerate(ids)})
        own = _store(tx, "seed:own", [[CROWDED, *range(1, 17)]] * 5)
        stored.update(zip(own, [[CROWDED, *range(1, 17)]] * 5, strict=True))
    members: dict[int, list[int]] = {}
    for item, keys in sorted(stored.items()):
        for key in set(keys):
            members.setdefault(key, []).append(item)
    wanted = [
        [CROWDED, *rng.sample(range(1, 40), 8)],
        [CROWDED, CROWDED + 1, 3, 3, 5],  # a repeated key counts once
        [CROWDED],  # shared by everyone: the lowest ids
        [7, 8, 9, 10, 11, 12],  # no crowded key: fewer than the maximum
        [999_999, 2**63 - 1],  # keys no stored item has
        [],
    ]
    with storage.transaction() as tx:
        found = tx.story_candidates(wanted, [NOW] * len(wanted), dedup.STORY_WINDOW)
    newest = {key: found[-NEWEST_MEMBERS:] for key, found in members.items()}
    expected = [ranking(newest, keys, MAX_STORY_CANDIDATES) for keys in wanted]
    assert [[c.item_id for c in candidates] for candidates in found] == expected
    assert len(expected[0]) == MAX_STORY_CANDIDATES and len(members[CROWDED]) > NEWEST_MEMBERS
    # The crowded key's oldest members are left out, so the ranking differs from counting all.
    assert expected != [ranking(members, keys, MAX_STORY_CANDIDATES) for keys in wanted]
    # A source's own stored items are candidates too (a wire's flash and full version).
    assert {c.item_id for candidates in found for c in candidates} & set(own)
    candidate = found[2][0]
    place = positions[candidate.item_id]
    assert (candidate.story_id, candidate.signature) == (
        candidate.item_id,
        tuple(range(place, place + fingerprints.SIGNATURE_SLOTS)),
    )


def test_candidates_published_outside_the_window_are_ranked_but_not_read(
    storage: Storage,
) -> None:
    """The ranking is the counted one whenever the members were published, then those
    outside the window are left out before their rows are read (a store filled for a
    year, issue #22: nearly all of a crowded key's newest); an item dated again is found
    by its new date alone."""
    early = NOW - dedup.STORY_WINDOW - timedelta(seconds=1)
    month_ago = NOW - timedelta(days=30)
    with storage.transaction() as tx:
        within = _store(tx, "seed:a", [[CROWDED, 1]] * 5, NOW - dedup.STORY_WINDOW)
        crowd = _store(tx, "seed:b", [[CROWDED]] * (NEWEST_MEMBERS + 20), early)
        late = _store(tx, "seed:c", [[CROWDED, 2]] * 3, NOW + dedup.STORY_WINDOW)
    newest = {
        CROWDED: sorted(within + crowd + late)[-NEWEST_MEMBERS:],
        1: within,
        2: late,
    }
    dated = set(within + late)
    dates = {item: epoch_seconds(NOW - dedup.STORY_WINDOW) for item in within}
    dates |= {item: epoch_seconds(early) for item in crowd}
    dates |= {item: epoch_seconds(NOW + dedup.STORY_WINDOW) for item in late}

    def found(keys: list[int], published: datetime) -> list[int]:
        with storage.transaction() as tx:
            (candidates,) = tx.story_candidates([keys], [published], dedup.STORY_WINDOW)
        return [c.item_id for c in candidates]

    for keys in ([CROWDED, 1], [CROWDED, 2], [CROWDED]):
        counted = ranking(newest, keys, MAX_STORY_CANDIDATES, dates, epoch_seconds(NOW))
        assert found(keys, NOW) == [i for i in counted if i in dated]
        assert set(counted) - dated  # the crowd takes places in the ranking
    # The late members, a second nearer the lookup than the crowd, come before it; the
    # items ``within`` are none of the crowded key's newest (found by key 1 alone).
    assert found([CROWDED, 1], NOW) == within + late
    assert found([CROWDED, 2], NOW) == late
    assert found([CROWDED, 1], month_ago) == []
    with storage.transaction() as tx:
        tx.set_bands(within[0], [CROWDED, 1], month_ago)
    assert found([CROWDED, 1], NOW) == within[1:] + late
    assert found([CROWDED, 1], month_ago) == [within[0]]


def test_a_crowded_key_yields_the_members_nearest_in_time_whichever_came_first(
    storage: Storage,
) -> None:
    """Of more members sharing a key than are compared, those published nearest to the new
    item are: an item published a minute before it is found whether it was stored before
    or after a day-old crowd on the key. Ties went to the lowest id, the items stored
    first: so whether an item's version was compared at all depended on the order sources
    arrived in (the knews day 2022-07-26 stored 4,189 to 4,191 stories by that order)."""
    crowd_published = NOW - timedelta(hours=30)  # within the window, but far
    for crowd_first in (True, False):
        with storage.transaction() as tx:
            source = f"seed:{crowd_first}"
            crowd: list[int] = []
            if crowd_first:
                crowd = _store(tx, f"{source}/crowd", [[CROWDED]] * 30, crowd_published)
            (version,) = _store(tx, source, [[CROWDED]], NOW - timedelta(minutes=1))
            if not crowd_first:
                crowd = _store(tx, f"{source}/crowd", [[CROWDED]] * 30, crowd_published)
            (found,) = tx.story_candidates([[CROWDED]], [NOW], dedup.STORY_WINDOW)
            assert len(found) == MAX_STORY_CANDIDATES
            assert found[0].item_id == version
            assert {c.item_id for c in found[1:]} < set(crowd)
        with storage.transaction() as tx:  # the next round's store holds neither
            tx.connection.execute(item_bands.delete())


def test_an_ingest_reads_a_candidate_once_and_again_after_an_edit(storage: Storage) -> None:
    """Within remembering_candidates a candidate's row is read once, as first read, unless
    its item is rewritten; outside it every lookup reads."""
    reads: list[str] = []
    event.listen(
        storage.engine,
        "before_cursor_execute",
        lambda _c, _k, sql, *_: (
            reads.append(sql) if sql.startswith("SELECT items.id, items.signature") else None
        ),
    )
    with storage.transaction() as tx:
        (item,) = _store(tx, "seed:a", [[CROWDED, 1, 2]])
    edited = tuple(range(100, 100 + fingerprints.SIGNATURE_SLOTS))

    def signature_found() -> tuple[int, ...]:
        with storage.transaction() as tx:
            ((candidate,),) = tx.story_candidates([[CROWDED, 1]], [NOW], dedup.STORY_WINDOW)
        return candidate.signature

    with storage.remembering_candidates():
        assert signature_found() == signature_found() == tuple(range(fingerprints.SIGNATURE_SLOTS))
        assert len(reads) == 1
        with storage.transaction() as tx:
            tx.update_item(_write_of(tx, item), edited)
        assert signature_found() == edited and len(reads) == 2
    signature_found()
    signature_found()
    assert len(reads) == 4


def _write_of(tx: StoreTransaction, item_id: int) -> dedup.ItemWrite:
    """An edit of a stored item that keeps its fields (its signature is given apart)."""
    row = tx.connection.execute(select(items).where(items.c.id == item_id)).one()
    item = ItemData(key=row.key, title=row.title, content_html=row.content_html, published=NOW)
    return dedup.ItemWrite(item_id, row.entry_id, item, NOW, NOW, "edited")


def test_past_its_bound_the_memory_of_candidates_keeps_the_rows_being_looked_up() -> None:
    """Rows are forgotten past the bound, but not the wanted ones remembered earlier: the
    lookup that reached the bound reads them from memory (a 1,000-source ingest failed
    with a KeyError when they were forgotten too)."""
    remembered: dict[int, object] = {item: f"row {item}" for item in range(1, 11)}
    read = {11: "row 11", 12: "row 12"}
    remember(remembered, read, {3, 7, 11, 12}, 4)
    assert remembered == {3: "row 3", 7: "row 7", 11: "row 11", 12: "row 12"}
    remember(remembered, {13: "row 13"}, {13}, 5)  # under the bound: nothing forgotten
    assert sorted(remembered) == [3, 7, 11, 12, 13]


def test_past_its_bound_the_memory_of_candidates_forgets_the_least_recently_wanted() -> None:
    """Lookups want the newest members of band keys, so the rows wanted lately are the
    ones wanted again: a row read long ago but wanted since outlives newer unwanted ones."""
    remembered: dict[int, object] = {}
    remember(remembered, {1: "row 1", 2: "row 2", 3: "row 3"}, {1, 2, 3}, 4)
    remember(remembered, {4: "row 4"}, {1, 4}, 4)  # 1 wanted again, from memory
    remember(remembered, {5: "row 5", 6: "row 6"}, {5, 6}, 4)
    assert list(remembered) == [1, 4, 5, 6]  # 2 and 3, wanted least lately, forgotten
    remember(remembered, {7: "row 7"}, {4, 7}, 4)  # 4 wanted again, 1 the least lately
    assert list(remembered) == [5, 6, 4, 7]
