"""Storage: a façade over SQLAlchemy. It stores and reads; it decides nothing."""

from aggregator.store.storage import Storage

__all__ = ["Storage"]
