"""Ingestion tests that import into a store run against both backends (tests/store_backends.py):
`store_target` is a SQLite file, then a PostgreSQL/PostGIS database."""

from store_backends import pg_database, pg_url, store_target  # noqa: F401 (fixtures)
