"""What an ingest counted, source by source, and the report it ends with.

Every runner (``update``, the daemon's jobs, a worker's pass) adds each source's
outcome to a ``Tally`` and records the same run log entry and counters from it.
"""

from dataclasses import dataclass, field

from aggregator.types import FetchOutcome, InputFailure


@dataclass(frozen=True)
class Stored:
    """What writing one source's items did."""

    new: int = 0
    updated: int = 0
    merged: int = 0  # new items that joined a story another source told


@dataclass(frozen=True)
class Ingested:
    """What ingesting one input (a seed file, a web source) came to."""

    stored: Stored | None = None  # its items were read and written
    unchanged: bool = False  # the same as last time: nothing read
    failure: InputFailure | None = None
    warnings: tuple[str, ...] = ()
    fetched: FetchOutcome | None = None  # a web source's fetch


@dataclass(frozen=True)
class IngestReport:
    """What one ingest did."""

    inputs_read: int = 0
    inputs_unchanged: int = 0
    items_new: int = 0
    items_updated: int = 0
    failures: tuple[InputFailure, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.items_new or self.items_updated)


@dataclass
class Tally:
    """Counts gathered while ingesting, turned into an IngestReport at the end."""

    read: int = 0
    unchanged: int = 0
    new: int = 0
    updated: int = 0
    merged: int = 0
    outcomes: dict[FetchOutcome, int] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)  # article pages used, failed, retried
    failures: list[InputFailure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, ingested: Ingested) -> None:
        if ingested.fetched is not None:
            self.outcomes[ingested.fetched] = self.outcomes.get(ingested.fetched, 0) + 1
        if ingested.failure is not None:
            self.failures.append(ingested.failure)
        if ingested.unchanged:
            self.unchanged += 1
        if ingested.stored is not None:
            self.read += 1
            self.warnings.extend(ingested.warnings)
            self.new += ingested.stored.new
            self.updated += ingested.stored.updated
            self.merged += ingested.stored.merged

    def counters(self) -> dict[str, int]:
        """Increments for the shared counters /metrics reports."""
        counts = {f"fetch:{outcome}": n for outcome, n in self.outcomes.items()}
        counts.update({"items:new": self.new, "items:updated": self.updated})
        counts["items:merged"] = self.merged
        counts.update(self.pages)
        return counts

    def summary(self) -> str:
        return f"{self.new} new, {self.updated} updated, {len(self.failures)} failed"

    def report(self) -> IngestReport:
        return IngestReport(
            self.read,
            self.unchanged,
            self.new,
            self.updated,
            tuple(self.failures),
            tuple(self.warnings),
        )
