"""The offline gazetteer's name index on disk: a SQLite file built once, opened read-only.

geo/places/gazetteer.py decides what goes in (GeoNames cities500 and cities1000, read by
`read_sources`) and how answers are ranked; this module keeps the SQL: the tables, an atomic
build (temp file, fsync, os.replace), the checks that decide a file is whole and current, and
the look-ups. Opening a cache file runs nothing it defines (no views or triggers, trusted_schema
off): a tampered file can give wrong places, never run code. Tables:
  meta(key, value)           "format" and "version" (the data version the file was built from)
  city500(row, ...)          one row per cities500 entry, row = its position in the file
  city1000(row, ...)         the same for cities1000
  name(key, kind, row)       casefolded name -> entry; kind: 0 cities500 primary name,
                             1 cities500 alternate name, 2 cities1000 name
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

# Bump when the tables or what goes into them change: every cache file is then rebuilt.
INDEX_FORMAT = 1
PRIMARY500, ALTERNATE500, PRIMARY1000 = 0, 1, 2

_TABLES = ("meta", "city500", "city1000", "name")
_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE city500 (row INTEGER PRIMARY KEY, geonameid INTEGER, name TEXT, "
    "latitude REAL, longitude REAL, country TEXT, population INTEGER, admin1 TEXT)",
    "CREATE TABLE city1000 (row INTEGER PRIMARY KEY, name TEXT, latitude REAL, "
    "longitude REAL, country TEXT, admin1 TEXT)",
    "CREATE TABLE name (key TEXT NOT NULL, kind INTEGER NOT NULL, row INTEGER NOT NULL, "
    "PRIMARY KEY (key, kind, row)) WITHOUT ROWID",
)
_MAX_BOUND = 999
_log = logging.getLogger(__name__)


class City(NamedTuple):
    """One source entry as the index keeps it (cities1000 has no geonameid or population)."""

    name: str
    latitude: float
    longitude: float
    country: str
    population: int | None
    geonameid: int | None
    admin1: str | None


@dataclass(frozen=True)
class Sources:
    """The source rows, in file order, and every (casefolded name, kind, row) they carry."""

    city500: list[tuple]  # (row, geonameid, name, latitude, longitude, country, population, admin1)
    city1000: list[tuple]  # (row, name, latitude, longitude, country, admin1)
    names: Callable[[], Iterator[tuple[str, int, int]]]


def _fill(conn: sqlite3.Connection, version: str, sources: Sources) -> None:
    """Write the tables into an empty database, in one transaction."""
    conn.execute("PRAGMA journal_mode = OFF")  # a temp file: nothing to roll back to
    conn.execute("PRAGMA synchronous = OFF")  # fsynced once, before it replaces the cache
    with conn:
        for statement in _SCHEMA:
            conn.execute(statement)
        conn.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [
                ("format", str(INDEX_FORMAT)),
                ("version", version),
                ("city500", str(len(sources.city500))),
                ("city1000", str(len(sources.city1000))),
            ],
        )
        conn.executemany("INSERT INTO city500 VALUES (?, ?, ?, ?, ?, ?, ?, ?)", sources.city500)
        conn.executemany("INSERT INTO city1000 VALUES (?, ?, ?, ?, ?, ?)", sources.city1000)
        # Unsorted into a scratch table, then sorted by SQLite into the index: 2-3x faster
        # than inserting 1.5 million keys in random order. Empty names are skipped (GeoNames
        # rows carry some) and an entry listing a name twice is kept once.
        conn.execute("CREATE TEMP TABLE scratch (key TEXT, kind INTEGER, row INTEGER)")
        conn.executemany(
            "INSERT INTO scratch VALUES (?, ?, ?)", (n for n in sources.names() if n[0])
        )
        conn.execute(
            "INSERT INTO name SELECT DISTINCT key, kind, row FROM scratch ORDER BY key, kind, row"
        )
        conn.execute("DROP TABLE scratch")


def _write_cache(path: Path, version: str, sources: Sources) -> None:
    """Build the index into a temp file beside `path`, fsync it, then os.replace: a reader
    sees the old file or the new one, never half of one. A failure leaves no temp file."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        conn = sqlite3.connect(tmp)
        try:
            _fill(conn, version, sources)
        finally:
            conn.close()
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # public GeoNames data; mkstemp made it owner-only
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with suppress(OSError):  # make the rename durable (POSIX; not possible everywhere)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _memory_index(version: str, sources: Sources) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    _fill(conn, version, sources)
    return conn


