"""The one pipeline the command line, the daemon and the workers share.

    ingest       seeds: each file -> seed_ingest.ingest_seed          (one seed)
                 web:   each due source -> refresh.fetch_source, in threads,
                        then refresh.store_ready, one group at a time  (one source)
                 both end in writer.store_source: what the store knows -> dedup.decide
                        (writer.plan_items, pure) -> one transaction of writes,
                        items classified on the way (classify, analysis)
    regenerate   regenerate.regenerate_now: re-classify when the rules changed, then
                 feeds, archive pages and HTML pages, written only when bytes change
    update       ingest, then regenerate unless nothing shown changed (freshness.current)
    prune        retention: stories older than retention.keep that no feed shows

Every public function takes ``now`` and holds the database's cycle lock, so a
daemon cycle and a one-off command never interleave.
"""

import logging
import sys
import time
from datetime import datetime, timedelta

from aggregator import freshness
from aggregator.app import Aggregator
from aggregator.collector import collecting_less
from aggregator.identity import ALL_FEED
from aggregator.refresh import refresh_due
from aggregator.rules import (
    RULES_FINGERPRINT,
    adopt_rules_if_empty,
    preview_rules,
    reclassify,
    rules_fingerprint,
)
from aggregator.seed_ingest import ingest_seeds
from aggregator.store import retention
from aggregator.store.runs import RunRecord
from aggregator.tally import IngestReport, Tally
from aggregator.types import PublishReport, RunKind, WebSource

__all__ = [
    "RULES_FINGERPRINT",
    "Aggregator",
    "IngestReport",
    "PublishReport",
    "ingest",
    "preview_rules",
    "prune",
    "reclassify",
    "record_ingest",
    "regenerate",
    "rules_fingerprint",
    "update",
]

log = logging.getLogger("aggregator.pipeline")


def ingest(
    app: Aggregator, now: datetime, *, force: bool = False, only: WebSource | None = None
) -> IngestReport:
    """Read every seed file and every due web source (all enabled ones with ``force``), or
    only the web source ``only``, due or not."""

    def attempt() -> IngestReport:
        with app.cycle_lock():
            return _ingest(app, now, force, only)

    return app.retrying("ingest", attempt)


def _ingest(
    app: Aggregator, now: datetime, force: bool, only: WebSource | None = None
) -> IngestReport:
    timer = time.perf_counter()
    tally = Tally()
    adopt_rules_if_empty(app)
    with collecting_less():
        if only is None:
            ingest_seeds(app, now, tally)
        refresh_due(app, now, force, tally, only)
    # Memory for the regeneration that follows: the shingles and versions kept for this
    # ingest's comparisons. A round that compared nothing never imported them (issue #22).
    for name in ("aggregator.fingerprints", "aggregator.containment"):
        if (module := sys.modules.get(name)) is not None:
            module.clear_caches()
    duration_ms = round((time.perf_counter() - timer) * 1000)
    report = record_ingest(app, tally, now, now + timedelta(milliseconds=duration_ms), duration_ms)
    log.info(
        "ingest: %d inputs read, %d unchanged, %d new items, %d updated, %d merged, "
        "%d failed, in %d ms",
        report.inputs_read,
        report.inputs_unchanged,
        report.items_new,
        report.items_updated,
        tally.merged,
        len(report.failures),
        duration_ms,
        extra={"count": report.items_new, "duration": duration_ms / 1000},
    )
    return report


def record_ingest(
    app: Aggregator, tally: Tally, started: datetime, finished: datetime, duration_ms: int
) -> IngestReport:
    """Log an ingest (or a worker's pass) in the run log and the shared counters (one
    commit on SQLite: ``batch``)."""
    report = tally.report()
    with app.storage.batch():
        app.storage.add_counts(tally.counters())
        app.storage.record_run(
            RunRecord(
                RunKind.INGEST,
                started,
                finished,
                items_new=report.items_new,
                items_updated=report.items_updated,
                failures=tuple(map(str, report.failures)),
                duration_ms=duration_ms,
            )
        )
    return report


def regenerate(app: Aggregator, now: datetime, only: str | None = None) -> PublishReport:
    """Publish every feed (or one topic's) from the store; unchanged files are not touched."""

    def attempt() -> PublishReport:
        with app.cycle_lock():
            return _regenerate_now(app, now, only)

    return app.retrying("regenerate", attempt)


def _regenerate_now(app: Aggregator, now: datetime, only: str | None) -> PublishReport:
    """``regenerate.regenerate_now``, imported when first called: an update that finds the
    files current renders nothing and starts without the renderers (issue #22)."""
    from aggregator.regenerate import regenerate_now

    return regenerate_now(app, now, only)


def prune(app: Aggregator, now: datetime, *, dry_run: bool = False) -> retention.Pruned:
    """Remove stories older than ``retention.keep`` that no feed shows; keep their identities."""

    def attempt() -> retention.Pruned:
        with app.cycle_lock():
            shown = [
                item.id
                for spec in app.feed_specs()
                for item in app.storage.newest_items(
                    None if spec.key == ALL_FEED else spec.key, app.settings.max_entries
                )
            ]
            return retention.prune(
                app.storage, now, app.settings.retention_keep, shown, dry_run=dry_run
            )

    pruned = app.retrying("prune", attempt)
    if not dry_run:
        log.info("pruned %d items older than %s", len(pruned.items), app.settings.retention_keep)
    return pruned


def update(
    app: Aggregator, now: datetime, *, force: bool = False, only: WebSource | None = None
) -> tuple[IngestReport, PublishReport]:
    """One cycle: ingest everything due (or the one source ``only``), then regenerate
    (rewriting only feeds that changed) unless the files are current: nothing that shows
    in them changed since the last complete regeneration (``freshness``)."""

    def attempt() -> tuple[IngestReport, PublishReport]:
        with app.cycle_lock():
            ingested = _ingest(app, now, force, only)
            if freshness.current(app):
                log.info("regenerate: skipped, the files are current")
                return ingested, PublishReport(current=True)
            return ingested, _regenerate_now(app, now, None)

    return app.retrying("update", attempt)
