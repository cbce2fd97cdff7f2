"""`aggregator items --search WORDS` (issue #20): stored stories by words of their title and
text, Korean included, on SQLite (FTS5 trigrams) and PostgreSQL (text search), kept up to
date as items are stored, and built for a store an earlier version wrote."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from aggregator import pipeline
from aggregator.cli import main
from aggregator.store import migrate
from tests.support.app import open_app
from tests.support.project import DATA, REPO

# main when issue #20 was taken up: the code whose stores the search migration must index.
BEFORE_SEARCH = "a4a7480"


def searcher(config: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., list[str]]:
    """``items --search`` in this process (a process each would cost seconds): the titles."""

    def found(*words: str) -> list[str]:
        assert main(["--config", str(config), "items", "--json", "--search", " ".join(words)]) == 0
        return [row["title"] for row in json.loads(capsys.readouterr().out)]

    return found


@pytest.fixture
def searching(
    project: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[list[str], Callable[..., list[str]]]:
    """The project on each database: its config arguments and its ``searcher``."""
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", database_url)
    config = project / "config" / "aggregator.toml"
    return ["--config", str(config)], searcher(config, capsys)


def test_search_finds_stories_by_title_and_text_words_korean_included(
    project: Path, searching: tuple[list[str], Callable[..., list[str]]]
) -> None:
    config, found = searching

    shutil.copy(DATA / "seeds" / "generic_korean.txt", project / "seeds" / "korean.txt")
    assert main([*config, "-q", "update"]) == 0
    korean = "통일부, 이산가족 상봉 재개 제안"
    assert found("이산가족") == [korean]  # in the title
    assert found("적십자") == [korean]  # in the text only
    assert found("북한") == [korean]  # two syllables, "북한에" in the text
    assert found("통일부", "판문점") == [korean]  # every word
    assert found("통일부", "hotline") == []
    english = found("pledges", "resume")
    assert len(english) == 1 and "Lee Jae-myung pledges to resume" in english[0]
    assert found("Assembly", "deterrence") == english  # words of the text
    assert found('"; DROP TABLE items; --') == []
    # Kept up to date as items are stored: a new seed is found at once.
    (project / "seeds" / "later.txt").write_text(
        "국회, 남북 교류 법안 처리\n\n2025년 9월 18일\n\n국회는 남북 교류 협력 법안을 처리했다.\n",
        encoding="utf-8",
    )
    assert main([*config, "-q", "update"]) == 0
    assert found("교류", "법안") == ["국회, 남북 교류 법안 처리"]


def test_search_covers_a_store_written_before_the_search_index(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not (REPO / ".git").exists():
        reason = "needs the repository's history (a git clone) for the earlier version"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", BEFORE_SEARCH, "aggregator", "config", "seeds"],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(earlier)], input=archive.stdout, check=True)
    shutil.copy(DATA / "seeds" / "generic_korean.txt", earlier / "seeds" / "korean.txt")
    # The earlier version, with its own topic rules, writes the store this project opens.
    (earlier / "config" / "aggregator.toml").write_text(
        f'[storage]\npath = "{project / "aggregator.db"}"\n', encoding="utf-8"
    )
    written = subprocess.run(
        [sys.executable, "-m", "aggregator", "update"],
        cwd=earlier,
        env={"PYTHONPATH": str(earlier), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert written.returncode == 0, written.stderr
    config = project / "config" / "aggregator.toml"
    assert main(["--config", str(config), "items", "--search", "통일부"]) == 2
    assert "run `aggregator db upgrade`" in capsys.readouterr().err
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    capsys.readouterr()
    found = searcher(config, capsys)
    assert found("북한") == ["통일부, 이산가족 상봉 재개 제안"]
    assert found("이산가족", "적십자") == ["통일부, 이산가족 상봉 재개 제안"]
    assert len(found("Korea")) == 2


def _markup_seed(project: Path, text: str) -> None:
    """A feed seed of one item whose text is set in markup: a link to a site whose name is
    in no text (zebracorp), a class, bold words, an entity."""
    (project / "seeds" / "markup.xml").write_text(
        '<rss version="2.0"><channel><title>Markup</title><link>https://markup.example/</link>'
        "<item><title>Harbour cranes idle as dockworkers strike</title>"
        "<guid>https://markup.example/1</guid><link>https://markup.example/1</link>"
        "<pubDate>Mon, 09 Jun 2025 01:00:00 +0000</pubDate><description><![CDATA["
        f'<p class="standfirst">{text}</p><p>Read <a href="https://zebracorp.example/strike">'
        "the union&#8217;s statement</a> in <strong>full</strong>.</p>"
        "]]></description></item></channel></rss>",
        encoding="utf-8",
    )


def test_search_finds_the_text_of_items_not_their_markup_and_follows_edits(
    project: Path, searching: tuple[list[str], Callable[..., list[str]]]
) -> None:
    config, found = searching
    title = "Harbour cranes idle as dockworkers strike"
    _markup_seed(project, "Container ships queued outside the port of Rotterdam.")
    assert main([*config, "-q", "update"]) == 0
    assert found("Rotterdam") == [title]
    assert found("union", "statement", "full") == [title]
    for markup in ("zebracorp", "href", "class", "standfirst", "8217"):
        assert found(markup) == [], markup
    # An edit its source published: the new text is found, the old one no longer.
    _markup_seed(project, "Container ships queued outside the port of Antwerp.")
    assert main([*config, "-q", "update"]) == 0
    assert found("Antwerp") == [title]
    assert found("Rotterdam") == []


def test_an_item_another_program_edits_is_searchable_at_the_next_search(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLite's index is written by this code; what another program writes is marked by a
    trigger as not yet indexed, and indexed before the next search looks."""
    database = project / "aggregator.db"
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", f"sqlite:///{database}")
    _markup_seed(project, "Container ships queued outside the port of Rotterdam.")
    assert main(["--config", str(project / "config" / "aggregator.toml"), "-q", "update"]) == 0
    with sqlite3.connect(database) as connection:
        connection.execute(
            "UPDATE items SET content_html = '<p>Ships queued outside Hamburg.</p>'"
            " WHERE link = 'https://markup.example/1'"
        )
    found = searcher(project / "config" / "aggregator.toml", capsys)
    assert found("Hamburg") == ["Harbour cranes idle as dockworkers strike"]
    assert found("Rotterdam") == []
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM items_search_pending").fetchone() == (0,)


