"""The table bench_pipeline prints: measurements by section and row, and issue #7's targets."""

import statistics
from collections import defaultdict

REGENERATE = "aggregator regenerate, in-process"


class Results:
    """Measurements by (section, row), printed as one table with targets."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.units: dict[tuple[str, str], str] = {}
        self.notes: list[str] = []

    def add(self, section: str, row: str, value: float, unit: str) -> None:
        self.values[(section, row)].append(value)
        self.units[(section, row)] = unit

    def median(self, section: str, row: str) -> float | None:
        values = self.values.get((section, row))
        return statistics.median(values) if values else None

    def print(self, targets: dict[tuple[str, str], str]) -> None:
        print("\n| section | measure | median | min | max | unit | n | target |")
        print("| --- | --- | ---: | ---: | ---: | --- | ---: | --- |")
        for (section, row), values in self.values.items():
            low, mid, high = min(values), statistics.median(values), max(values)
            unit, target = self.units[(section, row)], targets.get((section, row), "")
            print(
                f"| {section} | {row} | {_number(mid)} | {_number(low)} | {_number(high)} "
                f"| {unit} | {len(values)} | {target} |"
            )
        for note in self.notes:
            print(f"- {note}")


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def targets(results: Results) -> dict[tuple[str, str], str]:
    """The targets of issue #7, judged on the medians measured."""
    judged = {}
    for section, _row in list(results.values):
        _whole_process(results, section, judged)
        if section.startswith("ingest"):
            ours = results.median(section, "aggregator first update, in-process")
            theirs = results.median(section, "reader first update, in-process")
            if ours and theirs:
                judged[(section, "aggregator first update, in-process")] = (
                    f"≥4× reader = {4 * theirs:,.0f}: {_verdict(ours >= 4 * theirs)}"
                )
            ours = results.median(section, "aggregator 304 round, ingest in-process")
            theirs = results.median(section, "reader 304 round, in-process")
            if ours is not None and theirs:
                judged[(section, "aggregator 304 round, ingest in-process")] = (
                    f"≤ reader = {theirs:.2f}: {_verdict(ours <= theirs)}"
                )
        if section.startswith("regenerate 1,000,000"):
            backend = section.rsplit(" ", 1)[1]
            ours = results.median(section, REGENERATE)
            small = results.median(
                f"regenerate 10,000 {backend}", "aggregator regenerate, in-process"
            )
            if ours is not None:
                goal = f"< 1,000 ms: {_verdict(ours < 1000)}"
                if small:
                    goal += f"; ≤ 2× 10k = {2 * small:,.0f}: {_verdict(ours <= 2 * small)}"
                judged[(section, REGENERATE)] = goal
            peak = results.median(section, "aggregator regenerate, peak RSS")
            if peak is not None:
                judged[(section, "aggregator regenerate, peak RSS")] = (
                    f"< 300 MB: {_verdict(peak < 300)}"
                )
    return judged


def _whole_process(results: Results, section: str, judged: dict[tuple[str, str], str]) -> None:
    """Issue #22: whole process as a user runs it, ≥ 2× reader's first update, a 304 round
    no slower per source than reader's, the first update's peak RSS ≤ 200 MB."""
    ours = results.median(section, "aggregator first update, process")
    theirs = results.median(section, "reader first update, process")
    if ours and theirs:
        judged[(section, "aggregator first update, process")] = (
            f"≥2× reader = {2 * theirs:,.0f}: {_verdict(ours >= 2 * theirs)} ({ours / theirs:.2f}×)"
        )
    ours = results.median(section, "aggregator 304 round, process")
    theirs = results.median(section, "reader 304 round, process")
    if ours and theirs:
        judged[(section, "aggregator 304 round, process")] = (
            f"≤ reader = {theirs:.2f}: {_verdict(ours <= theirs)}"
        )
    peak = results.median(section, "aggregator first update, peak RSS")
    if peak is not None:
        judged[(section, "aggregator first update, peak RSS")] = (
            f"≤ 200 MB: {_verdict(peak <= 200)}"
        )
