"""The PostgreSQL/PostGIS event store: the same store as `SQLiteStore`, for teams.

`NKMAP_DB=postgresql://user@host/db` selects it (geo.store.open_store). The tables, the
CHECK constraints (from geo.schema), the batches with their previous versions (undo), the
accounts and the schema version are those of the SQLite store; PostgreSQL adds a PostGIS
`geom` column (geometry(Point, 4326), generated from longitude/latitude, GiST-indexed) and
an index on event_date. Reads give the frames SQLiteStore gives (geo.store.records).

Connections come from one psycopg_pool.ConnectionPool per database and process, shared by
every PostgresStore of that URL (a page rerun opens the store again: it reuses the pool).

Concurrency: SQLite has one writer at a time. Here every event write (an import, an undo)
is ONE transaction at READ COMMITTED that first takes the row lock of meta 'data_version'
(SELECT ... FOR UPDATE, via the UPDATE that bumps it): event writers queue on that row, in
whatever process or server they run, so an undo's checks and an import's "still there"
check see every earlier write, and batch ids are handed out in commit order. Readers take
no lock (MVCC): they never wait for a writer. Account writes are single statements whose
uniqueness the database enforces (a unique index on lower(name)): they need no queue.
`version()` reads data_version: it changes on every import and undo, and every app server
sees the same value.
"""

from __future__ import annotations

import atexit
import datetime as dt
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import pandas as pd

from geo.errors import StoreError, Superseded
from geo.schema import BY_NAME, COLUMN_NAMES, EVENT_TYPES, SIDES, VERIFICATION, Kind
from geo.store import giveway, query
from geo.store.records import (
    ApplyResult,
    Batch,
    BatchInfo,
    Record,
    UserRecord,
    _rows_frame,
)
from geo.store.sqlite import (
    _MAX_DAYS,
    _VERSION_COLUMNS,
    BATCH_FORMATS,
    ROLES,
    SCHEMA_VERSION,
    _batches,
    _check_role,
    _days_before,
    _history_entry,
    _longest_event,
    _now,
    _utc_text,
    _version,
)

# Rows per fetch when reading events (a server-side cursor), and per COPY chunk when writing.
READ_BATCH = 50_000
POOL_MAX = 10
# Seconds to wait for a connection from the pool (a server that is down fails after this).
POOL_TIMEOUT_S = 15
URL_SCHEMES = ("postgresql", "postgres")
# meta key: bumped by every import and undo (the store version app servers cache on).
_DATA_VERSION = "data_version"

_SQL_TYPE = {
    Kind.TEXT: 'text COLLATE "C"',
    Kind.DATE: "date",
    Kind.INT: "bigint",
    Kind.FLOAT: "double precision",
}


def is_url(target: object) -> bool:
    """True for a postgresql:// (or postgres://) URL."""
    return isinstance(target, str) and target.split("://", 1)[0].lower() in URL_SCHEMES


