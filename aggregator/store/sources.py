"""Web sources in the store: the registry (add, remove, list), the "due" query, politeness state.

"Due" is a query over each source's stored next-fetch time, so the daemon and
a one-off ``aggregator update`` agree, also after a restart.
"""

import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, or_, select, update

from aggregator.errors import AggregatorError, LeaseLost
from aggregator.store.engine import Database, Transaction
from aggregator.store.schema import sources
from aggregator.types import DEFAULT_FULL_TEXT, GONE_MARK, SourceKind, SourceSetting, WebSource


def web_source(row: Any) -> WebSource:
    return WebSource(
        id=row.id,
        key=row.key,
        url=row.url or row.key,
        name=row.name,
        title=row.title,
        interval=timedelta(seconds=row.interval_seconds) if row.interval_seconds else None,
        origin=row.origin,
        enabled=row.enabled,
        etag=row.etag,
        last_modified=row.last_modified,
        body_hash=row.body_hash,
        next_fetch=row.next_fetch,
        error_count=row.error_count or 0,
        last_status=row.last_status,
        last_success=row.last_success,
        last_checked=row.last_checked,
        last_error=row.last_error,
        disabled_reason=row.disabled_reason,
        link=row.link,
        category=row.category,
        retry_after=row.retry_after,
        date_offset=(
            timedelta(seconds=row.date_offset_seconds) if row.date_offset_seconds else None
        ),
        full_text=row.full_text or "never",
        page_failures=row.page_failures or 0,
        page_error=row.page_error,
    )


def _comparable(text: str | None) -> str:
    """A name as typed and as stored compare alike: NFC (a Hangul syllable typed as its
    jamo is the same name), case-folded, spaces trimmed."""
    return unicodedata.normalize("NFC", text or "").casefold().strip()


class SourceRegistry:
    """Reads and writes of web sources, over one Storage."""

    def __init__(self, storage: Database) -> None:
        self.storage = storage

    def all(self) -> list[WebSource]:
        with self.storage.engine.connect() as connection:
            rows = connection.execute(
                select(sources).where(sources.c.kind == SourceKind.FEED).order_by(sources.c.id)
            )
            return [web_source(row) for row in rows]

    def due(self, now: datetime) -> list[WebSource]:
        """Enabled web sources whose next fetch time has come (never-fetched ones first)."""
        query = (
            select(sources)
            .where(
                sources.c.kind == SourceKind.FEED,
                sources.c.enabled.is_(True),
                or_(sources.c.next_fetch.is_(None), sources.c.next_fetch <= now),
                # A source a worker is fetching now is not due for anyone else.
                or_(sources.c.lease_until.is_(None), sources.c.lease_until <= now),
            )
            .order_by(sources.c.next_fetch.is_not(None), sources.c.next_fetch, sources.c.id)
        )
        with self.storage.engine.connect() as connection:
            return [web_source(row) for row in connection.execute(query)]

    def find(self, reference: str) -> WebSource | None:
        """A source by its URL (first or current) or its name."""
        for source in self.all():
            if reference in (source.key, source.url, source.name):
                return source
        return None

    def matching(self, reference: str) -> list[WebSource]:
        """The sources a user means by ``reference``: its URL, else its name or the title
        `sources list` shows, in any script and normalisation form."""
        listed = self.all()
        by_url = [s for s in listed if reference in (s.key, s.url)]
        if by_url:
            return by_url
        wanted = _comparable(reference)
        return [s for s in listed if wanted in (_comparable(s.name), _comparable(s.label))]

    def add(
        self,
        url: str,
        *,
        name: str | None,
        interval: timedelta | None,
        origin: str,
        enabled: bool = True,
        title: str | None = None,
        link: str | None = None,
        category: str | None = None,
        full_text: str = DEFAULT_FULL_TEXT,
    ) -> WebSource:
        """Follow ``url``. Refused when it is followed already, or, for a source added by
        hand, when another shows the same name (`sources remove NAME` could not tell them
        apart; an OPML import keeps its titles, and `remove` then asks for the URL)."""
        if self.find(url) is not None:
            raise AggregatorError(f"source {url} is already followed")
        label = name or (title if origin == "cli" else None)
        if label and (twins := self.matching(label)):
            raise AggregatorError(
                f"another source is named {label!r} ({twins[0].url}); choose another --name"
            )
        with self.storage.plain_transaction() as tx:
            tx.connection.execute(
                insert(sources).values(
                    key=url,
                    kind=SourceKind.FEED,
                    title=name or title or url,
                    link=link,
                    category=category,
                    url=url,
                    name=name,
                    interval_seconds=int(interval.total_seconds()) if interval else None,
                    origin=origin,
                    enabled=enabled,
                    error_count=0,
                    disabled_reason=None if enabled else f"disabled in {origin}",
                    full_text=full_text,
                    page_failures=0,
                )
            )
        added = self.find(url)
        assert added is not None
        return added

    def remove(self, reference: str) -> WebSource:
        """Stop following a source; its items are deleted with it and leave the feeds.

        Refused when the reference fits several sources (their URLs are listed), and for a
        source the config file declares: it would come back at the next run.
        """
        found = self.matching(reference)
        if not found:
            raise AggregatorError(f"no source {reference!r} (give its URL or name)")
        if len(found) > 1:
            urls = ", ".join(s.url for s in found)
            raise AggregatorError(f"{reference!r} names {len(found)} sources ({urls}): give a URL")
        (source,) = found
        if source.origin == "config":
            raise AggregatorError(
                f"{source.label} ({source.url}) is declared in the config file: delete its "
                "[[sources]] table there (or set enabled = false), then run update"
            )
        with self.storage.plain_transaction() as tx:
            tx.connection.execute(delete(sources).where(sources.c.id == source.id))
        return source

    def set_full_text(self, reference: str, mode: str) -> WebSource:
        """Change when a source's article pages are read (a source the config file declares
        takes its mode from there, which the next run would restore)."""
        source = self.find(reference)
        if source is None:
            raise AggregatorError(f"no source {reference!r} (give its URL or name)")
        if source.origin == "config":
            raise AggregatorError(
                f"source {source.url} is declared in the config file: set full_text in its "
                "[[sources]] table"
            )
        with self.storage.plain_transaction() as tx:
            tx.connection.execute(
                update(sources).where(sources.c.id == source.id).values(full_text=mode)
            )
        return replace(source, full_text=mode)

    def sync_config(self, declared: Sequence[SourceSetting]) -> list[WebSource]:
        """Make the stored config-declared sources match the config file.

        A source declared in the file is added or updated; one no longer declared is
        disabled (its items stay); a source disabled because it is gone (410) stays so.
        Only rows that differ from the file are written: every run starts here, and
        rewriting all of them was most of a run's writes when no source had news
        (issue #22, ``bench_knews``).

        Returns every web source as stored after it (``all``): the list it compared with,
        read again only when it wrote (a forced round reads the table once).
        """
        existing = self.all()
        by_url: dict[str, WebSource] = {}
        for source in existing:  # the first source (by id) whose first or current URL it is
            by_url.setdefault(source.key, source)
            by_url.setdefault(source.url, source)
        declared_urls = {s.url for s in declared}
        written = False
        with self.storage.plain_transaction() as tx:
            for setting in declared:
                known = by_url.get(setting.url)
                seconds = int(setting.interval.total_seconds()) if setting.interval else None
                values: dict[str, Any] = {
                    "name": setting.name,
                    "interval_seconds": seconds,
                    "origin": "config",
                    "enabled": setting.enabled,
                    "disabled_reason": None if setting.enabled else "disabled in config",
                    "full_text": setting.full_text,
                }
                if known is None:
                    values.update(
                        key=setting.url,
                        kind=SourceKind.FEED,
                        url=setting.url,
                        error_count=0,
                        page_failures=0,
                    )
                    values["title"] = setting.name or setting.url
                    tx.connection.execute(insert(sources).values(**values))
                    written = True
                    continue
                if (known.disabled_reason or "").startswith(GONE_MARK):
                    del values["enabled"], values["disabled_reason"]
                if values.items() <= _declared_values(known).items():
                    continue
                tx.connection.execute(
                    update(sources).where(sources.c.id == known.id).values(**values)
                )
                written = True
            for source in existing:
                still_declared = source.key in declared_urls or source.url in declared_urls
                if source.origin == "config" and source.enabled and not still_declared:
                    tx.connection.execute(
                        update(sources)
                        .where(sources.c.id == source.id)
                        .values(enabled=False, disabled_reason="no longer in the config file")
                    )
                    written = True
        return self.all() if written else existing


