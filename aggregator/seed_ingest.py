"""Ingest one seed file: skip it when its bytes did not change, else read and store it.

A file that cannot be read or used is recorded with its path and reason (the
source keeps what it stored before); the other seeds go on.
"""

import hashlib
import logging
from datetime import datetime
from pathlib import Path

from aggregator.app import Aggregator
from aggregator.errors import InputError
from aggregator.tally import Ingested, Tally
from aggregator.types import InputFailure, SourceKind

log = logging.getLogger("aggregator.pipeline")


def seed_paths(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def ingest_seed(app: Aggregator, path: Path, now: datetime) -> Ingested:
    # Imported here: a project without seed files needs neither (issue #22).
    from aggregator.ingest.seeds import read_capped, read_seed
    from aggregator.writer import store_source

    key = f"seed:{path.name}"
    try:
        seed = read_capped(path, app.settings.limits.seed_bytes)
    except InputError as error:
        return Ingested(failure=InputFailure(error.subject, error.reason))
    # The size too: a file over the limit that changes past it is read again.
    body_hash = hashlib.sha256(seed.data + str(seed.size).encode()).hexdigest()
    with app.storage.transaction() as tx:
        state = tx.source_state(key)
    if state is not None and state[1] == body_hash:
        log.debug("seed %s unchanged", path, extra={"path": str(path)})
        return Ingested(unchanged=True)
    try:
        data = read_seed(
            path, app.settings.timezone, now=now, limits=app.settings.limits, seed=seed
        )
    except InputError as error:
        log.warning("seed %s not ingested: %s", path, error.reason)
        with app.storage.transaction() as tx:
            tx.record_source_error(key, SourceKind.SEED, error.reason, now)
        return Ingested(failure=InputFailure(str(path), error.reason))
    for warning in data.warnings:
        log.warning("%s", warning)
    stored = store_source(app, data, body_hash, now)
    log.debug(
        "seed %s: %d new, %d updated", path, stored.new, stored.updated, extra={"path": str(path)}
    )
    return Ingested(stored, warnings=data.warnings)


def ingest_seeds(app: Aggregator, now: datetime, tally: Tally) -> None:
    """Every seed file of the seeds folder, in name order."""
    paths = seed_paths(app.settings.seeds_dir)
    for done, path in enumerate(paths, 1):
        tally.add(ingest_seed(app, path, now))
        app.progress.step("seeds", done, len(paths), tally.summary())
