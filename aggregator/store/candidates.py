"""Ranking a new item's near-duplicate candidates from the band index, without the store.

The band index lists, per band key, the stored items having it (the store reads the
newest few of each). A new item's candidates are the items sharing the most of its
band keys, ties to the one published nearest in time to it, then the lowest id; only
the best ``most`` are compared. A tie went to the lowest id alone before: to the items
stored first, so which of a crowded key's members were compared depended on the order
sources arrived in, and one real day's first update stored 4,189 stories in some runs,
4,190 or 4,191 in others (tests/benchmarks/RESULTS.md, "Stories on a real day in any
order"). Nearness in time is the pair's own: an item's versions come out within hours.
"""

from collections import Counter
from collections.abc import Mapping, Sequence, Set
from functools import lru_cache
from itertools import chain, islice, repeat
from operator import neg, sub

from aggregator.fingerprints import full_slot_values, unpack


def most_shared(
    members: Mapping[int, Sequence[int]],
    keys: Sequence[int],
    most: int,
    published: Mapping[int, int],
    when: int,
) -> list[int]:
    """The ``most`` items sharing the most of ``keys``, then those ``published`` nearest
    to ``when`` (seconds since 1970), then the lowest ids first.

    ``members`` holds each band key's items. Every member of the present keys is counted
    at once (a Counter, in C: a fifth of what testing each item found twice against each
    key cost, issue #22), and the best ``most`` picked out of tuples built and sorted in C
    (a key function per member, or a heap walked in Python, was a sixth of the writer's
    time on crowded keys).
    """
    shared = Counter(chain.from_iterable(members[key] for key in set(keys) if key in members))
    items = list(shared)
    fewer = map(neg, map(shared.__getitem__, items))
    apart = map(abs, map(sub, map(published.__getitem__, items), repeat(when)))
    return [item for _, _, item in sorted(zip(fewer, apart, items, strict=True))[:most]]


def remember(
    remembered: dict[int, object],
    read: Mapping[int, object],
    wanted: Set[int],
    most: int,
) -> None:
    """Add the candidates' rows just ``read`` to those ``remembered``, keeping at most
    ``most`` rows (a bound on memory: texts of about 2 kB each): the least recently
    wanted go first, never one of the ``wanted`` (the lookup that read these is answered
    from both; forgetting a wanted row made a 1,000-source ingest fail, KeyError).

    The dict's order is the order of use: a lookup's candidates are mostly the newest
    members of band keys, so the rows wanted lately are the ones likeliest to be wanted
    again (issue #22: a fifth of the rows, read again a little more often than when all
    were forgotten at once; tests/benchmarks/RESULTS.md).
    """
    for item in wanted:
        if item not in read and (row := remembered.pop(item, None)) is not None:
            remembered[item] = row
    remembered.update(read)
    excess = len(remembered) - most
    if excess > 0:
        # The wanted rows are the newest now, so the oldest rows are found first.
        for item in list(islice((i for i in remembered if i not in wanted), excess)):
            del remembered[item]


@lru_cache(maxsize=4096)
def signature_slots(
    signature: bytes | None,
) -> tuple[tuple[int, ...] | None, frozenset[int] | None]:
    """A stored signature unpacked, once: the same items come back source after source
    (members of crowded band keys), and unpacking their signatures again was a large
    part of the lookup (tests/benchmarks/RESULTS.md)."""
    if signature is None:
        return None, None
    slots = unpack(signature)
    return slots, full_slot_values(slots)


def forget_signatures() -> None:
    """Empty ``signature_slots``' cache (Storage.remembering_candidates, at its end)."""
    signature_slots.cache_clear()
