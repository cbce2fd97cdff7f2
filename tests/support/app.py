"""An open Aggregator over a test project's config and a given database."""

from pathlib import Path

from aggregator import pipeline
from aggregator.config import load_settings


def open_app(project: Path, database_url: str, config: str = "") -> pipeline.Aggregator:
    path = project / "config" / "aggregator.toml"
    if config:
        path.write_text(config, encoding="utf-8")
    settings = load_settings(path, environ={"AGGREGATOR_DATABASE_URL": database_url})
    return pipeline.Aggregator.open(settings)
