"""Soak: the real daemon through many cycles against a local server whose feeds keep changing.

Run: python -m tests.benchmarks.soak_daemon [--cycles 1000] [--sources 20]

Each source's feed gains a story at every request and keeps its newest 30,
answering 304 to a matching If-None-Match, so cycles mix new items, updates of
the store, regenerations and not-modified answers. Every 50 cycles the daemon's
resident memory (VmRSS) and open file descriptors are read from /proc. The soak
passes when, after a warm-up of 100 cycles, RSS grows by less than 10% and the
descriptor count does not creep up; the daemon must then stop on SIGTERM with 0.
"""

import argparse
import hashlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests import corpus
from tests.feedserver import FeedServer, Reply, Request, Route
from tests.support.project import write_config

WARM_UP = 100
SAMPLE_EVERY = 50
STORIES_PER_REQUESTS = 1
WINDOW = 30


def changing_feed(feed: int, pool: list[corpus.Entry]) -> Route:
    requests = 0
    guard = threading.Lock()

    def route(request: Request) -> Reply:
        nonlocal requests
        with guard:
            requests += 1
            newest = min(len(pool), 1 + requests // STORIES_PER_REQUESTS)
        body = corpus.rss(feed, pool[max(0, newest - WINDOW) : newest])
        etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        if request.headers.get("if-none-match") == etag:
            return Reply(304, headers={"ETag": etag})
        return Reply(200, body, {"ETag": etag, "Content-Type": "application/rss+xml"})

    return route


def read_proc(pid: int) -> tuple[int, int]:
    """(resident kB, open descriptors) of a live process."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--sources", type=int, default=20)
    args = parser.parse_args()

    # Enough distinct stories that every feed keeps changing for the whole soak.
    per_feed = args.cycles // STORIES_PER_REQUESTS + 2
    entries = corpus.generate(per_feed * args.sources, feeds=args.sources, seed=7)
    pools = {f: [e for e in entries if e.feed == f] for f in range(args.sources)}
    server = FeedServer().start()
    urls = [server.serve(f"/feed/{f}.xml", changing_feed(f, pool)) for f, pool in pools.items()]
    with tempfile.TemporaryDirectory(prefix="aggregator-soak-") as folder:
        root = Path(folder)
        sources = "".join(f'[[sources]]\nurl = "{url}"\n' for url in urls)
        write_config(
            root,
            '[daemon]\ningest_interval = "100ms"\nregenerate_interval = "1h"\n'
            '[fetch]\nmin_interval = "100ms"\ndefault_interval = "100ms"\n' + sources,
        )
        (root / "seeds").mkdir()
        (root / "feeds").mkdir()
        log_path = root / "daemon.log"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
        with log_path.open("w") as log:
            daemon = subprocess.Popen(
                [sys.executable, "-m", "aggregator", "daemon"],
                cwd=root,
                env=environment,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        samples: list[tuple[int, int, int]] = []
        started = time.monotonic()
        next_sample = 0
        try:
            while True:
                cycles = log_path.read_text().count("aggregator.pipeline: ingest:")
                if daemon.poll() is not None:
                    print(log_path.read_text()[-3000:])
                    raise SystemExit(f"daemon exited with {daemon.returncode} at cycle {cycles}")
                if cycles >= next_sample:
                    rss, fds = read_proc(daemon.pid)
                    samples.append((cycles, rss, fds))
                    print(f"cycle {cycles:5d}  RSS {rss / 1024:7.1f} MB  fds {fds:3d}", flush=True)
                    next_sample += SAMPLE_EVERY
                if cycles >= args.cycles:
                    break
                time.sleep(0.05)
        finally:
            daemon.send_signal(signal.SIGTERM)
            status = daemon.wait(timeout=120)
        elapsed = time.monotonic() - started
        text = log_path.read_text()
        errors = [line for line in text.splitlines() if " ERROR " in line]
        items = len(re.findall(r"aggregator.publish: wrote .*all.xml", text))
        stored = sum(int(n) for n in re.findall(r"ingest: .*?(\d+) new items", text))
        shutil.copy(log_path, Path(tempfile.gettempdir()) / "aggregator-soak.log")
    server.stop()

    after = [s for s in samples if s[0] >= WARM_UP]
    base_rss, base_fds = after[0][1], after[0][2]
    peak_rss = max(s[1] for s in after)
    growth = peak_rss / base_rss - 1
    late_fds = statistics.median(s[2] for s in after[len(after) // 2 :])
    print()
    print(f"{args.cycles} cycles, {args.sources} sources, {elapsed:.0f} s")
    print(f"items stored: {stored}; all.xml rewritten {items} times; {len(errors)} error lines")
    print(f"RSS after warm-up (cycle {after[0][0]}): {base_rss / 1024:.1f} MB; peak after: "
          f"{peak_rss / 1024:.1f} MB; growth {growth:+.1%} (limit +10%)")  # fmt: skip
    print(f"open descriptors after warm-up: {base_fds}; median of the second half: {late_fds:g}")
    print(f"daemon exit status on SIGTERM: {status}")
    passed = growth < 0.10 and late_fds <= base_fds + 2 and status == 0 and not errors
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