def redact(url: str) -> str:
    """The URL without its password: what `store.path` shows and caches key on."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = quote(unquote(parts.username or ""), safe="")
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}@{host}" if user else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


_TEXT = _SQL_TYPE[Kind.TEXT]  # byte order, as SQLite's: the same sort of ids and names


def _in(column: str, values: Iterable[str]) -> str:
    return f"{column} IN (" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def _columns(names: Iterable[str]) -> str:
    return ", ".join(f"{c} {_SQL_TYPE[BY_NAME[c].kind]}" for c in names)


# The same CHECK constraints as the SQLite store (event_date's format is the date type's).
_CREATE_EVENTS = f"""
CREATE TABLE IF NOT EXISTS events (
    {_columns(COLUMN_NAMES)},
    content_hash text NOT NULL,
    import_id bigint REFERENCES imports(import_id),
    geom geometry(Point, 4326) GENERATED ALWAYS AS (
        CASE WHEN longitude IS NULL OR latitude IS NULL THEN NULL
        ELSE ST_SetSRID(ST_MakePoint(longitude, latitude), 4326) END
    ) STORED,
    PRIMARY KEY (event_id),
    CHECK (event_id <> ''),
    CHECK (event_date IS NOT NULL),
    CHECK (date_end IS NULL OR date_end >= event_date),
    CHECK ({_in("event_type", EVENT_TYPES)}),
    CHECK (side IS NULL OR {_in("side", SIDES)}),
    CHECK (verification IS NULL OR {_in("verification", VERIFICATION)}),
    CHECK (latitude IS NULL OR latitude BETWEEN -90 AND 90),
    CHECK (longitude IS NULL OR longitude BETWEEN -180 AND 180),
    CHECK ((latitude IS NULL) = (longitude IS NULL)),
    CHECK (fatalities IS NULL OR fatalities >= 0),
    CHECK (source IS NOT NULL AND source <> '')
)"""
INDEXES = {
    # A date window is an index range, read in the order the frames come in.
    "events_by_date": "CREATE INDEX IF NOT EXISTS events_by_date ON events (event_date, event_id)",
    "events_by_end": "CREATE INDEX IF NOT EXISTS events_by_end ON events (date_end)",
    "events_by_import": "CREATE INDEX IF NOT EXISTS events_by_import ON events (import_id)",
    "events_by_geom": "CREATE INDEX IF NOT EXISTS events_by_geom ON events USING gist (geom)",
    # What the map page counts (geo.store.query), for index-only scans of a period.
    "events_cover": "CREATE INDEX IF NOT EXISTS events_cover ON events (event_date, event_type) "
    "INCLUDE (date_end, latitude, longitude, fatalities)",
}
# `user` is a reserved word in PostgreSQL: the column is "user", quoted, in every statement.
_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS postgis",
    f"CREATE TABLE IF NOT EXISTS meta (key {_TEXT} PRIMARY KEY, value text NOT NULL)",
    f"""CREATE TABLE IF NOT EXISTS imports (
    import_id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    "user" {_TEXT} NOT NULL,
    imported_at {_TEXT} NOT NULL,
    file_name {_TEXT},
    rows bigint, inserted bigint, updated bigint, duplicates bigint, rejected bigint,
    sha256 {_TEXT},
    format {_TEXT} CHECK (format IS NULL OR {_in("format", BATCH_FORMATS)}),
    undone_at {_TEXT},
    undone_by {_TEXT},
    undo_of bigint REFERENCES imports(import_id)
)""",
    _CREATE_EVENTS,
    *INDEXES.values(),
    f"""CREATE TABLE IF NOT EXISTS event_versions (
    import_id bigint NOT NULL REFERENCES imports(import_id),
    event_id {_TEXT} NOT NULL,
    action {_TEXT} NOT NULL CHECK (action = 'insert' OR action = 'update' OR action = 'delete'),
    {_columns(_VERSION_COLUMNS)},
    content_hash {_TEXT},
    prev_import_id bigint,
    PRIMARY KEY (import_id, event_id)
)""",
    "CREATE INDEX IF NOT EXISTS event_versions_by_event ON event_versions (event_id, import_id)",
    # Names ignore case, as SQLite's COLLATE NOCASE: one account per lower(name).
    f"""CREATE TABLE IF NOT EXISTS users (
    name {_TEXT} PRIMARY KEY CHECK (name <> ''),
    role {_TEXT} NOT NULL CHECK ({_in("role", ROLES)}),
    password_hash {_TEXT} NOT NULL,
    created_at {_TEXT} NOT NULL,
    created_by {_TEXT}
)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS users_by_name ON users (lower(name))",
    f"CREATE TABLE IF NOT EXISTS signin_failures (name {_TEXT} NOT NULL, at {_TEXT} NOT NULL)",
    "CREATE INDEX IF NOT EXISTS signin_failures_by_name ON signin_failures (lower(name), at)",
]
# The tables `nkmap copy` moves, in an order that keeps foreign keys satisfied.
TABLES = ("imports", "events", "event_versions", "users", "signin_failures")

_BATCH_SELECT = (
    'SELECT import_id, "user", imported_at, file_name, sha256, format, rows, inserted, '
    "updated, duplicates, rejected, undone_at, undone_by, undo_of FROM imports"
)
_USER_SELECT = "SELECT name, role, password_hash, created_at, created_by FROM users"
_ALL = [*COLUMN_NAMES, "content_hash", "import_id"]

# One pool per database URL in this process, and the URLs checked at SCHEMA_VERSION.
_POOLS: dict[str, object] = {}
_CONNINFO: dict[str, str] = {}
_CURRENT: set[str] = set()
_POOLS_LOCK = threading.Lock()


def _configure(conn) -> None:
    """Each new connection: dates come back as ISO text, as SQLite's do (the frames, the
    history and the copies of events are the same on both stores)."""
    from psycopg.types.string import TextLoader

    conn.adapters.register_loader("date", TextLoader)


