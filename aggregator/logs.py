"""Log output for the command line: human-readable lines, or one JSON object per line.

Stages log through ``logging.getLogger("aggregator.<stage>")`` and pass context
(source, item, topic) as ``extra``; only the entry point configures handlers.
"""

import json
import logging
from datetime import UTC, datetime

CONTEXT_FIELDS = ("source", "item", "topic", "path", "count", "duration")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, and any context fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(level: int, json_lines: bool) -> logging.Handler:
    """Send every record at ``level`` or above to stderr; the handler, for filters."""
    handler = logging.StreamHandler()
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    return handler
