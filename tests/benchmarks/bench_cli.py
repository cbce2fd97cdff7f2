"""Benchmark: how long short commands take, whole process, as a user runs them (issue #22).

    python -m tests.benchmarks.bench_cli [--runs 15] [--commands "--version,status"]

In a temporary copy of the shipped config and seeds (the README quick start's
folder), after one ``aggregator update`` made its store and feeds, each command
runs --runs times as a child process, by each entry point a user has: the
installed console script (the ``aggregator`` beside this interpreter, as pip
wrote it) and ``python -m aggregator``; the ``aggregator`` first on PATH too,
when that is another file (a pyenv shim is a bash script that adds its own
start-up). Every child gets PYTHONPATH set to this checkout, so the console
script runs this code. It prints the median, min and max wall time of each and
its median CPU time (user + system, which a busy machine inflates less), with
``python -c pass`` (the interpreter's own start-up) as the floor.
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TARGETS = {"--version": 0.15, "status": 0.3}  # seconds, issue #22


def entry_points() -> dict[str, list[str]]:
    """Each way to start aggregator, by name: argv before the command's own arguments."""
    found = {"python -m aggregator": [sys.executable, "-m", "aggregator"]}
    script = Path(sys.executable).parent / "aggregator"
    if script.exists():
        found["console script"] = [str(script)]
    on_path = shutil.which("aggregator")
    if on_path and Path(on_path).resolve() != script.resolve():
        found[f"PATH ({on_path})"] = [on_path]
    return found


def child_cpu() -> float:
    """CPU seconds (user + system) of every child waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_runs(
    argv: Sequence[str], cwd: Path, env: dict[str, str], runs: int
) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each of ``runs`` runs, after one unmeasured run (it may
    compile .pyc files). CPU time tells the work apart from the wait on a busy machine."""
    subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)
    walls, cpus = [], []
    for _ in range(runs):
        cpu, started = child_cpu(), time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)
        walls.append(time.perf_counter() - started)
        cpus.append(child_cpu() - cpu)
    return walls, cpus


def quick_start_folder(folder: Path, env: dict[str, str]) -> Path:
    """The shipped config and seeds, with the store and feeds one ``update`` leaves."""
    for part in ("config", "seeds"):
        shutil.copytree(REPO / part, folder / part)
    subprocess.run(
        [sys.executable, "-m", "aggregator", "-q", "update"], cwd=folder, env=env, check=True
    )
    return folder


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--commands", default="--version,status", help="comma-separated")
    args = parser.parse_args(argv)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    load = os.getloadavg()[0]
    print(f"wall time: median (min, max) of {args.runs} runs, seconds; load {load:.2f}")
    print("| entry point | command | median | min | max | CPU median | target |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        folder = quick_start_folder(Path(tmp), env)
        rows = [
            (
                "python -c pass",
                "",
                *timed_runs([sys.executable, "-c", "pass"], folder, env, args.runs),
                None,
            )
        ]
        for name, start in entry_points().items():
            for command in args.commands.split(","):
                walls, cpus = timed_runs([*start, *command.split()], folder, env, args.runs)
                rows.append((name, command, walls, cpus, TARGETS.get(command)))
    for name, command, walls, cpus, target in rows:
        median = statistics.median(walls)
        verdict = "" if target is None else f"≤ {target}: {'PASS' if median <= target else 'FAIL'}"
        print(
            f"| {name} | {command} | {median:.3f} | {min(walls):.3f} | {max(walls):.3f} "
            f"| {statistics.median(cpus):.3f} | {verdict} |"
        )


if __name__ == "__main__":
    main()
