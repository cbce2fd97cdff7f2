"""An editor takes an item down: `items hide`, `unhide` and `remove`, end to end (issue #19).

Through the command line in a project folder: feeds, HTML pages, archive pages
already written, `items`, `status`, and a re-ingest of the item's seed file.
Then the schema revision that brought ``items.hidden``, on a store written by this
code at the revision before it.
"""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text

from aggregator import pipeline
from aggregator.cli import main
from aggregator.config import load_settings
from aggregator.store import Storage, migrate
from tests.support.project import write_config

SEED = "000_bbf987679977ef00.txt"  # one of the two shipped seeds


def cli(project: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["--config", str(project / "config" / "aggregator.toml"), *args])
    return code, capsys.readouterr().out


def entry_id_of(project: Path, capsys: pytest.CaptureFixture[str], name: str) -> str:
    _, listed = cli(project, capsys, "items", "--json")
    storage = Storage(f"sqlite:///{project / 'aggregator.db'}")
    try:
        (found,) = storage.find_items(name)
    finally:
        storage.close()
    assert found.entry_id in listed
    return found.entry_id


def published(project: Path) -> dict[str, bytes]:
    """Every feed and page written, by name (archive pages included)."""
    feeds = project / "feeds"
    return {p.relative_to(feeds).as_posix(): p.read_bytes() for p in feeds.rglob("*.*")}


def test_hide_unhide_and_remove_an_item_end_to_end(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config(project, "[publish]\nmax_entries = 1\n")  # one story per archive page
    assert cli(project, capsys, "update")[0] == 0
    entry = entry_id_of(project, capsys, SEED)
    before = published(project)
    archived = {name: body for name, body in before.items() if name.startswith("archive/")}
    assert any(entry.encode() in body for body in archived.values())
    assert entry.encode() in before["all.xml"]

    code, said = cli(project, capsys, "items", "hide", SEED)
    assert code == 0 and f"hidden: {entry}" in said
    assert cli(project, capsys, "regenerate")[0] == 0
    after = published(project)
    shown = [name for name, body in after.items() if entry.encode() in body]
    # Gone from every feed and page; the archive pages already written stay as they were.
    assert shown and all(name.startswith("archive/") for name in shown)
    assert {name: after[name] for name in archived} == archived
    _, listed = cli(project, capsys, "items", "--json")
    assert {row["id"]: row["hidden"] for row in json.loads(listed)}[entry] is True
    assert "[hidden]" in cli(project, capsys, "items")[1]
    code, status = cli(project, capsys, "status")
    assert "items: 2 (2 stories, 1 hidden)" in status

    assert cli(project, capsys, "items", "unhide", entry)[0] == 0
    cli(project, capsys, "regenerate")
    assert entry.encode() in (project / "feeds" / "all.xml").read_bytes()

    code, said = cli(project, capsys, "items", "remove", SEED)
    assert code == 0 and f"removed: {entry}" in said
    cli(project, capsys, "regenerate")
    assert entry.encode() not in (project / "feeds" / "all.xml").read_bytes()
    assert entry not in cli(project, capsys, "items", "--json")[1]
    # The seed file is still there, and edited: it never comes back.
    seed = project / "seeds" / SEED
    seed.write_text(seed.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    assert cli(project, capsys, "update")[0] == 0
    assert entry.encode() not in (project / "feeds" / "all.xml").read_bytes()
    assert "items: 1" in cli(project, capsys, "status")[1]


def test_an_unknown_id_changes_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli(project, capsys, "update")
    before = published(project)
    for action in ("hide", "unhide", "remove"):
        code, said = cli(project, capsys, "items", action, "words of a title")
        assert code == 2 and "no stored item" in said
    cli(project, capsys, "regenerate")
    assert published(project) == before


def test_removing_a_story_s_first_version_publishes_the_next(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same story from two seeds is one entry; removing the version shown shows the other."""
    seeds = project / "seeds"
    (seeds / "copy.txt").write_bytes((seeds / SEED).read_bytes())
    cli(project, capsys, "update")
    first = entry_id_of(project, capsys, SEED)
    feed = (project / "feeds" / "all.xml").read_bytes()
    assert first.encode() in feed and feed.count(b"<entry") == 2
    cli(project, capsys, "items", "remove", first)
    cli(project, capsys, "regenerate")
    feed = (project / "feeds" / "all.xml").read_bytes()
    assert first.encode() not in feed and feed.count(b"<entry") == 2


def test_the_revision_for_hidden_items_upgrades_a_store_written_by_this_code(
    project: Path, database_url: str
) -> None:
    settings = load_settings(
        project / "config" / "aggregator.toml", environ={"AGGREGATOR_DATABASE_URL": database_url}
    )
    app = pipeline.Aggregator.open(settings)
    try:
        pipeline.update(app, datetime(2025, 6, 10, tzinfo=UTC))
        storage = app.storage
        with storage.engine.begin() as connection:
            command.downgrade(migrate._config(connection), "0008_title_and_lead_keys")  # noqa: SLF001
        with storage.engine.connect() as connection:
            assert "hidden" not in {c["name"] for c in inspect(connection).get_columns("items")}
            items_before = connection.execute(text("SELECT count(*) FROM items")).scalar()
        before, after = migrate.upgrade(storage)
        assert before.current == "0008_title_and_lead_keys" and after.up_to_date
        with storage.engine.connect() as connection:
            rows = connection.execute(text("SELECT hidden FROM items")).scalars().all()
            assert len(rows) == items_before == 2 and not any(rows)
            offsets = connection.execute(
                text("SELECT retry_after, date_offset_seconds FROM sources")
            ).all()
            assert offsets and all(tuple(row) == (None, None) for row in offsets)
        assert len(storage.newest_items(None, 10)) == 2
    finally:
        app.close()
