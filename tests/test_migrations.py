"""Versioned migrations on real SQLite and PostgreSQL: create, recognise a release's v5, upgrade."""

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import bindparam, func, inspect, select, text

from aggregator import fingerprints, pipeline
from aggregator.app import Aggregator
from aggregator.cli import main
from aggregator.errors import SchemaError
from aggregator.store import Storage, migrate, schema
from aggregator.text import html_to_text
from tests import legacy_v5
from tests.support.app import open_app
from tests.support.cli import run
from tests.support.schema import differences
from tests.support.signatures import blake2b_signature

# The wire story the signature and band-index migrations are tested on.
_TALKS_HEADLINE = "Seoul and Tokyo agree to resume stalled trade talks next month"
_TALKS = (
    "Officials of both governments said the first round would open in Seoul.",
    "The talks stalled three years ago over export controls on chip materials.",
    "Business groups in both countries welcomed the decision on Tuesday.",
    "Analysts said a deal could take a year because farm tariffs remain a sticking point.",
    "The foreign ministers will meet again in Tokyo before the negotiators sit down.",
)


def _one_item_seed(
    project: Path, outlet: str, title: str, number: int, hour: int, description: str
) -> None:
    """A seed file of ``outlet`` holding one item, https://{outlet}.example/{number},
    published on 9 June 2025 at ``hour`` UTC: the store the migration tests upgrade, and the
    copy that must join its story after the upgrade."""
    (project / "seeds" / f"{outlet}.xml").write_text(
        f'<rss version="2.0"><channel><title>{outlet}</title>'
        f"<link>https://{outlet}.example/</link>"
        f"<item><title>{title}</title><link>https://{outlet}.example/{number}</link>"
        f"<pubDate>Mon, 09 Jun 2025 {hour:02d}:00:00 +0000</pubDate>"
        f"<description>{description}</description></item></channel></rss>",
        encoding="utf-8",
    )


_BYLINE = "Reporting by the paper."


def _assert_copy_joins(
    app: Aggregator,
    project: Path,
    now: datetime,
    headline: str,
    body: str,
    title: str = "Trade talks between Korea and Japan to restart",
) -> None:
    """After an upgrade, another outlet's copy (``title``, ``body``) arriving an hour after
    the wire story ``headline`` joins it: the upgraded keys still find it."""
    _one_item_seed(project, "paper", title, 9, 2, body)
    pipeline.ingest(app, now)
    (story,) = [s for s in app.storage.newest_items(None, 50) if s.title == headline]
    assert [r.link for r in story.also_reported_by] == ["https://paper.example/9"]


def _stored_keys(storage: Storage) -> tuple[list[tuple[int, bytes | None]], list[tuple[int, int]]]:
    """Every item's signature and band keys as stored, for comparing before and after."""
    with storage.engine.connect() as connection:
        signatures = connection.execute(text("SELECT id, signature FROM items ORDER BY id"))
        bands = connection.execute(
            text("SELECT item_id, band_key FROM item_bands ORDER BY item_id, band_key")
        )
        return [(i, s and bytes(s)) for i, s in signatures], [tuple(b) for b in bands]


def row_counts(storage: Storage) -> dict[str, int]:
    """Rows per table of schema.py that the database has (an old one lacks newer tables)."""
    with storage.engine.connect() as connection:
        present = set(inspect(connection).get_table_names())
        return {
            name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in schema.metadata.tables.items()
            if name in present
        }


def test_an_empty_database_is_created_at_the_newest_revision_exactly_as_schema_py(
    database_url: str,
) -> None:
    storage = Storage(database_url)
    try:
        assert migrate.state(storage).empty
        storage.initialize()
        found = migrate.state(storage)
        assert found.up_to_date and found.current == migrate.head()
        assert differences(storage) == []
        with storage.transaction() as tx:
            # What releases before migrations read: they refuse it instead of writing to it.
            assert tx.get_meta("schema_version") == migrate.SCHEMA_VERSION_MARK
        storage.initialize()  # opening it again changes nothing
        assert migrate.upgrade(storage)[0] == found
    finally:
        storage.close()


