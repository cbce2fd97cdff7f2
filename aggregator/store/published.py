"""Published files in the database: written by regeneration, read by `serve` on any machine.

The same bytes as the files in the feeds folder, under their path relative to it
(``inter-korean.xml``, ``archive/all/3.xml``), with a digest so an unchanged file
is neither rewritten nor re-read.
"""

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update

from aggregator.store.engine import Database
from aggregator.store.schema import published_files


def save(storage: Database, files: Sequence[tuple[str, bytes]], now: datetime) -> None:
    """Keep each ``content`` as the file at its (distinct) path unless it already is.

    One transaction for all of them: regeneration saves an archive's new pages
    together (a first regeneration writes hundreds).
    """
    digests = {path: hashlib.sha256(content).hexdigest() for path, content in files}
    with storage.transaction() as tx:
        stored = dict(
            tx.connection.execute(
                select(published_files.c.path, published_files.c.digest).where(
                    published_files.c.path.in_(list(digests))
                )
            ).all()
        )
        added = []
        for path, content in files:
            digest = digests[path]
            if stored.get(path) == digest:
                continue
            values = {"content": content, "digest": digest, "modified": now}
            if path in stored:
                tx.connection.execute(
                    update(published_files).where(published_files.c.path == path).values(**values)
                )
            else:
                added.append({"path": path, **values})
        if added:
            tx.connection.execute(insert(published_files), added)


def digest_of(storage: Database, path: str) -> tuple[str, datetime] | None:
    """The digest and modification time of a published file, or None."""
    with storage.engine.connect() as connection:
        row = connection.execute(
            select(published_files.c.digest, published_files.c.modified).where(
                published_files.c.path == path
            )
        ).first()
    return None if row is None else (row.digest, row.modified)


def content_of(storage: Database, path: str) -> bytes | None:
    with storage.engine.connect() as connection:
        return connection.execute(
            select(published_files.c.content).where(published_files.c.path == path)
        ).scalar()