def _declared_values(source: WebSource) -> dict[str, Any]:
    """The columns ``sync_config`` sets, as the stored row has them (as read)."""
    return {
        "name": source.name,
        "interval_seconds": int(source.interval.total_seconds()) if source.interval else None,
        "origin": source.origin,
        "enabled": source.enabled,
        "disabled_reason": source.disabled_reason,
        "full_text": source.full_text,  # a NULL column reads as "never" too
    }


def save_fetch_state(
    tx: Transaction, source_id: int, state: dict[str, Any], holder: str | None = None
) -> None:
    """Write the politeness and health columns decided for a source after a fetch.

    A worker (``holder``) writes only while it still holds the source's claim, and
    releases it in the same transaction; a claim taken over by another worker after
    this one's lease ran out raises LeaseLost, and the caller's transaction is undone.
    """
    query = update(sources).where(sources.c.id == source_id)
    if holder is None:
        tx.connection.execute(query.values(**state))
        return
    released = tx.connection.execute(
        query.where(sources.c.claimed_by == holder).values(
            **state, claimed_by=None, lease_until=None
        )
    )
    if released.rowcount != 1:
        raise LeaseLost(f"source {source_id}: the claim of {holder} lapsed and was taken over")


def save_fetch_states(tx: Transaction, states: Sequence[tuple[int, dict[str, Any]]]) -> None:
    """``save_fetch_state`` for several sources (no claims) in one statement: each
    ``(source id, state)``, every state with the same columns."""
    if not states:
        return
    columns = list(states[0][1])
    query = (
        update(sources)
        .where(sources.c.id == bindparam("source_id"))
        .values({column: bindparam(f"new_{column}") for column in columns})
    )
    rows = [
        {"source_id": source_id, **{f"new_{c}": state[c] for c in columns}}
        for source_id, state in states
    ]
    tx.connection.execute(query, rows)