def test_revision_0015_indexes_the_plain_text_of_items_stored_before_it(
    project: Path, database_url: str
) -> None:
    """A store as revision 0014's code wrote it (SQLite: an index of the markup, filled by
    triggers) ends with the index this version's writer fills, and stays searchable."""
    _markup_seed(project, "Container ships queued outside the port of Rotterdam.")
    shutil.copy(DATA / "seeds" / "generic_korean.txt", project / "seeds" / "korean.txt")
    app = open_app(project, database_url)
    try:
        pipeline.ingest(app, datetime(2025, 6, 10, tzinfo=UTC))
        storage = app.storage

        def indexed() -> list[tuple[object, ...]]:
            if storage.dialect != "sqlite":
                return []
            with storage.engine.connect() as connection:
                query = "SELECT rowid, title, body FROM items_search ORDER BY rowid"
                return [tuple(row) for row in connection.execute(text(query))]

        written = indexed()
        assert storage.dialect != "sqlite" or len(written) == storage.item_count() >= 3
        with storage.engine.begin() as connection:
            command.downgrade(migrate._config(connection), "0014_dated_band_index")  # noqa: SLF001
            if storage.dialect == "sqlite":  # revision 0011's index finds markup
                markup = "SELECT count(*) FROM items_search WHERE items_search MATCH 'zebracorp'"
                assert connection.execute(text(markup)).scalar() == 1
        assert not migrate.state(storage).up_to_date
        migrate.upgrade(storage)
        assert indexed() == written
        titles = [item.title for item in storage.search(["Rotterdam"], None, 10)]
        assert titles == ["Harbour cranes idle as dockworkers strike"]
        assert storage.search(["zebracorp"], None, 10) == []
        assert [item.title for item in storage.search(["북한"], None, 10)] == [
            "통일부, 이산가족 상봉 재개 제안"
        ]
    finally:
        app.close()
