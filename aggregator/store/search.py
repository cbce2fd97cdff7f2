"""Finding stored stories by words of their title and text (``aggregator items --search``),
and keeping SQLite's index of those words.

PostgreSQL: a GIN index on the items' text search vector (migration 0011_item_search),
whose parser skips tags; each word matches as a prefix, so 북한 finds 북한은 and 북한의.

SQLite (migration 0015_plain_text_search): an FTS5 trigram index of each item's title and
plain text, without its markup. A word of three characters or more is looked up in it; a
shorter one, common in Korean (북한, 회담), is matched by scanning the index's copy of the
text, since trigrams cannot find it. The index is written here, not by a trigger: FTS5
flushes what it holds at every trigger's statement, which made indexing the writer's
largest cost (issue #22, ``bench_store``), and SQL cannot take markup out of a text. A
trigger only marks an item inserted or edited as not yet indexed
(``items_search_pending``); ``index_pending`` indexes the marked items in the same
transaction (the writer hands over the text it extracted already), so a committed write
is searchable, and an item some other program wrote is indexed before the next search.

Every word must appear; a match in a merged copy finds its story.
"""

from collections.abc import Mapping, Sequence

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    bindparam,
    literal_column,
    select,
    text,
)

from aggregator.store.dialect import OneOf, executemany
from aggregator.store.schema import SEARCH_VECTOR, items
from aggregator.text import html_to_text, normalize

# Fewer characters than this cannot be looked up in a trigram index.
TRIGRAM = 3
# Marked items indexed per round: the texts of one round are held in memory.
_ROUND = 1000
_PENDING = "SELECT item_id FROM items_search_pending ORDER BY item_id LIMIT ?"
_INDEX = "INSERT INTO items_search (rowid, title, body) VALUES (?, ?, ?)"
_INDEXED = "DELETE FROM items_search_pending WHERE item_id <= ?"
_STORED = select(items.c.id, items.c.title, items.c.content_html).where(OneOf(items.c.id, "ids"))


def searchable(title: str, body: str) -> tuple[str, str]:
    """What the index holds of an item: its title and ``body`` (the plain text of its
    content, ``plain_text``), both in the form search words are read in."""
    return normalize(title), body


def plain_text(content_html: str) -> str:
    """An item's text without markup, as ``analysis.analyze`` extracts it (its ``body``)."""
    return normalize(html_to_text(content_html))


def index_pending(connection: Connection, known: Mapping[int, tuple[str, str]]) -> int:
    """Index every item marked not yet indexed (SQLite; nothing elsewhere); how many.

    ``known``: item id -> (title, plain text) of items whose text the caller extracted
    already; the others are read back and extracted here.
    """
    if connection.dialect.name != "sqlite":
        return 0
    done = 0
    while pending := [row[0] for row in connection.exec_driver_sql(_PENDING, (_ROUND,))]:
        unknown = [item for item in pending if item not in known]
        rows = (
            {
                row.id: (row.title, plain_text(row.content_html))
                for row in connection.execute(_STORED, {"ids": unknown})
            }
            if unknown
            else {}
        )
        executemany(
            connection,
            _INDEX,
            [
                (item, *searchable(*(known.get(item) or rows[item])))
                for item in pending
                if item in known or item in rows
            ],
        )
        executemany(connection, _INDEXED, [(pending[-1],)])
        done += len(pending)
    return done


def matching_story_ids(
    engine: Engine, words: Sequence[str], topic_id: str | None, limit: int
) -> list[int]:
    """The canonical ids of up to ``limit`` stories whose items hold every word, newest first."""
    terms = [w for w in (word.strip() for word in words) if w]
    if not terms:
        return []
    if engine.dialect.name == "sqlite":
        _catch_up(engine)
        condition = _sqlite_condition([normalize(t) for t in terms])
    else:
        condition = _postgresql_condition(terms)
    story = items.alias("story")
    query = (
        select(story.c.id)
        .where(story.c.id.in_(select(items.c.story_id).where(condition)))
        .order_by(story.c.published.desc(), story.c.id.desc())
        .limit(limit)
    )
    if topic_id is not None:
        query = query.where(
            text(
                "EXISTS (SELECT 1 FROM item_topics WHERE item_id = story.id AND topic_id = :t)"
            ).bindparams(t=topic_id)
        )
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())


def _catch_up(engine: Engine) -> None:
    """Index items another program wrote (marked by the trigger, never indexed) first."""
    with engine.connect() as connection:
        marked = connection.exec_driver_sql(_PENDING, (1,)).first()
    if marked is not None:
        with engine.begin() as connection:
            index_pending(connection, {})


def _sqlite_condition(terms: Sequence[str]) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    indexed = [t for t in terms if len(t) >= TRIGRAM]
    if indexed:
        # Each word as an FTS5 string (quotes doubled), so no word is read as an operator.
        phrase = " AND ".join('"' + t.replace('"', '""') + '"' for t in indexed)
        conditions.append(_indexed_where("items_search MATCH :value", phrase))
    for short in (t for t in terms if len(t) < TRIGRAM):
        pattern = "%" + short.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        like = r"title LIKE :value ESCAPE '\' OR body LIKE :value ESCAPE '\'"
        conditions.append(_indexed_where(like, pattern))
    return and_(*conditions)


def _indexed_where(condition: str, value: str) -> ColumnElement[bool]:
    """Items whose indexed title and text meet ``condition`` (on ``:value``)."""
    bound = text(condition).bindparams(bindparam("value", value, unique=True))
    return items.c.id.in_(
        select(literal_column("rowid")).select_from(text("items_search")).where(bound)
    )


def _postgresql_condition(terms: Sequence[str]) -> ColumnElement[bool]:
    # Each word a quoted lexeme (quotes doubled, backslashes dropped) searched as a prefix.
    lexemes = " & ".join("'" + t.replace("\\", "").replace("'", "''") + "':*" for t in terms)
    return text(f"{SEARCH_VECTOR} @@ to_tsquery('simple', :query)").bindparams(query=lexemes)
