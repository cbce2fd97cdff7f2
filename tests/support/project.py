"""Where the repository and its test data are, and a config file for a test project."""

import re
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


DATA = REPO / "tests" / "data"


# The characters no XML document can hold, which lxml refuses to write (test_render_equivalence
# checks this set against lxml character by character): nothing ingested may keep one.
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def write_config(root: Path, extra: str = "") -> Path:
    """A config file in root/config/ using the repository's topics; returns its path."""
    (root / "config").mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "config" / "topics", root / "config" / "topics", dirs_exist_ok=True)
    path = root / "config" / "aggregator.toml"
    path.write_text(extra, encoding="utf-8")
    return path
