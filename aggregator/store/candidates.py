"""Ranking a new item's near-duplicate candidates from the band index, without the store.

The band index lists, per band key, the stored items having it (the store reads the
newest few of each). A new item's candidates are the items sharing the most of its
band keys, ties to the lowest id; only the best ``most`` are compared. News on one
subject makes some keys crowded while almost every crowded member shares just that
one key with the new item, so counting every member of every key and sorting them
all would spend most of the writer's time on items ranked only by id.
"""

from collections.abc import Mapping, MutableMapping, Sequence, Set
from itertools import chain


def most_shared(
    members: Mapping[int, Sequence[int]],
    member_sets: Mapping[int, set[int]],
    keys: Sequence[int],
    most: int,
) -> list[int]:
    """The ``most`` items sharing the most of ``keys``, then the lowest ids first.

    ``members`` holds each band key's items in ascending order, ``member_sets`` the
    same items as sets. The items sharing two keys or more are found with set
    operations and ranked by count; the rest share exactly one key, and the
    lowest of those are among the first few of each key's ascending list.
    """
    # Smallest first: an intersection costs what the smaller set holds, and the
    # largest (the crowded key, when there is one) is only intersected, never copied.
    present = sorted({key for key in keys if key in members}, key=lambda key: len(members[key]))
    seen: set[int] = set()
    repeated: set[int] = set()
    for key in present[:-1]:
        repeated |= seen & member_sets[key]
        seen |= member_sets[key]
    if present:
        repeated |= seen & member_sets[present[-1]]
    shared = {item: sum(item in member_sets[key] for key in present) for item in repeated}
    best = sorted(repeated, key=lambda item: (-shared[item], item))[:most]
    if len(best) < most:
        # Fewer than ``most`` items are repeated, so each list's first ``most`` items
        # hold at least the ``most - len(best)`` lowest of its once-shared ones.
        heads = chain.from_iterable(members[key][:most] for key in present)
        best += sorted(set(heads) - repeated)[: most - len(best)]
    return best


def remember(
    remembered: MutableMapping[int, object],
    read: Mapping[int, object],
    wanted: Set[int],
    most: int,
) -> None:
    """Add the candidates' rows just ``read`` to those ``remembered``; past ``most`` rows,
    forget all but the ``wanted`` ones (a bound on memory: texts of about 2 kB each).

    The wanted rows stay: the lookup that read these is answered from both, and
    forgetting a wanted row remembered earlier made a 1,000-source ingest fail
    (KeyError) once the bound was reached (bench_pipeline --sources 1000).
    """
    if len(remembered) + len(read) > most:
        kept = {item: remembered[item] for item in wanted if item in remembered}
        remembered.clear()
        remembered.update(kept)
    remembered.update(read)
