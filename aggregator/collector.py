"""How often Python's cycle collector runs while an ingest allocates.

An ingest makes and drops millions of small containers (shingle sets, candidates, rows,
parsed entries), nearly all freed at once by reference counting. At CPython's default
threshold (700 more containers allocated than freed) the youngest generation was
collected every few items and every live object walked now and then: 7-9% of a first
ingest's writing time (issue #22, tests/benchmarks/RESULTS.md, ``bench_store``). Nothing
an ingest keeps depends on when a cycle is freed; only its memory waits longer.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Containers allocated (net) before the youngest generation is collected: a few MB of
# young objects at most.
YOUNG_GENERATION = 50_000
# Young collections before the middle generation's.
MIDDLE_GENERATION = 20


def collect_less() -> None:
    """Collect at ingest's thresholds from now on (a worker process, which only ingests)."""
    gc.set_threshold(YOUNG_GENERATION, MIDDLE_GENERATION, gc.get_threshold()[2])


@contextmanager
def collecting_less() -> Iterator[None]:
    """Collect at ingest's thresholds while the block runs, then as before."""
    before = gc.get_threshold()
    collect_less()
    try:
        yield
    finally:
        gc.set_threshold(*before)
