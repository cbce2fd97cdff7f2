"""Published files in the database: written by regeneration, read by `serve` on any machine.

The same bytes as the files in the feeds folder, under their path relative to it
(``inter-korean.xml``, ``archive/all/3.xml``), with a digest so an unchanged file
is neither rewritten nor re-read.
"""

import hashlib
from datetime import datetime

from sqlalchemy import insert, select, update

from aggregator.store.schema import published_files
from aggregator.store.storage import Storage


def save(storage: Storage, path: str, content: bytes, now: datetime) -> bool:
    """Keep ``content`` as the file at ``path`` unless it already is; whether it changed."""
    digest = hashlib.sha256(content).hexdigest()
    with storage.transaction() as tx:
        stored = tx.connection.execute(
            select(published_files.c.digest).where(published_files.c.path == path)
        ).scalar()
        if stored == digest:
            return False
        values = {"content": content, "digest": digest, "modified": now}
        if stored is None:
            tx.connection.execute(insert(published_files).values(path=path, **values))
        else:
            tx.connection.execute(
                update(published_files).where(published_files.c.path == path).values(**values)
            )
    return True


def digest_of(storage: Storage, path: str) -> tuple[str, datetime] | None:
    """The digest and modification time of a published file, or None."""
    with storage.engine.connect() as connection:
        row = connection.execute(
            select(published_files.c.digest, published_files.c.modified).where(
                published_files.c.path == path
            )
        ).first()
    return None if row is None else (row.digest, row.modified)


def content_of(storage: Storage, path: str) -> bytes | None:
    with storage.engine.connect() as connection:
        return connection.execute(
            select(published_files.c.content).where(published_files.c.path == path)
        ).scalar()
