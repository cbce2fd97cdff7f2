"""config/aggregator.toml -> typed settings.

The file is found by ``--config PATH``, else ``$AGGREGATOR_CONFIG``, else
``config/aggregator.toml`` in the current directory. Relative paths in it are
resolved against the *project root*: the folder holding the config file's
folder when that folder is called ``config`` (the repository's layout), else
the config file's own folder. So the commands work from a fresh clone.

Every setting has a default (documented in README.md and in the shipped file);
an invalid value raises ConfigError naming the file, the key and the problem.
"""

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aggregator.errors import ConfigError
from aggregator.types import (
    DEFAULT_FULL_TEXT,
    DEFAULT_LIMITS,
    FULL_TEXT_MODES,
    InputLimits,
    SourceSetting,
)

DEFAULT_CONFIG = Path("config") / "aggregator.toml"
CONFIG_ENV = "AGGREGATOR_CONFIG"
DATABASE_URL_ENV = "AGGREGATOR_DATABASE_URL"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
# The authority and date of a tag: URI (RFC 4151): a domain or e-mail, a comma, a date.
_TAG_AUTHORITY = re.compile(r"^[A-Za-z0-9.@-]+,\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass(frozen=True)
class DaemonSettings:
    """When the daemon ingests and regenerates."""

    ingest_interval: timedelta
    regenerate_interval: timedelta


@dataclass(frozen=True)
class WorkerSettings:
    """How `aggregator worker` shares the fetching with other workers on one database."""

    lease: timedelta = timedelta(minutes=10)  # how long a claim holds; longer than one batch
    batch: int = 16  # sources claimed at once
    poll_interval: timedelta = timedelta(seconds=10)  # how often an idle worker looks again
    publish: bool = True  # False: leave regenerating to workers on the machine with feeds/


@dataclass(frozen=True)
class FetchSettings:
    """How web sources are fetched: politeness, limits and parallelism."""

    default_interval: timedelta
    min_interval: timedelta
    max_interval: timedelta
    backoff_cap: timedelta
    connect_timeout: timedelta
    read_timeout: timedelta
    deadline: timedelta
    max_bytes: int
    max_entries: int
    max_redirects: int
    workers: int
    per_host: int


@dataclass(frozen=True)
class FullTextSettings:
    """Article pages fetched for short entries: when, how politely, and whether to publish them.

    ``publish``: whether feeds carry the page text; off, they carry what the source
    published, and the page text only serves classification and story matching.
    """

    below: int = 500  # characters of entry text under which "auto" fetches the page
    host_delay: timedelta = timedelta(seconds=1)  # between two requests to one host
    publish: bool = False


@dataclass(frozen=True)
class DedupSettings:
    """How stories from several sources are recognised as one."""

    similarity: float
    tracking_parameters: frozenset[str]


@dataclass(frozen=True)
class StatusSettings:
    """When `aggregator status` says something needs attention."""

    max_failing: int
    stale_after: timedelta


@dataclass(frozen=True)
class Settings:
    """Everything the commands need from the config file, typed and resolved."""

    config_path: Path
    root: Path
    timezone: ZoneInfo
    database_url: str
    seeds_dir: Path
    topics_dir: Path
    feeds_dir: Path
    base_url: str
    id_authority: str
    feed_title: str
    max_entries: int
    hub: str | None
    # Published files also kept in the database, for `serve` on machines without feeds/.
    publish_to_database: bool
    lock_wait: timedelta
    retry_for: timedelta
    busy_timeout: timedelta
    page_cache: int | None  # SQLite's, bytes per connection; None: sized by the store
    daemon: DaemonSettings
    fetch: FetchSettings
    sources: tuple[SourceSetting, ...]
    dedup: DedupSettings
    status: StatusSettings
    retention_keep: timedelta
    worker: WorkerSettings = WorkerSettings()
    limits: InputLimits = DEFAULT_LIMITS
    full_text: FullTextSettings = FullTextSettings()


def parse_duration(text: str) -> timedelta:
    """Parse "90s", "15m", "1.5h", "1d", "250ms" into a timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30s, 15m, 2h or 1d")
    return timedelta(seconds=float(match.group(1)) * _DURATION_UNITS[match.group(2)])


def find_config(explicit: str | os.PathLike[str] | None) -> Path:
    """The config path by precedence: explicit, environment, ./config/aggregator.toml."""
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env)
    return DEFAULT_CONFIG


def project_root(config_path: Path) -> Path:
    """The folder relative paths are resolved against (see the module docstring)."""
    folder = config_path.resolve().parent
    return folder.parent if folder.name == "config" else folder


class _Table:
    """Reads one TOML table, checking types and rejecting unknown keys by name."""

    def __init__(self, path: Path, data: dict[str, Any], prefix: str, known: set[str]) -> None:
        self.path, self.data, self.prefix = path, data, prefix
        for key in data:
            if key not in known:
                raise ConfigError(path, self.key(key), "unknown setting")

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def get(self, name: str, kind: type, default: Any) -> Any:
        value = self.data.get(name, default)
        # bool is an int in Python; a setting that wants a number must not take true/false.
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise ConfigError(self.path, self.key(name), f"must be a {kind.__name__}")
        return value

    def text(self, name: str, default: str) -> str:
        return self.get(name, str, default)

    def duration(self, name: str, default: str) -> timedelta:
        try:
            value = parse_duration(self.text(name, default))
        except ValueError as error:
            raise ConfigError(self.path, self.key(name), str(error)) from None
        if value <= timedelta(0) and name != "lock_wait":
            raise ConfigError(self.path, self.key(name), "must be longer than zero")
        return value

    def table(self, name: str, known: set[str]) -> "_Table":
        return _Table(self.path, self.get(name, dict, {}), f"{self.prefix}{name}.", known)


def load_settings(path: Path, environ: dict[str, str] | None = None) -> Settings:
    """Read and validate the config file; relative paths resolved against the project root."""
    environ = os.environ if environ is None else environ
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            path, None, "config file not found (use --config or AGGREGATOR_CONFIG)"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(path, None, f"cannot read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, None, f"invalid TOML: {error}") from None

    root = project_root(path)
    sections = {
        "timezone", "storage", "seeds", "topics", "publish", "daemon", "fetch", "sources",
        "dedup", "status", "retention", "worker", "limits", "full_text",
    }  # fmt: skip
    top = _Table(path, raw, "", sections)
    storage = top.table(
        "storage", {"path", "url", "lock_wait", "retry_for", "busy_timeout", "page_cache_mb"}
    )
    seeds = top.table("seeds", {"folder"})
    topics = top.table("topics", {"folder"})
    publish = top.table(
        "publish",
        {"folder", "base_url", "id_authority", "title", "max_entries", "hub", "to_database",
         "full_text"},
    )  # fmt: skip
    hub = publish.text("hub", "") or None
    if hub is not None and not re.match(r"^https?://[^/]+", hub):
        raise ConfigError(path, "publish.hub", "must be an absolute http(s) URL")
    daemon = top.table("daemon", {"ingest_interval", "regenerate_interval"})

    zone_name = top.text("timezone", "Asia/Seoul")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(path, "timezone", f"unknown time zone {zone_name!r}") from None

    database_url = environ.get(DATABASE_URL_ENV) or storage.text("url", "")
    if not database_url:
        database_url = f"sqlite:///{root / storage.text('path', 'aggregator.db')}"

    base_url = publish.text("base_url", "http://127.0.0.1:8080/")
    if not re.match(r"^https?://[^/]+", base_url):
        raise ConfigError(path, "publish.base_url", "must be an absolute http(s) URL")
    if not base_url.endswith("/"):
        base_url += "/"
    authority = publish.text("id_authority", "aggregator.localhost,2026")
    if not _TAG_AUTHORITY.match(authority):
        raise ConfigError(
            path, "publish.id_authority", "must be 'domain,YYYY' (a tag: URI authority, RFC 4151)"
        )
    max_entries = publish.get("max_entries", int, 50)
    if max_entries < 1:
        raise ConfigError(path, "publish.max_entries", "must be at least 1")

    return Settings(
        config_path=path,
        root=root,
        timezone=zone,
        database_url=database_url,
        seeds_dir=root / seeds.text("folder", "seeds"),
        topics_dir=root / topics.text("folder", "config/topics"),
        feeds_dir=root / publish.text("folder", "feeds"),
        base_url=base_url,
        id_authority=authority,
        feed_title=publish.text("title", "Korean Peninsula news"),
        max_entries=max_entries,
        hub=hub,
        publish_to_database=publish.get("to_database", bool, False),
        lock_wait=storage.duration("lock_wait", "60s"),
        retry_for=storage.duration("retry_for", "60s"),
        busy_timeout=storage.duration("busy_timeout", "5s"),
        page_cache=_page_cache(storage),
        daemon=DaemonSettings(
            ingest_interval=daemon.duration("ingest_interval", "15m"),
            regenerate_interval=daemon.duration("regenerate_interval", "1h"),
        ),
        fetch=_fetch_settings(top),
        sources=_source_settings(top),
        dedup=_dedup_settings(top),
        status=_status_settings(top),
        retention_keep=top.table("retention", {"keep"}).duration("keep", "365d"),
        worker=_worker_settings(top),
        full_text=_full_text_settings(top, publish.get("full_text", bool, False)),
        limits=_limits(top),
    )


def _page_cache(storage: _Table) -> int | None:
    """``storage.page_cache_mb``, in bytes: "auto" (the default) is None."""
    value = storage.data.get("page_cache_mb", "auto")
    if value == "auto":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problem = 'must be "auto" or a whole number of megabytes (at least 1)'
        raise ConfigError(storage.path, storage.key("page_cache_mb"), problem)
    return value * 1024 * 1024


def _limits(top: _Table) -> InputLimits:
    names = ("seed_bytes", "entry_text", "entry_title")
    limits = top.table("limits", set(names))
    return InputLimits(*(_positive_int(limits, n, getattr(DEFAULT_LIMITS, n)) for n in names))


def _full_text_settings(top: _Table, publish: bool) -> FullTextSettings:
    full_text = top.table("full_text", {"below", "host_delay"})
    below = full_text.get("below", int, FullTextSettings.below)
    if below < 0:
        raise ConfigError(top.path, "full_text.below", "must be 0 or more")
    return FullTextSettings(below, full_text.duration("host_delay", "1s"), publish)


def _worker_settings(top: _Table) -> WorkerSettings:
    worker = top.table("worker", {"lease", "batch", "poll_interval", "publish"})
    return WorkerSettings(
        lease=worker.duration("lease", "10m"),
        batch=_positive_int(worker, "batch", 16),
        poll_interval=worker.duration("poll_interval", "10s"),
        publish=worker.get("publish", bool, True),
    )


def _status_settings(top: _Table) -> StatusSettings:
    status = top.table("status", {"max_failing", "stale_after"})
    max_failing = status.get("max_failing", int, 0)
    if max_failing < 0:
        raise ConfigError(top.path, "status.max_failing", "must be 0 or more")
    return StatusSettings(max_failing, status.duration("stale_after", "2h"))


def _dedup_settings(top: _Table) -> DedupSettings:
    dedup = top.table("dedup", {"similarity", "tracking_parameters"})
    similarity = dedup.get("similarity", float, 0.5)
    if not 0 < similarity <= 1:
        raise ConfigError(top.path, "dedup.similarity", "must be between 0 and 1")
    extra = dedup.get("tracking_parameters", list, [])
    if not all(isinstance(name, str) for name in extra):
        raise ConfigError(top.path, "dedup.tracking_parameters", "must be a list of strings")
    return DedupSettings(similarity, frozenset(name.lower() for name in extra))


def _positive_int(table: _Table, name: str, default: int) -> int:
    value = table.get(name, int, default)
    if value < 1:
        raise ConfigError(table.path, table.key(name), "must be at least 1")
    return value


def _fetch_settings(top: _Table) -> FetchSettings:
    fetch = top.table(
        "fetch",
        {
            "default_interval", "min_interval", "max_interval", "backoff_cap", "connect_timeout",
            "read_timeout", "deadline", "max_bytes", "max_entries", "max_redirects", "workers",
            "per_host",
        },
    )  # fmt: skip
    settings = FetchSettings(
        default_interval=fetch.duration("default_interval", "1h"),
        min_interval=fetch.duration("min_interval", "10m"),
        max_interval=fetch.duration("max_interval", "1d"),
        backoff_cap=fetch.duration("backoff_cap", "1d"),
        connect_timeout=fetch.duration("connect_timeout", "10s"),
        read_timeout=fetch.duration("read_timeout", "30s"),
        deadline=fetch.duration("deadline", "60s"),
        max_bytes=_positive_int(fetch, "max_bytes", 10 * 1024 * 1024),
        max_entries=_positive_int(fetch, "max_entries", 1000),
        max_redirects=fetch.get("max_redirects", int, 5),
        workers=_positive_int(fetch, "workers", 8),
        per_host=_positive_int(fetch, "per_host", 2),
    )
    if settings.min_interval > settings.max_interval:
        raise ConfigError(top.path, "fetch.min_interval", "is longer than fetch.max_interval")
    return settings


def _source_settings(top: _Table) -> tuple[SourceSetting, ...]:
    declared = top.get("sources", list, [])
    result = []
    for index, raw in enumerate(declared):
        if not isinstance(raw, dict):
            raise ConfigError(top.path, f"sources[{index}]", "must be a table ([[sources]])")
        table = _Table(
            top.path, raw, f"sources[{index}].", {"url", "name", "interval", "enabled", "full_text"}
        )
        url = table.text("url", "")
        if not re.match(r"^https?://[^/\s]+", url):
            raise ConfigError(top.path, table.key("url"), "must be an absolute http(s) URL")
        name = table.get("name", str, "") or None
        interval = table.duration("interval", "1h") if "interval" in raw else None
        mode = table.text("full_text", DEFAULT_FULL_TEXT)
        if mode not in FULL_TEXT_MODES:
            raise ConfigError(
                top.path, table.key("full_text"), f"must be one of {', '.join(FULL_TEXT_MODES)}"
            )
        enabled = table.get("enabled", bool, True)
        result.append(SourceSetting(url, name, interval, enabled, mode))
    return tuple(result)
