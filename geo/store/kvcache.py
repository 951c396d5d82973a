"""A small persistent cache of answers (online geocoder results), one SQLite file.

WAL mode so readers never block the writer; each write is a single atomic upsert. The caller
decides what an answer is (text, e.g. JSON) and what is worth keeping (geo/places/geocode.py
keeps real answers, never errors).
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

_SCHEMA = """
    CREATE TABLE IF NOT EXISTS geocode_cache (
        provider   TEXT NOT NULL,
        query      TEXT NOT NULL,
        country    TEXT NOT NULL DEFAULT '',
        result     TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        PRIMARY KEY (provider, query, country)
    )
"""


class AnswerCache:
    """Answers keyed by (provider, query, country)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._ready = False
        self._ready_lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        with self._ready_lock:
            if not self._ready:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with closing(sqlite3.connect(self.path, timeout=30)) as conn:
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.execute(_SCHEMA)
                    conn.commit()
                self._ready = True
        return sqlite3.connect(self.path, timeout=30)

    def get(self, provider: str, query: str, country: str) -> str | None:
        with closing(self._connect()) as conn:
            row = conn.execute(
                "SELECT result FROM geocode_cache WHERE provider = ? AND query = ? AND country = ?",
                (provider, query, country),
            ).fetchone()
        return row[0] if row else None

    def put(self, provider: str, query: str, country: str, answer: str) -> None:
        fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
        with closing(self._connect()) as conn, conn:  # `with conn`: one transaction
            conn.execute(
                "INSERT INTO geocode_cache (provider, query, country, result, fetched_at) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (provider, query, country) DO UPDATE SET "
                "result = excluded.result, fetched_at = excluded.fetched_at",
                (provider, query, country, answer, fetched_at),
            )
