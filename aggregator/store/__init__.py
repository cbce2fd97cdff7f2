"""Storage: a façade over SQLAlchemy. It stores and reads; it decides nothing."""

from aggregator.store.storage import Storage, StoreTransaction

__all__ = ["Storage", "StoreTransaction"]
