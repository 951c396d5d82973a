"""Fixtures that run a test against both store backends: SQLite (a file in tmp_path) and
PostgreSQL with PostGIS (a throw-away database, created for the session and dropped after it;
a schema of its own per test). tests/store/conftest.py and tests/ingest/conftest.py import
them; a test module elsewhere imports the ones it uses.

`store` is parametrised over the two; `store_target` gives what `open_store` takes (a path or
a URL) for tests that open the same store twice, and `backend` the few statements a test
writes itself (a trigger, a forbidden value) in each dialect.

The PostgreSQL server is the one on NKMAP_TEST_PG (default postgresql://postgres@127.0.0.1/
postgres): the tests never skip it. When it cannot be reached they fail, saying how to start
one (README: PostgreSQL/PostGIS). Tests about SQLite itself (WAL, files, upgrades of old
SQLite files, its lock) use `sqlite_store` or SQLiteStore directly and say so.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

from geo.store import SQLiteStore, open_store

PG_SERVER = os.environ.get("NKMAP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
HOW_TO_START = (
    "the PostgreSQL store tests need a PostgreSQL 15 server with PostGIS at {server} "
    "(set NKMAP_TEST_PG to another postgresql:// URL of a role that may CREATE DATABASE). "
    "Start one: `sudo apt-get install -y postgresql-15 && make setup-postgis && sudo "
    "pg_ctlcluster 15 main start` (or `docker run -d -p 5432:5432 -e "
    "POSTGRES_HOST_AUTH_METHOD=trust postgis/postgis:15-3.4`); README, section "
    "'PostgreSQL/PostGIS'. Error: {error}"
)
BACKENDS = ("sqlite", "postgres")


def _with_db(url: str, dbname: str, query: str = "") -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, query, ""))


@pytest.fixture(scope="session")
def pg_database() -> str:
    """The URL of a new database nkmap_test_<random> with PostGIS; dropped at the end."""
    import psycopg

    try:
        admin = psycopg.connect(PG_SERVER, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        pytest.fail(HOW_TO_START.format(server=PG_SERVER, error=exc), pytrace=False)
    name = f"nkmap_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_db(PG_SERVER, name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.Error as exc:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()
        pytest.fail(HOW_TO_START.format(server=PG_SERVER, error=exc), pytrace=False)
    try:
        yield url
    finally:
        from geo.store import postgres

        for key in list(postgres._POOLS):
            if f"/{name}" in key:
                postgres.close_pool(key)
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def pg_url(pg_database) -> str:
    """A store of its own for one test: a fresh schema of the session's database (first on
    the search_path; PostGIS stays in public), dropped after the test."""
    import psycopg

    from geo.store import postgres

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    options = quote(f"-csearch_path={schema},public", safe="")
    url = _with_db(pg_database, urlsplit(pg_database).path.lstrip("/"), f"options={options}")
    yield url
    postgres.close_pool(url)
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=BACKENDS)
def store_target(request, tmp_path) -> str:
    """Where a store is: a SQLite file path, or a PostgreSQL URL (what open_store takes)."""
    if request.param == "postgres":
        return request.getfixturevalue("pg_url")
    return str(tmp_path / "var" / "events.sqlite")


@pytest.fixture
def store(store_target):
    """A new, empty store on each backend."""
    return open_store(store_target)


@pytest.fixture
def sqlite_store(tmp_path) -> SQLiteStore:
    """A new SQLite store, for the tests about SQLite itself."""
    return SQLiteStore(tmp_path / "var" / "events.sqlite")


class Backend:
    """The few statements tests write themselves, in each store's dialect."""

    def __init__(self, store) -> None:
        self.store = store
        self.postgres = not isinstance(store, SQLiteStore)

    @property
    def integrity_error(self) -> type[Exception]:
        if self.postgres:
            import psycopg

            return psycopg.IntegrityError
        return sqlite3.IntegrityError

    def fail_when_undone_at_is_set(self) -> None:
        """A trigger that makes marking a batch undone fail (a disk on fire, mid-undo)."""
        with self.store._connect() as conn:
            if self.postgres:
                conn.execute(
                    "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$"
                )
                conn.execute(
                    "CREATE TRIGGER boom BEFORE UPDATE OF undone_at ON imports "
                    "FOR EACH ROW EXECUTE FUNCTION boom()"
                )
            else:
                conn.execute(
                    "CREATE TRIGGER boom BEFORE UPDATE OF undone_at ON imports "
                    "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
                )


@pytest.fixture
def backend(store) -> Backend:
    return Backend(store)
