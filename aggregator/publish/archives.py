"""RFC 5005 archive pages: cut from the oldest story forward, written once when full."""

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from lxml import etree

from aggregator.identity import FeedSpec, archive_path
from aggregator.publish.entries import Entries
from aggregator.publish.feed import ATOM_NS, render_feed

log = logging.getLogger("aggregator.publish")


def archived_pages(folder: Path, key: str) -> int:
    """How many archive pages of a feed are written: pages 1..n all exist (0 for none).

    Pages are written in order, so the existing ones are 1..n with no gap: doubling,
    then halving, finds n in about 2·log2(n) checks, not n (20,000 pages at 1M items).
    """

    def exists(page: int) -> bool:
        return (folder / archive_path(key, page)).is_file()

    if not exists(1):
        return 0
    low, high = 1, 2  # page ``low`` exists; find a ``high`` that does not
    while exists(high):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if exists(middle) else (low, middle)
    return low


def archive_entry_ids(document: bytes) -> list[str]:
    """The entry ids an archive page holds."""
    root = etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))
    return [str(e.text) for e in root.iterfind(f"{{{ATOM_NS}}}entry/{{{ATOM_NS}}}id")]


# Archive pages rendered and written together: one query for their stories, one
# load of the items not rendered yet, one batch of writes.
PAGES_PER_BATCH = 20


def write_archives(
    folder: Path,
    spec: FeedSpec,
    entries: Entries,
    size: int,
    following: Callable[[Sequence[str], int, int], Sequence[int]],
    write: Callable[[Sequence[tuple[Path, bytes]]], object],
) -> int | None:
    """Write a feed's archive pages that became complete; the newest page's number (or None).

    RFC 5005 §4 archives, cut from the oldest story forward in pages of ``size``:
    ``following(entry_ids_of_the_last_page, pages_written, limit)`` gives the ids
    of up to ``limit`` stories that follow the last page, oldest first. Only a
    full page is written, and a written page is never written again, so it may
    be cached forever; adding stories never changes it. ``write`` writes files in
    order and stops at the first it cannot write (and reports it).

    Each batch of pages is written while the next one is rendered, so the file
    system's work (creating and syncing files) overlaps the rendering on another
    core. Batches are written one at a time, in page order, and none after one
    that failed, so the pages on disk are always 1..n with no gap.
    """
    pages = archived_pages(folder, spec.key)
    batches = _page_batches(folder, spec, entries, size, following, pages)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-writer") as writer:
        writing: Future[int] | None = None
        expected = 0
        for files in batches:  # the next batch renders while ``writing`` runs
            if writing is not None:
                done = writing.result()
                pages, writing = pages + done, None
                if done < expected:
                    break  # the failure was reported; the next regeneration retries
            writing, expected = writer.submit(_write_pages, write, files), len(files)
        if writing is not None:
            pages += writing.result()
    return pages or None


def _page_batches(
    folder: Path,
    spec: FeedSpec,
    entries: Entries,
    size: int,
    following: Callable[[Sequence[str], int, int], Sequence[int]],
    pages: int,
) -> Iterator[list[tuple[Path, bytes]]]:
    """The feed's next complete archive pages after page ``pages``, rendered a batch at a time."""
    archived: Sequence[str] = []
    if pages:
        last = folder / archive_path(spec.key, pages)
        try:
            archived = archive_entry_ids(last.read_bytes())
        except etree.XMLSyntaxError as error:
            log.warning(
                "archive page %s is not readable XML (%s); continuing by position", last, error
            )
    limit = size * PAGES_PER_BATCH
    while True:
        ids = following(archived, pages, limit)
        # Only the stories of complete pages are loaded: usually there are none.
        stories = entries.by_id(ids[: len(ids) - len(ids) % size])
        cut = [stories[start : start + size] for start in range(0, len(stories) - size + 1, size)]
        if cut:
            yield [
                (
                    folder / archive_path(spec.key, pages + n),
                    render_feed(
                        spec,
                        page[::-1],
                        entries.identity,
                        prev_archive=pages + n - 1 if pages + n > 1 else None,
                        archive_page=pages + n,
                    ),
                )
                for n, page in enumerate(cut, 1)
            ]
            pages, archived = pages + len(cut), [e.entry_id for e in cut[-1]]
        if len(ids) < limit:
            return


def _write_pages(
    write: Callable[[Sequence[tuple[Path, bytes]]], object], files: Sequence[tuple[Path, bytes]]
) -> int:
    """Write a batch of pages; how many of them, from the first, are on disk now."""
    write(files)
    return next((n for n, (path, _) in enumerate(files) if not path.is_file()), len(files))
