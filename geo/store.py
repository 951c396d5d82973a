"""The event store: one small interface, SQLite behind it by default.

All database access lives here. Every write goes through `SQLiteStore._write()`: one
process-wide lock plus `BEGIN IMMEDIATE`, so an import is one transaction that either lands
whole or leaves the store as it was. WAL lets readers (the dashboard's sessions) go on while
an import writes. A PostgreSQL/PostGIS store can implement `EventStore` later.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pandas as pd

from geo.errors import StoreError
from geo.schema import BY_NAME, COLUMN_NAMES, EVENT_TYPES, SIDES, VERIFICATION, Kind
from geo.settings import Settings, get_settings

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 10_000

_SQL_TYPE = {Kind.TEXT: "TEXT", Kind.DATE: "TEXT", Kind.INT: "INTEGER", Kind.FLOAT: "REAL"}


def _in(values: Iterable[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


# CHECK constraints repeat the schema's rules: the database refuses what validation should
# have caught, so a bug upstream cannot store an impossible event.
_CREATE = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS imports (
    import_id INTEGER PRIMARY KEY AUTOINCREMENT,
    imported_at TEXT NOT NULL,
    source_name TEXT,
    rows INTEGER, inserted INTEGER, updated INTEGER, duplicates INTEGER, rejected INTEGER
);
CREATE TABLE IF NOT EXISTS events (
    {", ".join(f"{c} {_SQL_TYPE[BY_NAME[c].kind]}" for c in COLUMN_NAMES)},
    content_hash TEXT NOT NULL,
    import_id INTEGER REFERENCES imports(import_id),
    PRIMARY KEY (event_id),
    CHECK (event_id <> ''),
    CHECK (event_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    CHECK (date_end IS NULL OR date_end >= event_date),
    CHECK (event_type IN ({_in(EVENT_TYPES)})),
    CHECK (side IS NULL OR side IN ({_in(SIDES)})),
    CHECK (verification IS NULL OR verification IN ({_in(VERIFICATION)})),
    CHECK (latitude IS NULL OR latitude BETWEEN -90 AND 90),
    CHECK (longitude IS NULL OR longitude BETWEEN -180 AND 180),
    CHECK ((latitude IS NULL) = (longitude IS NULL)),
    CHECK (fatalities IS NULL OR fatalities >= 0),
    CHECK (source IS NOT NULL AND source <> '')
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_by_date ON events (event_date, event_type);
CREATE INDEX IF NOT EXISTS events_by_end ON events (date_end);
"""


@dataclass(frozen=True)
class Record:
    """One validated event: values keyed by schema column, plus its content hash."""

    values: Mapping[str, object]
    content_hash: str

    @property
    def event_id(self) -> str:
        return str(self.values["event_id"])


@dataclass(frozen=True)
class ApplyResult:
    import_id: int
    inserted: int
    updated: int


class EventStore(Protocol):
    """What the app, the CLI and ingestion need from a store."""

    def hashes(self, event_ids: Iterable[str]) -> dict[str, str]: ...

    def apply(
        self,
        inserts: Sequence[Record],
        updates: Sequence[Record],
        *,
        source_name: str | None = None,
        stats: Mapping[str, int] | None = None,
    ) -> ApplyResult: ...

    def events(
        self,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
        types: Iterable[str] | None = None,
    ) -> pd.DataFrame: ...

    def count(self) -> int: ...


# One write path per process: Streamlit runs each session in its own thread.
_WRITE_LOCK = threading.Lock()


