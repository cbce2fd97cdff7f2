"""`aggregator init`: a working folder for someone who installed the package without cloning.

The defaults come from the package (``aggregator/defaults`` and
``aggregator/examples`` are links to the repository's ``config/`` and
``seeds/``, and ``aggregator/labelled`` to ``tests/data/topics/``, so the two cannot
drift apart).
"""

from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from aggregator.errors import AggregatorError


@dataclass(frozen=True)
class Created:
    """What init made."""

    files: tuple[Path, ...]
    folders: tuple[Path, ...]


def _plan(folder: Path, examples: bool) -> list[tuple[Path, Traversable]]:
    package = files("aggregator")
    plan = [(folder / "config" / "aggregator.toml", package / "defaults" / "aggregator.toml")]
    topics = package / "defaults" / "topics"
    plan += [
        (folder / "config" / "topics" / item.name, item)
        for item in sorted(topics.iterdir(), key=lambda t: t.name)
        if item.name.endswith(".toml")
    ]
    if examples:
        plan += [
            (folder / "seeds" / item.name, item)
            for item in sorted((package / "examples").iterdir(), key=lambda t: t.name)
            if item.name.endswith(".txt")
        ]
        # Labelled examples, so `aggregator evaluate examples.jsonl` (its --help example)
        # works without a clone.
        plan.append((folder / "examples.jsonl", package / "labelled" / "examples.jsonl"))
    return plan


def init(folder: Path, *, examples: bool = False) -> Created:
    """Create config/ (commented settings and topic rules), seeds/ and feeds/ in ``folder``.

    Refuses, before writing anything, if any file it would create already exists.
    """
    plan = _plan(folder, examples)
    existing = [target for target, _source in plan if target.exists()]
    if existing:
        listed = ", ".join(str(p) for p in existing)
        raise AggregatorError(f"refusing to overwrite existing files: {listed}")
    folders = [folder / "config" / "topics", folder / "seeds", folder / "feeds"]
    for path in folders:
        path.mkdir(parents=True, exist_ok=True)
    for target, source in plan:
        target.write_bytes(source.read_bytes())
    return Created(tuple(target for target, _ in plan), tuple(folders))
