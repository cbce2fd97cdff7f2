"""Alembic's environment for aggregator's migrations, run from code (no alembic.ini).

``aggregator.store.migrate`` passes an open connection in ``config.attributes``;
the migrations run in its transaction. The revisions in ``versions/`` are the
history of ``aggregator/store/schema.py``: a schema change there comes with a new
revision here (``down_revision`` = the previous head), and
tests/test_migrations.py checks that upgrading gives exactly ``schema.metadata``.
"""

from alembic import context

from aggregator.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite alters tables by copying them; autogenerate should write revisions that way.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
