"""Riding out a database that is briefly unavailable: SQLite busy, PostgreSQL restarting.

A cycle is safe to run again from the start (each source is stored in its own
transaction and re-reading stored items changes nothing), so an operation that
meets a transient database error is retried whole, after a growing pause, until
the pauses add up to the configured window; then it is reported as
``StoreUnavailable`` and the daemon tries again at its next run.
"""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from aggregator.errors import AggregatorError

log = logging.getLogger("aggregator.store")

T = TypeVar("T")
FIRST_PAUSE = 0.5
LONGEST_PAUSE = 8.0


class StoreUnavailable(AggregatorError):
    """The database stayed locked or unreachable for the whole retry window."""


def is_transient(error: Exception) -> bool:
    """A lost or refused connection, or a locked SQLite file: worth trying again.

    SQLite reports a broken schema as an OperationalError too ("no such table"),
    which no retry fixes, so for SQLite only "locked" and "busy" count.
    """
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    message = str(error.orig).lower()
    if type(error.orig).__module__.startswith("sqlite3"):
        return "locked" in message or "busy" in message
    return True


def pauses(window: float) -> list[float]:
    """The pauses between attempts: 0.5 s doubling to 8 s, adding up to at most ``window``."""
    result: list[float] = []
    pause = FIRST_PAUSE
    while sum(result) + pause <= window:
        result.append(pause)
        pause = min(pause * 2, LONGEST_PAUSE)
    return result


def with_retries(
    operation: Callable[[], T],
    *,
    what: str,
    where: str,
    window: float,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``operation``; on a transient database error pause and run it again, within bounds."""
    schedule = pauses(window)
    attempt = 0
    while True:
        try:
            return operation()
        except (OperationalError, InterfaceError, DBAPIError) as error:
            if not is_transient(error):
                raise
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            if attempt == len(schedule):
                raise StoreUnavailable(
                    f"{what}: database {where} unavailable ({reason}); "
                    f"gave up after {attempt + 1} attempts over {sum(schedule):g} s"
                ) from None
            log.warning(
                "%s: database %s unavailable (%s); attempt %d, retrying in %g s",
                what,
                where,
                reason,
                attempt + 1,
                schedule[attempt],
            )
            sleep(schedule[attempt])
            attempt += 1
