"""What the published feeds are called and where they are served: a feed's spec, the
feeds' identity (base URL, tag URI authority), and where each file goes in the feeds
folder.

Apart from ``publish`` (whose package imports feedgen and lxml), so that opening the
application (``app.py``) for a short command such as ``status`` loads neither (issue #22).
"""

import hashlib
from dataclasses import dataclass

from aggregator.text import xml_safe

ALL_FEED = "all"


def story_path(entry_id: str) -> str:
    """The page of a story that has no link of its own (a seed), named after its permanent
    id as published (what XML can hold of it), so it keeps its address as long as the id."""
    digest = hashlib.sha256(xml_safe(entry_id).encode()).hexdigest()
    return f"stories/{digest[:16]}.html"


def archive_path(key: str, page: int) -> str:
    """Where archive page ``page`` (1 holds the oldest entries) lives in the feeds folder."""
    return f"archive/{key}/{page}.xml"


@dataclass(frozen=True)
class FeedSpec:
    """One feed to publish: its file stem, title and subtitle, and the topic ids it may label."""

    key: str
    title: str
    subtitle: str


@dataclass(frozen=True)
class FeedIdentity:
    """Where feeds are served and how their permanent ids are formed."""

    base_url: str
    id_authority: str
    author: str
    hub: str | None = None

    def feed_url(self, key: str) -> str:
        return f"{self.base_url}{key}.xml"

    def archive_url(self, key: str, page: int) -> str:
        return f"{self.base_url}{archive_path(key, page)}"

    def story_url(self, entry_id: str) -> str:
        """Where the page of a story with no web link of its own is served (issue #20)."""
        return f"{self.base_url}{story_path(entry_id)}"

    def feed_id(self, key: str) -> str:
        return f"tag:{self.id_authority}:feed:{key}"

    def source_id(self, source_key: str) -> str:
        digest = hashlib.sha256(source_key.encode()).hexdigest()[:32]
        return f"tag:{self.id_authority}:source:{digest}"

    @property
    def category_scheme(self) -> str:
        return f"{self.base_url}topics/"
