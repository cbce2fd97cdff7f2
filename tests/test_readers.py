"""Real clients read what we serve: newsboat and sfeed (feed readers), headless Chromium (pages).

They run wherever the programs are installed (.ci/run installs them); without
them the tests skip with the reason, except in CI (CI=true), where they fail.
"""

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import httpx
import pytest

from aggregator import pipeline
from aggregator.config import load_settings
from aggregator.server import BackgroundServer
from tests.support.programs import need
from tests.support.project import DATA

NOW = datetime(2025, 9, 20, tzinfo=UTC)
FEEDS = ("all", "alliance", "domestic-politics", "inter-korean")
KOREAN_TITLE = "통일부, 이산가족 상봉 재개 제안"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The shipped seeds plus a Korean one, published and served on 127.0.0.1."""
    from tests.support.project import write_config  # noqa: PLC0415

    root = tmp_path_factory.mktemp("site")
    write_config(root)
    shutil.copytree(Path(__file__).parent.parent / "seeds", root / "seeds")
    shutil.copy(DATA / "seeds" / "generic_korean.txt", root / "seeds" / "korean.txt")
    server = BackgroundServer(root / "feeds", "127.0.0.1", 0)
    base = server.url
    config = root / "config" / "aggregator.toml"
    config.write_text(f'[publish]\nbase_url = "{base}"\n', encoding="utf-8")
    app = pipeline.Aggregator.open(load_settings(config, environ={}))
    pipeline.update(app, NOW)
    app.close()
    server.start()
    yield base, root
    server.stop()


def expected_titles(root: Path, key: str) -> set[str]:
    return {e.title for e in feedparser.parse((root / "feeds" / f"{key}.xml").read_bytes()).entries}


def test_newsboat_reads_every_entry_with_hangul_intact(site, tmp_path: Path) -> None:  # noqa: ANN001
    newsboat = need("newsboat")
    base, root = site
    home = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)}
    (tmp_path / "config").write_text("")
    for key in FEEDS:
        # One cache per feed: newsboat keeps an entry once even when two feeds carry it.
        urls, cache = tmp_path / f"{key}.urls", tmp_path / f"{key}.db"
        urls.write_text(f"{base}{key}.xml\n")
        result = subprocess.run(
            [
                newsboat,
                "-x",
                "reload",
                "-u",
                str(urls),
                "-c",
                str(cache),
                "-C",
                str(tmp_path / "config"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **home},
        )
        assert result.returncode == 0, result.stderr
        with sqlite3.connect(cache) as connection:
            titles = {title for (title,) in connection.execute("SELECT title FROM rss_item")}
        assert titles == expected_titles(root, key), key
        if key in ("all", "inter-korean"):
            assert KOREAN_TITLE in titles


def test_sfeed_reads_every_entry_with_hangul_intact(site) -> None:  # noqa: ANN001
    sfeed, plain = need("sfeed"), need("sfeed_plain")
    # sfeed_plain pads titles by their display width, which needs a UTF-8 locale.
    utf8 = {**os.environ, "LC_ALL": "C.UTF-8"}
    base, root = site
    for key in FEEDS:
        body = httpx.get(f"{base}{key}.xml").content
        result = subprocess.run([sfeed], input=body, capture_output=True, timeout=60)
        assert result.returncode == 0
        lines = result.stdout.decode("utf-8").splitlines()
        titles = {line.split("\t")[1] for line in lines}
        assert titles == expected_titles(root, key), key
        if key in ("all", "inter-korean"):
            assert KOREAN_TITLE in titles
        # sfeed_plain, the reader's own listing, shows every entry (titles may be shortened).
        shown = subprocess.run(
            [plain], input=result.stdout, capture_output=True, timeout=60, env=utf8
        ).stdout.decode("utf-8")
        assert len(shown.splitlines()) == len(lines), key
        if key == "inter-korean":
            assert KOREAN_TITLE in shown


def test_chromium_renders_the_index_and_a_topic_page(site, tmp_path: Path) -> None:  # noqa: ANN001
    chromium = need("chromium")
    base, root = site

    def dump(url: str) -> str:
        result = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", url],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    index = dump(base)
    assert "Inter-Korean relations" in index and "South Korean politics" in index
    assert index.count('type="application/atom+xml"') == len(FEEDS)
    page = dump(f"{base}inter-korean.html")
    for title in expected_titles(root, "inter-korean"):
        assert title in page.replace("&amp;", "&")
    assert f'href="{base}inter-korean.xml"' in page
