"""The SQLite event store (the embedded default).

All SQLite access lives here. Every write goes through `SQLiteStore._write()`: one
process-wide lock plus `BEGIN IMMEDIATE`, so an import is one transaction that either lands
whole or leaves the store as it was. WAL lets readers (the dashboard's sessions) go on while
an import writes. geo/store/postgres.py is the same store on PostgreSQL/PostGIS.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from geo.errors import StoreError, Superseded
from geo.schema import BY_NAME, COLUMN_NAMES, EVENT_TYPES, SIDES, VERIFICATION, Kind
from geo.store import giveway, query
from geo.store.hashing import content_hashes
from geo.store.records import (
    ApplyResult,
    Batch,
    BatchInfo,
    Record,
    RecordFrame,
    UserRecord,
    _rows_frame,
)

# 2: content hashes are sha256 of the canonical row text (see `content_hash`), not of JSON;
# opening a version-1 store recomputes them (and records the longest event) in one transaction.
# 3: every import is a batch (who, when, file, sha256, counts) with the previous version of
# each event it wrote (event_versions), so it can be listed and undone; accounts (users,
# signin_failures). Opening a version-2 store adds them in one transaction.
# 4: a second report URL (source_url_2). 5: the events_cover index (the map page's counts).
SCHEMA_VERSION = 5
BUSY_TIMEOUT_MS = 10_000
# Rows per executemany batch: bounds the Python objects alive at once during a large import.
WRITE_BATCH = 50_000
# Rows per fetch when reading events: bounds the Python objects alive at once.
READ_BATCH = 50_000
# An import at least this large, and larger than the store, rebuilds the secondary indexes
# after writing instead of updating them row by row (a sort beats a million random updates).
REINDEX_MIN_ROWS = 20_000

_SQL_TYPE = {Kind.TEXT: "TEXT", Kind.DATE: "TEXT", Kind.INT: "INTEGER", Kind.FLOAT: "REAL"}


def _one_of(column: str, values: Iterable[str]) -> str:
    # `c = 'a' OR c = 'b' ...`, not `c IN (...)`: SQLite builds an IN list's lookup table
    # afresh for every inserted row, which made a million-row import three times slower.
    quoted = ("'" + v.replace("'", "''") + "'" for v in values)
    return "(" + " OR ".join(f"{column} = {q}" for q in quoted) + ")"


# CHECK constraints repeat the schema's rules: the database refuses what validation should
# have caught, so a bug upstream cannot store an impossible event.
_CREATE_EVENTS = f"""
CREATE TABLE IF NOT EXISTS events (
    {", ".join(f"{c} {_SQL_TYPE[BY_NAME[c].kind]}" for c in COLUMN_NAMES)},
    content_hash TEXT NOT NULL,
    import_id INTEGER REFERENCES imports(import_id),
    -- Stored in date order: a date window is one contiguous range of the table.
    PRIMARY KEY (event_date, event_id),
    CHECK (event_id <> ''),
    CHECK (event_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    CHECK (date_end IS NULL OR date_end >= event_date),
    CHECK {_one_of("event_type", EVENT_TYPES)},
    CHECK (side IS NULL OR {_one_of("side", SIDES)}),
    CHECK (verification IS NULL OR {_one_of("verification", VERIFICATION)}),
    CHECK (latitude IS NULL OR latitude BETWEEN -90 AND 90),
    CHECK (longitude IS NULL OR longitude BETWEEN -180 AND 180),
    CHECK ((latitude IS NULL) = (longitude IS NULL)),
    CHECK (fatalities IS NULL OR fatalities >= 0),
    CHECK (source IS NOT NULL AND source <> '')
) WITHOUT ROWID"""
# Secondary indexes, apart so a large import can drop and rebuild them inside its transaction.
# events_by_id makes event_id unique: an import that broke that fails when it is rebuilt.
# events_by_import finds a batch's events: recording an import's inserts, checking an undo.
# events_cover holds what the map page counts (geo.store.query): a period's timeline, counts
# and proximity read this narrow index in date and type order, not the wide rows (at 424,000
# events in a period: 0.43 s -> 0.26 s for the timeline, measured).
_INDEXES = {
    "events_by_id": "CREATE UNIQUE INDEX IF NOT EXISTS events_by_id ON events (event_id)",
    "events_by_end": "CREATE INDEX IF NOT EXISTS events_by_end ON events (date_end)",
    "events_by_import": "CREATE INDEX IF NOT EXISTS events_by_import ON events (import_id)",
    "events_cover": "CREATE INDEX IF NOT EXISTS events_cover ON events "
    "(event_date, event_type, date_end, latitude, longitude, fatalities)",
}
# What a batch's `format` may be: the import formats of geo.ingest, or an undo.
BATCH_FORMATS = ("native", "acled", "ucdp", "generic", "undo")
ROLES = ("viewer", "editor", "admin")
# The `user` of the batches a version-2 store recorded (it did not record who imported).
USER_BEFORE_V3 = "unknown (before v3)"
# event_versions keeps a previous version: every schema column but the key event_id.
_VERSION_COLUMNS = tuple(c for c in COLUMN_NAMES if c != "event_id")
# The columns version 3 added to imports (a version-2 store gets them by ALTER TABLE).
_V3_IMPORTS_COLUMNS = (
    "sha256 TEXT",
    f"format TEXT CHECK (format IS NULL OR {_one_of('format', BATCH_FORMATS)})",
    "undone_at TEXT",
    "undone_by TEXT",
    "undo_of INTEGER REFERENCES imports(import_id)",
)
_IMPORTS_COLUMNS = """
    user TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    file_name TEXT,
    rows INTEGER, inserted INTEGER, updated INTEGER, duplicates INTEGER, rejected INTEGER,
    """ + ",\n    ".join(_V3_IMPORTS_COLUMNS)
# One statement per item: a migration runs them inside its own transaction (executescript
# would commit it). `imports` is the list of batches (`import_id` is the batch number users
# see). `event_versions` holds, per batch and event it wrote, the event's version BEFORE the
# batch (NULL columns for an insert) and what the batch did: insert, update, or (an undo)
# delete. `users` and `signin_failures` hold the accounts; the hashing lives elsewhere.
_CREATE = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS imports (\n    import_id INTEGER PRIMARY KEY AUTOINCREMENT,"
    + _IMPORTS_COLUMNS
    + "\n)",
    _CREATE_EVENTS,
    *_INDEXES.values(),
    f"""CREATE TABLE IF NOT EXISTS event_versions (
    import_id INTEGER NOT NULL REFERENCES imports(import_id),
    event_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action = 'insert' OR action = 'update' OR action = 'delete'),
    {", ".join(f"{c} {_SQL_TYPE[BY_NAME[c].kind]}" for c in _VERSION_COLUMNS)},
    content_hash TEXT,
    prev_import_id INTEGER,
    PRIMARY KEY (import_id, event_id)
) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS event_versions_by_event ON event_versions (event_id, import_id)",
    """CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY COLLATE NOCASE CHECK (name <> ''),
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT
)""",
    """CREATE TABLE IF NOT EXISTS signin_failures (
    name TEXT NOT NULL COLLATE NOCASE,
    at TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS signin_failures_by_name ON signin_failures (name, at)",
]
# meta key: the longest (date_end - event_date) in days of any event ever written. A window
# query can then bound event_date from below, so it reads an index range, not the table.
_MAX_DAYS = "max_duration_days"


# One write path per process: Streamlit runs each session in its own thread.
_WRITE_LOCK = threading.Lock()
# Store files this process has seen at SCHEMA_VERSION, as (path, device, inode): opening one
# again reads nothing (a page reload opens the store). A file replaced at the same path has
# another inode, so it is checked again.
_CURRENT: set[tuple[str, int, int]] = set()


def _file_key(path: Path) -> tuple[str, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), st.st_dev, st.st_ino)


class SQLiteStore:
    """A single-file SQLite event store (WAL; keep it on a local disk, not a network share)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        key = _file_key(self.path)
        if key is not None and key in _CURRENT:
            return
        with self._connect() as conn:
            # A plain read first: opening a current store never waits for an import's lock.
            if _read_version(conn) != SCHEMA_VERSION:
                self._migrate(conn)
        key = _file_key(self.path)
        if key is not None:
            _CURRENT.add(key)

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
            # In WAL, NORMAL still never corrupts the store; a power cut may lose the last import.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.create_function("nk_lower", 1, query.sqlite_lower, deterministic=True)
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A connection for the map page's reads: inside geo.store.giveway.give_way, its
        statements stop (Superseded) once their answer is no longer wanted."""
        stop = giveway.current()
        giveway.check(stop)
        with self._connect() as conn:
            if stop is None:
                yield conn
                return
            conn.set_progress_handler(lambda: bool(stop()), giveway.PROGRESS_STEPS)
            try:
                yield conn
            except sqlite3.OperationalError as exc:
                if "interrupted" in str(exc) and stop():
                    raise Superseded("the read was no longer wanted") from exc
                raise

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
        """Create a new store or upgrade an old one: ONE transaction under the write lock."""
        with _WRITE_LOCK:
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = _read_version(conn)  # again: another thread may have done it
                if version == SCHEMA_VERSION:
                    conn.execute("COMMIT")
                    return
                if version is not None and version > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.path}: schema version {version}, this program needs "
                        f"{SCHEMA_VERSION}"
                    )
                if version == 1:
                    _upgrade_from_1(conn)
                    version = 2
                if version == 2:
                    _upgrade_from_2(conn)
                    version = 3
                if version == 3:
                    _upgrade_from_3(conn)
                for sql in _CREATE:
                    conn.execute(sql)
                if version is None:
                    _set_meta(conn, _MAX_DAYS, _longest_stored_event(conn))
                _set_meta(conn, "schema_version", SCHEMA_VERSION)
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
        """Changes whenever an import or an undo lands (the last batch's id): a cheap cache
        key."""
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

    def claimants(self) -> list[str]:
        """Every distinct `claimed_by` of the stored events, sorted."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT DISTINCT claimed_by FROM events WHERE claimed_by IS NOT NULL "
                "ORDER BY claimed_by"
            ).fetchall()
        return [r[0] for r in rows]

    def value_counts(self, column: str) -> pd.Series:
        """How many events have each value of a text column (None for blank), counted in the
        store: the Sources page needs these, not the events."""
        if column not in COLUMN_NAMES or BY_NAME[column].kind is not Kind.TEXT:
            raise StoreError(f"value_counts needs a text column of the schema, not {column!r}")
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT {column}, count(*) FROM events GROUP BY {column}"  # noqa: S608 (a schema name)
            ).fetchall()
        return pd.Series({value: n for value, n in rows}, dtype="int64", name=column)

    def count(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])

    def hashes(self, event_ids: Iterable[str]) -> dict[str, str]:
        """Content hash of each stored event among `event_ids`."""
        with self._connect() as conn:
            if conn.execute("SELECT NOT EXISTS (SELECT 1 FROM events)").fetchone()[0]:
                return {}  # a first import of a million rows asks about nothing
            ids = list(dict.fromkeys(event_ids))
            if not ids:
                return {}
            if len(ids) <= 900:  # SQLite's parameter limit
                marks = ",".join("?" * len(ids))
                return dict(
                    conn.execute(
                        f"SELECT event_id, content_hash FROM events WHERE event_id IN ({marks})",  # noqa: S608
                        ids,
                    ).fetchall()
                )
            if len(ids) > _count(conn) // 8:
                # Most of the store: one sequential read beats a lookup per id.
                wanted = set(ids)
                rows = conn.execute("SELECT event_id, content_hash FROM events")
                return {i: h for i, h in rows if i in wanted}
            # Many ids: one join against a temporary table, not a thousand IN (...) queries.
            conn.execute("CREATE TEMP TABLE wanted (event_id TEXT PRIMARY KEY) WITHOUT ROWID")
            conn.executemany("INSERT INTO wanted VALUES (?)", ((i,) for i in ids))
            return dict(
                conn.execute(
                    "SELECT event_id, content_hash FROM wanted JOIN events USING (event_id)"
                ).fetchall()
            )

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
        with self._connect() as conn:
            if end is not None:
                where.append("event_date <= ?")
                params.append(str(end))
            if start is not None:
                where.append("coalesce(date_end, event_date) >= ?")
                params.append(str(start))
                # Not indexable on its own; no event lasts longer than the longest one stored,
                # so none that overlaps starts before start - longest: an index range.
                lower = _days_before(start, _get_meta(conn, _MAX_DAYS))
                if lower is not None:
                    where.append("event_date >= ?")
                    params.append(lower)
            if types is not None:
                types = list(types)
                where.append(f"event_type IN ({','.join('?' * len(types))})")
                params.extend(types)
            sql = f"SELECT {', '.join(COLUMN_NAMES)} FROM events"  # noqa: S608
            if where:
                sql += " WHERE " + " AND ".join(where)
            sql += " ORDER BY event_date, event_id"
            # In batches: a million rows as Python tuples at once took ~3 GB (measured peak).
            cursor = conn.execute(sql, params)
            parts = []
            while rows := cursor.fetchmany(READ_BATCH):
                parts.append(_rows_frame(rows))
        if not parts:
            return _rows_frame([])
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)

    # -- the map page's questions, answered in the store (geo.store.query) --------------------

    def summary(self, f: query.Filters) -> query.Summary:
        with self._read() as conn:
            return query.summary(conn, f, query.SQLITE, _get_meta(conn, _MAX_DAYS))

    def timeline(self, f: query.Filters) -> tuple[pd.DataFrame, pd.DataFrame]:
        with self._read() as conn:
            return query.timeline(conn, f, query.SQLITE, _get_meta(conn, _MAX_DAYS))

    def frame_box(self, f: query.Filters):
        with self._read() as conn:
            return query.frame_box(conn, f, query.SQLITE, _get_meta(conn, _MAX_DAYS))

    def page(self, f: query.Filters, offset: int, limit: int) -> pd.DataFrame:
        with self._read() as conn:
            return query.page(conn, f, query.SQLITE, _get_meta(conn, _MAX_DAYS), offset, limit)

    def near_counts(self, f: query.Filters, lines, km: float) -> pd.DataFrame:
        with self._read() as conn:
            return query.near_counts_sqlite(conn, f, _get_meta(conn, _MAX_DAYS), lines, km)

    def frames(self, f: query.Filters) -> Iterator[pd.DataFrame]:
        """The view's events by date, in frames of up to query.READ_BATCH rows."""
        with self._read() as conn:
            clause, params = query.where(f, query.SQLITE, _get_meta(conn, _MAX_DAYS))
            yield from query.frames(conn.cursor(), clause, params)

    def imports(self, limit: int | None = None) -> list[Batch]:
        """The batches (imports and undos), newest first; at most `limit` of them."""
        sql = _BATCH_SELECT + " ORDER BY import_id DESC"
        params: tuple = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (int(limit),)
        with self._connect() as conn:
            return [Batch(*row) for row in conn.execute(sql, params)]

    def batch(self, batch_id: int) -> Batch | None:
        """One batch, or None when there is no such batch."""
        with self._connect() as conn:
            return _batch_row(conn, batch_id)

    def history(self, event_id: str) -> list[dict[str, object]]:
        """Every version of one event, oldest first; [] for an id the store never had.

        Each version: `batch` (the batch that made it), `user`, `at`, `file`, `format`,
        `undo_of`, `action` ('insert', 'update', 'delete' for an undo that removed the event,
        'unrecorded' for a version written before the store kept versions), `values` (the
        event's schema columns at that version; None after a delete), `content_hash`,
        `current` (True for the stored version, which comes last)."""
        cols = ", ".join(_VERSION_COLUMNS)
        with self._connect() as conn:
            conn.row_factory = sqlite3.Row
            conn.execute("BEGIN")  # one snapshot for the reads below (a read: no write lock)
            rows = conn.execute(
                f"SELECT import_id, action, {cols}, content_hash, prev_import_id "  # noqa: S608
                "FROM event_versions WHERE event_id = ? ORDER BY import_id",
                (event_id,),
            ).fetchall()
            now = conn.execute(
                f"SELECT {cols}, content_hash, import_id FROM events WHERE event_id = ?",  # noqa: S608
                (event_id,),
            ).fetchone()
            ids = {r["import_id"] for r in rows} | {r["prev_import_id"] for r in rows[:1]}
            if now is not None:
                ids.add(now["import_id"])
            batches = {i: _batch_row(conn, i) for i in ids if i is not None}
            conn.execute("COMMIT")
        if not rows:  # never changed since the store kept versions (or never there)
            if now is None:
                return []
            i = now["import_id"]
            only = _history_entry(batches.get(i), i, "unrecorded", _version(event_id, now))
            return [{**only, "current": True}]
        # Version i is what batch i wrote: the previous version the next batch recorded, or
        # the stored row after the last batch.
        states = [_version(event_id, r) for r in rows[1:]]
        states.append(_version(event_id, now))
        out = []
        if rows[0]["action"] != "insert" and rows[0]["content_hash"] is not None:
            # A version older than the recorded ones (written before version 3).
            first = rows[0]["prev_import_id"]
            out.append(
                _history_entry(batches.get(first), first, "unrecorded", _version(event_id, rows[0]))
            )
        for r, state in zip(rows, states, strict=True):
            i = r["import_id"]
            out.append(_history_entry(batches.get(i), i, r["action"], state))
        if out and now is not None:
            out[-1]["current"] = True
        return out

    # -- writes -----------------------------------------------------------------------------

    def apply(
        self,
        inserts: Sequence[Record],
        updates: Sequence[Record],
        *,
        batch: BatchInfo,
    ) -> ApplyResult:
        """Insert and update events as ONE batch in ONE transaction: the batch's row in
        `imports`, the events, and in `event_versions` the previous version of every event it
        updates (an insert records only its id). On any error nothing is changed.

        `batch` says who imported which file (every write names its user). `inserts` and
        `updates` may be RecordFrames: their columns go to SQLite in batches, without a dict
        per row."""
        cols = [*COLUMN_NAMES, "content_hash", "import_id"]
        update_sql = (
            f"UPDATE events SET {', '.join(f'{c} = ?' for c in cols[1:])} WHERE event_id = ?"  # noqa: S608
        )
        try:
            with self._write() as conn:
                import_id = _insert_batch(conn, batch, inserted=len(inserts), updated=len(updates))
                rebuild = len(inserts) >= REINDEX_MIN_ROWS and len(inserts) > _count(conn)
                if len(updates):
                    # The rows as they are now, copied in one statement, then overwritten.
                    _with_ids(conn, "updating", _event_ids(updates))
                    saved = conn.execute(_SAVE_VERSIONS, (import_id,)).rowcount
                    missing = _scalar(conn, "SELECT count(*) FROM temp.updating") - saved
                    if missing:  # e.g. an undo removed them after the file was checked
                        raise StoreError(
                            f"the store changed since the file was checked: {missing} of the "
                            "events to update are gone; nothing was changed, check it again"
                        )
                    conn.execute("DROP TABLE temp.updating")
                    # Every column, NULLs included: an update must clear what the event no
                    # longer has.
                    for _, rows in _batches(updates, import_id):
                        conn.executemany(update_sql, (row[1:] + row[:1] for row in rows))
                if rebuild:
                    conn.execute("PRAGMA cache_size = -65536")  # 64 MB while this import runs
                    for name in _INDEXES:
                        conn.execute(f"DROP INDEX {name}")
                for names, rows in _batches(inserts, import_id, skip_empty=True):
                    conn.executemany(_insert_sql(names), rows)
                if rebuild:
                    for sql in _INDEXES.values():
                        conn.execute(sql)
                if len(inserts):
                    # Inserts have no previous version: their ids, in one statement (the
                    # updated events, now of this batch too, are there already: ignored). In
                    # id order, the table's: a million ids append instead of splitting pages.
                    conn.execute(
                        "INSERT OR IGNORE INTO event_versions (import_id, event_id, action) "
                        "SELECT ?, event_id, 'insert' FROM events WHERE import_id = ? "
                        "ORDER BY event_id",
                        (import_id, import_id),
                    )
                longest = max(_longest_event(inserts), _longest_event(updates))
                if longest > _get_meta(conn, _MAX_DAYS):
                    _set_meta(conn, _MAX_DAYS, longest)
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"the store refused the import, nothing was changed: {exc}") from exc
        except sqlite3.OperationalError as exc:
            raise StoreError(f"the store is unavailable, nothing was changed: {exc}") from exc
        return ApplyResult(import_id, len(inserts), len(updates))

    def undo(self, batch_id: int, *, user: str, force: bool = False) -> Batch:
        """Undo batch `batch_id` in ONE transaction; returns the undo's own batch.

        The events the batch inserted are removed; those it updated get back the version they
        had before it (values, content hash and batch). Nothing else changes. The undo is a
        batch itself (format 'undo', undo_of = batch_id): its event_versions rows keep what it
        removed or replaced, so `history` shows it. The undone batch gets undone_at/_by.

        Refused (StoreError, nothing changed): an unknown batch, an undo batch, a batch
        already undone, a batch imported before the store kept versions; and, unless `force`,
        a batch any of whose events is no longer as the batch left it because a later batch
        changed it (a later batch undone since does not count: its undo put the event back).

        `force` applies the same rule regardless of later changes: the events the batch
        inserted are removed and the events it updated get their version from before the
        batch, even when a later batch changed them since. Those later changes are lost from
        the events (they stay in `history`); the later batches are not marked undone. An event
        the batch updated that is gone by then (a forced undo removed it) is re-created.
        """
        now = _now()
        vcols = ", ".join(_VERSION_COLUMNS)
        current = ", ".join(f"e.{c}" for c in _VERSION_COLUMNS)
        try:
            with self._write() as conn:
                conn.execute("PRAGMA cache_size = -65536")  # 64 MB: an undo may be large
                target = _batch_row(conn, batch_id)
                if target is None:
                    raise StoreError(f"there is no batch {batch_id}")
                if target.format == "undo":
                    raise StoreError(
                        f"batch {batch_id} is the undo of batch {target.undo_of}: an undo "
                        "cannot be undone (import the file again instead)"
                    )
                if target.undone_at is not None:
                    raise StoreError(
                        f"batch {batch_id} was already undone at {target.undone_at} "
                        f"by {target.undone_by}"
                    )
                versions = _scalar(
                    conn, "SELECT count(*) FROM event_versions WHERE import_id = ?", batch_id
                )
                if versions == 0 and (target.inserted or target.updated):
                    raise StoreError(
                        f"batch {batch_id} was imported before the store kept previous "
                        "versions (schema version 3): it cannot be undone"
                    )
                if not force:
                    _refuse_if_changed_later(conn, batch_id, versions)
                undo_id = _insert_batch(
                    conn,
                    BatchInfo(user=user, format="undo"),
                    inserted=0,
                    updated=0,
                    undo_of=batch_id,
                )
                # What the undo replaces, as it is now: removed (the batch's inserts),
                # replaced (its updates), or nothing when a forced undo re-creates an event.
                conn.execute(
                    "INSERT INTO event_versions (import_id, event_id, action, "  # noqa: S608
                    f"{vcols}, content_hash, prev_import_id) "
                    "SELECT ?, v.event_id, CASE WHEN v.action = 'insert' THEN 'delete' "
                    "WHEN e.event_id IS NULL THEN 'insert' ELSE 'update' END, "
                    f"{current}, e.content_hash, e.import_id "
                    "FROM event_versions v LEFT JOIN events e ON e.event_id = v.event_id "
                    "WHERE v.import_id = ? AND (v.action <> 'insert' OR e.event_id IS NOT NULL)",
                    (undo_id, batch_id),
                )
                counts = dict(
                    conn.execute(
                        "SELECT action, count(*) FROM event_versions WHERE import_id = ? "
                        "GROUP BY action",
                        (undo_id,),
                    ).fetchall()
                )
                # Remove every event the batch wrote (its updates come back just below). Most of
                # the store: drop the indexes and rebuild them after, as a large import does.
                rebuild = versions >= REINDEX_MIN_ROWS and 2 * versions > _count(conn)
                if rebuild:
                    for name in _INDEXES:
                        conn.execute(f"DROP INDEX {name}")
                gone = conn.execute("DELETE FROM events WHERE import_id = ?", (batch_id,)).rowcount
                if gone != versions:  # forced: some are another batch's version by now
                    conn.execute(
                        "DELETE FROM events WHERE event_id IN "
                        "(SELECT event_id FROM event_versions WHERE import_id = ?)",
                        (batch_id,),
                    )
                conn.execute(
                    f"INSERT INTO events (event_id, {vcols}, content_hash, import_id) "  # noqa: S608
                    f"SELECT event_id, {vcols}, content_hash, prev_import_id FROM event_versions "
                    "WHERE import_id = ? AND action = 'update' ORDER BY event_date, event_id",
                    (batch_id,),
                )
                if rebuild:
                    for sql in _INDEXES.values():
                        conn.execute(sql)
                conn.execute(
                    "UPDATE imports SET undone_at = ?, undone_by = ? WHERE import_id = ?",
                    (now, user, batch_id),
                )
                removed, restored, recreated = (
                    counts.get(a, 0) for a in ("delete", "update", "insert")
                )
                conn.execute(
                    "UPDATE imports SET rows = ?, inserted = ?, updated = ?, duplicates = 0, "
                    "rejected = 0 WHERE import_id = ?",
                    (removed + restored + recreated, recreated, restored, undo_id),
                )
                done = _batch_row(conn, undo_id)
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"the store refused the undo, nothing was changed: {exc}") from exc
        except sqlite3.OperationalError as exc:
            raise StoreError(f"the store is unavailable, nothing was changed: {exc}") from exc
        assert done is not None
        return done

    # -- accounts (the hashing and sign-in rules live outside the store) --------------------

    def add_user(self, name: str, role: str, password_hash: str, *, created_by: str | None) -> None:
        """A new account; StoreError if the name exists (names ignore ASCII case)."""
        _check_role(role)
        if not name or name != name.strip():
            raise StoreError(f"a user name must be non-empty without outer spaces: {name!r}")
        try:
            with self._write() as conn:
                conn.execute(
                    "INSERT INTO users (name, role, password_hash, created_at, created_by) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (name, role, password_hash, _now(), created_by),
                )
        except sqlite3.IntegrityError as exc:  # never echo the statement's parameters
            raise StoreError(f"user {name!r} already exists") from exc

    def user(self, name: str) -> UserRecord | None:
        with self._connect() as conn:
            row = conn.execute(f"{_USER_SELECT} WHERE name = ?", (name,)).fetchone()  # noqa: S608
        return UserRecord(*row) if row else None

    def users(self) -> list[UserRecord]:
        """Every account, by name."""
        with self._connect() as conn:
            return [UserRecord(*r) for r in conn.execute(f"{_USER_SELECT} ORDER BY name")]  # noqa: S608

    def remove_user(self, name: str) -> bool:
        """False when there was no such user."""
        with self._write() as conn:
            return conn.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount > 0

    def set_password_hash(self, name: str, password_hash: str) -> bool:
        """False when there is no such user."""
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE users SET password_hash = ? WHERE name = ?", (password_hash, name)
            )
            return cur.rowcount > 0

    def set_role(self, name: str, role: str) -> bool:
        """False when there is no such user."""
        _check_role(role)
        with self._write() as conn:
            return (
                conn.execute("UPDATE users SET role = ? WHERE name = ?", (role, name)).rowcount > 0
            )

    def record_signin_failure(self, name: str, at: dt.datetime) -> None:
        """A failed sign-in for `name` (known user or not) at `at` (naive means UTC)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO signin_failures (name, at) VALUES (?, ?)", (name, _utc_text(at))
            )

    def signin_failures_since(self, name: str, since: dt.datetime) -> int:
        """Failed sign-ins for `name` at or after `since`."""
        with self._connect() as conn:
            return _scalar(
                conn,
                "SELECT count(*) FROM signin_failures WHERE name = ? AND at >= ?",
                name,
                _utc_text(since),
            )

    def clear_signin_failures(self, name: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM signin_failures WHERE name = ?", (name,))

    def prune_signin_failures(self, before: dt.datetime) -> int:
        """Forget every failure older than `before` (of any name); how many were removed."""
        with self._write() as conn:
            cur = conn.execute("DELETE FROM signin_failures WHERE at < ?", (_utc_text(before),))
            return cur.rowcount


# ---------------------------------------------------------------------------------- helpers


_BATCH_SELECT = (
    "SELECT import_id, user, imported_at, file_name, sha256, format, rows, inserted, updated, "
    "duplicates, rejected, undone_at, undone_by, undo_of FROM imports"
)
_USER_SELECT = "SELECT name, role, password_hash, created_at, created_by FROM users"
# The events an import is about to update (ids in temp.updating) as they are now: their
# previous versions, copied into event_versions in one statement.
_SAVE_VERSIONS = (
    "INSERT INTO event_versions (import_id, event_id, action, "  # noqa: S608
    + ", ".join(_VERSION_COLUMNS)
    + ", content_hash, prev_import_id) SELECT ?, event_id, 'update', "
    + ", ".join(_VERSION_COLUMNS)
    + ", content_hash, import_id FROM events "
    "WHERE event_id IN (SELECT event_id FROM temp.updating)"
)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _utc_text(at: dt.datetime) -> str:
    """A moment as fixed-width ISO text in UTC (text order is time order); naive means UTC."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise StoreError(f"a role is one of {', '.join(ROLES)}, not {role!r}")