def _open_cache(path: Path, version: str) -> sqlite3.Connection | None:
    """The cache file opened read-only if it is whole and made for `version`, else None.

    Checks: a SQLite file whose size is its page count times its page size (not truncated,
    not extended), holding exactly the expected tables and no views or triggers, with meta
    naming this format and version and city tables of the recorded lengths. Anything else
    (missing, stale, partial, corrupt, not a database) is None, never an exception.
    """
    try:
        size = path.stat().st_size
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
    except (OSError, sqlite3.Error):
        return None
    try:
        conn.execute("PRAGMA trusted_schema = OFF")  # the file is data; run nothing it defines
        (pages,) = conn.execute("PRAGMA page_count").fetchone()
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
        objects = conn.execute(
            "SELECT type, name FROM sqlite_master WHERE type != 'index'"
        ).fetchall()
        ok = pages * page_size == size and sorted(objects) == [
            ("table", t) for t in sorted(_TABLES)
        ]
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall()) if ok else {}
        ok = ok and meta.get("format") == str(INDEX_FORMAT) and meta.get("version") == version
        for table in ("city500", "city1000"):
            if ok:
                sql = f"SELECT coalesce(max(row) + 1, 0) FROM {table}"  # noqa: S608 (ours)
                ok = str(conn.execute(sql).fetchone()[0]) == meta.get(table)
    except (sqlite3.Error, ValueError, TypeError):
        ok = False
    if not ok:
        conn.close()
        return None
    return conn


def _remove_stale_temp_files(path: Path, older_than_s: float = 3600) -> None:
    """Temp files a killed build left behind (a live build's file is younger than an hour)."""
    now = time.time()
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        with suppress(OSError):
            if now - tmp.stat().st_mtime > older_than_s:
                tmp.unlink()


def _build(path: Path, version: str, read_sources: Callable[[], Sources]) -> sqlite3.Connection:
    """Build the index into the cache file, or into memory when the file cannot be written."""
    _log.info("building the gazetteer index in %s (once per data version)", path)
    sources = read_sources()
    try:
        _remove_stale_temp_files(path)
        _write_cache(path, version, sources)
        conn = _open_cache(path, version)
    except (OSError, sqlite3.Error) as exc:
        _log.warning("gazetteer cache %s not written (%s): index kept in memory", path, exc)
        conn = None
    return conn if conn is not None else _memory_index(version, sources)


class SQLiteNameIndex:
    """The gazetteer's name index: casefolded name -> entries, and the entries themselves.

    Backed by the cache file at `path`, opened read-only; it is built there first when missing,
    stale or damaged. A file found damaged while answering (SQLite reports it malformed) is
    rebuilt and the query asked again. Safe to share between threads.
    """

    def __init__(self, path: Path, version: str, read_sources: Callable[[], Sources]) -> None:
        self.path = Path(path)
        self.version = version
        self._read_sources = read_sources
        self._lock = threading.Lock()
        self._conn = _open_cache(self.path, self.version)
        self.built = self._conn is None  # whether this process had to build it
        if self._conn is None:
            self._conn = _build(self.path, self.version, self._read_sources)

    def _query(self, sql: str, params: Sequence) -> list[tuple]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                _log.warning("gazetteer cache %s is damaged (%s): rebuilding it", self.path, exc)
                self._conn.close()
                self._conn = _build(self.path, self.version, self._read_sources)
                self.built = True
                return self._conn.execute(sql, params).fetchall()

    def matches(self, keys: Iterable[str]) -> dict[int, dict[int, set[str]]]:
        """kind -> row -> which of the casefolded `keys` that entry carries."""
        wanted = [k for k in set(keys) if k and _encodable(k)]
        found: dict[int, dict[int, set[str]]] = {
            PRIMARY500: {},
            ALTERNATE500: {},
            PRIMARY1000: {},
        }
        if wanted:
            sql = f"SELECT key, kind, row FROM name WHERE key IN ({_marks(wanted)})"  # noqa: S608
            for key, kind, row in self._query(sql, wanted):
                found[kind].setdefault(row, set()).add(key)
        return found

    def cities(self, kind: int, rows: Iterable[int]) -> dict[int, City]:
        """The entries at `rows` of cities500 (kind 0 or 1) or cities1000 (kind 2)."""
        rows = list(rows)
        if not rows:
            return {}
        if kind == PRIMARY1000:
            columns, table = "name, latitude, longitude, country, NULL, NULL, admin1", "city1000"
        else:
            columns = "name, latitude, longitude, country, population, geonameid, admin1"
            table = "city500"
        found: dict[int, City] = {}
        # In slices: old SQLite builds allow at most 999 bound values per statement.
        for start in range(0, len(rows), _MAX_BOUND):
            part = rows[start : start + _MAX_BOUND]
            sql = f"SELECT row, {columns} FROM {table} WHERE row IN ({_marks(part)})"  # noqa: S608
            found.update((r[0], City(*r[1:])) for r in self._query(sql, part))
        return found


def _marks(values: Sequence) -> str:
    """SQL placeholders for `values` (the values themselves are bound, never formatted in)."""
    return ", ".join("?" * len(values))


def _encodable(key: str) -> bool:
    """SQLite takes UTF-8 only; a key with a lone surrogate cannot name any entry anyway."""
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
