"""Running it for months: backups and moves between databases, and surviving kill -9."""

import io
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator import pipeline
from aggregator.config import load_settings
from aggregator.errors import AggregatorError
from aggregator.store import transfer
from tests import corpus
from tests.support.feeds import wire_feed
from tests.support.project import write_config

NOW = datetime(2025, 6, 10, tzinfo=UTC)
FEEDS = ("all", "alliance", "domestic-politics", "inter-korean")


def open_app(project: Path, database_url: str, feeds: str = "feeds") -> pipeline.Aggregator:
    config = project / "config" / "aggregator.toml"
    config.write_text(f'[publish]\nfolder = "{feeds}"\n', encoding="utf-8")
    settings = load_settings(config, environ={"AGGREGATOR_DATABASE_URL": database_url})
    return pipeline.Aggregator.open(settings)


def feed_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.xml"))}


def test_export_and_import_keep_ids_stories_and_feeds(
    project: Path, tmp_path: Path, database_url: str
) -> None:
    seeds = project / "seeds"
    (seeds / "wire.xml").write_bytes(wire_feed("wire", "Seoul proposes talks on liaison office"))
    (seeds / "daily.xml").write_bytes(wire_feed("daily", "Talks offered", " Copyright Daily."))
    source = open_app(project, f"sqlite:///{tmp_path / 'source.db'}")
    try:
        pipeline.update(source, NOW)
        backup = io.StringIO()
        count = transfer.export(source.storage, backup)
    finally:
        source.close()
    assert count == 4 + 4  # sources: two seeds and two saved feeds; items: four
    original = feed_bytes(project / "feeds")
    assert "Also reported by" in original["inter-korean.xml"].decode()

    target = open_app(project, database_url, feeds="restored")
    try:
        loaded = transfer.import_lines(target.storage, backup.getvalue().splitlines(), "backup")
        assert loaded == (4, 4)
        pipeline.regenerate(target, NOW)
        assert feed_bytes(project / "restored") == original
        with pytest.raises(AggregatorError, match="not empty"):
            transfer.import_lines(target.storage, backup.getvalue().splitlines(), "backup")
        # Known items are recognised after the move: nothing new, nothing updated.
        report = pipeline.ingest(target, NOW, force=True)
        assert (report.items_new, report.items_updated) == (0, 0)
    finally:
        target.close()


@pytest.mark.parametrize("command", ["update", "daemon"])
def test_kill_9_at_any_moment_loses_and_doubles_nothing(tmp_path: Path, command: str) -> None:
    """Kill `aggregator update` (or the daemon) at random moments of a large ingest, then run
    it once more: the same items and byte-identical feeds as a run never interrupted."""
    entries = corpus.generate(200)
    projects = {}
    for name in ("clean", "killed"):
        root = tmp_path / name
        write_config(root)
        (root / "seeds").mkdir()
        for feed in range(6):
            mine = [e for e in entries if e.feed == feed]
            # Many small files: one transaction each, so there are many moments to die in.
            for part in range(0, len(mine), 8):
                data = corpus.rss(feed, mine[part : part + 8])
                (root / "seeds" / f"f{feed}-{part:04d}.xml").write_bytes(data)
        shutil.copytree(Path(__file__).parent.parent / "seeds", root / "seeds", dirs_exist_ok=True)
        projects[name] = root

    log = tmp_path / "stderr.log"

    def start(root: Path, command: str) -> subprocess.Popen:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
        with log.open("w") as stderr:
            return subprocess.Popen(
                [sys.executable, "-m", "aggregator", command],
                cwd=root, env=environment, stdout=subprocess.DEVNULL, stderr=stderr,
            )  # fmt: skip

    started = time.monotonic()
    assert start(projects["clean"], "update").wait(timeout=300) == 0
    # Kill moments spread over the time a whole run takes on this machine, however fast.
    whole_run = time.monotonic() - started
    clean_feeds = feed_bytes(projects["clean"] / "feeds")
    rng = random.Random(9)
    kills = 0
    for _ in range(6 if command == "update" else 4):
        process = start(projects["killed"], command)
        # A real process's own pace decides what it finished.
        time.sleep(rng.uniform(0.15, 0.85) * whole_run)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=60)
    assert kills >= 3
    process = start(projects["killed"], command)
    if command == "daemon":
        # The daemon comes back (its lock died with the killed one) and finishes the work.
        deadline = time.monotonic() + 120
        while "ingest:" not in log.read_text() or (
            feed_bytes(projects["killed"] / "feeds") != clean_feeds
        ):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the restarted daemon did not catch up"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=300) == 0
    assert feed_bytes(projects["killed"] / "feeds") == clean_feeds
    assert not list((projects["killed"] / "feeds").glob(".*"))  # no torn temporary files

    def stored(root: Path) -> list[tuple[str, str]]:
        app = open_app(root, f"sqlite:///{root / 'aggregator.db'}")
        try:
            return sorted((i.entry_id, i.title) for i in app.storage.newest_items(None, 10_000))
        finally:
            app.close()

    assert stored(projects["killed"]) == stored(projects["clean"])


