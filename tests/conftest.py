"""Shared fixtures: a project folder like a fresh clone, and storage on SQLite and PostgreSQL.

PostgreSQL tests use the server at 127.0.0.1:5432 (user postgres, database
test), each in a schema of its own that is dropped afterwards. Without a
server they skip with the reason, except in CI (CI=true), where they fail.
"""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.config import Settings, load_settings
from aggregator.store import Storage
from tests.support.postgres import postgres_schema_url
from tests.support.project import REPO, write_config


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder laid out like the repository, with the two shipped seeds."""
    write_config(tmp_path)
    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    (tmp_path / "feeds").mkdir()
    return tmp_path


@pytest.fixture
def settings(project: Path) -> Settings:
    return load_settings(project / "config" / "aggregator.toml", environ={})


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield from postgres_schema_url()


@pytest.fixture
def storage(database_url: str) -> Iterator[Storage]:
    store = Storage(database_url)
    store.initialize()
    yield store
    store.close()
