"""The command line as users run it: a real `python -m aggregator` process in a project folder."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from freezegun import freeze_time

from aggregator.cli import build_parser, main
from aggregator.cli.parser import parser_for
from aggregator.config import load_settings
from aggregator.store import Storage
from aggregator.store.lock import RunLock
from tests.support.cli import run


def test_every_command_has_help_with_an_example() -> None:
    parser = build_parser()
    assert "example:" in parser.format_help()
    subcommands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"update", "ingest", "regenerate", "status", "explain", "items", "daemon"} <= set(
        subcommands
    )
    for name, sub in subcommands.items():
        assert "example: aggregator" in sub.format_help(), name


@pytest.mark.parametrize(
    "argv",
    [
        ["-q", "update", "--force"],
        ["--config", "status", "status", "--json"],  # a path named like a command
        ["--conf", "update", "--log-format", "json", "items", "hide", "001.txt"],
        ["sources", "add", "https://example.org/feed.xml", "--name", "Example"],
        ["db", "current", "-v"],
    ],
)
def test_the_parser_of_the_named_command_reads_it_as_every_commands_parser(
    argv: list[str],
) -> None:
    parser = parser_for(argv)
    assert len(parser._subparsers._group_actions[0].choices) == 1  # type: ignore[union-attr]
    assert parser.parse_args(argv) == build_parser().parse_args(argv)


def test_version_is_printed_by_a_parser_of_no_command(capsys: pytest.CaptureFixture[str]) -> None:
    parser = parser_for(["--version"])
    assert parser._subparsers._group_actions[0].choices == {}  # type: ignore[union-attr]
    with pytest.raises(SystemExit) as done:
        parser.parse_args(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("aggregator ")


def test_update_in_a_fresh_project_publishes_the_four_feeds(project: Path) -> None:
    result = run(project, "update")
    assert result.returncode == 0, result.stderr
    assert "update: 2 new, 0 updated, 0 failed inputs; 12 files written" in result.stdout
    assert sorted(p.name for p in (project / "feeds").glob("*.xml")) == [
        "all.xml",
        "alliance.xml",
        "domestic-politics.xml",
        "inter-korean.xml",
    ]
    again = run(project, "update")
    assert "0 new, 0 updated, 0 failed inputs; nothing new to publish" in again.stdout
    regenerated = run(project, "regenerate")
    assert "regenerate: 0 written, 12 unchanged" in regenerated.stdout


def test_config_from_the_environment(project: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere" / "config"
    moved.parent.mkdir()
    (project / "config").rename(moved)
    (tmp_path / "elsewhere" / "seeds").mkdir()
    result = run(project, "update", env={"AGGREGATOR_CONFIG": str(moved / "aggregator.toml")})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "elsewhere" / "feeds" / "all.xml").exists()


def test_a_bad_seed_exits_1_and_names_the_file(project: Path) -> None:
    (project / "seeds" / "blank.txt").write_text("   \n\n")
    result = run(project, "update")
    assert result.returncode == 1
    assert f"failed: {project / 'seeds' / 'blank.txt'}: " in result.stderr
    assert "2 new" in result.stdout
    status = run(project, "status")
    assert status.returncode == 1
    assert "seed:blank.txt" in status.stdout


def test_a_config_error_exits_2_and_names_the_key(project: Path) -> None:
    (project / "config" / "aggregator.toml").write_text('[daemon]\ningest_interval = "often"\n')
    result = run(project, "update")
    assert result.returncode == 2
    assert "aggregator.toml: daemon.ingest_interval:" in result.stderr


def test_a_usage_error_exits_2(project: Path) -> None:
    assert run(project, "frobnicate").returncode == 2
    assert run(project, "regenerate", "--topic", "sports").returncode == 2


def test_update_says_it_waits_then_refuses_while_another_run_holds_the_lock(
    project: Path,
) -> None:
    (project / "config" / "aggregator.toml").write_text('[storage]\nlock_wait = "1s"\n')
    storage = Storage(f"sqlite:///{project / 'aggregator.db'}")
    storage.initialize()
    try:
        with RunLock(storage, "cycle"):
            result = run(project, "update")
    finally:
        storage.close()
    assert result.returncode == 3
    # One line when it starts waiting (issue #20), one when it gives up.
    waiting = [line for line in result.stderr.splitlines() if "waiting up to 1s" in line]
    assert len(waiting) == 1, result.stderr
    assert f"another run is in progress on sqlite:///{project}" in waiting[0]
    assert "waited 1s for the cycle lock" in result.stderr
    assert f"held by process {os.getpid()}" in result.stderr


def test_explain_status_and_items(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(project / "config" / "aggregator.toml")
    with freeze_time("2025-06-05T00:00:00Z"):
        assert main(["--config", config, "update"]) == 0
    capsys.readouterr()

    assert main(["--config", config, "explain", "000_bbf987679977ef00.txt"]) == 0
    explained = capsys.readouterr().out
    assert "Lee Jae-myung pledges to resume North Korea talks" in explained
    for topic in ("inter-korean", "alliance", "domestic-politics"):
        assert topic in explained

    with freeze_time("2025-06-05T01:00:00Z"):
        assert main(["--config", config, "status"]) == 0
    status = capsys.readouterr().out
    assert "items: 2" in status
    assert "inter-korean: 2" in status
    assert "last ingest: 2025-06-05T00:00:00+00:00 (2 new, 0 updated, 0 failed)" in status
    assert "failing inputs: 0" in status

    assert main(["--config", config, "items", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["published"] for row in rows] == [
        "2025-06-03T15:00:00+00:00",
        "2025-05-26T02:09:00+00:00",
    ]
    assert all(row["id"].startswith("tag:") for row in rows)

    assert main(["--config", config, "explain", "no such story"]) == 2


def test_regenerate_one_topic(project: Path) -> None:
    assert run(project, "ingest").returncode == 0
    result = run(project, "regenerate", "--topic", "alliance")
    assert result.returncode == 0, result.stderr
    assert [p.name for p in (project / "feeds").glob("*.xml")] == ["alliance.xml"]
    assert (project / "feeds" / "index.html").exists()
    settings = load_settings(project / "config" / "aggregator.toml", environ={})
    assert settings.feeds_dir == project / "feeds"


def test_sources_commands(project: Path, tmp_path: Path) -> None:
    from tests.feedserver import FeedServer, Reply

    server = FeedServer().start()
    try:
        url = server.serve(
            "/feed.xml",
            Reply(
                body=b"<?xml version='1.0'?><rss version='2.0'><channel><title>Wire</title>"
                b"<item><title>DMZ tours resume</title><link>https://w.example/1</link></item>"
                b"</channel></rss>",
                headers={"Content-Type": "application/rss+xml", "ETag": '"a"'},
            ),
        )
        broken = server.serve("/broken.xml", Reply(500))
        # Its entry links to a host that does not exist: its article page is never read.
        added = run(
            project, "sources", "add", url, "--name", "Wire", "--interval", "30m",
            "--full-text", "never",
        )  # fmt: skip
        assert added.returncode == 0
        assert run(project, "sources", "add", url, "--full-text", "often").returncode == 2
        assert run(project, "sources", "add", url).returncode == 1  # already followed
        assert run(project, "sources", "add", "ftp://x/feed").returncode == 2
        assert run(project, "sources", "add", broken, "--interval", "soon").returncode == 2
        refused = run(project, "sources", "add", broken)  # checked first (issue #20)
        assert refused.returncode == 1 and f"error: {broken}: HTTP 500" in refused.stderr
        assert run(project, "sources", "add", broken, "--no-check").returncode == 0
        updated = run(project, "update")
        assert updated.returncode == 1
        assert f"failed: {broken}: HTTP 500" in updated.stderr
        listing = run(project, "sources", "list")
        assert listing.returncode == 1
        assert "Wire\n  url: " + url in listing.stdout
        assert "last status: 200" in listing.stdout
        assert "consecutive errors: 1" in listing.stdout
        assert "last error: HTTP 500 Internal Server Error" in listing.stdout
        rows = json.loads(run(project, "sources", "list", "--json").stdout)
        assert {row["url"]: row["interval_seconds"] for row in rows} == {url: 1800, broken: None}
        assert {row["url"]: row["full_text"] for row in rows} == {url: "never", broken: "auto"}
        assert "full text: never; article pages not used: 0" in listing.stdout
        assert run(project, "sources", "full-text", "Wire", "always").returncode == 0
        assert "full text: always;" in run(project, "sources", "list").stdout

        exported = tmp_path / "out.opml"
        assert run(project, "sources", "export", "--output", str(exported)).returncode == 0
        assert run(project, "sources", "remove", "Wire").returncode == 0
        assert run(project, "sources", "remove", "Wire").returncode == 1
        imported = run(project, "sources", "import", str(exported))
        assert "1 sources added, 1 already followed" in imported.stdout
    finally:
        server.stop()


def test_evaluate_and_regenerate_dry_run(project: Path) -> None:
    from tests.support.project import DATA  # noqa: PLC0415

    result = run(project, "evaluate", str(DATA / "topics" / "examples.jsonl"))
    assert result.returncode == 0
    assert "alliance" in result.stdout and "precision" in result.stdout
    assert run(project, "update").returncode == 0
    rules = project / "config" / "topics" / "inter-korean.toml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("threshold = 6.0", "threshold = 99.0")
    )
    feeds = {p: p.read_bytes() for p in (project / "feeds").glob("*.xml")}
    preview = run(project, "regenerate", "--dry-run")
    assert "inter-korean: 0 entering, 2 leaving" in preview.stdout
    assert "  - Lee Jae-myung pledges to restore inter-Korean hotline" in preview.stdout
    assert "alliance: 0 entering, 0 leaving" in preview.stdout
    assert {p: p.read_bytes() for p in (project / "feeds").glob("*.xml")} == feeds
    assert run(project, "regenerate").returncode == 0
    assert b"<entry" not in (project / "feeds" / "inter-korean.xml").read_bytes()


def test_status_is_a_monitoring_check(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(project / "config" / "aggregator.toml")
    with freeze_time("2025-06-05T00:00:00Z"):
        assert main(["--config", config, "status", "--json"]) == 1  # nothing ingested yet
        assert json.loads(capsys.readouterr().out)["problems"] == ["no ingest has run yet"]
        assert main(["--config", config, "update"]) == 0
        capsys.readouterr()
    with freeze_time("2025-06-05T01:59:00Z"):
        assert main(["--config", config, "status", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["healthy"] and report["topics"]["inter-korean"] == 2
    with freeze_time("2025-06-05T02:01:00Z"):
        assert main(["--config", config, "status", "--json"]) == 1
        assert "longer ago than status.stale_after" in capsys.readouterr().out
    (project / "seeds" / "empty.txt").write_text("")
    with freeze_time("2025-06-05T03:00:00Z"):
        assert main(["--config", config, "update"]) == 1
        capsys.readouterr()
        assert main(["--config", config, "status"]) == 1
        assert "attention: 1 inputs failing" in capsys.readouterr().out


def test_json_logs_are_one_object_per_line(project: Path) -> None:
    (project / "seeds" / "empty.txt").write_text("")
    result = run(project, "--log-format", "json", "update")
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    (record,) = [r for r in records if r["level"] == "warning"]
    assert record["logger"] == "aggregator.pipeline"
    assert "empty.txt" in record["message"] and record["time"].endswith("+00:00")


def test_init_creates_a_working_folder_from_the_packaged_defaults(tmp_path: Path) -> None:
    from tests.support.project import REPO  # noqa: PLC0415

    folder = tmp_path / "work"
    result = run(tmp_path, "init", str(folder), "--examples")
    assert result.returncode == 0, result.stderr
    repo_config = sorted(p.relative_to(REPO / "config") for p in (REPO / "config").rglob("*.toml"))
    made = sorted(p.relative_to(folder / "config") for p in (folder / "config").rglob("*.toml"))
    assert made == repo_config
    for relative in made:  # the packaged defaults are the repository's config/, byte for byte
        assert (folder / "config" / relative).read_bytes() == (
            REPO / "config" / relative
        ).read_bytes()
    assert sorted(p.name for p in (folder / "seeds").iterdir()) == sorted(
        p.name for p in (REPO / "seeds").iterdir()
    )
    assert run(folder, "update").returncode == 0
    assert (folder / "feeds" / "alliance.xml").exists()
    again = run(tmp_path, "init", str(folder))
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr
    bare = tmp_path / "bare"
    assert run(tmp_path, "init", str(bare)).returncode == 0
    assert not any((bare / "seeds").iterdir()) and (bare / "feeds").is_dir()


def _run_on_a_terminal(project: Path, *args: str) -> tuple[int, str]:
    """Run the command with stdout and stderr on a pseudo-terminal, as in an interactive shell."""
    import pty

    environment = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "aggregator", *args],
        cwd=project,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    output = bytearray()
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the process closed its end
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    return process.wait(timeout=60), output.decode()


def test_progress_is_drawn_on_a_terminal_and_cleared(project: Path) -> None:
    status, output = _run_on_a_terminal(project, "update")
    assert status == 0, output
    assert "\rseeds 2/2 · 2 new, 0 updated, 0 failed\x1b[K" in output
    assert "\rfeeds 4/4 · 4 written\x1b[K" in output
    # The line is erased before the summary, which stays on screen.
    before_summary, summary = output.rsplit("\r\x1b[K", 1)
    assert summary.strip() == (
        "update: 2 new, 0 updated, 0 failed inputs; 12 files written, 0 unchanged in "
        f"{project / 'feeds'}"
    )


def test_a_warning_during_progress_starts_on_a_clean_line(project: Path) -> None:
    # Named to come last, so progress for the two good seeds is on screen when it fails.
    (project / "seeds" / "z-blank.txt").write_text("   \n\n")
    status, output = _run_on_a_terminal(project, "update")
    assert status == 1
    warning = output.index(" WARNING aggregator.pipeline: seed")
    line = output[output.rfind("\n", 0, warning) + 1 : warning]
    assert "\rseeds 1/3" in line  # progress was drawn on this line...
    visible = line.rsplit("\r\x1b[K", 1)[-1]  # ...and erased before the log record
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}", visible), repr(line)
    assert "\rseeds 3/3 · 2 new, 0 updated, 1 failed\x1b[K" in output


def test_quiet_or_not_a_terminal_shows_no_progress(project: Path) -> None:
    piped = run(project, "update")
    assert piped.returncode == 0
    assert "\r" not in piped.stderr + piped.stdout
    assert piped.stdout.startswith("update: 2 new")
    status, output = _run_on_a_terminal(project, "-q", "update", "--force")
    assert status == 0
    assert output == ""  # -q: errors only, so a cycle that went well says nothing


def test_verbose_adds_a_line_per_input(project: Path) -> None:
    result = run(project, "-v", "update")
    assert result.returncode == 0
    lines = [line for line in result.stderr.splitlines() if "aggregator.pipeline: seed" in line]
    assert len(lines) == 2 and all(line.endswith(": 1 new, 0 updated") for line in lines)
    assert "ingest: 2 inputs read" in result.stderr
    again = run(project, "-v", "update")
    assert again.stderr.count("unchanged") >= 2
