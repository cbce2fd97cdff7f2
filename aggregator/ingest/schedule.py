"""Pure decisions about when to fetch a web source next.

Functions of data and ``now`` only: the interval a source asks for, raised by
what the server and the document say about freshness, bounded by config; the
exponential backoff after failures; and Retry-After.
"""

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from aggregator.config import FetchSettings
from aggregator.types import GONE_MARK, FetchOutcome

_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
_BACKOFF_BASE = timedelta(minutes=5)


def freshness(headers: dict[str, str], now: datetime) -> timedelta | None:
    """How long the response says it stays fresh: Cache-Control max-age, else Expires."""
    cache_control = headers.get("cache-control", "")
    if "no-cache" in cache_control.lower() or "no-store" in cache_control.lower():
        return None
    match = _MAX_AGE.search(cache_control)
    if match:
        return timedelta(seconds=int(match.group(1)))
    expires = http_date(headers.get("expires"))
    if expires is not None and expires > now:
        return expires - now
    return None


def http_date(value: str | None) -> datetime | None:
    """An HTTP date (RFC 9110 §5.6.7) as an aware datetime, or None when it is not one."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else None


def retry_after(value: str | None, now: datetime) -> datetime | None:
    """The time a Retry-After header (seconds or an HTTP date) forbids retrying before."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    return http_date(value)


def next_fetch(
    now: datetime,
    settings: FetchSettings,
    interval: timedelta | None,
    hints: tuple[timedelta | None, ...] = (),
) -> datetime:
    """After a successful fetch: the source's interval, raised by hints, within bounds."""
    wait = interval or settings.default_interval
    for hint in hints:
        if hint is not None and hint > wait:
            wait = hint
    wait = min(max(wait, settings.min_interval), settings.max_interval)
    return now + wait


def backoff(
    now: datetime, error_count: int, settings: FetchSettings, rng: random.Random
) -> datetime:
    """After the ``error_count``-th failure in a row: exponential, with jitter, capped."""
    exponent = min(max(error_count - 1, 0), 20)
    wait = min(_BACKOFF_BASE * 2**exponent, settings.backoff_cap)
    # Up to 20% jitter, downwards, so many sources failing together do not retry together.
    wait -= wait * 0.2 * rng.random()
    return now + wait


@dataclass(frozen=True)
class SourceState:
    """A web source's politeness and health after one fetch: what to store."""

    url: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    next_fetch: datetime
    error_count: int
    last_status: str
    last_checked: datetime
    last_success: datetime | None
    last_error: str | None
    enabled: bool = True
    disabled_reason: str | None = None
    # The server's own "not before" (Retry-After), which even a forced update honours.
    retry_after: datetime | None = None

    def columns(self) -> dict[str, Any]:
        """The fields by name, as the sources table names its columns: ``asdict`` without
        its deep copy, which immutable values do not need and which a round storing every
        source's state paid for each state's datetimes (issue #22, ``bench_knews``)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class Previous:
    """What the store knew of the source before this fetch."""

    url: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    interval: timedelta | None
    error_count: int
    last_success: datetime | None


def after_fetch(
    previous: Previous,
    *,
    outcome: FetchOutcome,
    status: str,
    url: str,
    headers: dict[str, str],
    body_hash: str | None,
    error: str | None,
    refresh_hint: timedelta | None,
    now: datetime,
    settings: FetchSettings,
    rng: random.Random,
) -> SourceState:
    """Decide the next fetch time, validators and health from how a fetch went.

    NOT_MODIFIED: a 304, or a body identical to the last one; ERROR: HTTP, network,
    limits, or an unusable document.
    """
    if outcome in (FetchOutcome.OK, FetchOutcome.NOT_MODIFIED):
        keep = outcome == FetchOutcome.NOT_MODIFIED
        return SourceState(
            url=url,
            etag=headers.get("etag") or (previous.etag if keep else None),
            last_modified=headers.get("last-modified")
            or (previous.last_modified if keep else None),
            body_hash=body_hash or previous.body_hash,
            next_fetch=next_fetch(
                now, settings, previous.interval, (freshness(headers, now), refresh_hint)
            ),
            error_count=0,
            last_status=status,
            last_checked=now,
            last_success=now,
            last_error=None,
        )
    if outcome == FetchOutcome.GONE:
        return SourceState(
            url=url, etag=None, last_modified=None, body_hash=previous.body_hash,
            next_fetch=now, error_count=previous.error_count + 1, last_status=status,
            last_checked=now, last_success=previous.last_success,
            last_error="HTTP 410 Gone: the source was removed by its publisher",
            enabled=False, disabled_reason=f"{GONE_MARK} HTTP 410 at {now.isoformat()}",
        )  # fmt: skip
    errors = previous.error_count + 1
    retry = backoff(now, errors, settings, rng)
    allowed = retry_after(headers.get("retry-after"), now)
    if allowed is not None and allowed > retry:
        retry = allowed
    return SourceState(
        url=previous.url, etag=previous.etag, last_modified=previous.last_modified,
        body_hash=previous.body_hash, next_fetch=retry, error_count=errors, last_status=status,
        last_checked=now, last_success=previous.last_success, last_error=error,
        retry_after=allowed,
    )  # fmt: skip
