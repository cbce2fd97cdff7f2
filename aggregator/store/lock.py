"""Run locks, so two writers (two daemons, or an update during a daemon cycle) never interleave.

SQLite: an advisory file lock (flock) beside the database file, released by
the kernel if the holder dies. PostgreSQL: a session advisory lock, released
by the server when the holder's connection drops. Either way a crashed
process never leaves a stale lock behind. A thread may take a lock it already
holds again (a worker's pass holds the cycle lock while it calls pipeline
functions that take it too).
"""

import fcntl
import hashlib
import logging
import os
import threading
import time
from pathlib import Path
from types import TracebackType

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from aggregator.errors import LockedError
from aggregator.store.engine import Database
from aggregator.store.retry import is_transient

log = logging.getLogger("aggregator.store")
_POLL_SECONDS = 0.1
_thread_holdings = threading.local()


def _holdings() -> dict[tuple[str, str], int]:
    """How many times this thread has entered each lock it holds, by (database, name)."""
    if not hasattr(_thread_holdings, "locks"):
        _thread_holdings.locks = {}
    return _thread_holdings.locks


class RunLock:
    """A named, cross-process lock on one database: ``with RunLock(storage, "cycle", wait=60):``."""

    def __init__(self, storage: Database, name: str, *, wait: float = 0.0) -> None:
        self.storage = storage
        self.name = name
        self.wait = wait
        self._file: int | None = None
        self._connection: Connection | None = None
        self._held = False
        self._nested = False
        self._schema: str | None = None
        self._identity = (storage.engine.url.render_as_string(hide_password=False), name)

    def __enter__(self) -> "RunLock":
        holdings = _holdings()
        if holdings.get(self._identity):
            holdings[self._identity] += 1
            self._nested = True
            return self
        deadline = time.monotonic() + self.wait
        while not self._try_acquire():
            if time.monotonic() >= deadline:
                message = self._held_message()
                self.release()
                raise LockedError(message)
            time.sleep(_POLL_SECONDS)
        holdings[self._identity] = 1
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    def _lock_path(self) -> Path:
        database = self.storage.engine.url.database
        if not database or database == ":memory:":
            raise LockedError("run locks need a database file, not an in-memory SQLite database")
        return Path(f"{database}.{self.name}.lock")

    def _key(self) -> int:
        # Advisory locks are per database, so the key names the schema too: two
        # aggregators in two schemas of one database do not lock each other out.
        assert self._connection is not None
        if self._schema is None:
            self._schema = self._connection.execute(text("SELECT current_schema()")).scalar()
        digest = hashlib.sha256(f"aggregator:{self._schema}:{self.name}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    def _try_acquire(self) -> bool:
        if self.storage.dialect == "postgresql":
            if self._connection is None:
                self._connection = self.storage.engine.connect()
            got = self._connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key()}
            ).scalar()
            self._connection.commit()
            self._held = bool(got)
            return self._held
        path = self._lock_path()
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return False
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        self._file = descriptor
        return True

    def confirm(self) -> None:
        """Make sure this process still holds the lock, taking it again if it was lost.

        A PostgreSQL session lock dies with its connection (a server restart, a cut
        network) without telling its holder, and a second daemon could then start
        beside the first. A long-lived holder calls this before each unit of work:
        the lock is asked for again on a new connection when the old one is gone,
        and LockedError says that another process took it meanwhile. While the
        server cannot be reached nothing is known and nothing is raised: the work
        itself will meet the outage and report it. A file lock cannot be lost.
        """
        if self.storage.dialect != "postgresql" or self._nested:
            return
        try:
            if self._connection is not None and self._held:
                self._connection.execute(text("SELECT 1"))  # still the session holding it
                self._connection.commit()
                return
        except DBAPIError as error:
            if not is_transient(error):
                raise
            self._drop_connection()
        try:
            taken = self._try_acquire()
        except DBAPIError as error:
            if not is_transient(error):
                raise
            self._drop_connection()
            return
        if not taken:
            _holdings().pop(self._identity, None)
            self._drop_connection()
            raise LockedError(
                f"the {self.name} lock on {self.storage.display_url} was lost with its "
                "connection, and another process holds it now"
            )
        log.warning("the %s lock was lost with its connection; it is held again", self.name)

    def _drop_connection(self) -> None:
        """Forget a connection whose session (and any lock it held) is gone."""
        if self._connection is not None:
            self._connection.invalidate()
            self._connection.close()
            self._connection = None
        self._held = False

    def _held_message(self) -> str:
        holder = ""
        if self.storage.dialect != "postgresql":
            try:
                pid = self._lock_path().read_text().strip()
                holder = f" (held by process {pid})" if pid else ""
            except OSError:
                pass
        what = (
            "another daemon is running" if self.name == "daemon" else "another run is in progress"
        )
        return (
            f"{what} on {self.storage.display_url}{holder}; "
            f"waited {self.wait:g}s for the {self.name} lock"
        )

    def release(self) -> None:
        holdings = _holdings()
        if self._nested:
            holdings[self._identity] -= 1
            self._nested = False
            return
        if self._file is not None or self._held:
            holdings.pop(self._identity, None)
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            os.close(self._file)
            self._file = None
        if self._connection is not None:
            try:
                if self._held:
                    self._connection.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": self._key()}
                    )
                    self._connection.commit()
            except DBAPIError as error:
                # A lost connection (the server restarted) released its session's lock with it.
                if not is_transient(error):
                    raise
            finally:
                self._connection.close()
                self._connection = None
                self._held = False
