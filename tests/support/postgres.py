"""A fresh PostgreSQL schema per test, on the server the tests share."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

POSTGRES_SERVER = os.environ.get(
    "AGGREGATOR_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def postgres_schema_url() -> Iterator[str]:
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
