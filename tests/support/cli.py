"""Running the ``aggregator`` command as a user would, in a project folder."""

import os
import subprocess
import sys
from pathlib import Path


def run(
    project: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the command with the project as the working directory, as after `cd clone`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "aggregator", *args],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
