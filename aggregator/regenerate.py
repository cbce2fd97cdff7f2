"""Regenerate: publish every feed (or one topic's) from the store.

    reclassify   when the topic rules changed since the last time
    (noted)      the changes marker the files will cover (``freshness``)
    feeds        the newest max_entries stories of each feed -> publish.render_feed
    archives     the feed's archive pages that became complete (RFC 5005)
    pages        index.html, <topic>.html and feeds.opml
    ping         the WebSub hub, for the feeds that changed
    record       what the files were made from, when every file was written (``freshness``)

Files are written only when their bytes change; a file that cannot be written is
reported and the others go on.
"""

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from aggregator import freshness, fulltext, publish, websub
from aggregator.app import Aggregator
from aggregator.publish import pages
from aggregator.rules import reclassify
from aggregator.store import published
from aggregator.store.archive_queries import next_archive_stories
from aggregator.store.runs import RunRecord
from aggregator.types import InputFailure, PublishReport, RunKind, StoredItem

log = logging.getLogger("aggregator.pipeline")


def regenerate_now(app: Aggregator, now: datetime, only: str | None) -> PublishReport:
    """Regenerate, the caller holding the cycle lock."""
    started = time.perf_counter()
    reclassified = reclassify(app)
    marker = freshness.covered(app)
    titles = {t.id: t.title for t in app.topics}
    folder = app.settings.feeds_dir
    written: list[Path] = []
    unchanged: list[Path] = []

    failures: list[InputFailure] = []

    def write_all(files: Sequence[tuple[Path, bytes]]) -> list[Path]:
        """Write files in order; those that changed. At the first that cannot be written (disk
        full, no permission) it stops: that one is reported, it and the rest are left as they
        were. The database copies go first, in one transaction, so a crash between the two
        never leaves a file the database lacks (the next run writes a missing file again).
        """
        if app.settings.publish_to_database:
            named = [(path.relative_to(folder).as_posix(), content) for path, content in files]
            published.save(app.storage, named, now)
        done = publish.write_changed(files)
        unchanged.extend(done.unchanged)
        written.extend(done.changed)
        if done.failed is not None and done.error is not None:
            reason = done.error.strerror
            log.error("cannot write %s: %s (the previous file is intact)", done.failed, reason)
            failures.append(InputFailure(str(done.failed), f"cannot write: {reason}"))
        return done.changed

    def write(path: Path, content: bytes) -> bool:
        """Write one file; whether it changed. A failure is reported, the other files go on."""
        return bool(write_all([(path, content)]))

    feed_pages = []
    changed_feeds = []
    specs = app.feed_specs()

    # Every entry is rendered once, for all the documents that show it.
    def newest_items(topic: str | None) -> list[StoredItem]:
        return published_texts(app.storage.newest_items(topic, app.settings.max_entries))

    def published_texts(items: Sequence[StoredItem]) -> list[StoredItem]:
        """What feeds show of items: their page text instead, with ``publish.full_text``."""
        if app.settings.full_text.publish:
            return fulltext.with_page_texts(app.storage, items)
        return list(items)

    entries = publish.Entries(
        app.identity, titles, lambda ids: published_texts(app.storage.items_by_id(ids))
    )
    with publish.writing(folder):
        for done, spec in enumerate(specs, 1):
            topic = None if spec.key == publish.ALL_FEED else spec.key
            newest = newest_items(topic)
            if only is not None and spec.key != only:
                older = publish.archived_pages(folder, spec.key) or None
                feed_pages.append(pages.FeedPage(spec, newest, older))
                continue
            newest_archive = _write_archives(app, spec, topic, entries, write_all)
            _write_archive_html(app, spec, newest_archive, write_all)
            feed_pages.append(pages.FeedPage(spec, newest, newest_archive))
            content = publish.render_feed(
                spec, [entries.entry(i) for i in newest], app.identity, prev_archive=newest_archive
            )
            if write(folder / f"{spec.key}.xml", content):
                changed_feeds.append(app.identity.feed_url(spec.key))
            app.progress.step("feeds", done, len(specs), f"{len(written)} written")
        title = app.settings.feed_title
        zone = app.settings.timezone
        write(folder / "index.html", pages.render_index(feed_pages, app.identity, title, zone))
        write(folder / "feeds.opml", pages.render_feed_list(feed_pages, app.identity, title))
        for page in feed_pages:
            write(
                folder / f"{page.spec.key}.html",
                pages.render_topic(page, app.identity, title, zone),
            )
        _write_story_pages(app, [i for page in feed_pages for i in page.entries], write)
    if app.identity.hub and changed_feeds:
        websub.ping(app.identity.hub, changed_feeds)
    if only is None and not failures:
        freshness.record(app, marker)
    duration_ms = round((time.perf_counter() - started) * 1000)
    app.storage.record_run(
        RunRecord(
            RunKind.REGENERATE,
            now,
            now + timedelta(milliseconds=duration_ms),
            feeds_written=len(written),
            failures=tuple(map(str, failures)),
            duration_ms=duration_ms,
        )
    )
    log.info(
        "regenerate: %d files written, %d unchanged, %d failed, in %d ms",
        len(written),
        len(unchanged),
        len(failures),
        duration_ms,
        extra={"count": len(written), "duration": duration_ms / 1000},
    )
    return PublishReport(tuple(written), tuple(unchanged), reclassified, tuple(failures))


