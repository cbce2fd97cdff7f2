"""What users of other feed tools expect of a command line (issue #20): options anywhere,
-q that silences, no traceback for a closed pipe or a busy port, said truncation."""

import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

from tests.support.cli import run
from tests.support.project import write_config


def test_global_options_are_accepted_after_the_command(project: Path, tmp_path: Path) -> None:
    verbose = run(project, "update", "-v")
    assert verbose.returncode == 0, verbose.stderr
    assert "update: 2 new" in verbose.stdout
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = str(project / "config" / "aggregator.toml")
    status = run(elsewhere, "status", "--config", config)
    assert status.returncode == 0, status.stderr
    assert "items: 2" in status.stdout
    # Before the command still works, and a sub-command does not reset it.
    assert run(elsewhere, "--config", config, "sources", "list").returncode == 0
    assert run(elsewhere, "sources", "list", "--config", config, "-q").returncode == 0


def test_quiet_silences_the_summary_lines(project: Path) -> None:
    update = run(project, "-q", "update")
    assert (update.returncode, update.stdout, update.stderr) == (0, "", "")
    regenerate = run(project, "regenerate", "-q")
    assert (regenerate.returncode, regenerate.stdout) == (0, "")
    # Answers are not summaries: -q leaves them.
    assert "items: 2" in run(project, "-q", "status").stdout


def test_a_closed_pipe_ends_the_output_without_a_traceback(project: Path) -> None:
    (project / "config" / "aggregator.toml").write_text(
        "".join(f'[[sources]]\nurl = "http://127.0.0.1:9/{n}.xml"\n' for n in range(30))
    )
    reader = subprocess.Popen(
        [sys.executable, "-m", "aggregator", "sources", "list"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.close()  # as `| head` does once it has its lines
    errors = reader.stderr.read().decode()
    reader.wait(timeout=60)
    assert "Traceback" not in errors
    assert "BrokenPipeError" not in errors


def test_a_busy_port_is_one_line_and_exit_2(project: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(project, "serve", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_items_says_when_it_truncates(project: Path) -> None:
    run(project, "update")
    shown = run(project, "items", "--limit", "1")
    assert len(shown.stdout.splitlines()) == 1
    assert "showing the newest 1; more are stored" in shown.stderr
    everything = run(project, "items")
    assert len(everything.stdout.splitlines()) == 2
    assert everything.stderr == ""


def test_prune_dry_run_says_the_retention_in_words(project: Path) -> None:
    write_config(project, '[retention]\nkeep = "1d"\n')
    result = run(project, "prune", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "prune: would remove 0 items older than 1 day"


def test_the_evaluate_example_works_outside_a_clone(tmp_path: Path) -> None:
    folder = tmp_path / "fresh"
    assert run(tmp_path, "init", str(folder), "--examples").returncode == 0
    helped = run(folder, "evaluate", "--help").stdout
    example = re.search(r"example: aggregator (.*?)(?:\s{2,}|\(|$)", helped, re.M)
    assert example is not None, helped
    result = run(folder, *shlex.split(example.group(1)))
    assert result.returncode == 0, result.stderr
    assert "micro-average" in result.stdout
