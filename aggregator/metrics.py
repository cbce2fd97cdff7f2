"""Prometheus metrics, read from the store at scrape time.

The server, the daemon and one-off commands may be different processes (or
machines), so the numbers live in the database: counters the pipeline adds
to, and the run log. The standard client library renders them.
"""

from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from aggregator.classify import Topic
from aggregator.store import Storage
from aggregator.types import FetchOutcome, RunKind

FETCH_OUTCOMES = tuple(FetchOutcome)


class StoreCollector(Collector):
    """Collects every metric from one store when scraped."""

    def __init__(self, storage: Storage, topics: Sequence[Topic]) -> None:
        self.storage = storage
        self.topics = topics

    def collect(self) -> Iterator[Metric]:
        counts = self.storage.counts()
        fetches = CounterMetricFamily(
            "aggregator_fetches", "Web source fetches by outcome.", labels=["outcome"]
        )
        for outcome in FETCH_OUTCOMES:
            fetches.add_metric([outcome], counts.get(f"fetch:{outcome}", 0))
        yield fetches
        yield CounterMetricFamily(
            "aggregator_items_stored", "New items stored.", value=counts.get("items:new", 0)
        )
        yield CounterMetricFamily(
            "aggregator_items_updated",
            "Items updated in place.",
            value=counts.get("items:updated", 0),
        )
        yield CounterMetricFamily(
            "aggregator_duplicates_merged",
            "New items recognised as a story another source already reported.",
            value=counts.get("items:merged", 0),
        )
        per_topic = GaugeMetricFamily(
            "aggregator_topic_items", "Stored items per topic.", labels=["topic"]
        )
        topic_counts = self.storage.topic_counts()
        for topic in self.topics:
            per_topic.add_metric([topic.id], topic_counts.get(topic.id, 0))
        yield per_topic
        for kind in RunKind:
            run = self.storage.last_run(kind)
            if run is None:
                continue
            yield GaugeMetricFamily(
                f"aggregator_last_{kind}_timestamp_seconds",
                f"When the last {kind} finished (Unix time).",
                value=run.finished.timestamp(),
            )
            if run.duration_ms is not None:
                yield GaugeMetricFamily(
                    f"aggregator_last_{kind}_duration_seconds",
                    f"How long the last {kind} took.",
                    value=run.duration_ms / 1000,
                )


def render(storage: Storage, topics: Sequence[Topic]) -> bytes:
    """The metrics in the Prometheus text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(storage, topics))
    return generate_latest(registry)