def _scalar(conn: sqlite3.Connection, sql: str, *params: object) -> int:
    return int(conn.execute(sql, params).fetchone()[0])


def _insert_batch(
    conn: sqlite3.Connection,
    info: BatchInfo,
    *,
    inserted: int,
    updated: int,
    undo_of: int | None = None,
) -> int:
    cur = conn.execute(
        "INSERT INTO imports (user, imported_at, file_name, sha256, format, rows, inserted, "
        "updated, duplicates, rejected, undo_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            info.user,
            _now(),
            info.file_name,
            info.sha256 or None,
            info.format,
            info.rows,
            inserted,
            updated,
            info.duplicates,
            info.rejected,
            undo_of,
        ),
    )
    return int(cur.lastrowid)


def _batch_row(conn: sqlite3.Connection, batch_id: int) -> Batch | None:
    row = conn.execute(f"{_BATCH_SELECT} WHERE import_id = ?", (batch_id,)).fetchone()  # noqa: S608
    return Batch(*row) if row else None


def _event_ids(records: Sequence[Record]) -> list[str]:
    if isinstance(records, RecordFrame):
        return records.event_ids()
    return [r.event_id for r in records]


def _with_ids(conn: sqlite3.Connection, table: str, ids: Iterable[str]) -> None:
    """A temporary table `table` of event ids (for one statement over many events)."""
    conn.execute(f"CREATE TEMP TABLE {table} (event_id TEXT PRIMARY KEY) WITHOUT ROWID")
    conn.executemany(f"INSERT OR IGNORE INTO temp.{table} VALUES (?)", ((i,) for i in ids))  # noqa: S608


