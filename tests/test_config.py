"""Config: defaults, precedence, path resolution, and errors that name file and key."""

from datetime import timedelta
from pathlib import Path

import pytest

from aggregator.config import find_config, load_settings, parse_duration, project_root
from aggregator.errors import ConfigError
from tests.support.project import REPO, write_config


def test_shipped_config_resolves_against_the_repository_root() -> None:
    settings = load_settings(REPO / "config" / "aggregator.toml", environ={})
    assert settings.root == REPO
    assert settings.seeds_dir == REPO / "seeds"
    assert settings.feeds_dir == REPO / "feeds"
    assert settings.topics_dir == REPO / "config" / "topics"
    assert settings.database_url == f"sqlite:///{REPO / 'aggregator.db'}"
    assert str(settings.timezone) == "Asia/Seoul"
    # Real feeds ship as examples, disabled: the default update needs no network.
    assert settings.sources and not any(source.enabled for source in settings.sources)


def test_every_setting_has_a_default(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path), environ={})
    assert settings.max_entries == 50
    assert settings.base_url == "http://127.0.0.1:8080/"
    assert settings.daemon.ingest_interval == timedelta(minutes=15)
    assert settings.daemon.regenerate_interval == timedelta(hours=1)
    assert settings.lock_wait == timedelta(seconds=60)
    assert settings.worker.lease == timedelta(minutes=10)
    assert settings.worker.batch == 16
    assert settings.worker.poll_interval == timedelta(seconds=10)
    assert settings.worker.publish


def test_a_config_outside_a_config_folder_is_its_own_root(tmp_path: Path) -> None:
    path = tmp_path / "aggregator.toml"
    path.write_text('[seeds]\nfolder = "in"\n')
    assert project_root(path) == tmp_path
    assert load_settings(path, environ={}).seeds_dir == tmp_path / "in"


def test_database_url_from_the_environment_wins(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[storage]\nurl = "sqlite:///from-file.db"\n')
    assert load_settings(path, environ={}).database_url == "sqlite:///from-file.db"
    env = {"AGGREGATOR_DATABASE_URL": "postgresql+psycopg://x@h/db"}
    assert load_settings(path, environ=env).database_url == "postgresql+psycopg://x@h/db"


def test_config_path_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGGREGATOR_CONFIG", "/from/env.toml")
    assert find_config("/explicit.toml") == Path("/explicit.toml")
    assert find_config(None) == Path("/from/env.toml")
    monkeypatch.delenv("AGGREGATOR_CONFIG")
    assert find_config(None) == Path("config/aggregator.toml")


@pytest.mark.parametrize(
    ("content", "key", "problem"),
    [
        ("colour = 1\n", "colour", "unknown setting"),
        ("[publish]\nmax_entrys = 5\n", "publish.max_entrys", "unknown setting"),
        ('[publish]\nmax_entries = "ten"\n', "publish.max_entries", "must be a int"),
        ("[publish]\nmax_entries = 0\n", "publish.max_entries", "at least 1"),
        ("[publish]\nmax_entries = true\n", "publish.max_entries", "must be a int"),
        ('[daemon]\ningest_interval = "soon"\n', "daemon.ingest_interval", "not a duration"),
        ('[daemon]\ningest_interval = "0s"\n', "daemon.ingest_interval", "longer than zero"),
        ('timezone = "Mars/Olympus"\n', "timezone", "unknown time zone"),
        ('[publish]\nbase_url = "feeds/"\n', "publish.base_url", "absolute http(s) URL"),
        ('[publish]\nid_authority = "me"\n', "publish.id_authority", "tag: URI"),
        ("storage = 3\n", "storage", "must be a dict"),
        ('[[sources]]\nurl = "feed.xml"\n', "sources[0].url", "absolute http(s) URL"),
        ('[[sources]]\nurl = "http://a/"\nevery = "1h"\n', "sources[0].every", "unknown"),
        ('[fetch]\nmin_interval = "2d"\n', "fetch.min_interval", "longer than fetch.max"),
        ("[fetch]\nworkers = 0\n", "fetch.workers", "at least 1"),
        ("[storage]\npage_cache_mb = 0\n", "storage.page_cache_mb", '"auto" or a whole number'),
        ('[storage]\npage_cache_mb = "big"\n', "storage.page_cache_mb", "of megabytes"),
        ("[storage]\npage_cache_mb = 1.5\n", "storage.page_cache_mb", "of megabytes"),
        ("[storage]\npage_cache_mb = true\n", "storage.page_cache_mb", "of megabytes"),
    ],
)
def test_invalid_settings_name_file_key_and_problem(
    tmp_path: Path, content: str, key: str, problem: str
) -> None:
    path = write_config(tmp_path, content)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert caught.value.key == key
    assert str(path) in str(caught.value)
    assert problem in str(caught.value)


def test_invalid_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[publish\nmax_entries = 3\n")
    with pytest.raises(ConfigError, match=r"aggregator\.toml: invalid TOML: .*line 1"):
        load_settings(path, environ={})


def test_missing_config_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found.*--config"):
        load_settings(tmp_path / "nope.toml", environ={})


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("15m", 900), ("1.5h", 5400), ("1d", 86400), ("250ms", 0.25)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds
