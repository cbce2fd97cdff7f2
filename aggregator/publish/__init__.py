"""Deterministic Atom feeds via feedgen, written atomically into the feeds folder.

The same stored items always give the same bytes: stable order and ids, and a
feed's ``updated`` is its newest entry's ``updated``, never "now". A file whose
bytes would not change is not touched (its mtime stays), so readers polling
with If-Modified-Since get 304s.

    feed.py        a feed's document (feedgen); its identity and spec: ``aggregator.identity``
    atom_entry.py  one stored item as an Atom entry
    entries.py     entries rendered once per regeneration, shared by every document
    archives.py    RFC 5005 archive pages
    pages.py       the HTML pages and the OPML list beside the feeds
    files.py       atomic writes into the feeds folder
"""

from aggregator.identity import ALL_FEED, FeedIdentity, FeedSpec, archive_path, story_path
from aggregator.publish.archives import (
    archive_entry_ids,
    archived_pages,
    write_archives,
)
from aggregator.publish.entries import Entries, entry_content
from aggregator.publish.feed import (
    EMPTY_FEED_UPDATED,
    Entry,
    feed_generator,
    render_feed,
)
from aggregator.publish.files import (
    FILES_PER_SYNC,
    Written,
    remove_temporaries,
    write_changed,
    write_if_changed,
    writing,
)

__all__ = [
    "ALL_FEED",
    "EMPTY_FEED_UPDATED",
    "FILES_PER_SYNC",
    "Entries",
    "Entry",
    "FeedIdentity",
    "FeedSpec",
    "Written",
    "archive_entry_ids",
    "archive_path",
    "archived_pages",
    "entry_content",
    "feed_generator",
    "remove_temporaries",
    "render_feed",
    "story_path",
    "write_archives",
    "write_changed",
    "write_if_changed",
    "writing",
]