def _refuse_if_changed_later(conn: sqlite3.Connection, batch_id: int, versions: int) -> None:
    """StoreError naming the later batches and a few events, when any event the batch wrote is
    no longer as it left it (its batch would then be another one, or it would be gone)."""
    if _scalar(conn, "SELECT count(*) FROM events WHERE import_id = ?", batch_id) == versions:
        return  # every event it wrote is still its version (event ids are unique)
    conn.execute(
        "CREATE TEMP TABLE changed AS SELECT v.event_id FROM event_versions v "
        "LEFT JOIN events e ON e.event_id = v.event_id "
        "WHERE v.import_id = ? AND e.import_id IS NOT ? ORDER BY v.event_id",
        (batch_id, batch_id),
    )
    n = _scalar(conn, "SELECT count(*) FROM temp.changed")
    sample = [r[0] for r in conn.execute("SELECT event_id FROM temp.changed LIMIT 5")]
    later = [
        str(r[0])
        for r in conn.execute(
            "SELECT DISTINCT v.import_id FROM event_versions v JOIN imports i USING (import_id) "
            "WHERE v.event_id IN (SELECT event_id FROM temp.changed) AND v.import_id > ? "
            "AND i.undone_at IS NULL ORDER BY v.import_id",
            (batch_id,),
        )
    ]
    by = f" by batch{'es' if len(later) > 1 else ''} {', '.join(later)}" if later else ""
    first = f"batch{'es' if len(later) > 1 else ''} {', '.join(reversed(later))}"
    if not later:
        first = "the later batches"
    more = ", ..." if n > len(sample) else ""
    raise StoreError(
        f"batch {batch_id} cannot be undone: {n} of its events {'was' if n == 1 else 'were'} "
        f"changed since{by} "
        f"(event {', '.join(sample)}{more}). Undo {first} first, or force the undo: it then "
        f"removes the events batch {batch_id} inserted and puts back the version from before "
        "it of those it updated, losing the later changes"
    )


