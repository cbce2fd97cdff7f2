"""One error hierarchy; every message names its subject (file, line, key, URL).

Expected per-input failures (a bad seed, a broken feed) are recorded and the
run goes on; anything not derived from ``AggregatorError`` is a bug and
propagates.
"""


class AggregatorError(Exception):
    """Base of all errors the aggregator reports to users."""


class ConfigError(AggregatorError):
    """The configuration is invalid: names the file, the key and the problem."""

    def __init__(self, path: object, key: str | None, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        where = f"{self.path}: {key}" if key else self.path
        super().__init__(f"{where}: {problem}")


class InputError(AggregatorError):
    """One input (seed file, source) cannot be used; the rest of the run goes on."""

    def __init__(self, subject: str, reason: str) -> None:
        self.subject = subject
        self.reason = reason
        super().__init__(f"{subject}: {reason}")


class LockedError(AggregatorError):
    """Another writer (daemon or update) holds the store's run lock."""


class SchemaError(AggregatorError):
    """The database schema is newer or older than this version understands."""


class LeaseLost(AggregatorError):
    """A worker's claim on a source lapsed and another worker took it (issue #8)."""


class ListenError(AggregatorError):
    """The server cannot listen where it was told to (a port in use, an unknown address)."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {reason}")
