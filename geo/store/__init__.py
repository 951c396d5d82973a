"""The event store: one small interface (`EventStore`), SQLite behind it by default, or
PostgreSQL/PostGIS when NKMAP_DB (or --db) is a postgresql:// URL.

All database access lives in this package (`geo/store/sqlite.py`, `geo/store/postgres.py`);
nothing else in geo/ writes SQL. Every write is one transaction and one batch; readers never
take the write lock.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from geo.settings import Settings, get_settings

if TYPE_CHECKING:
    import datetime as dt

    import pandas as pd

    from geo.store.postgres import PostgresStore
    from geo.store.records import ApplyResult, Batch, BatchInfo, Record
    from geo.store.sqlite import SQLiteStore

# Loaded on first use (PEP 562): `geo.store.gazetteer_index` and the geocoders' cache must not
# pull in pandas and pyarrow with the event store.
_LAZY = {
    "content_hash": "hashing",
    "content_hashes": "hashing",
    "ApplyResult": "records",
    "Batch": "records",
    "BatchInfo": "records",
    "Record": "records",
    "RecordFrame": "records",
    "UserRecord": "records",
    "typed_frame": "records",
    "ROLES": "sqlite",
    "SCHEMA_VERSION": "sqlite",
    "SQLiteStore": "sqlite",
    "PostgresStore": "postgres",
}
__all__ = [*_LAZY, "EventStore", "copy_store", "is_url", "open_store"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"geo.store.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'geo.store' has no attribute {name!r}")


class EventStore(Protocol):
    """What the app, the CLI and ingestion need from a store."""

    def hashes(self, event_ids: Iterable[str]) -> dict[str, str]: ...

    def apply(
        self,
        inserts: Sequence[Record],
        updates: Sequence[Record],
        *,
        batch: BatchInfo,
    ) -> ApplyResult: ...

    def imports(self, limit: int | None = None) -> list[Batch]: ...

    def undo(self, batch_id: int, *, user: str, force: bool = False) -> Batch: ...

    def history(self, event_id: str) -> list[dict[str, object]]: ...

    def events(
        self,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
        types: Iterable[str] | None = None,
    ) -> pd.DataFrame: ...

    def count(self) -> int: ...


def is_url(target: object) -> bool:
    """True for a postgresql:// (or postgres://) URL: a PostgreSQL store, not a file."""
    return isinstance(target, str) and target.split("://", 1)[0].lower() in (
        "postgresql",
        "postgres",
    )


def open_store(
    path: Path | str | None = None, settings: Settings | None = None
) -> SQLiteStore | PostgresStore:
    """The store at `path`, or the configured default (NKMAP_DB, else var/events.sqlite).

    `path` is a SQLite file (a path, or a sqlite:///path URL) or a postgresql:// URL."""
    target = path if path else (settings or get_settings()).db_path
    if is_url(target):
        from geo.store.postgres import PostgresStore

        return PostgresStore(str(target))
    from geo.store.sqlite import SQLiteStore

    text = str(target)
    if text.startswith("sqlite:///"):  # sqlite:///relative/file, sqlite:////absolute/file
        text = text[len("sqlite:///") :]
    return SQLiteStore(Path(text).expanduser())


def copy_store(source: SQLiteStore | PostgresStore, target: SQLiteStore | PostgresStore) -> dict:
    """Copy every event, batch, kept version and account of `source` into the empty store
    `target`, as they are (batch numbers, users, times, hashes); ONE transaction on the
    target. Returns the number of rows per table."""
    from geo.store import transfer

    return transfer.copy_store(source, target)