def _version(event_id: str, row: sqlite3.Row | None) -> tuple[dict[str, object] | None, str | None]:
    """(schema columns, content hash) of an events or event_versions row; (None, None) when
    there is no version (an insert's previous one, a removed event)."""
    if row is None or row["content_hash"] is None:
        return None, None
    return {"event_id": event_id, **{c: row[c] for c in _VERSION_COLUMNS}}, row["content_hash"]


def _history_entry(
    batch: Batch | None,
    batch_id: int | None,
    action: str,
    version: tuple[dict[str, object] | None, str | None],
) -> dict[str, object]:
    return {
        "batch": batch_id,
        "user": batch.user if batch else None,
        "at": batch.at if batch else None,
        "file": batch.file if batch else None,
        "format": batch.format if batch else None,
        "undo_of": batch.undo_of if batch else None,
        "action": action,
        "current": False,
        "content_hash": version[1],
        "values": version[0],
    }


def _count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])


def _get_meta(conn: sqlite3.Connection, key: str) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row else 0


def _set_meta(conn: sqlite3.Connection, key: str, value: int) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, str(value)))


def _longest_stored_event(conn: sqlite3.Connection) -> int:
    row = conn.execute(
        "SELECT max(julianday(date_end) - julianday(event_date)) FROM events "
        "WHERE date_end IS NOT NULL"
    ).fetchone()
    return int(round(row[0] or 0))


