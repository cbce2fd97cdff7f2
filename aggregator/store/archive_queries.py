"""Reads for RFC 5005 archive pages: the stories of a feed that come after its last page.

Archive pages are cut from the oldest story forward, in arrival order
(``first_seen``, then id: it only ever grows at the end). A new page starts
right after the newest story of the last page written, found by its entry
ids, not at an offset: an offset would shift when a story leaves the feed
(topic rules changed, an item edited, a source removed), and later pages
would then skip or repeat stories. Reads only; the publisher decides.
"""

from collections.abc import Sequence

from sqlalchemy import exists, select, tuple_

from aggregator.store.engine import Database
from aggregator.store.schema import item_topics, items


def next_archive_stories(
    storage: Database,
    topic_id: str | None,
    archived: Sequence[str],
    pages_written: int,
    size: int,
    limit: int,
) -> list[int]:
    """Ids of up to ``limit`` stories of a feed (a topic's, or all) for its next archive pages.

    Oldest first. ``archived`` holds the entry ids of the feed's newest archive
    page (none before the first page). The stories are those that arrived after
    the newest of them. When none of them is stored any more (their source was
    removed) or none is given for a written page, it falls back to the offset
    ``pages_written * size``. Ids only: the publisher loads the items it has
    not rendered yet, and none at all while no page is complete.
    """
    story = items.c.story_id == items.c.id
    # A story an editor hid goes into no page written from now on; written pages stay.
    query = select(items.c.id).where(story, items.c.hidden.is_(False))
    if topic_id is not None:
        # EXISTS, not a join: the walk in arrival order stops after ``limit`` hits.
        query = query.where(
            exists().where(item_topics.c.item_id == items.c.id, item_topics.c.topic_id == topic_id)
        )
    query = query.order_by(items.c.first_seen, items.c.id).limit(limit)
    with storage.engine.connect() as connection:
        last = None
        if archived:
            last = connection.execute(
                select(items.c.first_seen, items.c.id)
                .where(items.c.entry_id.in_(list(archived)))
                .order_by(items.c.first_seen.desc(), items.c.id.desc())
                .limit(1)
            ).first()
        if last is not None:
            # A row-value comparison, which both databases answer with a range scan of
            # the arrival index (the equivalent OR of two conditions reads every row).
            query = query.where(
                tuple_(items.c.first_seen, items.c.id) > tuple_(last.first_seen, last.id)
            )
        elif pages_written:
            query = query.offset(pages_written * size)
        return list(connection.execute(query).scalars())
