"""The event store: one small interface (`EventStore`), SQLite behind it by default.

All database access lives in this package (`geo/store/sqlite.py`); nothing else in geo/
writes SQL. Every write is one transaction and one batch; readers never take the write lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import pandas as pd

from geo.settings import Settings, get_settings
from geo.store.hashing import content_hash, content_hashes
from geo.store.records import (
    ApplyResult,
    Batch,
    BatchInfo,
    Record,
    RecordFrame,
    UserRecord,
    typed_frame,
)
from geo.store.sqlite import ROLES, SCHEMA_VERSION, SQLiteStore

__all__ = [
    "ROLES",
    "SCHEMA_VERSION",
    "ApplyResult",
    "Batch",
    "BatchInfo",
    "EventStore",
    "Record",
    "RecordFrame",
    "SQLiteStore",
    "UserRecord",
    "content_hash",
    "content_hashes",
    "open_store",
    "typed_frame",
]


class EventStore(Protocol):
    """What the app, the CLI and ingestion need from a store."""

    def hashes(self, event_ids: Iterable[str]) -> dict[str, str]: ...

    def apply(
        self,
        inserts: Sequence[Record],
        updates: Sequence[Record],
        *,
        batch: BatchInfo | None = None,
        source_name: str | None = None,
        stats: Mapping[str, int] | None = None,
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


def open_store(path: Path | str | None = None, settings: Settings | None = None) -> SQLiteStore:
    """The store at `path`, or the configured default (NKMAP_DB, else var/events.sqlite)."""
    settings = settings or get_settings()
    return SQLiteStore(Path(path) if path else settings.db_path)