def _read_version(conn: sqlite3.Connection) -> int | None:
    """meta.schema_version, or None for a new (empty) store. A plain read: no write lock."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise StoreError(f"cannot read the event store: {exc}") from exc
    return int(row[0]) if row else None


# The event columns version 4 added (a version-3 store gets them by ALTER TABLE).
_V4_EVENT_COLUMNS = ("source_url_2",)


def _upgrade_from_3(conn: sqlite3.Connection) -> None:
    """Version 3 -> 4, inside the caller's transaction: events and their kept versions get a
    second report URL (`source_url_2`, empty), and every content hash is recomputed, since the
    hash covers every schema column (so re-importing a file still finds its duplicates)."""
    keys = {"events": ("event_date", "event_id"), "event_versions": ("import_id", "event_id")}
    for table, key in keys.items():
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if not have:  # (a version-2 store gets event_versions, with the column, afterwards)
            continue
        for column in _V4_EVENT_COLUMNS:
            if column not in have:  # (a version-1 store rebuilt its events table: it has it)
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
        columns = COLUMN_NAMES if table == "events" else ("import_id", *COLUMN_NAMES)
        _rehash(conn, table, key, columns)


def _rehash(
    conn: sqlite3.Connection, table: str, key: tuple[str, ...], columns: tuple[str, ...]
) -> None:
    """Recompute `table`'s content hashes READ_BATCH rows at a time, in primary-key order
    (rows without a hash, the versions of inserts, keep none)."""
    order, marks = ", ".join(key), ", ".join("?" * len(key))
    select = f"SELECT {', '.join(columns)} FROM {table} WHERE content_hash IS NOT NULL"  # noqa: S608
    update = (
        f"UPDATE {table} SET content_hash = ? WHERE "  # noqa: S608
        + " AND ".join(f"{k} = ?" for k in key)
    )
    after: tuple = ()
    while True:
        page = f" AND ({order}) > ({marks})" if after else ""
        rows = conn.execute(f"{select}{page} ORDER BY {order} LIMIT {READ_BATCH}", after).fetchall()
        if not rows:
            return
        frame = pd.DataFrame.from_records(rows, columns=list(columns))
        hashes = content_hashes(frame[list(COLUMN_NAMES)])
        at = [columns.index(k) for k in key]  # the key from the rows as read: Python values
        keys = ([row[i] for i in at] for row in rows)
        conn.executemany(update, ([h, *k] for h, k in zip(hashes, keys, strict=True)))
        after = tuple(rows[-1][i] for i in at)


def _upgrade_from_2(conn: sqlite3.Connection) -> None:
    """Version 2 -> 3, inside the caller's transaction: the imports table becomes the batch
    list (source_name is the file name; earlier batches keep their rows, user unknown), and
    the caller creates event_versions and the account tables. Batches imported before have no
    previous versions recorded: they cannot be undone."""
    conn.execute("ALTER TABLE imports RENAME COLUMN source_name TO file_name")
    conn.execute(f"ALTER TABLE imports ADD COLUMN user TEXT NOT NULL DEFAULT '{USER_BEFORE_V3}'")
    for column in _V3_IMPORTS_COLUMNS:
        conn.execute(f"ALTER TABLE imports ADD COLUMN {column}")


def _upgrade_from_1(conn: sqlite3.Connection) -> None:
    """Version 1 -> 2, inside the caller's transaction: rebuild the events table with today's
    CHECK constraints (same rules, cheaper to evaluate), recompute every content hash with
    today's definition (so re-importing a file still finds its duplicates) and record the
    longest event."""
    columns = ", ".join([*COLUMN_NAMES, "content_hash", "import_id"])
    for name in ("events_by_date", *_INDEXES):
        conn.execute(f"DROP INDEX IF EXISTS {name}")
    conn.execute("ALTER TABLE events RENAME TO events_v1")
    conn.execute(_CREATE_EVENTS)
    conn.execute(
        f"INSERT INTO events ({columns}) SELECT {columns} FROM events_v1 "  # noqa: S608
        "ORDER BY event_date, event_id"
    )
    conn.execute("DROP TABLE events_v1")
    for sql in _INDEXES.values():
        conn.execute(sql)
    cur = conn.execute(f"SELECT {', '.join(COLUMN_NAMES)} FROM events")  # noqa: S608
    frame = pd.DataFrame.from_records(cur.fetchall(), columns=list(COLUMN_NAMES))
    conn.executemany(
        "UPDATE events SET content_hash = ? WHERE event_id = ?",
        zip(content_hashes(frame), frame["event_id"], strict=True),
    )
    _set_meta(conn, _MAX_DAYS, _longest_stored_event(conn))
    _set_meta(conn, "schema_version", 2)


def _days_before(day: dt.date | str, days: int) -> str | None:
    """ISO date `days` before `day`, or None when `day` is not a date SQLite compares well."""
    try:
        first = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day)[:10])
        return (first - dt.timedelta(days=days)).isoformat()
    except (ValueError, OverflowError):
        return None


def _longest_event(records: Sequence[Record]) -> int:
    if isinstance(records, RecordFrame):
        return records.longest_event()
    days = [
        (_as_date(r.values["date_end"]) - _as_date(r.values["event_date"])).days
        for r in records
        if r.values.get("date_end") is not None
    ]
    return max(days, default=0)


def _as_date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _batches(
    records: Sequence[Record], import_id: int, *, skip_empty: bool = False
) -> Iterator[tuple[list[str], Iterable[tuple]]]:
    """(column names, rows) for executemany, WRITE_BATCH rows at a time: schema columns,
    content_hash and import_id (`skip_empty`: see `RecordFrame.row_batches`)."""
    if isinstance(records, RecordFrame):
        yield from records.row_batches(import_id, WRITE_BATCH, skip_empty=skip_empty)
        return
    names = [*COLUMN_NAMES, "content_hash", "import_id"]
    for i in range(0, len(records), WRITE_BATCH):
        yield names, [_row(r, import_id) for r in records[i : i + WRITE_BATCH]]


def _insert_sql(names: Sequence[str]) -> str:
    return f"INSERT INTO events ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"  # noqa: S608


def _row(record: Record, import_id: int) -> tuple:
    values = record.values
    out = []
    for name in COLUMN_NAMES:
        v = values.get(name)
        if isinstance(v, dt.date):
            v = v.isoformat()
        out.append(v)
    return (*out, record.content_hash, import_id)
