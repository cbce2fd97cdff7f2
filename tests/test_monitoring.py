"""Monitoring that tells the truth (issue #20): publishing failures are failures, counts are
the stories the feeds show, a run's end is when it ended (a wait for the lock: test_cli)."""

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

from freezegun import freeze_time

from aggregator import health, metrics, pipeline
from aggregator.config import load_settings
from tests.support.cli import run
from tests.support.files import read_only

SEED = "000_bbf987679977ef00.txt"


def scrape(project: Path) -> str:
    """What /metrics would answer for the project's database."""
    app = pipeline.Aggregator.open(load_settings(project / "config" / "aggregator.toml", {}))
    try:
        return metrics.render(app.storage, app.topics).decode()
    finally:
        app.close()


def test_files_that_cannot_be_written_fail_update_status_and_metrics(project: Path) -> None:
    assert run(project, "update").returncode == 0
    (project / "seeds" / "later.txt").write_text(
        "국회, 남북 교류 법안 처리\n\n2025년 9월 18일\n\n국회는 남북 교류 협력 법안을 처리했다.\n",
        encoding="utf-8",
    )
    with read_only(project / "feeds"):
        update = run(project, "update")
    assert update.returncode == 1
    assert "cannot write" in update.stderr
    failed = re.search(r", (\d+) failed in ", update.stdout)
    assert failed is not None, update.stdout
    count = int(failed.group(1))
    assert count == update.stderr.count("failed: ") > 0
    status = run(project, "status")
    assert status.returncode == 1
    assert f"failing outputs: {count}" in status.stdout
    assert f"attention: the last regeneration could not write {count} files" in status.stdout
    report = json.loads(run(project, "status", "--json").stdout)
    assert report["healthy"] is False
    assert len(report["failing_outputs"]) == count
    assert all("cannot write" in failure for failure in report["failing_outputs"])
    scraped = scrape(project)
    assert f"aggregator_last_regenerate_failures {count}.0" in scraped
    assert "aggregator_last_ingest_failures 0.0" in scraped


def test_topic_counts_are_stories_as_the_feeds_show_them(project: Path) -> None:
    # The same page saved twice: two items, one story.
    shutil.copy(project / "seeds" / SEED, project / "seeds" / "copy.txt")
    assert run(project, "update").returncode == 0
    report = json.loads(run(project, "status", "--json").stdout)
    assert (report["items"], report["stories"]) == (3, 2)
    feed = (project / "feeds" / "inter-korean.xml").read_text(encoding="utf-8")
    assert report["topics"]["inter-korean"] == feed.count("<entry") == 2
    scraped = scrape(project)
    assert 'aggregator_topic_items{topic="inter-korean"} 2.0' in scraped


def test_the_last_ingest_finished_when_it_ended(project: Path) -> None:
    begun = datetime(2025, 6, 5, tzinfo=UTC)
    app = pipeline.Aggregator.open(load_settings(project / "config" / "aggregator.toml", {}))
    try:
        # Every clock read moves time on a little, so the ingest takes measurable time.
        with freeze_time(begun, auto_tick_seconds=0.25):
            pipeline.ingest(app, begun)
        record = app.storage.last_run("ingest")
        checked = health.check(app, begun).as_json()
    finally:
        app.close()
    assert record is not None and record.duration_ms
    assert record.started == begun
    assert (record.finished - record.started).total_seconds() * 1000 == record.duration_ms
    assert checked["last_ingest"]["finished"] == record.finished.isoformat()
