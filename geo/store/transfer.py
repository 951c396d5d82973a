"""`nkmap copy`: every event, batch, kept version and account from one store to another
(SQLite <-> PostgreSQL), as they are: batch numbers, users, times and content hashes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from geo.errors import StoreError
from geo.store.postgres import TABLES, PostgresStore
from geo.store.sqlite import _MAX_DAYS, SQLiteStore, _longest_stored_event, _set_meta

READ_BATCH = 50_000


def copy_store(source: SQLiteStore | PostgresStore, target: SQLiteStore | PostgresStore) -> dict:
    """Copy `source` into the empty store `target` in ONE transaction on the target; the rows
    copied per table. StoreError (nothing written) when the target holds anything."""
    if str(source.path) == str(target.path):
        raise StoreError("copy: the source and the target are the same store")
    if not _is_empty(target):
        raise StoreError(
            f"copy: {target.path} is not empty (events, batches or accounts): copy into a new "
            "store, nothing was changed"
        )
    counts: dict[str, int] = {}
    plan = []
    for table in TABLES:
        columns = _columns(target, table)
        missing = set(columns) - set(_columns(source, table))
        if missing:
            raise StoreError(f"copy: {source.path} has no {table}.{', '.join(sorted(missing))}")
        plan.append((table, columns, _counted(counts, table, _rows(source, table, columns))))
    _load(target, plan)
    return counts


def _counted(counts: dict[str, int], table: str, batches: Iterable[list[tuple]]) -> Iterator:
    counts[table] = 0
    for rows in batches:
        counts[table] += len(rows)
        yield rows


def _is_empty(store: SQLiteStore | PostgresStore) -> bool:
    if isinstance(store, PostgresStore):
        return store.is_empty()
    with store._connect() as conn:
        return not conn.execute(
            "SELECT EXISTS (SELECT 1 FROM imports) OR EXISTS (SELECT 1 FROM users) "
            "OR EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM signin_failures)"
        ).fetchone()[0]


def _columns(store: SQLiteStore | PostgresStore, table: str) -> list[str]:
    if isinstance(store, PostgresStore):
        return store.table_columns(table)
    with store._connect() as conn:
        return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


_ORDER = {
    "imports": "import_id",
    "events": "event_date, event_id",
    "event_versions": "import_id, event_id",
    "users": "name",
    "signin_failures": "at, name",
}


def _rows(
    store: SQLiteStore | PostgresStore, table: str, columns: Sequence[str]
) -> Iterator[list[tuple]]:
    if isinstance(store, PostgresStore):
        yield from store.table_rows(table, columns)
        return
    cols = ", ".join(f'"{c}"' for c in columns)
    with store._connect() as conn:
        conn.execute("BEGIN")  # one snapshot for the whole table
        cur = conn.execute(f"SELECT {cols} FROM {table} ORDER BY {_ORDER[table]}")  # noqa: S608
        while rows := cur.fetchmany(READ_BATCH):
            yield rows
        conn.execute("COMMIT")


def _load(
    store: SQLiteStore | PostgresStore,
    plan: Iterable[tuple[str, Sequence[str], Iterable[list[tuple]]]],
) -> None:
    if isinstance(store, PostgresStore):
        store.load_tables(plan)
        return
    import sqlite3

    try:
        with store._write() as conn:
            for table, columns, batches in plan:
                cols = ", ".join(f'"{c}"' for c in columns)
                sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
                for rows in batches:
                    conn.executemany(sql, rows)
            _set_meta(conn, _MAX_DAYS, _longest_stored_event(conn))
    except sqlite3.IntegrityError as exc:
        raise StoreError(f"the store refused the copy, nothing was changed: {exc}") from exc