def _write_story_pages(
    app: Aggregator, shown: Sequence[StoredItem], write: Callable[[Path, bytes], bool]
) -> None:
    """The own page of each story the feeds show that has no link of its own (a seed), which
    its entry links as alternate; unchanged ones are left as they are."""
    folder, done = app.settings.feeds_dir, set()
    for item in shown:
        if item.link or item.id in done:
            continue
        done.add(item.id)
        page = pages.render_story(
            pages.Story.of(item), app.settings.feed_title, app.settings.timezone
        )
        write(folder / publish.story_path(item.entry_id), page)


def _write_archive_html(
    app: Aggregator,
    spec: publish.FeedSpec,
    newest: int | None,
    write: Callable[[Sequence[tuple[Path, bytes]]], Sequence[Path]],
) -> None:
    """Write the HTML copy of each archive page that has none yet, oldest first.

    Rendered from the archive page itself, so it shows what the page recorded and, like
    it, is written once. Oldest first, in order, a batch of pages at a time (their files
    synced together): a run cut short leaves pages 1..k with no gap, and the next run
    goes on from k + 1.
    """
    folder = app.settings.feeds_dir
    lowest = (newest or 0) + 1
    while lowest > 1 and not (folder / pages.archive_page_path(spec.key, lowest - 1)).exists():
        lowest -= 1
    stories = f"{app.identity.base_url}stories/"
    batch: list[tuple[Path, bytes]] = []
    for number in range(lowest, (newest or 0) + 1):
        atom_page = folder / publish.archive_path(spec.key, number)
        document = pages.read_archive(atom_page.read_bytes())
        html = pages.render_archive(
            document, spec, number, app.settings.feed_title, app.settings.timezone
        )
        # Stories that went into the archive without being shown in a feed get their page too.
        missing = [
            (folder / href.removeprefix(app.identity.base_url), story)
            for href, story in pages.linked_stories(document, stories)
            if not (folder / href.removeprefix(app.identity.base_url)).exists()
        ]
        files = [
            (path, pages.render_story(story, app.settings.feed_title, app.settings.timezone))
            for path, story in missing
        ]
        target = folder / pages.archive_page_path(spec.key, number)
        batch += [*files, (target, html)]
        if number == newest or len(batch) >= publish.FILES_PER_SYNC:
            write(batch)
            batch = []
            if not target.exists():
                return  # the failure was reported; the next regeneration goes on from here


def _write_archives(
    app: Aggregator,
    spec: publish.FeedSpec,
    topic: str | None,
    entries: publish.Entries,
    write: Callable[[Sequence[tuple[Path, bytes]]], object],
) -> int | None:
    """Write the feed's archive pages that became complete; the newest page's number.

    Pages of N stories (N = publish.max_entries) in arrival order, each starting
    after the last story of the page before it. A page is written once, when it
    is complete, and never again: RFC 5005 archives may be cached forever.
    """
    size = app.settings.max_entries
    return publish.write_archives(
        app.settings.feeds_dir,
        spec,
        entries,
        size,
        lambda archived, pages_written, limit: next_archive_stories(
            app.storage, topic, archived, pages_written, size, limit
        ),
        write,
    )
