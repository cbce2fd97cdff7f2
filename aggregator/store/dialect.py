"""What differs between SQLite and PostgreSQL, in one place (besides SQLite's pragmas,
in ``engine.py``, and the run lock's two kinds, in ``lock.py``).

Both dialects run the same statements through these: upserts, lists of values bound as
one parameter, rows inserted by the thousand, and the band index lookup.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Connection, Table, TextClause, bindparam, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import NullType, Text, TypeDecorator, TypeEngine

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite


def upsert(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """INSERT … ON CONFLICT (an atomic upsert) into ``table``, in the dialect's own insert.

    Each dialect's module is imported when it is used: SQLAlchemy's PostgreSQL one costs
    a short command on SQLite a tenth of its run (issue #22, ``bench_cli``).
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


class ValueList(TypeDecorator[Iterable[Any]]):
    """A list of values bound as one: a JSON array on SQLite, an array on PostgreSQL."""

    impl = Text
    cache_ok = True

    def __init__(self, item_type: TypeEngine[Any]) -> None:
        super().__init__()
        self.item_type = item_type

    def load_dialect_impl(self, dialect: Any) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import ARRAY

            return dialect.type_descriptor(ARRAY(self.item_type))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Iterable[Any] | None, dialect: Any) -> object:
        if value is None:
            return None
        return list(value) if dialect.name == "postgresql" else json.dumps(list(value))


class OneOf(ColumnElement[bool]):
    """``column IN (values)`` with the values bound as one list, whatever their number.

    SQLAlchemy's expanding IN writes one placeholder per value into each statement:
    rendering and preparing it again for every length cost more than the lookup on
    SQLite, and SQLite takes at most 32,766 values. SQLite reads the list with
    json_each, PostgreSQL compares with ANY(array).
    """

    inherit_cache = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("values", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column = column
        self.values = bindparam(name, type_=ValueList(column.type))
        # Typeless: as a Boolean, SQLite would be asked "(… IN …) = 1", which no index serves.
        self.type = NullType()


@compiles(OneOf, "sqlite")
def _one_of_json_each(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = compiler.process(element.column, **kw), compiler.process(element.values, **kw)
    return f"{column} IN (SELECT value FROM json_each({values}))"


@compiles(OneOf, "postgresql")
def _one_of_any(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = compiler.process(element.column, **kw), compiler.process(element.values, **kw)
    return f"{column} = ANY({values})"


# Each wanted band key with its newest members, at most NEWEST_MEMBERS, as one joined
# string per key: one walk down the band index per key, stopped at the limit. A key that
# more items share tells less about any of them: news on one subject makes some keys
# crowded (thousands of members in a large store), a near-duplicate arrives within days
# of its story and shares many keys, most of them not crowded. So the lookup costs the
# same in a store of a million items as in a new one (reading every member of a crowded
# key was half a 1,000-source first ingest's writing time). Each member comes with its
# publication time: the caller leaves out those published outside the key's span before
# their rows are read (in a store filled for a year, nearly every member of a crowded
# key: issue #22), and the ranking breaks ties by nearness in time
# (``candidates.most_shared``). (An item has band keys only when it has a signature.)
NEWEST_MEMBERS = 100
_MEMBERS = (
    "SELECT item_id, published_epoch FROM item_bands WHERE band_key = {key}"
    " ORDER BY item_id DESC LIMIT :most"
)
_NEWEST_BAND_MEMBERS: dict[str, TextClause] = {
    "sqlite": text(
        "SELECT wanted.value, (SELECT group_concat(item_id) || ';' || group_concat(published_epoch)"
        " FROM (" + _MEMBERS.format(key="wanted.value") + ")) FROM json_each(:keys) AS wanted"
    ),
    "postgresql": text(
        "SELECT wanted.band_key, (SELECT string_agg(CAST(item_id AS TEXT), ',') || ';'"
        " || string_agg(CAST(published_epoch AS TEXT), ',') FROM ("
        + _MEMBERS.format(key="wanted.band_key")
        + ") AS newest) FROM unnest(:band_keys) AS wanted (band_key)"
    ).bindparams(bindparam("band_keys", type_=ValueList(BigInteger()))),
}


def newest_band_members(
    connection: Connection, keys: Sequence[int], most: int
) -> list[tuple[int, str | None]]:
    """Each band key of ``keys`` with its newest ``most`` members joined by commas, then a
    semicolon and their publication times (seconds since 1970) in the same order; None when
    it has none. On SQLite the keys are one JSON list, on PostgreSQL an array."""
    if connection.dialect.name == "postgresql":
        values: dict[str, object] = {"band_keys": list(keys)}
    else:
        values = {"keys": json.dumps(list(keys))}
    statement = _NEWEST_BAND_MEMBERS[connection.dialect.name]
    return [
        (key, joined) for key, joined in connection.execute(statement, {**values, "most": most})
    ]


# Placeholders by the driver's paramstyle (sqlite3: qmark, psycopg: pyformat).
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def executemany(connection: Connection, statement: str, rows: list[tuple[object, ...]]) -> None:
    """Run a statement written with ``?`` placeholders once per row, in the driver.

    For plain values only (numbers and strings): nothing converts them on the way.
    """
    if rows:
        placeholder = _PLACEHOLDERS[connection.dialect.paramstyle]
        connection.exec_driver_sql(statement.replace("?", placeholder), rows)


def insert_rows(connection: Connection, table: Table, rows: list[tuple[object, ...]]) -> None:
    """Insert rows of plain values (numbers and strings), in the table's column order.

    PostgreSQL runs each row of an executemany as a statement of its own, which was
    most of a first ingest's writing time there (160,000 band keys): it gets the
    columns as arrays, in one INSERT … SELECT FROM unnest(…).
    """
    if not rows:
        return
    dialect = connection.dialect
    names = ", ".join(column.name for column in table.columns)
    if dialect.name != "postgresql":
        values = ", ".join("?" for _ in table.columns)
        executemany(connection, f"INSERT INTO {table.name} ({names}) VALUES ({values})", rows)
        return
    arrays = ", ".join(f"CAST(%s AS {c.type.compile(dialect)}[])" for c in table.columns)
    connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays})",
        tuple(list(column) for column in zip(*rows, strict=True)),
    )
