"""Pure identity decisions: permanent entry ids, content fingerprints, new/edited/unchanged.

Nothing here touches storage or the clock: the pipeline hands in what the
input said, what the store already knows and ``now``, and gets back what to
write (or nothing).
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator.text import html_to_text, normalize
from aggregator.types import ItemData

# An entry claiming a date further in the future than this is clamped to now:
# a wrong clock at the source must not pin an item to the top of every feed.
FUTURE_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class KnownItem:
    """What the store knows of an item, enough to decide whether it changed."""

    id: int
    entry_id: str
    content_hash: str
    published: datetime
    updated: datetime


@dataclass(frozen=True)
class ItemWrite:
    """What to write for one item: an insert (``id`` None) or an in-place update."""

    id: int | None
    entry_id: str
    item: ItemData
    published: datetime
    updated: datetime
    content_hash: str


def entry_id(authority: str, source_key: str, item_key: str) -> str:
    """A permanent tag: URI (RFC 4151) for an item: opaque, not a path or a row number."""
    digest = hashlib.sha256(f"{source_key}\n{item_key}".encode()).hexdigest()[:32]
    return f"tag:{authority}:entry:{digest}"


def content_hash(item: ItemData) -> str:
    """Fingerprint of what we publish, blind to whitespace and markup-only changes."""
    parts = (
        normalize(item.title),
        normalize(html_to_text(item.content_html)),
        item.author or "",
        item.site_name or "",
        item.link or "",
        item.published.isoformat() if item.published else "",
        item.language or "",
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _plausible(claimed: datetime | None, now: datetime) -> datetime | None:
    """A claimed date, or ``now`` when it lies beyond the allowed clock skew."""
    if claimed is None:
        return None
    return claimed if claimed <= now + FUTURE_SKEW else now


def decide(
    item: ItemData, known: KnownItem | None, *, authority: str, source_key: str, now: datetime
) -> ItemWrite | None:
    """New item, edited item (same id, later ``updated``), or None when nothing changed."""
    fingerprint = content_hash(item)
    if known is not None and known.content_hash == fingerprint:
        return None
    claimed_published = _plausible(item.published, now)
    claimed_updated = _plausible(item.updated, now)
    if known is None:
        published = claimed_published or claimed_updated or now
        updated = max(claimed_updated or published, published)
        return ItemWrite(
            None, entry_id(authority, source_key, item.key), item, published, updated, fingerprint
        )
    published = claimed_published or known.published
    # An edit must move ``updated`` forward, or readers would never notice it.
    updated = claimed_updated if claimed_updated and claimed_updated > known.updated else now
    if updated <= known.updated:
        updated = known.updated + timedelta(seconds=1)
    return ItemWrite(
        known.id, known.entry_id, item, published, max(updated, published), fingerprint
    )
