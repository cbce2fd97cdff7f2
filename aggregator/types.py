"""Small typed objects handed from one pipeline stage to the next.

Named by their stage of life: ``ItemData`` is what an input said about an item,
``StoredItem`` is what the store keeps, ``TopicMatch`` is why an item is (or is
not) in a topic. All datetimes are aware; stored ones are UTC.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple


class SourceKind(StrEnum):
    """Where a source's items come from: a seed file, or a web feed."""

    SEED = "seed"
    FEED = "feed"


class FetchOutcome(StrEnum):
    """What fetching a web source came to."""

    OK = "ok"  # a new body, parsed
    NOT_MODIFIED = "not-modified"  # 304, or a body identical to the last one
    GONE = "gone"  # 410: the source is disabled
    ERROR = "error"  # HTTP, network, limits, or an unusable document


class RunKind(StrEnum):
    """The runs the run log records."""

    INGEST = "ingest"
    REGENERATE = "regenerate"


class LabelSplit(StrEnum):
    """The part of a labelled set an example is in: rules are tuned on one, judged on the other."""

    TUNE = "tune"
    HELDOUT = "heldout"


# Starts the disabled reason of a source that answered 410 Gone: config sync never
# re-enables such a source.
GONE_MARK = "gone:"


@dataclass(frozen=True)
class SourceInfo:
    """Where items come from: one seed file or one web feed.

    ``key`` is the source's identity in the store ("seed:<file name>" for a
    seed, the feed URL for a web source). ``title``, ``link`` and ``feed_id``
    describe the source as atom:source in our feeds.
    """

    key: str
    kind: SourceKind
    title: str
    link: str | None = None
    feed_id: str | None = None
    updated: datetime | None = None


@dataclass(frozen=True)
class Enclosure:
    """A file attached to an entry (podcast audio, a PDF): RSS enclosure / Atom rel=enclosure."""

    url: str
    type: str | None = None
    length: int | None = None


@dataclass(frozen=True)
class ItemData:
    """What an input said about one item, before dedup, storage or classification.

    ``key`` identifies the item within its source (a seed file's name, an
    entry's guid or link). ``content_html`` is clean HTML (paragraphs).
    """

    key: str
    title: str
    content_html: str
    published: datetime | None = None
    updated: datetime | None = None
    author: str | None = None
    site_name: str | None = None
    link: str | None = None
    language: str | None = None
    categories: tuple[str, ...] = ()
    enclosures: tuple[Enclosure, ...] = ()


@dataclass(frozen=True)
class SourceData:
    """One input read: its source metadata and the items it holds.

    ``warnings`` are survivable problems (one bad entry skipped, a malformed
    but usable feed), each naming the subject.
    """

    source: SourceInfo
    items: tuple[ItemData, ...]
    warnings: tuple[str, ...] = ()
    # How often the document says it changes (RSS <ttl>, sy:updatePeriod/updateFrequency).
    refresh_hint: timedelta | None = None
    # The whole-hour offset its dates are read in, when it writes local time as UTC
    # (ingest.offsets); None for a source whose dates say their zone rightly.
    date_offset: timedelta | None = None


@dataclass(frozen=True)
class InputFailure:
    """An input that could not be used at all, with what and why."""

    subject: str
    reason: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.reason}"


@dataclass(frozen=True)
class PublishReport:
    """What one regeneration did: feeds rewritten, feeds left untouched, items re-classified."""

    written: tuple[Path, ...] = ()
    unchanged: tuple[Path, ...] = ()
    reclassified: int = 0
    failures: tuple[InputFailure, ...] = ()
    # Nothing rendered: the files were current (``freshness``), as an update found them.
    current: bool = False


@dataclass(frozen=True)
class RuleHit:
    """One topic rule that matched an item: which term, where, how often, its weight."""

    rule: str
    where: str  # "title" or "body"; in a digest, of which story ("title of story 2")
    count: int
    weight: float


@dataclass(frozen=True)
class TopicMatch:
    """An item scored against one topic, with the evidence and the verdict."""

    topic_id: str
    score: float
    threshold: float  # the score this item needed: higher when its title shows nothing
    matched: bool
    hits: tuple[RuleHit, ...] = ()
    excluded_by: tuple[RuleHit, ...] = ()
    missing: tuple[str, ...] = ()  # required rule groups with no match


@dataclass(frozen=True)
class Report:
    """Another source's version of a story: who reported it, and where."""

    source_title: str
    link: str | None
    entry_id: str


