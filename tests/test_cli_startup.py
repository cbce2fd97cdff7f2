"""Short commands start without the libraries they do not use (issue #22): each command
imports what it runs, so ``--version`` loads no database, feed or scheduler library, and
``status`` on SQLite loads SQLAlchemy with its SQLite dialect only. Checked by what a fresh
interpreter has in ``sys.modules`` after the command, not by timing
(``tests/benchmarks/bench_cli.py`` times them)."""

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aggregator.app import Aggregator
from aggregator.config import Settings
from aggregator.optional_imports import without
from aggregator.store import migrate
from tests.feedserver import FeedServer, Reply, Request
from tests.support.cli import run
from tests.support.feeds import web_rss
from tests.support.project import write_config

HEAVY = ("sqlalchemy", "alembic", "apscheduler", "feedgen", "lxml", "prometheus_client")

# Runs aggregator's main() with argv[1:] in this fresh interpreter, then prints which of
# the libraries named in the environment it loaded.
_PROBE = """
import json, os, sys
from aggregator.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as exit:
    status = exit.code
names = os.environ["PROBED"].split(",")
print(json.dumps({"status": status, "loaded": [n for n in names if n in sys.modules]}))
"""


def loaded_by(project: Path, *argv: str, probed: tuple[str, ...] = HEAVY) -> list[str]:
    """The ``probed`` top-level modules a fresh process has loaded after ``aggregator ARGV``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    environment["PROBED"] = ",".join(probed)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["status"] in (0, None), done.stdout
    return result["loaded"]


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["status", "--help"]])
def test_version_and_help_load_no_heavy_library(project: Path, argv: list[str]) -> None:
    assert loaded_by(project, *argv) == []


def test_the_probe_sees_a_library_the_command_loads(project: Path) -> None:
    assert run(project, "update").returncode == 0
    assert "sqlalchemy" in loaded_by(project, "status")


def test_status_on_a_current_sqlite_store_loads_only_what_it_reads_with(project: Path) -> None:
    assert run(project, "update").returncode == 0
    probed = (
        "alembic",
        "apscheduler",
        "prometheus_client",
        "httpx",
        "feedgen",
        "lxml",
        "sqlalchemy.dialects.postgresql",
        # the writes, and the fingerprints they key stories by: status opens no transaction
        "aggregator.store.writes",
        "aggregator.fingerprints",
    )
    assert loaded_by(project, "status", probed=probed) == []


def test_the_newest_revision_read_from_the_files_is_alembics_head() -> None:
    assert migrate.newest_file_revision() == migrate.head()


def test_an_app_opened_without_rules_reads_them_when_first_used(settings: Settings) -> None:
    app = Aggregator.open(settings, rules=False)
    try:
        assert app.loaded_topics is None
        assert app.topic_ids() == ["alliance", "domestic-politics", "inter-korean"]
        assert app.loaded_topics is None  # the ids come from the files' names
        assert [t.id for t in app.topics] == app.topic_ids()
        assert app.loaded_topics is not None
    finally:
        app.close()


def test_a_round_where_every_source_answers_304_loads_no_parser_writer_or_renderer(
    project: Path,
) -> None:
    def conditional(request: Request) -> Reply:
        if request.headers.get("if-none-match") == '"v1"':
            return Reply(304)
        return Reply(body=web_rss("Hotline restored"), headers={"ETag": '"v1"'})

    shutil.rmtree(project / "seeds")
    server = FeedServer().start()
    try:
        urls = [server.serve(f"/{name}.xml", conditional) for name in ("a", "b")]
        write_config(project, "".join(f'[[sources]]\nurl = "{url}"\n' for url in urls))
        assert run(project, "update").returncode == 0
        probed = (
            "feedparser",
            "listparser",
            "aggregator.ingest.feeds",
            "aggregator.ingest.seeds",
            "aggregator.ingest.article",
            "aggregator.analysis",
            "aggregator.writer",
            # the item writes and the fingerprints they key stories by: the round writes
            # the sources' states and its log only (plain_transaction)
            "aggregator.store.writes",
            "aggregator.fingerprints",
            # nothing that shows in the feeds changed: no rule is read, nothing rendered
            "aggregator.classify",
            "aggregator.regenerate",
            "aggregator.publish",
            "feedgen",
            "lxml",
            # no worker process started; nothing httpx or httpcore would import only
            # because it is installed (optional_imports): httpx's command line, trio
            "multiprocessing",
            "click",
            "trio",
        )
        assert loaded_by(project, "update", "--force", probed=probed) == []
        assert [r.headers.get("if-none-match") for r in server.requests[2:]] == ['"v1"'] * 2
    finally:
        server.stop()


def test_a_module_left_out_of_an_import_is_importable_after_it() -> None:
    name = "colorsys"  # a standard-library leaf no test imports
    sys.modules.pop(name, None)
    with without(name, "json"):
        with pytest.raises(ImportError):
            importlib.import_module(name)
        assert importlib.import_module("json") is json  # imported before: left alone
    assert importlib.import_module(name).__name__ == name


# Ends a command's process as ``python -m aggregator`` does, with an atexit handler
# registered first: it runs after the command and says whether the heap was frozen.
_ENDING = """
import atexit, gc, sys
atexit.register(lambda: print("frozen:", gc.get_freeze_count() > 0, file=sys.stderr))
from aggregator.cli import run
sys.argv[0] = "aggregator"
run()
"""


def test_a_command_process_ends_without_walking_its_heap_and_keeps_its_status(
    project: Path,
) -> None:
    assert run(project, "update").returncode == 0
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    ended = subprocess.run(
        [sys.executable, "-c", _ENDING, "status", "--json"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Its whole output and its exit status, as main() returned them (a fresh store has
    # no failing input and a recent ingest: healthy), and atexit handlers still ran.
    assert json.loads(ended.stdout)["healthy"] is True
    assert ended.returncode == 0
    assert "frozen: True" in ended.stderr