def _pool(url: str):
    from psycopg.conninfo import conninfo_to_dict
    from psycopg_pool import ConnectionPool

    key = redact(url)
    with _POOLS_LOCK:
        if url != key or key not in _CONNINFO:
            _CONNINFO[key] = url  # a password-less URL (store.path) finds the full one
        pool = _POOLS.get(key)
        if pool is None or pool.closed:
            try:  # the URL's own options (e.g. -csearch_path=...) and ours
                given = str(conninfo_to_dict(_CONNINFO[key]).get("options") or "")
            except Exception as exc:
                raise StoreError(f"not a usable PostgreSQL URL: {key}: {exc}") from None
            options = f"{given} -c datestyle=ISO -c timezone=UTC".strip()
            _check_reachable(_CONNINFO[key], key, options)
            pool = ConnectionPool(
                _CONNINFO[key],
                min_size=1,
                max_size=POOL_MAX,
                timeout=POOL_TIMEOUT_S,
                kwargs={"options": options, "connect_timeout": 10},
                configure=_configure,
                name=f"nkmap {key}",
                open=True,
            )
            _POOLS[key] = pool
        return pool


def _check_reachable(conninfo: str, shown: str, options: str) -> None:
    """One plain connection first: a server that is down, or a database that does not exist,
    is reported at once with the server's own words (a pool would retry until its timeout)."""
    import psycopg

    try:
        psycopg.connect(conninfo, connect_timeout=10, options=options).close()
    except psycopg.Error as exc:
        raise StoreError(
            f"cannot reach the event store {shown} (is the PostgreSQL server running, does the "
            f"database exist? see the README, PostgreSQL/PostGIS): {_message(exc)}"
        ) from None


def close_pool(url: str) -> None:
    """Close this process's connections to `url` (tests drop their database after)."""
    key = redact(url)
    with _POOLS_LOCK:
        pool = _POOLS.pop(key, None)
        _CURRENT.discard(key)
    if pool is not None:
        pool.close()


@atexit.register
def _close_all() -> None:
    for key in list(_POOLS):
        close_pool(key)


def _errors():
    import psycopg

    return psycopg