@dataclass(frozen=True)
class StoredItem:
    """An item as the store keeps it: identity, provenance and publishable fields."""

    id: int
    entry_id: str  # the permanent Atom id (a tag: URI), assigned once
    source_key: str
    source_title: str
    source_link: str | None
    source_feed_id: str | None
    source_updated: datetime | None
    key: str
    title: str
    content_html: str
    published: datetime
    updated: datetime
    author: str | None
    site_name: str | None
    link: str | None
    language: str | None
    topics: tuple[str, ...] = field(default=())
    # The other members of this item's story, oldest first (only on canonical items).
    also_reported_by: tuple[Report, ...] = field(default=())
    story_id: int | None = None  # the canonical item's id (this item's own when canonical)
    enclosures: tuple[Enclosure, ...] = field(default=())
    hidden: bool = False  # taken down by an editor: stored, in no feed or page


@dataclass(frozen=True)
class InputLimits:
    """How much of one input is taken (config ``[limits]``): an input past them is cut, with a
    warning naming it, so one huge seed or entry cannot swell every feed that shows it."""

    seed_bytes: int = 2 * 1024 * 1024  # a seed file is read up to this many bytes
    entry_text: int = 100_000  # characters of an entry's HTML, cut at a paragraph end
    entry_title: int = 300  # characters of an entry's title, cut at a word


DEFAULT_LIMITS = InputLimits()


# --- What dedup and the store hand each other -------------------------------------------------


@dataclass(frozen=True)
class KnownItem:
    """What the store knows of an item, enough to decide whether it changed."""

    id: int
    entry_id: str
    content_hash: str
    published: datetime
    updated: datetime
    # When it was first stored: an edit never dates it later than that (issue #19).
    first_seen: datetime


@dataclass(frozen=True)
class ItemWrite:
    """What to write for one item: an insert (``id`` None) or an in-place update."""

    id: int | None
    entry_id: str
    item: ItemData
    published: datetime
    updated: datetime
    content_hash: str


class StoryCandidate(NamedTuple):
    """A stored item from another source that might tell the same story.

    A NamedTuple, not a frozen dataclass: a writer builds one for each new item's every
    candidate and each pair of a source's items sharing a band key (over a thousand per
    source of 50), and a frozen dataclass's ``__init__`` cost four times as much (issue #22).
    """

    item_id: int
    story_id: int
    signature: tuple[int, ...] | None  # None: a short item, found by its text key alone
    values: frozenset[int] | None  # fingerprints.full_slot_values(signature)
    published: datetime
    title: str
    shared: frozenset[str]  # the new item's keys it has: "text", "title", "lead", "head"
    body: str = ""  # its text (plain), for how much of one text the other holds
    link: str | None = None  # its link, saying which outlet wrote it (dedup.outlet)


# --- Web sources: as declared, and as stored ---------------------------------------------------


# When to read an entry's article page (issue #21): never, when the entry's text is
# shorter than ``full_text.below`` characters, or always.
FULL_TEXT_MODES = ("never", "auto", "always")
DEFAULT_FULL_TEXT = "auto"


@dataclass(frozen=True)
class SourceSetting:
    """A web source declared in the config file."""

    url: str
    name: str | None
    interval: timedelta | None
    enabled: bool
    full_text: str = DEFAULT_FULL_TEXT


@dataclass(frozen=True)
class WebSource:
    """A web source as stored: identity, where to fetch, and its politeness and health state."""

    id: int
    key: str
    url: str
    name: str | None
    title: str
    interval: timedelta | None
    origin: str | None
    enabled: bool
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    next_fetch: datetime | None
    error_count: int
    last_status: str | None
    last_success: datetime | None
    last_checked: datetime | None
    last_error: str | None
    disabled_reason: str | None
    link: str | None = None  # the site's home page, as the feed names it (OPML htmlUrl)
    category: str | None = None  # the folder an OPML list or `sources add` put it in
    full_text: str = "never"  # FULL_TEXT_MODES
    page_failures: int = 0  # article pages that could not be used
    page_error: str | None = None
    # The server asked not to be fetched before this (Retry-After): `--force` waits too.
    retry_after: datetime | None = None
    # The offset this source's dates are read in (it writes local time as UTC).
    date_offset: timedelta | None = None

    def embargoed(self, now: datetime) -> bool:
        """Whether the server's Retry-After still forbids fetching it."""
        return self.retry_after is not None and self.retry_after > now

    @property
    def label(self) -> str:
        return self.name or self.title or self.url
