"""``python -m aggregator`` is the same as the ``aggregator`` command."""

from aggregator.cli import run

run()
