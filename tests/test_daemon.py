"""A real `aggregator daemon`: publishes, picks up a new seed, refuses a twin, stops cleanly."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

NEW_SEED = """Unification ministry proposes talks on separated families

Published: 9 Jun. 2025, 10:30

The Ministry of Unification proposed on Monday that the two Koreas hold
Red Cross talks on reunions of separated families, the first such offer to
Pyongyang since the new government took office in Seoul.
"""


def _wait_for(condition: Callable[[], bool], what: str, process: subprocess.Popen) -> None:
    """Wait for a real process to do something; it has its own clock, so this polls."""
    deadline = time.monotonic() + 30
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"daemon exited with {process.returncode} before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def daemon(project: Path) -> Iterator[subprocess.Popen]:
    (project / "config" / "aggregator.toml").write_text(
        '[daemon]\ningest_interval = "200ms"\nregenerate_interval = "1h"\n'
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    with (project / "daemon.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "aggregator", "daemon"],
            cwd=project,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
        )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_daemon_publishes_picks_up_new_seeds_and_stops_on_sigterm(
    project: Path, daemon: subprocess.Popen
) -> None:
    topic_feed = project / "feeds" / "inter-korean.xml"

    def published(title: str) -> Callable[[], bool]:
        return lambda: topic_feed.exists() and title.encode() in topic_feed.read_bytes()

    _wait_for(published("inter-Korean hotline"), "the shipped seeds to be published", daemon)
    (project / "seeds" / "new.txt").write_text(NEW_SEED, encoding="utf-8")
    _wait_for(published("separated families"), "the new seed to be published", daemon)
    assert b"separated families" in (project / "feeds" / "all.xml").read_bytes()

    twin = subprocess.run(
        [sys.executable, "-m", "aggregator", "daemon"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert twin.returncode == 3
    assert "another daemon is running" in twin.stderr

    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=30) == 0
    log = (project / "daemon.log").read_text()
    assert "received SIGTERM" in log
    assert "daemon stopped" in log


def test_sighup_reloads_the_config_and_keeps_the_old_one_when_invalid(
    project: Path, daemon: subprocess.Popen
) -> None:
    feed = project / "feeds" / "inter-korean.xml"
    _wait_for(
        lambda: feed.exists() and feed.read_bytes().count(b"<entry") == 2,
        "the shipped seeds to be published",
        daemon,
    )
    config = project / "config" / "aggregator.toml"
    valid = config.read_text()
    config.write_text(valid + "[publish\n")  # broken TOML
    daemon.send_signal(signal.SIGHUP)
    log = project / "daemon.log"
    _wait_for(lambda: "kept the previous one" in log.read_text(), "the bad config reported", daemon)
    rules = project / "config" / "topics" / "inter-korean.toml"
    config.write_text(valid)
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("threshold = 6.0", "threshold = 999.0")
    )
    daemon.send_signal(signal.SIGHUP)
    _wait_for(lambda: b"<entry" not in feed.read_bytes(), "the new rules to apply", daemon)
    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=30) == 0
    assert "SIGHUP: reloaded configuration" in log.read_text()


# A child whose SIGTERM reaches a thread other than the main one, as the kernel may choose
# when the daemon runs its scheduler's and server's threads: the handler only runs in the
# main thread, so wait_for_signal must wake to run it.
SIGTERM_TO_ANOTHER_THREAD = """
import logging, signal, threading
from aggregator import daemon

logging.basicConfig(level=logging.INFO)

class Watched(threading.Event):
    waiting = threading.Event()

    def wait(self, timeout=None):
        self.waiting.set()
        return super().wait(timeout)

stop = Watched()

def send_from_here():
    stop.waiting.wait()
    signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

threading.Thread(target=send_from_here).start()
daemon.wait_for_signal(stop)
print("stopped")
"""


def test_a_signal_delivered_to_another_thread_still_stops_the_wait() -> None:
    try:
        done = subprocess.run(
            [sys.executable, "-c", SIGTERM_TO_ANOTHER_THREAD],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("wait_for_signal never ran the SIGTERM handler a non-main thread received")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "stopped\n"
    assert "received SIGTERM" in done.stderr
