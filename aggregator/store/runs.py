"""The shared counters and the run log.

Counters are what workers add to at once (so one upsert); the run log is one row per
ingest or regeneration, which ``status`` and the health check read.
"""

from dataclasses import asdict, dataclass, fields
from datetime import datetime

from sqlalchemy import Insert, insert, select

from aggregator.store.dialect import upsert as dialect_upsert
from aggregator.store.engine import Database
from aggregator.store.schema import counters, runs
from aggregator.types import RunKind


@dataclass(frozen=True)
class RunRecord:
    """One logged ingest or regeneration."""

    kind: RunKind
    started: datetime
    finished: datetime
    items_new: int = 0
    items_updated: int = 0
    feeds_written: int = 0
    failures: tuple[str, ...] = ()  # each "subject: reason"
    duration_ms: int | None = None


def add_counts(database: Database, counts: dict[str, int]) -> None:
    """Add to the shared counters (creating them at zero).

    One upsert on PostgreSQL and SQLite: workers add to the same counters at once, and
    an update-then-insert would let two of them insert the same new counter. In name
    order, so two transactions never wait on each other's rows crosswise.
    """
    rows = [{"name": n, "value": a} for n, a in sorted(counts.items()) if a]
    if not rows:
        return
    with database.plain_transaction() as tx:
        tx.connection.execute(counter_upsert(database.dialect, add=True), rows)


def counter_upsert(dialect: str, *, add: bool) -> Insert:
    """Set (``add``: add to) counters by name, creating those missing, in one atomic
    upsert: an update-then-insert would let two writers insert the same new counter."""
    upsert = dialect_upsert(dialect, counters)
    value = counters.c.value + upsert.excluded.value if add else upsert.excluded.value
    return upsert.on_conflict_do_update(index_elements=[counters.c.name], set_={"value": value})


def counts(database: Database) -> dict[str, int]:
    with database.engine.connect() as connection:
        return dict(connection.execute(select(counters.c.name, counters.c.value)).all())


def record_run(database: Database, run: RunRecord) -> None:
    with database.plain_transaction() as tx:
        values = {**asdict(run), "failures": "\n".join(run.failures)}
        tx.connection.execute(insert(runs).values(**values))


def last_run(database: Database, kind: RunKind) -> RunRecord | None:
    with database.engine.connect() as connection:
        row = connection.execute(
            select(runs).where(runs.c.kind == kind).order_by(runs.c.id.desc()).limit(1)
        ).first()
    if row is None:
        return None
    logged = {field.name: getattr(row, field.name) for field in fields(RunRecord)}
    logged["kind"] = RunKind(row.kind)
    logged["failures"] = tuple(line for line in row.failures.split("\n") if line)
    return RunRecord(**logged)