class PostgresStore:
    """The event store in a PostgreSQL database with PostGIS (see the module docstring)."""

    def __init__(self, url: str) -> None:
        if not is_url(url):
            raise StoreError(f"not a postgresql:// URL: {url!r}")
        # What the UI keys its caches on, and what `open_store` accepts again: no password.
        self.path = redact(url)
        self.url = url
        self._pool = _pool(url)
        if self.path in _CURRENT:
            return
        with self._connect() as conn:
            current = _read_version(conn) == SCHEMA_VERSION
        if not current:
            self._migrate()
        _CURRENT.add(self.path)

    def close(self) -> None:
        """Close this process's connections to the database (every store of this URL)."""
        close_pool(self.url)

    def __repr__(self) -> str:
        return f"PostgresStore({self.path!r})"

    # -- connections ------------------------------------------------------------------------

    @contextmanager
    def _connect(self) -> Iterator:
        """A pooled connection; what it did is committed when the block ends without error
        (rolled back otherwise)."""
        psycopg = _errors()
        from psycopg_pool import PoolTimeout

        try:
            with self._pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            raise StoreError(
                f"cannot reach the event store {self.path} (is the PostgreSQL server "
                f"running? see the README): {exc}"
            ) from exc
        except psycopg.OperationalError as exc:
            raise StoreError(f"the event store {self.path} is unavailable: {exc}") from exc

    @contextmanager
    def _read(self) -> Iterator:
        """A pooled connection for the map page's reads: inside geo.store.giveway.give_way, a
        watcher cancels its running statement (Superseded) once the answer is no longer
        wanted; a connection that was sent a cancel is closed, never handed out again."""
        stop = giveway.current()
        giveway.check(stop)
        if stop is None:
            with self._connect() as conn:
                yield conn
            return
        psycopg = _errors()
        with self._connect() as conn:
            watcher = giveway.Watcher(stop, conn.cancel_safe)
            try:
                yield conn
            except psycopg.errors.QueryCanceled as exc:
                if watcher.fired:
                    raise Superseded("the read was no longer wanted") from exc
                raise
            finally:
                watcher.close()
                if watcher.fired:
                    conn.close()

    @contextmanager
    def _write(self, *, bump: bool = True) -> Iterator:
        """An event write: ONE transaction, queued behind the meta 'data_version' row lock
        (see the module docstring), which it bumps: the new store version."""
        with self._connect() as conn, conn.transaction():
            if bump:
                conn.execute(
                    "UPDATE meta SET value = (value::bigint + 1)::text WHERE key = %s",
                    (_DATA_VERSION,),
                )
            yield conn

    def _migrate(self) -> None:
        """Create the schema (and PostGIS) in ONE transaction; concurrent openers wait for
        each other on an advisory lock. A version-4 store (before events_cover) gets the
        index: every statement of the schema is IF NOT EXISTS."""
        with self._connect() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('nkmap schema'))")
            version = _read_version(conn)
            if version == SCHEMA_VERSION:
                return
            if version is not None and version != 4:
                raise StoreError(
                    f"{self.path}: schema version {version}, this program needs {SCHEMA_VERSION}"
                )
            try:
                for sql in _CREATE:
                    conn.execute(sql)
            except _errors().Error as exc:
                raise StoreError(
                    f"cannot create the event store in {self.path}: {_message(exc)} (PostGIS "
                    "missing on the server? `make setup-postgis`; README: PostgreSQL/PostGIS)"
                ) from exc
            if version == 4:
                _set_meta(conn, "schema_version", SCHEMA_VERSION)
                return
            for key, value in (
                (_MAX_DAYS, 0),
                (_DATA_VERSION, 0),
                ("schema_version", SCHEMA_VERSION),
            ):
                _set_meta(conn, key, value)

    # -- reads ------------------------------------------------------------------------------

    def schema_version(self) -> int:
        with self._connect() as conn:
            return _get_meta(conn, "schema_version")

    def version(self) -> int:
        """Changes whenever an import or an undo lands (meta data_version: one row read)."""
        with self._connect() as conn:
            return _get_meta(conn, _DATA_VERSION)

    def date_span(self) -> tuple[dt.date, dt.date] | None:
        with self._connect() as conn:
            lo, hi = conn.execute(
                "SELECT min(event_date), max(coalesce(date_end, event_date)) FROM events"
            ).fetchone()
        return (dt.date.fromisoformat(lo), dt.date.fromisoformat(hi)) if lo else None

    def claimants(self) -> list[str]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT DISTINCT claimed_by FROM events WHERE claimed_by IS NOT NULL "
                "ORDER BY claimed_by"
            ).fetchall()
        return [r[0] for r in rows]

    def value_counts(self, column: str) -> pd.Series:
        if column not in COLUMN_NAMES or BY_NAME[column].kind is not Kind.TEXT:
            raise StoreError(f"value_counts needs a text column of the schema, not {column!r}")
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT {column}, count(*) FROM events GROUP BY {column}"  # noqa: S608 (a schema name)
            ).fetchall()
        return pd.Series({value: n for value, n in rows}, dtype="int64", name=column)

    def count(self) -> int:
        with self._connect() as conn:
            return _count(conn)

    def hashes(self, event_ids: Iterable[str]) -> dict[str, str]:
        ids = list(dict.fromkeys(event_ids))
        if not ids:
            return {}
        with self._connect() as conn:
            if conn.execute("SELECT NOT EXISTS (SELECT 1 FROM events)").fetchone()[0]:
                return {}  # a first import of a million rows asks about nothing
            rows = conn.execute(
                "SELECT event_id, content_hash FROM events WHERE event_id = ANY(%s)", (ids,)
            ).fetchall()
        return dict(rows)

    def events(
        self,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
        types: Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """Events overlapping [start, end] (inclusive), optionally of some types, by date
        (as SQLiteStore.events)."""
        where, params = [], []
        parts = []
        with self._connect() as conn, conn.transaction():
            if end is not None:
                where.append("event_date <= %s::date")
                params.append(str(end)[:10])
            if start is not None:
                where.append("coalesce(date_end, event_date) >= %s::date")
                params.append(str(start)[:10])
                lower = _days_before(start, _get_meta(conn, _MAX_DAYS))
                if lower is not None:
                    where.append("event_date >= %s::date")
                    params.append(lower)
            if types is not None:
                where.append("event_type = ANY(%s)")
                params.append(list(types))
            sql = f"SELECT {', '.join(COLUMN_NAMES)} FROM events"  # noqa: S608
            if where:
                sql += " WHERE " + " AND ".join(where)
            sql += " ORDER BY event_date, event_id"
            # A server-side cursor, READ_BATCH rows at a time: never a million tuples at once.
            with conn.cursor(name="nkmap_events") as cur:
                try:
                    cur.execute(sql, params)
                except _errors().DataError as exc:  # e.g. a window that is not a date
                    raise StoreError(f"cannot read the events: {_message(exc)}") from exc
                while rows := cur.fetchmany(READ_BATCH):
                    parts.append(_rows_frame(rows))
        if not parts:
            return _rows_frame([])
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)

    # -- the map page's questions, answered in the store (geo.store.query) --------------------

    def summary(self, f: query.Filters) -> query.Summary:
        with self._read() as conn:
            return query.summary(conn, f, query.POSTGRES, _get_meta(conn, _MAX_DAYS))

    def timeline(self, f: query.Filters) -> tuple[pd.DataFrame, pd.DataFrame]:
        with self._read() as conn:
            return query.timeline(conn, f, query.POSTGRES, _get_meta(conn, _MAX_DAYS))

    def frame_box(self, f: query.Filters):
        with self._read() as conn:
            return query.frame_box(conn, f, query.POSTGRES, _get_meta(conn, _MAX_DAYS))

    def page(self, f: query.Filters, offset: int, limit: int) -> pd.DataFrame:
        with self._read() as conn:
            return query.page(conn, f, query.POSTGRES, _get_meta(conn, _MAX_DAYS), offset, limit)

    def near_counts(self, f: query.Filters, lines, km: float) -> pd.DataFrame:
        with self._read() as conn, conn.transaction():  # SET LOCAL lasts until its end
            return query.near_counts_postgis(conn, f, _get_meta(conn, _MAX_DAYS), lines, km)

    def frames(self, f: query.Filters) -> Iterator[pd.DataFrame]:
        """The view's events by date, in frames of up to query.READ_BATCH rows (a server-side
        cursor: never the whole period at once)."""
        with self._read() as conn, conn.transaction():
            clause, params = query.where(f, query.POSTGRES, _get_meta(conn, _MAX_DAYS))
            with conn.cursor(name="nkmap_frames") as cur:
                yield from query.frames(cur, clause, params)

    def imports(self, limit: int | None = None) -> list[Batch]:
        sql = _BATCH_SELECT + " ORDER BY import_id DESC"
        params: tuple = ()
        if limit is not None:
            sql += " LIMIT %s"
            params = (int(limit),)
        with self._connect() as conn:
            return [Batch(*row) for row in conn.execute(sql, params)]

    def batch(self, batch_id: int) -> Batch | None:
        with self._connect() as conn:
            return _batch_row(conn, batch_id)

    def history(self, event_id: str) -> list[dict[str, object]]:
        """Every version of one event, oldest first (as SQLiteStore.history)."""
        from psycopg.rows import dict_row

        cols = ", ".join(_VERSION_COLUMNS)
        with self._connect() as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # one snapshot
            cur = conn.cursor(row_factory=dict_row)
            rows = cur.execute(
                f"SELECT import_id, action, {cols}, content_hash, prev_import_id "  # noqa: S608
                "FROM event_versions WHERE event_id = %s ORDER BY import_id",
                (event_id,),
            ).fetchall()
            now = cur.execute(
                f"SELECT {cols}, content_hash, import_id FROM events WHERE event_id = %s",  # noqa: S608
                (event_id,),
            ).fetchone()
            ids = {r["import_id"] for r in rows} | {r["prev_import_id"] for r in rows[:1]}
            if now is not None:
                ids.add(now["import_id"])
            batches = {i: _batch_row(conn, i) for i in ids if i is not None}
        if not rows:
            if now is None:
                return []
            i = now["import_id"]
            only = _history_entry(batches.get(i), i, "unrecorded", _version(event_id, now))
            return [{**only, "current": True}]
        states = [_version(event_id, r) for r in rows[1:]]
        states.append(_version(event_id, now))
        out = []
        if rows[0]["action"] != "insert" and rows[0]["content_hash"] is not None:
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
        """Insert and update events as ONE batch in ONE transaction (as SQLiteStore.apply).
        The rows go in with COPY; updates through a temporary table, in one statement."""
        psycopg = _errors()
        try:
            with self._write() as conn:
                import_id = _insert_batch(conn, batch, inserted=len(inserts), updated=len(updates))
                if len(updates):
                    conn.execute(
                        f"CREATE TEMP TABLE updating ({_columns(COLUMN_NAMES)}, "
                        "content_hash text, import_id bigint) ON COMMIT DROP"
                    )
                    _copy(conn, "updating", _batches(updates, import_id))
                    saved = conn.execute(
                        "INSERT INTO event_versions (import_id, event_id, action, "  # noqa: S608
                        + ", ".join(_VERSION_COLUMNS)
                        + ", content_hash, prev_import_id) SELECT %s, event_id, 'update', "
                        + ", ".join(_VERSION_COLUMNS)
                        + ", content_hash, import_id FROM events "
                        "WHERE event_id IN (SELECT event_id FROM updating)",
                        (import_id,),
                    ).rowcount
                    wanted = _scalar(conn, "SELECT count(DISTINCT event_id) FROM updating")
                    if wanted - saved:
                        raise StoreError(
                            f"the store changed since the file was checked: {wanted - saved} of "
                            "the events to update are gone; nothing was changed, check it again"
                        )
                    # Every column, NULLs included: an update clears what the event no longer has.
                    conn.execute(
                        "UPDATE events e SET "  # noqa: S608
                        + ", ".join(f"{c} = u.{c}" for c in _ALL[1:])
                        + " FROM updating u WHERE e.event_id = u.event_id"
                    )
                    conn.execute("DROP TABLE updating")
                if len(inserts):
                    _copy(conn, "events", _batches(inserts, import_id, skip_empty=True))
                    conn.execute(
                        "INSERT INTO event_versions (import_id, event_id, action) "
                        "SELECT %s, event_id, 'insert' FROM events WHERE import_id = %s "
                        "ON CONFLICT DO NOTHING",
                        (import_id, import_id),
                    )
                longest = max(_longest_event(inserts), _longest_event(updates))
                if longest > _get_meta(conn, _MAX_DAYS):
                    _set_meta(conn, _MAX_DAYS, longest)
        except (psycopg.IntegrityError, psycopg.DataError, psycopg.InternalError) as exc:
            raise StoreError(
                f"the store refused the import, nothing was changed: {_message(exc)}"
            ) from exc
        except psycopg.Error as exc:
            raise StoreError(
                f"the store is unavailable, nothing was changed: {_message(exc)}"
            ) from exc
        return ApplyResult(import_id, len(inserts), len(updates))

    def undo(self, batch_id: int, *, user: str, force: bool = False) -> Batch:
        """Undo batch `batch_id` in ONE transaction (as SQLiteStore.undo: same refusals, same
        `force`); returns the undo's own batch."""
        psycopg = _errors()
        now = _now()
        vcols = ", ".join(_VERSION_COLUMNS)
        current = ", ".join(f"e.{c}" for c in _VERSION_COLUMNS)
        try:
            with self._write() as conn:
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
                    conn, "SELECT count(*) FROM event_versions WHERE import_id = %s", batch_id
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
                conn.execute(
                    "INSERT INTO event_versions (import_id, event_id, action, "  # noqa: S608
                    f"{vcols}, content_hash, prev_import_id) "
                    "SELECT %s, v.event_id, CASE WHEN v.action = 'insert' THEN 'delete' "
                    "WHEN e.event_id IS NULL THEN 'insert' ELSE 'update' END, "
                    f"{current}, e.content_hash, e.import_id "
                    "FROM event_versions v LEFT JOIN events e ON e.event_id = v.event_id "
                    "WHERE v.import_id = %s AND (v.action <> 'insert' OR e.event_id IS NOT NULL)",
                    (undo_id, batch_id),
                )
                counts = dict(
                    conn.execute(
                        "SELECT action, count(*) FROM event_versions WHERE import_id = %s "
                        "GROUP BY action",
                        (undo_id,),
                    ).fetchall()
                )
                gone = conn.execute("DELETE FROM events WHERE import_id = %s", (batch_id,)).rowcount
                if gone != versions:  # forced: some are another batch's version by now
                    conn.execute(
                        "DELETE FROM events WHERE event_id IN "
                        "(SELECT event_id FROM event_versions WHERE import_id = %s)",
                        (batch_id,),
                    )
                conn.execute(
                    f"INSERT INTO events (event_id, {vcols}, content_hash, import_id) "  # noqa: S608
                    f"SELECT event_id, {vcols}, content_hash, prev_import_id FROM event_versions "
                    "WHERE import_id = %s AND action = 'update'",
                    (batch_id,),
                )
                conn.execute(
                    "UPDATE imports SET undone_at = %s, undone_by = %s WHERE import_id = %s",
                    (now, user, batch_id),
                )
                removed, restored, recreated = (
                    counts.get(a, 0) for a in ("delete", "update", "insert")
                )
                conn.execute(
                    "UPDATE imports SET rows = %s, inserted = %s, updated = %s, duplicates = 0, "
                    "rejected = 0 WHERE import_id = %s",
                    (removed + restored + recreated, recreated, restored, undo_id),
                )
                done = _batch_row(conn, undo_id)
        except (psycopg.IntegrityError, psycopg.DataError, psycopg.InternalError) as exc:
            raise StoreError(
                f"the store refused the undo, nothing was changed: {_message(exc)}"
            ) from exc
        except psycopg.Error as exc:
            raise StoreError(
                f"the store is unavailable, nothing was changed: {_message(exc)}"
            ) from exc
        assert done is not None
        return done

    # -- accounts ---------------------------------------------------------------------------

    def add_user(self, name: str, role: str, password_hash: str, *, created_by: str | None) -> None:
        _check_role(role)
        if not name or name != name.strip():
            raise StoreError(f"a user name must be non-empty without outer spaces: {name!r}")
        psycopg = _errors()
        try:
            with self._connect() as conn:
                conn.execute(
                    "INSERT INTO users (name, role, password_hash, created_at, created_by) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    (name, role, password_hash, _now(), created_by),
                )
        except psycopg.IntegrityError as exc:  # never echo the statement's parameters
            raise StoreError(f"user {name!r} already exists") from exc

    def user(self, name: str) -> UserRecord | None:
        with self._connect() as conn:
            row = conn.execute(
                f"{_USER_SELECT} WHERE lower(name) = lower(%s)",  # noqa: S608
                (name,),
            ).fetchone()
        return UserRecord(*row) if row else None

    def users(self) -> list[UserRecord]:
        with self._connect() as conn:
            return [
                UserRecord(*r)
                for r in conn.execute(f"{_USER_SELECT} ORDER BY lower(name), name")  # noqa: S608
            ]

    def remove_user(self, name: str) -> bool:
        with self._connect() as conn:
            cur = conn.execute("DELETE FROM users WHERE lower(name) = lower(%s)", (name,))
            return cur.rowcount > 0

    def set_password_hash(self, name: str, password_hash: str) -> bool:
        with self._connect() as conn:
            cur = conn.execute(
                "UPDATE users SET password_hash = %s WHERE lower(name) = lower(%s)",
                (password_hash, name),
            )
            return cur.rowcount > 0

    def set_role(self, name: str, role: str) -> bool:
        _check_role(role)
        with self._connect() as conn:
            cur = conn.execute(
                "UPDATE users SET role = %s WHERE lower(name) = lower(%s)", (role, name)
            )
            return cur.rowcount > 0

    def record_signin_failure(self, name: str, at: dt.datetime) -> None:
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO signin_failures (name, at) VALUES (%s, %s)", (name, _utc_text(at))
            )

    def signin_failures_since(self, name: str, since: dt.datetime) -> int:
        with self._connect() as conn:
            return _scalar(
                conn,
                "SELECT count(*) FROM signin_failures WHERE lower(name) = lower(%s) AND at >= %s",
                name,
                _utc_text(since),
            )

    def clear_signin_failures(self, name: str) -> None:
        with self._connect() as conn:
            conn.execute("DELETE FROM signin_failures WHERE lower(name) = lower(%s)", (name,))

    def prune_signin_failures(self, before: dt.datetime) -> int:
        with self._connect() as conn:
            cur = conn.execute("DELETE FROM signin_failures WHERE at < %s", (_utc_text(before),))
            return cur.rowcount

    # -- copies between stores (nkmap copy) ---------------------------------------------------

    def table_columns(self, table: str) -> list[str]:
        """The columns `nkmap copy` moves for one of TABLES (never the generated geom)."""
        if table not in TABLES:
            raise StoreError(f"not a store table: {table!r}")
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "AND table_schema = current_schema() AND is_generated = 'NEVER' "
                "ORDER BY ordinal_position",
                (table,),
            ).fetchall()
        return [r[0] for r in rows]

    def table_rows(self, table: str, columns: Sequence[str]) -> Iterator[list[tuple]]:
        """Every row of `table` (its columns `columns`), READ_BATCH at a time, in key order."""
        if table not in TABLES:
            raise StoreError(f"not a store table: {table!r}")
        order = {
            "imports": "import_id",
            "events": "event_date, event_id",
            "event_versions": "import_id, event_id",
            "users": "name",
            "signin_failures": "at, name",
        }[table]
        cols = ", ".join(_quoted(c) for c in columns)
        with (
            self._connect() as conn,
            conn.transaction(),
            conn.cursor(name=f"nkmap_copy_{table}") as cur,
        ):
            cur.execute(f"SELECT {cols} FROM {table} ORDER BY {order}")  # noqa: S608
            while rows := cur.fetchmany(READ_BATCH):
                yield rows

    def is_empty(self) -> bool:
        """No events, batches or accounts: what `nkmap copy` may write into."""
        with self._connect() as conn:
            return not conn.execute(
                "SELECT EXISTS (SELECT 1 FROM imports) OR EXISTS (SELECT 1 FROM users) "
                "OR EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM signin_failures)"
            ).fetchone()[0]

    def load_tables(
        self, tables: Iterable[tuple[str, Sequence[str], Iterable[list[tuple]]]]
    ) -> None:
        """Fill an empty store with (table, columns, row batches), as they are, in ONE
        transaction; then the batch numbers go on after the highest copied one."""
        psycopg = _errors()
        try:
            with self._write() as conn:
                for table, columns, batches in tables:
                    if table not in TABLES:
                        raise StoreError(f"not a store table: {table!r}")
                    names = list(columns)
                    _copy(conn, table, ((names, rows) for rows in batches))
                conn.execute(
                    "SELECT setval(pg_get_serial_sequence('imports', 'import_id'), "
                    "coalesce((SELECT max(import_id) FROM imports), 0) + 1, false)"
                )
                days = conn.execute(
                    "SELECT coalesce(max(date_end - event_date), 0) FROM events"
                ).fetchone()[0]
                _set_meta(conn, _MAX_DAYS, int(days))
        except (psycopg.IntegrityError, psycopg.DataError) as exc:
            raise StoreError(
                f"the store refused the copy, nothing was changed: {_message(exc)}"
            ) from exc