def test_retention_prunes_old_unshown_stories_and_never_revives_them(
    project: Path, database_url: str
) -> None:
    config = project / "config" / "aggregator.toml"
    config.write_text('[publish]\nmax_entries = 1\n[retention]\nkeep = "30d"\n', encoding="utf-8")
    # 002 is the alliance feed's newest entry (000 names the alliance only in passing):
    # without that feed, 002 is shown nowhere.
    (project / "config" / "topics" / "alliance.toml").unlink()
    settings = load_settings(config, environ={"AGGREGATOR_DATABASE_URL": database_url})
    app = pipeline.Aggregator.open(settings)
    try:
        pipeline.update(app, NOW)
        assert app.storage.item_count() == 2
        later = datetime(2026, 1, 1, tzinfo=UTC)
        preview = pipeline.prune(app, later, dry_run=True)
        # 000 (June 4) is every feed's newest entry and stays; 002 (May 26) is shown nowhere.
        assert [title for _id, title in preview.items] == [
            "Lee Jae-myung pledges to restore inter-Korean hotline, strengthen U.S. alliance"
        ]
        assert app.storage.item_count() == 2  # a dry run removes nothing
        assert app.storage.last_run("regenerate") is not None
        assert len(pipeline.prune(app, later).items) == 1
        assert app.storage.item_count() == 1
        assert app.storage.last_run("regenerate") is None  # the run log is pruned too
        seed = project / "seeds" / "002_605a32e122b5d713.txt"
        seed.write_text(seed.read_text(encoding="utf-8") + "Edited.\n", encoding="utf-8")
        report = pipeline.ingest(app, later)
        assert (report.items_new, report.items_updated) == (0, 0)  # the tombstone holds
        assert app.storage.item_count() == 1
        assert not pipeline.prune(app, later).items
    finally:
        app.close()


def test_metrics_are_served_from_the_store(project: Path, database_url: str) -> None:
    from aggregator import metrics
    from aggregator.server import BackgroundServer
    from tests.feedserver import FeedServer, Reply

    sources = FeedServer().start()
    try:
        good = sources.serve("/good.xml", Reply(body=wire_feed("good", "Seoul proposes talks")))
        bad = sources.serve("/bad.xml", Reply(500))
        (project / "seeds" / "copy.xml").write_bytes(wire_feed("copy", "Talks offered", " (c)"))
        config = project / "config" / "aggregator.toml"
        config.write_text(f'[[sources]]\nurl = "{good}"\n[[sources]]\nurl = "{bad}"\n')
        settings = load_settings(config, environ={"AGGREGATOR_DATABASE_URL": database_url})
        app = pipeline.Aggregator.open(settings)
        try:
            pipeline.update(app, NOW)
            pipeline.update(app, NOW.replace(hour=3), force=True)
            server = BackgroundServer(
                settings.feeds_dir, "127.0.0.1", 0, lambda: metrics.render(app.storage, app.topics)
            ).start()
            try:
                import httpx

                response = httpx.get(f"{server.url}metrics")
            finally:
                server.stop()
        finally:
            app.close()
    finally:
        sources.stop()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    text = response.text
    assert 'aggregator_fetches_total{outcome="ok"} 1.0' in text
    assert 'aggregator_fetches_total{outcome="not-modified"} 1.0' in text  # identical body
    assert 'aggregator_fetches_total{outcome="error"} 2.0' in text
    assert "aggregator_items_stored_total 4.0" in text  # two seeds, a saved feed, one web entry
    assert "aggregator_duplicates_merged_total 1.0" in text
    assert 'aggregator_topic_items{topic="alliance"} 1.0' in text  # 002; 000 only in passing
    assert "aggregator_last_ingest_timestamp_seconds" in text
    assert "aggregator_last_regenerate_duration_seconds" in text
