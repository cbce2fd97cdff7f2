"""Worker processes the tests start, and what they publish."""

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

CONFIG = """
[fetch]
workers = 8
per_host = 8
[worker]
batch = 10
poll_interval = "50ms"
"""


def feed_files(folder: Path) -> dict[str, bytes]:
    """Every published file but the archive pages, which follow arrival order by design."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "archive" not in p.parts
    }


def start_worker(project: Path, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    environment.update(env or {})
    with log.open("w") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "aggregator", "worker"],
            cwd=project,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def wait_for(condition: Callable[[], bool], what: str, *processes: subprocess.Popen) -> None:
    """Wait for real processes to get somewhere; they have their own clocks, so this polls."""
    deadline = time.monotonic() + 60
    while not condition():
        for process in processes:
            if process.poll() is not None:
                raise AssertionError(f"worker exited with {process.returncode} before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