# ---------------------------------------------------------------------------------- helpers


def _quoted(column: str) -> str:
    return '"user"' if column == "user" else column


def _message(exc: Exception) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None)
    return primary or str(exc).splitlines()[0]


def _copy(conn, table: str, batches: Iterable[tuple[list[str], Iterable[tuple]]]) -> None:
    """COPY (names, rows) batches into `table` (text format: ISO dates go into date columns)."""
    for names, rows in batches:
        cols = ", ".join(_quoted(n) for n in names)
        with conn.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:  # noqa: S608
            for row in rows:
                copy.write_row(row)


def _read_version(conn) -> int | None:
    """meta.schema_version, or None for a new (empty) database. A plain read."""
    if conn.execute("SELECT to_regclass('meta')").fetchone()[0] is None:
        return None
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else None


def _scalar(conn, sql: str, *params: object) -> int:
    return int(conn.execute(sql, params).fetchone()[0])


def _count(conn) -> int:
    return _scalar(conn, "SELECT count(*) FROM events")


def _get_meta(conn, key: str) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
    return int(row[0]) if row else 0


def _set_meta(conn, key: str, value: int) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (%s, %s) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, str(value)),
    )


def _insert_batch(
    conn, info: BatchInfo, *, inserted: int, updated: int, undo_of: int | None = None
) -> int:
    return int(
        conn.execute(
            'INSERT INTO imports ("user", imported_at, file_name, sha256, format, rows, '
            "inserted, updated, duplicates, rejected, undo_of) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING import_id",
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
        ).fetchone()[0]
    )


def _batch_row(conn, batch_id: int) -> Batch | None:
    row = conn.execute(f"{_BATCH_SELECT} WHERE import_id = %s", (batch_id,)).fetchone()  # noqa: S608
    return Batch(*row) if row else None


def _refuse_if_changed_later(conn, batch_id: int, versions: int) -> None:
    """As geo.store.sqlite._refuse_if_changed_later."""
    if _scalar(conn, "SELECT count(*) FROM events WHERE import_id = %s", batch_id) == versions:
        return
    changed = [
        r[0]
        for r in conn.execute(
            "SELECT v.event_id FROM event_versions v "
            "LEFT JOIN events e ON e.event_id = v.event_id "
            "WHERE v.import_id = %s AND e.import_id IS DISTINCT FROM %s "
            "ORDER BY v.event_id",
            (batch_id, batch_id),
        )
    ]
    n, sample = len(changed), changed[:5]
    later = [
        str(r[0])
        for r in conn.execute(
            "SELECT DISTINCT v.import_id FROM event_versions v JOIN imports i USING (import_id) "
            "WHERE v.event_id = ANY(%s) AND v.import_id > %s "
            "AND i.undone_at IS NULL ORDER BY v.import_id",
            (changed, batch_id),
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