class SQLiteStore:
    """A single-file SQLite event store (WAL; keep it on a local disk, not a network share)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            self._migrate(conn)

    # -- connections ------------------------------------------------------------------------

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the event store {self.path}: {exc}") from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """The one write path: lock, BEGIN IMMEDIATE, commit on success, roll back on error."""
        with _WRITE_LOCK, self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _migrate(self, conn: sqlite3.Connection) -> None:
        # executescript commits any open transaction first, so the script carries its own.
        conn.executescript("BEGIN IMMEDIATE;" + _CREATE + "COMMIT;")
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            elif int(row[0]) != SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: schema version {row[0]}, this program needs {SCHEMA_VERSION}"
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # -- reads ------------------------------------------------------------------------------

    def schema_version(self) -> int:
        with self._connect() as conn:
            return int(
                conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
            )

    def version(self) -> int:
        """Changes whenever an import lands (the last import's id): a cheap cache key."""
        with self._connect() as conn:
            return int(
                conn.execute("SELECT coalesce(max(import_id), 0) FROM imports").fetchone()[0]
            )

    def date_span(self) -> tuple[dt.date, dt.date] | None:
        """First and last day of any event (None for an empty store)."""
        with self._connect() as conn:
            lo, hi = conn.execute(
                "SELECT min(event_date), max(coalesce(date_end, event_date)) FROM events"
            ).fetchone()
        return (dt.date.fromisoformat(lo), dt.date.fromisoformat(hi)) if lo else None

    def count(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])

    def hashes(self, event_ids: Iterable[str]) -> dict[str, str]:
        """Content hash of each stored event among `event_ids`."""
        ids = list(dict.fromkeys(event_ids))
        out: dict[str, str] = {}
        with self._connect() as conn:
            for i in range(0, len(ids), 900):  # SQLite's parameter limit
                chunk = ids[i : i + 900]
                marks = ",".join("?" * len(chunk))
                out.update(
                    conn.execute(
                        f"SELECT event_id, content_hash FROM events WHERE event_id IN ({marks})",  # noqa: S608
                        chunk,
                    ).fetchall()
                )
        return out

    def events(
        self,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
        types: Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """Events overlapping [start, end] (inclusive), optionally of some types, by date.

        A multi-day event overlaps when it starts on or before `end` and ends on or after
        `start`. Columns and dtypes follow geo.schema.
        """
        where, params = [], []
        if end is not None:
            where.append("event_date <= ?")
            params.append(str(end))
        if start is not None:
            where.append("coalesce(date_end, event_date) >= ?")
            params.append(str(start))
        if types is not None:
            types = list(types)
            where.append(f"event_type IN ({','.join('?' * len(types))})")
            params.extend(types)
        sql = f"SELECT {', '.join(COLUMN_NAMES)} FROM events"  # noqa: S608
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY event_date, event_id"
        with self._connect() as conn:
            frame = pd.read_sql_query(sql, conn, params=params)
        return typed_frame(frame)

    # -- writes -----------------------------------------------------------------------------

    def apply(
        self,
        inserts: Sequence[Record],
        updates: Sequence[Record],
        *,
        source_name: str | None = None,
        stats: Mapping[str, int] | None = None,
    ) -> ApplyResult:
        """Insert and update events in ONE transaction; on any error nothing is changed."""
        stats = dict(stats or {})
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        cols = [*COLUMN_NAMES, "content_hash", "import_id"]
        insert_sql = f"INSERT INTO events ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"  # noqa: S608
        update_sql = (
            f"UPDATE events SET {', '.join(f'{c} = ?' for c in cols[1:])} WHERE event_id = ?"  # noqa: S608
        )
        try:
            with self._write() as conn:
                cur = conn.execute(
                    "INSERT INTO imports (imported_at, source_name, rows, inserted, updated, "
                    "duplicates, rejected) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        now,
                        source_name,
                        stats.get("rows"),
                        len(inserts),
                        len(updates),
                        stats.get("duplicates"),
                        stats.get("rejected"),
                    ),
                )
                import_id = int(cur.lastrowid)
                conn.executemany(
                    insert_sql,
                    (_row(r, import_id) for r in inserts),
                )
                for r in updates:
                    row = _row(r, import_id)
                    conn.execute(update_sql, (*row[1:], row[0]))
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"the store refused the import, nothing was changed: {exc}") from exc
        except sqlite3.OperationalError as exc:
            raise StoreError(f"the store is unavailable, nothing was changed: {exc}") from exc
        return ApplyResult(import_id, len(inserts), len(updates))


def _row(record: Record, import_id: int) -> tuple:
    values = record.values
    out = []
    for name in COLUMN_NAMES:
        v = values.get(name)
        if isinstance(v, dt.date):
            v = v.isoformat()
        out.append(v)
    return (*out, record.content_hash, import_id)


def typed_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Cast a frame of schema columns to the schema's dtypes (dates as datetime64)."""
    out = pd.DataFrame(index=frame.index)
    for name in COLUMN_NAMES:
        col = frame[name] if name in frame else pd.Series(None, index=frame.index, dtype=object)
        kind = BY_NAME[name].kind
        if kind is Kind.DATE:
            out[name] = pd.to_datetime(col, format="%Y-%m-%d", errors="raise")
        elif kind is Kind.INT:
            out[name] = pd.to_numeric(col).astype("Int64")
        elif kind is Kind.FLOAT:
            out[name] = pd.to_numeric(col).astype("Float64")
        else:
            out[name] = col.astype("string")
    return out


def open_store(path: Path | str | None = None, settings: Settings | None = None) -> SQLiteStore:
    """The store at `path`, or the configured default (NKMAP_DB, else var/events.sqlite)."""
    settings = settings or get_settings()
    return SQLiteStore(Path(path) if path else settings.db_path)
