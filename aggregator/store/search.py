"""Finding stored stories by words of their title and text (``aggregator items --search``).

The indexes are migration 0011_item_search's: SQLite's FTS5 trigram index (a word of
three characters or more is looked up in it; a shorter one, common in Korean (북한,
회담), is matched by scanning, since trigrams cannot find it), PostgreSQL's text search
vector (each word matches as a prefix, so 북한 finds 북한은 and 북한의). Every word must
appear; a match in a merged copy finds its story.
"""

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Engine, and_, literal_column, or_, select, text

from aggregator.store.schema import SEARCH_VECTOR, items

# Fewer characters than this cannot be looked up in a trigram index.
TRIGRAM = 3


def matching_story_ids(
    engine: Engine, words: Sequence[str], topic_id: str | None, limit: int
) -> list[int]:
    """The canonical ids of up to ``limit`` stories whose items hold every word, newest first."""
    terms = [w for w in (word.strip() for word in words) if w]
    if not terms:
        return []
    if engine.dialect.name == "sqlite":
        condition = _sqlite_condition(terms)
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


def _sqlite_condition(terms: Sequence[str]) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    indexed = [t for t in terms if len(t) >= TRIGRAM]
    if indexed:
        # Each word as an FTS5 string (quotes doubled), so no word is read as an operator.
        phrase = " AND ".join('"' + t.replace('"', '""') + '"' for t in indexed)
        conditions.append(
            items.c.id.in_(
                select(literal_column("rowid"))
                .select_from(text("items_search"))
                .where(text("items_search MATCH :phrase").bindparams(phrase=phrase))
            )
        )
    for short in (t for t in terms if len(t) < TRIGRAM):
        pattern = "%" + short.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            or_(
                items.c.title.like(pattern, escape="\\"),
                items.c.content_html.like(pattern, escape="\\"),
            )
        )
    return and_(*conditions)


def _postgresql_condition(terms: Sequence[str]) -> ColumnElement[bool]:
    # Each word a quoted lexeme (quotes doubled, backslashes dropped) searched as a prefix.
    lexemes = " & ".join("'" + t.replace("\\", "").replace("'", "''") + "':*" for t in terms)
    return text(f"{SEARCH_VECTOR} @@ to_tsquery('simple', :query)").bindparams(query=lexemes)
