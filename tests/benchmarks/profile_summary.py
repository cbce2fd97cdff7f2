"""Where the time went in a py-spy speedscope profile (``bench_pipeline --profile DIR``).

    python -m tests.benchmarks.profile_summary DIR/ingest-200-first.json [--top 25]

py-spy records active (non-idle) samples of every thread. For each function
this prints its inclusive share (samples with it anywhere on the stack, each
sample counted once) and its self share (samples where it is the leaf), over
all threads, and which threads the samples came from. Samples of pool threads
parked waiting for work are left out.
"""

import argparse
import json
import re
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Threads parked waiting for work, which py-spy does not always tell from running ones.
IDLE = re.compile(r"^(_worker \(concurrent/futures/thread\.py\)|wait \(threading\.py\))$")


def _label(frame: dict[str, object]) -> str:
    where = str(frame.get("file", ""))
    for marker in ("site-packages/", f"{REPO.name}/", "lib/python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{frame['name']} ({where})"  # by function: a function's lines add up


def _running(frames: list[str], stack: list[int]) -> bool:
    """A pool thread's sample inside a work item is work, even if the leaf looks idle."""
    return any(frames[i].startswith("_WorkItem.run") for i in stack)


def summarize(path: Path, top: int) -> str:
    document = json.loads(path.read_text())
    frames = [_label(f) for f in document["shared"]["frames"]]
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0.0
    idle = 0.0
    for profile in document["profiles"]:
        name = profile.get("name", "?").rsplit(" ", 1)[-1].strip('"') or "main"
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            if stack and IDLE.search(frames[stack[-1]]) and not _running(frames, stack):
                idle += weight
                continue
            total += weight
            threads["fetch threads" if name.startswith("fetch") else name] += weight
            for label in {frames[i] for i in stack}:
                inclusive[label] += weight
            if stack:
                leaf[frames[stack[-1]]] += weight
    unit = document["profiles"][0].get("unit", "samples") if document["profiles"] else ""
    lines = [f"{path.name}: {total:.1f} {unit} active ({idle:.1f} idle left out); by thread: "]
    lines[0] += ", ".join(f"{t} {w / total:.0%}" for t, w in threads.most_common())
    lines.append("inclusive  self  function")
    for label, weight in inclusive.most_common(top):
        lines.append(f"{weight / total:8.1%} {leaf[label] / total:6.1%}  {label}")
    lines.append("top self:")
    for label, weight in leaf.most_common(top // 2):
        lines.append(f"{'':8} {weight / total:6.1%}  {label}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profiles", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    for path in args.profiles:
        print(summarize(path, args.top), end="\n\n")


if __name__ == "__main__":
    main()
