"""Is the aggregator healthy? A summary for people and for monitoring checks.

Needs attention when more inputs are failing than ``status.max_failing``
allows, when the last regeneration could not write some files (the feeds
readers see are then stale: issue #20), or when no ingest has finished
within ``status.stale_after``.
"""

from dataclasses import dataclass, field
from datetime import datetime

from aggregator.app import Aggregator
from aggregator.store import editorial
from aggregator.store.runs import RunRecord
from aggregator.types import RunKind


@dataclass(frozen=True)
class Health:
    database: str
    items: int
    stories: int
    hidden: int  # items an editor took down (`aggregator items hide`)
    topics: dict[str, int]
    last_ingest: RunRecord | None
    last_regenerate: RunRecord | None
    failing: list[tuple[str, str]]
    problems: list[str]
    # Web sources some of whose article pages could not be used: (url, how many, last reason).
    # The entries kept their feed's text, so this alone needs no attention.
    page_failures: list[tuple[str, int, str | None]] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, object]:
        def run(record: RunRecord | None) -> dict[str, object] | None:
            if record is None:
                return None
            return {
                "started": record.started.isoformat(),
                "finished": record.finished.isoformat(),
                "items_new": record.items_new,
                "items_updated": record.items_updated,
                "files_written": record.feeds_written,
                "failures": list(record.failures),
            }

        return {
            "healthy": self.healthy,
            "problems": self.problems,
            "database": self.database,
            "items": self.items,
            "stories": self.stories,
            "hidden": self.hidden,
            "topics": self.topics,
            "last_ingest": run(self.last_ingest),
            "last_regenerate": run(self.last_regenerate),
            "failing_inputs": [{"input": key, "error": error} for key, error in self.failing],
            "failing_outputs": list(self.failing_outputs),
            "article_page_failures": [
                {"source": url, "count": count, "last_error": error}
                for url, count, error in self.page_failures
            ],
        }

    @property
    def failing_outputs(self) -> tuple[str, ...]:
        """The files the last regeneration could not write, each with its reason."""
        return self.last_regenerate.failures if self.last_regenerate else ()


def check(app: Aggregator, now: datetime) -> Health:
    storage = app.storage
    counts = storage.topic_counts()
    last_ingest = storage.last_run(RunKind.INGEST)
    failing = storage.failing_sources()
    problems = []
    limit = app.settings.status.max_failing
    if len(failing) > limit:
        problems.append(f"{len(failing)} inputs failing (more than status.max_failing = {limit})")
    last_regenerate = storage.last_run(RunKind.REGENERATE)
    if last_regenerate is not None and last_regenerate.failures:
        problems.append(
            f"the last regeneration could not write {len(last_regenerate.failures)} files "
            f"(first: {last_regenerate.failures[0]})"
        )
    stale_after = app.settings.status.stale_after
    if last_ingest is None:
        problems.append("no ingest has run yet")
    elif now - last_ingest.finished > stale_after:
        problems.append(
            f"last ingest finished at {last_ingest.finished.isoformat()}, "
            f"longer ago than status.stale_after ({stale_after})"
        )
    return Health(
        database=storage.display_url,
        items=storage.item_count(),
        stories=storage.story_count(),
        hidden=editorial.hidden_count(storage),
        topics={topic: counts.get(topic, 0) for topic in app.topic_ids()},
        last_ingest=last_ingest,
        last_regenerate=last_regenerate,
        failing=failing,
        problems=problems,
        page_failures=[
            (s.url, s.page_failures, s.page_error) for s in storage.sources.all() if s.page_failures
        ],
    )
