"""The store tests run against both backends (tests/store_backends.py): `store` is a new
SQLite store, then a new PostgreSQL/PostGIS one. Tests about SQLite itself say so."""

from store_backends import (  # noqa: F401 (fixtures)
    backend,
    pg_database,
    pg_url,
    sqlite_store,
    store,
    store_target,
)
