"""Benchmark: ways to replace many files durably and atomically on this disk (issue #22).

    python -m tests.benchmarks.bench_fsync [--files 200,1000] [--runs 3] [--folder DIR]

Each way writes N files of 20 KB, each to a temporary file renamed over its name, into a
fresh folder (under --folder, default the benchmark cache: on the disk the feeds would be
on, not a tmpfs), and prints the median of --runs: an fsync after each file (what publish
did before), all written then fsynced one by one, all fsynced at once from 16 threads
(``publish.write_changed``), one ``syncfs`` for the whole file system, and no sync at all.
"""

import argparse
import ctypes
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.benchmarks.harness import CACHE

DATA = os.urandom(20_000)


def _temporary(folder: str, n: int) -> tuple[int, str]:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{n}.xml.", dir=folder)
    os.write(descriptor, DATA)
    return descriptor, temporary


def _sync_folder(folder: str) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    os.fsync(descriptor)
    os.close(descriptor)


def each_fsynced(folder: str, count: int) -> None:
    for n in range(count):
        descriptor, temporary = _temporary(folder, n)
        os.fsync(descriptor)
        os.close(descriptor)
        os.replace(temporary, f"{folder}/{n}.xml")


def fsynced_one_by_one(folder: str, count: int) -> None:
    staged = [_temporary(folder, n) for n in range(count)]
    for descriptor, _ in staged:
        os.fsync(descriptor)
        os.close(descriptor)
    for n, (_, temporary) in enumerate(staged):
        os.replace(temporary, f"{folder}/{n}.xml")
    _sync_folder(folder)


def fsynced_at_once(folder: str, count: int) -> None:
    staged = [_temporary(folder, n) for n in range(count)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(os.fsync, (descriptor for descriptor, _ in staged)))
    for n, (descriptor, temporary) in enumerate(staged):
        os.close(descriptor)
        os.replace(temporary, f"{folder}/{n}.xml")
    _sync_folder(folder)


def one_syncfs(folder: str, count: int) -> None:
    staged = [_temporary(folder, n) for n in range(count)]
    for descriptor, _ in staged:
        os.close(descriptor)
    descriptor = os.open(folder, os.O_RDONLY)
    if ctypes.CDLL(None, use_errno=True).syncfs(descriptor) != 0:
        raise OSError(ctypes.get_errno(), "syncfs")
    os.close(descriptor)
    for n, (_, temporary) in enumerate(staged):
        os.replace(temporary, f"{folder}/{n}.xml")
    _sync_folder(folder)


def unsynced(folder: str, count: int) -> None:
    for n in range(count):
        descriptor, temporary = _temporary(folder, n)
        os.close(descriptor)
        os.replace(temporary, f"{folder}/{n}.xml")


WAYS: list[Callable[[str, int], None]] = [
    each_fsynced,
    fsynced_one_by_one,
    fsynced_at_once,
    one_syncfs,
    unsynced,
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", default="200,1000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--folder", type=Path, default=CACHE / "fsync")
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    print(f"load {os.getloadavg()[0]:.2f}; median of {args.runs} runs, ms")
    for count in (int(n) for n in args.files.split(",")):
        for way in WAYS:
            times = []
            for _ in range(args.runs):
                folder = tempfile.mkdtemp(dir=args.folder)
                started = time.perf_counter()
                way(folder, count)
                times.append((time.perf_counter() - started) * 1000)
                shutil.rmtree(folder)
            print(f"{count:>6} files  {way.__name__:<20} {statistics.median(times):8.0f}")


if __name__ == "__main__":
    main()
