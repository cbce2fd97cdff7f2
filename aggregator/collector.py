"""How often Python's cycle collector runs while an ingest writes.

The writer makes and drops millions of small containers (candidates, rows, shingle sets,
versions), nearly all freed at once by reference counting, while it keeps tens of
thousands alive (remembered rows, cached versions and shingles). At CPython's default
threshold (700 more containers allocated than freed) the youngest generation was
collected every few items and every live object walked now and then: 7-9% of a first
ingest's writing CPU (issue #22, tests/benchmarks/RESULTS.md, ``bench_store``). Nothing
an ingest stores depends on when a cycle is freed; only that memory waits longer. The
worker processes, with a small heap, spent 0.3% of their time collecting: left alone.

A command's process ends with every object it made still alive (SQLAlchemy alone builds
some 45,000 when imported), and the interpreter's last collections walk them all before it
exits: ``leaving`` spares that walk.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Containers allocated (net) before the youngest generation is collected, and young
# collections before the middle one's: a few MB of young objects at most.
YOUNG_GENERATION = 50_000
MIDDLE_GENERATION = 20


@contextmanager
def collecting_less() -> Iterator[None]:
    """Collect at an ingest's thresholds while the block runs, then as before."""
    before = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION, MIDDLE_GENERATION, before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def leaving() -> None:
    """The process exits next: keep the interpreter's final collections off what is alive.

    Frozen objects are never walked again; the operating system takes back their memory.
    Files, connections and logs are closed before this (``cli.run``) or by the atexit
    handlers, which still run. Without it, ``aggregator status`` spent ~50-90 ms of its
    ~0.35 s after its last line (issue #22, ``bench_cli``)."""
    gc.freeze()
