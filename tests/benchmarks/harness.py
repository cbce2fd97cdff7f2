"""What bench_pipeline runs its subjects with: child processes measured for time and peak memory,
aggregator project folders, the peers' venv, and PostgreSQL schemas of their own.

Each subject runs as a child process, as a user would run it, so its peak
resident memory is its own. It is started by a small launcher (``_LAUNCHER``)
that reports the subject's ``ru_maxrss`` from ``os.wait4``: Linux carries a
parent's high-water mark over into a child it forks (or vforks) and execs, so
a subject started straight from this process would report at least this
process's own peak (~150 MB once a corpus is loaded); the launcher's is ~10 MB.
RUSAGE_CHILDREN would not do either: it is the largest of all children so far.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from tests.support import postgres
from tests.support.postgres import POSTGRES_SERVER

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("AGGREGATOR_BENCH_CACHE", Path.home() / ".cache" / "aggregator-bench"))


@dataclass(frozen=True)
class Finished:
    """A child process that ran to its end: wall time, peak RSS, exit status, output."""

    seconds: float
    peak_mb: float
    status: int
    stdout: str
    stderr: str

    def check(self, what: str, allowed: Sequence[int] = (0,)) -> "Finished":
        if self.status not in allowed:
            raise RuntimeError(f"{what} exited {self.status}:\n{self.stderr[-3000:]}")
        return self


# Runs argv[2:], then writes "seconds peak_kb" into the file argv[1]; exits as the child did.
_LAUNCHER = """
import os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as report:
    report.write(f"{time.perf_counter() - started} {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run(argv: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None) -> Finished:
    """Run ``argv`` to completion through the launcher; its wall time and its own peak RSS."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as report,
    ):
        launcher = [sys.executable, "-I", "-S", "-c", _LAUNCHER, report.name]
        done = subprocess.run([*launcher, *argv], cwd=cwd, env=env, stdout=out, stderr=err)
        seconds, peak_kb = report.read().split()
        out.seek(0)
        err.seek(0)
        return Finished(
            float(seconds),
            int(peak_kb) / 1024,  # ru_maxrss is in kilobytes on Linux
            done.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )


def aggregator_env(database_url: str | None = None) -> dict[str, str]:
    """The environment of an aggregator child: this worktree's package first on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    # Bytecode cached as in an installed package (pip compiles it at install; reader's venv
    # has it): with writing it turned off, as this machine's environment does, every run
    # would compile aggregator's modules again (~60 ms a run, a 304 round's 0.3 ms/source).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if database_url:
        env["AGGREGATOR_DATABASE_URL"] = database_url
    return env


def aggregator(
    project: Path,
    *args: str,
    database_url: str | None = None,
    profile: Path | None = None,
) -> Finished:
    """``python -m aggregator -q ARGS`` in ``project``, optionally under py-spy (speedscope)."""
    argv = [sys.executable, "-m", "aggregator", "-q", *args]
    if profile is not None:
        spy = shutil.which("py-spy")
        if spy is None:
            raise RuntimeError("--profile needs py-spy (pip install py-spy)")
        argv = [
            spy,
            "record",
            "--subprocesses",  # the worker processes that parse and analyse, too
            "-r",
            "200",
            "-o",
            str(profile),
            "--format",
            "speedscope",
            "--",
            *argv,
        ]
    return run(argv, cwd=project, env=aggregator_env(database_url)).check(
        f"aggregator {' '.join(args)}", allowed=(0, 1)
    )


def make_project(folder: Path, urls: Sequence[str], *, workers: int, per_host: int) -> Path:
    """A project folder as a user sets one up: config with the sources, the shipped topics."""
    (folder / "config").mkdir(parents=True)
    shutil.copytree(REPO / "config" / "topics", folder / "config" / "topics")
    (folder / "feeds").mkdir()
    sources = "".join(f'\n[[sources]]\nurl = "{url}"\n' for url in urls)
    (folder / "config" / "aggregator.toml").write_text(
        '[storage]\npath = "aggregator.db"\n'
        f"\n[fetch]\nworkers = {workers}\nper_host = {per_host}\n{sources}",
        encoding="utf-8",
    )
    return folder


def peer_python() -> Path:
    """The Python of a venv holding requirements-peers.txt, created on first use and kept."""
    requirements = HERE / "requirements-peers.txt"
    tag = hashlib.sha256(requirements.read_bytes()).hexdigest()[:10]
    venv = CACHE / f"peers-{tag}"
    python = venv / "bin" / "python"
    complete = venv / "installed"  # written last, so a half-built venv is rebuilt
    if complete.exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    print(f"  creating the peers' venv in {venv} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "pip"), "install", "-q", "-r", str(requirements)]
    subprocess.run(pip, check=True)
    complete.write_text(requirements.read_text())
    return python


def peers(*args: str, cwd: Path) -> Finished:
    """``peers.py ARGS`` in the peers' venv, with nothing of aggregator on its path."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return run([str(peer_python()), str(HERE / "peers.py"), *args], cwd=cwd, env=env).check(
        f"peers.py {args[0]}"
    )


def postgres_schema() -> AbstractContextManager[str]:
    """The URL of a fresh PostgreSQL schema, dropped afterwards (as the tests do)."""
    return postgres.postgres_schema(POSTGRES_SERVER, prefix="bench")
