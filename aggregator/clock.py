"""The only place that reads the wall clock, and UTC helpers.

Everything else receives ``now`` as an argument, so tests control time with
freezegun or by passing a datetime.
"""

from datetime import UTC, datetime, timedelta

# A date further ahead than this is taken as now: a source's wrong clock must not
# pin its items to the top of every feed.
FUTURE_SKEW = timedelta(minutes=10)


def utcnow() -> datetime:
    """The current time as an aware UTC datetime, truncated to whole seconds.

    Whole seconds because Atom dates are published at that precision and a
    stored value must round-trip unchanged through SQLite and PostgreSQL.
    """
    return datetime.now(UTC).replace(microsecond=0)


def as_utc(value: datetime) -> datetime:
    """Convert an aware datetime to UTC; a naive one is a bug in the caller."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: every datetime must carry a zone")
    return value.astimezone(UTC)
