"""Shared fixtures: a project folder like a fresh clone, and storage on SQLite and PostgreSQL.

PostgreSQL tests use the server at 127.0.0.1:5432 (user postgres, database
test), each in a schema of its own that is dropped afterwards. Without a
server they skip with the reason, except in CI (CI=true), where they fail.
"""

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from aggregator.config import Settings, load_settings
from aggregator.store import Storage

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
# The characters no XML document can hold, which lxml refuses to write (test_render_equivalence
# checks this set against lxml character by character): nothing ingested may keep one.
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
POSTGRES_SERVER = os.environ.get(
    "AGGREGATOR_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def write_config(root: Path, extra: str = "") -> Path:
    """A config file in root/config/ using the repository's topics; returns its path."""
    (root / "config").mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "config" / "topics", root / "config" / "topics", dirs_exist_ok=True)
    path = root / "config" / "aggregator.toml"
    path.write_text(extra, encoding="utf-8")
    return path


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


def _postgres_schema_url() -> Iterator[str]:
    admin = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to connect means "no server here"
        admin.dispose()
        reason = f"PostgreSQL not reachable at {POSTGRES_SERVER}: {type(error).__name__}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run the PostgreSQL tests)")
        pytest.skip(reason)
    admin.dispose()
    with postgres_schema() as url:
        yield url


@contextmanager
def postgres_schema(server: str = POSTGRES_SERVER, prefix: str = "t") -> Iterator[str]:
    """The URL of a fresh schema on a PostgreSQL server, dropped with everything in it after."""
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{server}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield from _postgres_schema_url()


@pytest.fixture
def storage(database_url: str) -> Iterator[Storage]:
    store = Storage(database_url)
    store.initialize()
    yield store
    store.close()