def test_workers_starting_together_on_an_empty_database_create_it_once(
    database_url: str,
) -> None:
    stores = [Storage(database_url) for _ in range(4)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(stores))

    def open_store(store: Storage) -> None:
        start.wait()
        try:
            store.initialize()
        except BaseException as error:  # reported below, with the others
            errors.append(error)

    threads = [threading.Thread(target=open_store, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert migrate.state(stores[0]).up_to_date
        assert differences(stores[0]) == []
    finally:
        for store in stores:
            store.close()


def test_a_released_v5_database_is_refused_then_upgraded_with_its_data(
    database_url: str,
) -> None:
    legacy_v5.create(database_url)
    storage = Storage(database_url)
    try:
        before_counts = row_counts(storage)
        with pytest.raises(SchemaError, match=r"version 5 .*run `aggregator db upgrade`"):
            storage.initialize()
        before, after = migrate.upgrade(storage)
        assert before.current is None and before.legacy_version == "5"
        assert after.current == migrate.head() and after.up_to_date
        storage.initialize()
        assert differences(storage) == []
        after_counts = row_counts(storage)
        # Revisions 0007-0008 work each item's keys out again: a text key each, no signature
        # for these short texts, so item 1's stored one (and its band key 7) is gone.
        assert {n: after_counts[n] for n in before_counts if n != "item_bands"} == {
            n: count for n, count in before_counts.items() if n != "item_bands"
        }
        assert set(after_counts) == set(schema.metadata.tables)
        with storage.engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("sources")}
            assert {"claimed_by", "lease_until"} <= columns  # revision 0002: workers' leases
            assert connection.execute(text("SELECT count(claimed_by) FROM sources")).scalar() == 0
            # Revision 0005: on SQLite the band index is rebuilt WITHOUT ROWID; 0007-0008: each
            # item's band keys are its text's, as this version works them out.
            bands = connection.execute(text("SELECT band_key, item_id FROM item_bands")).all()
            expected = [
                fingerprints.story_keys(title, body).bands
                for title, body in (
                    ("Seoul proposes talks", "Seoul proposed talks on Monday."),
                    ("Talks offered", "Seoul proposed talks on Monday."),
                )
            ]
            assert sorted(tuple(row) for row in bands) == sorted(
                (key, item) for item, keys in enumerate(expected, 1) for key in keys
            )
            signatures = connection.execute(text("SELECT signature FROM items")).scalars()
            assert list(signatures) == [None, None]
            if connection.dialect.name == "sqlite":
                table = connection.execute(
                    text("SELECT sql FROM sqlite_master WHERE name = 'item_bands'")
                ).scalar_one()
                assert "WITHOUT ROWID" in table

        web = storage.sources.find(legacy_v5.WEB)
        assert web is not None
        assert (web.etag, web.error_count, web.interval and web.interval.total_seconds()) == (
            '"v1"',
            2,
            1800,
        )
        assert web.next_fetch == legacy_v5.NEXT_FETCH.replace(tzinfo=UTC)
        (story,) = storage.newest_items(None, 10)
        assert story.title == "Seoul proposes talks"
        assert story.published == legacy_v5.T0.replace(tzinfo=UTC)
        assert story.topics == ("inter-korean",)
        assert [r.link for r in story.also_reported_by] == ["https://wire.example.org/1"]
        assert storage.counts() == {"items:new": 2}
        run_record = storage.last_run("ingest")
        assert run_record is not None and run_record.items_new == 2
        with storage.transaction() as tx:
            assert tx.get_meta("rules_fingerprint") == "f" * 64
            assert tx.get_meta("schema_version") == migrate.SCHEMA_VERSION_MARK
        assert migrate.upgrade(storage)[0].current == migrate.head()  # again: nothing to do
    finally:
        storage.close()


def test_only_a_v5_database_or_a_known_revision_is_upgraded(database_url: str) -> None:
    legacy_v5.create(database_url)
    storage = Storage(database_url)
    try:
        with storage.engine.begin() as connection:
            connection.execute(text("UPDATE meta SET value = '4' WHERE key = 'schema_version'"))
        with pytest.raises(SchemaError, match="only version 5"):
            migrate.upgrade(storage)
        with storage.engine.begin() as connection:
            connection.execute(text("UPDATE meta SET value = '5' WHERE key = 'schema_version'"))
        migrate.upgrade(storage)
        with storage.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
        for attempt in (storage.initialize, lambda: migrate.upgrade(storage)):
            with pytest.raises(SchemaError, match="9999_future.*newer"):
                attempt()
    finally:
        storage.close()


def test_commands_refuse_an_out_of_date_database_until_db_upgrade(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    legacy_v5.create(f"sqlite:///{project / 'aggregator.db'}")
    refused = run(project, "update")
    assert refused.returncode == 2, refused.stderr
    assert "schema version 5 (before migrations)" in refused.stderr
    assert "run `aggregator db upgrade`" in refused.stderr

    config = ["--config", str(project / "config" / "aggregator.toml")]
    assert main([*config, "db", "current"]) == 1
    assert "run `aggregator db upgrade`" in capsys.readouterr().out
    assert main([*config, "db", "upgrade"]) == 0
    assert f"to revision {migrate.head()}" in capsys.readouterr().out
    assert main([*config, "db", "upgrade"]) == 0
    assert "the newest" in capsys.readouterr().out
    assert main([*config, "db", "current"]) == 0

    updated = run(project, "update")
    assert updated.returncode == 0, updated.stderr
    assert "2 new" in updated.stdout
    # The story stored before the upgrade is published beside the new ones.
    assert b"Seoul proposes talks" in (project / "feeds" / "all.xml").read_bytes()


def test_revisions_0007_and_0008_give_a_stored_item_the_keys_this_version_works_out(
    project: Path, database_url: str
) -> None:
    """A store as revision 0006 left it (signatures without Chinese shingles, no text, title
    or lead keys) ends with the signatures and band keys an ingest by this version writes."""
    body = (
        "韩国统一部今日表示，朝鲜方面尚未回应对话提议，政府将继续关注局势。"
        "发言人在例行记者会上说，双方联络渠道目前处于中断状态，有关部门正在研究对策。"
    )
    (project / "seeds" / "cn.xml").write_text(
        '<rss version="2.0"><channel><title>cn</title><link>https://cn.example/</link>'
        f"<item><title>韩朝关系</title><link>https://cn.example/1</link>"
        f"<description>{body}</description></item></channel></rss>",
        encoding="utf-8",
    )
    app = open_app(project, database_url)
    try:
        pipeline.ingest(app, legacy_v5.T0.replace(tzinfo=UTC))
        storage = app.storage

        written = _stored_keys(storage)
        assert len(written[0]) == 3 and all(s is not None for _, s in written[0])
        with storage.engine.begin() as connection:
            connection.execute(text("DELETE FROM item_bands"))
            connection.execute(text("UPDATE items SET signature = :s"), {"s": b"\x01" * 256})
            # Down, not stamped: the revisions after 0007 change the schema too.
            command.downgrade(migrate._config(connection), "0006_item_pages")  # noqa: SLF001
        assert not migrate.state(storage).up_to_date
        migrate.upgrade(storage)
        assert _stored_keys(storage) == written
    finally:
        app.close()


def test_revision_0012_gives_items_stored_before_it_their_containment_keys(
    project: Path, database_url: str
) -> None:
    """A store as revision 0011's code wrote it (no headline or text-beginning sketch keys)
    ends with the band keys an ingest by this version writes, and a flash stored before the
    upgrade is found by the full version arriving after it."""
    headline = "Seoul and Tokyo agree to resume stalled trade talks next month"
    text_ = (
        "Officials of both governments said the first round would open in Seoul. "
        "The talks stalled three years ago over export controls on chip materials."
    )
    _one_item_seed(project, "wire", headline, 1, 1, "[Copyright Wire. No reproduction]")
    app = open_app(project, database_url)
    try:
        now = datetime(2025, 6, 10, tzinfo=UTC)
        pipeline.ingest(app, now)
        storage = app.storage

        def bands() -> list[tuple[int, int]]:
            with storage.engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT item_id, band_key FROM item_bands ORDER BY item_id, band_key")
                )
                return [tuple(row) for row in rows]

        written = bands()
        sketches = fingerprints.headline_keys(headline)
        assert sketches and {key for _, key in written} >= set(sketches)
        with storage.engine.begin() as connection:
            connection.execute(
                text("DELETE FROM item_bands WHERE band_key IN :keys").bindparams(
                    bindparam("keys", expanding=True)
                ),
                {"keys": sketches},
            )
            command.downgrade(migrate._config(connection), "0011_item_search")  # noqa: SLF001
        assert not migrate.state(storage).up_to_date
        migrate.upgrade(storage)
        assert bands() == written
        _assert_copy_joins(app, project, now, headline, text_, f"{headline}, ministers say")
    finally:
        app.close()


def test_revision_0013_gives_items_stored_with_blake2b_signatures_their_xxh3_ones(
    project: Path, database_url: str
) -> None:
    """A store as revision 0012's code wrote it (signatures of blake2b-hashed shingles, and
    their band keys) ends with the signatures and band keys an ingest by this version
    writes, and an edited copy arriving after the upgrade joins the story stored before."""
    headline, sentences = _TALKS_HEADLINE, list(_TALKS)
    _one_item_seed(project, "wire", headline, 1, 1, " ".join(sentences))
    app = open_app(project, database_url)
    try:
        now = datetime(2025, 6, 10, tzinfo=UTC)
        pipeline.ingest(app, now)
        storage = app.storage

        written = _stored_keys(storage)
        stored = storage.newest_items(None, 50)
        assert headline in [item.title for item in stored]
        with storage.engine.begin() as connection:
            command.downgrade(migrate._config(connection), "0012_containment_keys")  # noqa: SLF001
            for item in stored:  # the signature and band keys revision 0012's code wrote
                body = html_to_text(item.content_html)
                new = fingerprints.story_keys(item.title, body)
                if new.slots is None:
                    continue
                old = blake2b_signature(f"{item.title}\n{fingerprints.clean_body(body)}")
                assert old is not None and old != new.slots
                others = set(new.bands) - set(fingerprints.band_keys(new.slots))
                connection.execute(
                    text("UPDATE items SET signature = :s WHERE id = :id"),
                    {"s": fingerprints.pack(old), "id": item.id},
                )
                connection.execute(
                    text("DELETE FROM item_bands WHERE item_id = :id"), {"id": item.id}
                )
                connection.execute(
                    text("INSERT INTO item_bands (band_key, item_id) VALUES (:key, :id)"),
                    [
                        {"key": key, "id": item.id}
                        for key in sorted(others | set(fingerprints.band_keys(old)))
                    ],
                )
        assert _stored_keys(storage) != written
        assert not migrate.state(storage).up_to_date
        migrate.upgrade(storage)
        assert _stored_keys(storage) == written
        copy = [sentences[0].replace("Seoul", "the South Korean capital"), *sentences[1:]]
        _assert_copy_joins(app, project, now, headline, " ".join([*copy, _BYLINE]))
    finally:
        app.close()


def test_revision_0014_dates_the_band_index_of_items_stored_before_it(
    project: Path, database_url: str
) -> None:
    """A store as revision 0013's code wrote it (band keys without dates) ends with the band
    index an ingest by this version writes, each row dated as its item to the second
    (rounded down, also a fraction of a second before one and before 1970), and a copy
    arriving after the upgrade joins the story stored before."""
    headline, sentences = _TALKS_HEADLINE, list(_TALKS[:4])
    _one_item_seed(project, "wire", headline, 1, 1, " ".join(sentences))
    app = open_app(project, database_url)
    try:
        now = datetime(2025, 6, 10, tzinfo=UTC)
        pipeline.ingest(app, now)
        storage = app.storage
        odd_dates = [
            datetime(2025, 6, 8, 12, 0, 30, 999_999, tzinfo=UTC),
            datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),
        ]
        stored = [item for item in storage.newest_items(None, 50) if item.title != headline]
        with storage.transaction() as tx:  # dates whose seconds SQLite would round up
            for item, when in zip(stored, odd_dates, strict=False):
                tx.connection.execute(
                    text("UPDATE items SET published = :when WHERE id = :id").bindparams(
                        bindparam("when", type_=schema.UTCDateTime())
                    ),
                    {"when": when, "id": item.id},
                )
                keys = fingerprints.story_keys(item.title, html_to_text(item.content_html))
                tx.set_bands(item.id, keys.bands, when)

        def dated() -> list[tuple[int, int, int]]:
            with storage.engine.connect() as connection:
                rows = connection.execute(
                    text(
                        "SELECT item_id, band_key, published_epoch FROM item_bands"
                        " ORDER BY item_id, band_key"
                    )
                )
                return [tuple(row) for row in rows]

        written = dated()
        epochs = {item: epoch for item, _, epoch in written}
        assert {-1, 1749384030} <= set(epochs.values())
        assert len(epochs) >= 3
        with storage.engine.begin() as connection:
            command.downgrade(migrate._config(connection), "0013_xxh3_signatures")  # noqa: SLF001
            columns = {c["name"] for c in inspect(connection).get_columns("item_bands")}
            assert columns == {"band_key", "item_id"}
        assert not migrate.state(storage).up_to_date
        migrate.upgrade(storage)
        assert dated() == written
        assert differences(storage) == []
        _assert_copy_joins(app, project, now, headline, " ".join([*sentences, _BYLINE]))
    finally:
        app.close()
