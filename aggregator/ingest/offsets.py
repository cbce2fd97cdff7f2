"""Feeds that write local time as UTC: found from their dates, and read in their offset.

One upstream writes Korean wall-clock time with a ``Z`` (issue #19): its newest
items then lie hours after the moment they were fetched, and would top every
feed. Such a feed's dates are ahead of the time it was fetched (or of its own
build date, if earlier) by less than a whole-hour offset; it is read in that
offset from then on (the offset is stored with the source and shown by
``sources list``). A date ahead for any other reason (one wrong entry, a date
days ahead) is not a zone: it is taken as the time of the fetch.

Pure: dates and ``now`` in, dates out.
"""

import math
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aggregator.clock import FUTURE_SKEW
from aggregator.ingest.fields import not_after
from aggregator.types import ItemData, SourceData

# No zone is further ahead of UTC than this (Kiribati, +14:00).
_WIDEST_OFFSET = timedelta(hours=14)
# How many entries must be ahead for it to be the feed's way of writing dates, not one slip.
_CONSISTENT = 2


def _lead(item: ItemData, reference: datetime) -> timedelta | None:
    dates = [d for d in (item.published, item.updated) if d is not None]
    return max(dates) - reference if dates else None


def detect_offset(
    items: tuple[ItemData, ...], reference: datetime, zone: ZoneInfo
) -> timedelta | None:
    """The whole-hour offset the items' dates are written in as if UTC, or None.

    Some entries (two, or the only one) are ahead of ``reference`` beyond the
    clock skew and none by more than a zone can be. Of the offsets that put them
    all back, the configured zone's own (Asia/Seoul: 9 h) is taken when it is one,
    else the smallest whole hour.
    """
    leads = [lead for item in items if (lead := _lead(item, reference)) is not None]
    ahead = [lead for lead in leads if lead > FUTURE_SKEW]
    if not ahead or len(ahead) < min(_CONSISTENT, len(leads)) or max(ahead) > _WIDEST_OFFSET:
        return None
    needed = max(ahead)
    local = zone.utcoffset(reference.replace(tzinfo=None))
    if local is not None and local >= needed and local.total_seconds() % 3600 == 0:
        return local
    return timedelta(hours=math.ceil(needed / timedelta(hours=1)))


def _shifted(item: ItemData, offset: timedelta) -> ItemData:
    return replace(
        item,
        published=item.published - offset if item.published else None,
        updated=item.updated - offset if item.updated else None,
    )


def settle_dates(
    data: SourceData, *, now: datetime | None, known_offset: timedelta | None, zone: ZoneInfo
) -> SourceData:
    """``data`` with dates read in the source's offset (known, or found now), none in the future.

    The reference is the time of the fetch, or the feed's build date when that is
    earlier (a saved feed read long after). ``data.date_offset`` says the offset.
    """
    items = data.items
    offset = known_offset or timedelta(0)
    if offset:
        items = tuple(_shifted(item, offset) for item in items)
    built = data.source.updated
    reference = min(d for d in (now, built) if d is not None) if (now or built) else None
    warnings = list(data.warnings)
    if reference is not None and (found := detect_offset(items, reference, zone)) is not None:
        items = tuple(_shifted(item, found) for item in items)
        offset += found
        warnings.append(
            f"{data.source.key}: dates up to {found} ahead of the time it was fetched or built: "
            f"read as UTC{_signed(offset)} from now on"
        )
    if now is not None:
        future = sum(
            1
            for item in items
            if any(d is not None and d > now + FUTURE_SKEW for d in (item.published, item.updated))
        )
        if future:
            warnings.append(
                f"{data.source.key}: {future} entries dated in the future, dated now instead"
            )
            items = tuple(
                replace(
                    item,
                    published=not_after(item.published, now),
                    updated=not_after(item.updated, now),
                )
                for item in items
            )
    source = replace(data.source, updated=not_after(built, now)) if now and built else data.source
    return replace(
        data, source=source, items=items, warnings=tuple(warnings), date_offset=offset or None
    )


def _signed(offset: timedelta) -> str:
    hours = offset / timedelta(hours=1)
    return f"{'+' if hours >= 0 else '-'}{abs(hours):02.0f}:00"
