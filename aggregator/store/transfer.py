"""Export every stored source and item as JSON Lines, and import them into an empty database.

For backups and for moves between SQLite and PostgreSQL: the published ids
(entry ids), stories and topic assignments come back as they were, so the
feeds regenerated from the imported store are byte-identical. Fingerprints and
their band keys are recomputed on import rather than exported.
"""

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import func, insert, select, update

from aggregator import fingerprints
from aggregator.errors import AggregatorError, InputError
from aggregator.store.schema import UTCDateTime, item_topics, items, sources
from aggregator.store.storage import Storage
from aggregator.text import html_to_text

FORMAT = "aggregator-export-1"
_SOURCE_FIELDS = [c.name for c in sources.columns if c.name != "id"]
_ITEM_FIELDS = [
    c.name for c in items.columns if c.name not in ("id", "source_id", "story_id", "signature")
]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def export_lines(storage: Storage) -> Iterator[str]:
    """A header line, then one line per source, then one per item (with story and topics)."""
    yield json.dumps({"format": FORMAT})
    with storage.engine.connect() as connection:
        keys = {}
        for row in connection.execute(select(sources).order_by(sources.c.id)):
            keys[row.id] = row.key
            yield json.dumps(
                {"type": "source", **{f: _plain(getattr(row, f)) for f in _SOURCE_FIELDS}},
                ensure_ascii=False,
            )
        entry_ids = dict(connection.execute(select(items.c.id, items.c.entry_id)).all())
        topics: dict[int, dict[str, float]] = {}
        for item_id, topic, score in connection.execute(select(item_topics)):
            topics.setdefault(item_id, {})[topic] = score
        for row in connection.execute(select(items).order_by(items.c.id)).yield_per(1000):
            record = {f: _plain(getattr(row, f)) for f in _ITEM_FIELDS}
            record.update(
                type="item",
                source=keys[row.source_id],
                story=entry_ids.get(row.story_id, row.entry_id),
                topics=topics.get(row.id, {}),
            )
            yield json.dumps(record, ensure_ascii=False)


def export(storage: Storage, out: TextIO) -> int:
    count = 0
    for line in export_lines(storage):
        out.write(line + "\n")
        count += 1
    return count - 1


def _parse(column: Any, value: Any) -> Any:
    if value is not None and isinstance(column.type, UTCDateTime):
        return datetime.fromisoformat(value)
    return value


def import_lines(storage: Storage, lines: Iterable[str], subject: str) -> tuple[int, int]:
    """Load an export into an empty database, in one transaction; (sources, items) loaded."""
    with storage.engine.connect() as connection:
        if connection.execute(select(func.count()).select_from(items)).scalar_one():
            raise AggregatorError(
                f"{storage.display_url} is not empty: import needs an empty database"
            )
    source_ids: dict[str, int] = {}
    item_ids: dict[str, int] = {}
    stories: list[tuple[int, str]] = []
    counts = [0, 0]
    with storage.transaction() as tx:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise InputError(f"{subject}:{number}", f"not JSON: {error}") from None
            kind = record.pop("type", None)
            if kind is None and record.get("format") == FORMAT:
                continue
            if kind == "source":
                values = {f: _parse(sources.c[f], record.get(f)) for f in _SOURCE_FIELDS}
                source_ids[record["key"]] = tx.connection.execute(
                    insert(sources).values(**values)
                ).inserted_primary_key[0]
                counts[0] += 1
            elif kind == "item":
                values = {f: _parse(items.c[f], record.get(f)) for f in _ITEM_FIELDS}
                slots, *_, bands = fingerprints.story_keys(
                    values["title"], html_to_text(values["content_html"])
                )
                item_id = tx.connection.execute(
                    insert(items).values(
                        source_id=source_ids[record["source"]],
                        signature=fingerprints.pack(slots) if slots else None,
                        **values,
                    )
                ).inserted_primary_key[0]
                item_ids[values["entry_id"]] = item_id
                stories.append((item_id, record["story"]))
                tx.set_bands(item_id, bands, values["published"], new=True)
                tx.set_topics(item_id, record.get("topics", {}), new=True)
                counts[1] += 1
            else:
                raise InputError(f"{subject}:{number}", f"unknown record type {kind!r}")
        for item_id, story in stories:
            tx.connection.execute(
                update(items).where(items.c.id == item_id).values(story_id=item_ids[story])
            )
    return counts[0], counts[1]
