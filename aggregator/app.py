"""The open application: settings, topic rules and the store a run works with, and the
ways every use case holds the database (the cycle lock, retries while it is unavailable).

The topic rules (``classify``) are imported and read when first used, so that a command
that only reads the store, or an update where nothing is new, starts without them (issue
#22, ``bench_cli``, ``bench_pipeline``'s 304 round).
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from aggregator.config import Settings
from aggregator.identity import ALL_FEED, FeedIdentity, FeedSpec
from aggregator.progress import Progress
from aggregator.store import Storage
from aggregator.store.lock import RunLock
from aggregator.store.retry import with_retries
from aggregator.text import html_to_text
from aggregator.types import TopicMatch

if TYPE_CHECKING:
    from aggregator.classify import Topic

T = TypeVar("T")


def load_rules(folder: Path) -> tuple[Topic, ...]:
    """The topic rules in ``folder`` (``classify.load_topics``), read and compiled."""
    from aggregator import classify

    return classify.load_topics(folder)


def rules_digest(folder: Path) -> str:
    """A digest of the topic files ``load_rules`` reads, names and bytes: whether the rules
    changed, without reading them (``freshness``)."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.toml")):
        digest.update(f"{path.name} {path.stat().st_size}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class Aggregator:
    """An open store plus the settings and topic rules a run works with."""

    settings: Settings
    storage: Storage
    # The topic rules; None until first needed when opened without them (``open``).
    loaded_topics: tuple[Topic, ...] | None
    identity: FeedIdentity = field(init=False)
    # Jitter for backoff; tests seed it for repeatable schedules.
    rng: random.Random = field(default_factory=random.Random)
    # Where long work reports how far it got (the command line draws it on a terminal).
    progress: Progress = field(default_factory=Progress)
    # The pause between retries of an unavailable database; tests make it instant.
    sleep: Callable[[float], None] = time.sleep
    # The topic files' digest (``rules_digest``) taken just before ``loaded_topics`` were read
    # from them, so a file changed meanwhile shows as changed; None when the rules were given.
    rules_read: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.identity = FeedIdentity(
            base_url=self.settings.base_url,
            id_authority=self.settings.id_authority,
            author=self.settings.feed_title,
            hub=self.settings.hub,
        )

    @classmethod
    def open(cls, settings: Settings, *, rules: bool = True) -> Aggregator:
        """Load the topic rules and open (creating if new) the store.

        ``rules=False`` leaves the rules to be read when first used: compiling them takes
        longer than the whole of a command that only reads the store (``status``; issue
        #22, ``bench_cli``), and such a command need not judge them.
        """
        read = rules_digest(settings.topics_dir) if rules else None
        topics = load_rules(settings.topics_dir) if rules else None
        storage = Storage(
            settings.database_url,
            busy_timeout=settings.busy_timeout.total_seconds(),
            page_cache=settings.page_cache,
        )
        try:
            with_retries(
                storage.initialize,
                what="open",
                where=storage.display_url,
                window=settings.retry_for.total_seconds(),
            )
        except BaseException:
            storage.close()
            raise
        app = cls(settings, storage, topics)
        app.rules_read = read
        return app

    def reconfigure(self, settings: Settings, topics: tuple[Topic, ...]) -> None:
        """Use new settings and topic rules from now on (the daemon's SIGHUP)."""
        self.settings = settings
        self.topics = topics
        self.__post_init__()

    @property
    def topics(self) -> tuple[Topic, ...]:
        if self.loaded_topics is None:
            self.rules_read = rules_digest(self.settings.topics_dir)
            self.loaded_topics = load_rules(self.settings.topics_dir)
        return self.loaded_topics

    @topics.setter
    def topics(self, topics: tuple[Topic, ...]) -> None:
        self.loaded_topics = topics
        self.rules_read = None

    def topic_ids(self) -> list[str]:
        """The topics' ids, sorted; without reading the rules when they are not loaded: a
        topic's id is its file's name (``classify.load_topic`` refuses any other)."""
        if self.loaded_topics is not None:
            return [t.id for t in self.loaded_topics]
        return sorted(path.stem for path in self.settings.topics_dir.glob("*.toml"))

    def close(self) -> None:
        self.storage.close()

    def retrying(self, what: str, operation: Callable[[], T]) -> T:
        """Run a whole operation again while the database is briefly locked or unreachable."""
        return with_retries(
            operation,
            what=what,
            where=self.storage.display_url,
            window=self.settings.retry_for.total_seconds(),
            sleep=self.sleep,
        )

    @contextmanager
    def cycle_lock(self) -> Iterator[None]:
        """Hold the database's cycle lock, waiting up to ``storage.lock_wait``."""
        with RunLock(self.storage, "cycle", wait=self.settings.lock_wait.total_seconds()):
            yield

    def classify_text(self, title: str, content_html: str) -> tuple[TopicMatch, ...]:
        from aggregator import classify

        return classify.classify(title, html_to_text(content_html), self.topics)

    def feed_specs(self) -> list[FeedSpec]:
        """all.xml first, then one feed per topic."""
        everything = FeedSpec(
            ALL_FEED, self.settings.feed_title, "Every stored item, newest first."
        )
        return [everything] + [FeedSpec(t.id, t.title, t.description) for t in self.topics]
