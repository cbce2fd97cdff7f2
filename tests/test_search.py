"""`aggregator items --search WORDS` (issue #20): stored stories by words of their title and
text, Korean included, on SQLite (FTS5 trigrams) and PostgreSQL (text search), kept up to
date as items are stored, and built for a store an earlier version wrote."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from aggregator.cli import main
from tests.support.project import DATA, REPO

# main when issue #20 was taken up: the code whose stores the search migration must index.
BEFORE_SEARCH = "a4a7480"


def searcher(config: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., list[str]]:
    """``items --search`` in this process (a process each would cost seconds): the titles."""

    def found(*words: str) -> list[str]:
        assert main(["--config", str(config), "items", "--json", "--search", " ".join(words)]) == 0
        return [row["title"] for row in json.loads(capsys.readouterr().out)]

    return found


def test_search_finds_stories_by_title_and_text_words_korean_included(
    project: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", database_url)
    config = ["--config", str(project / "config" / "aggregator.toml")]
    found = searcher(project / "config" / "aggregator.toml", capsys)

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
