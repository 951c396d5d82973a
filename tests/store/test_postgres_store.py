"""What only the PostgreSQL/PostGIS store has: the PostGIS point and its indexes, the store
version several app servers share, readers that never wait for a writer, the URL as setting
and cache key. (Everything both stores do is tested on both: the other files here.)"""

from __future__ import annotations

import threading

import psycopg
import pytest

import geo.store.postgres as gp
from geo.errors import StoreError
from geo.settings import Settings
from geo.store import BatchInfo, PostgresStore, Record, content_hash, open_store

BY_TEST = BatchInfo(user="test", file_name="test.csv")


def rec(event_id, day="2020-10-04", **extra):
    values = {"event_id": event_id, "event_date": day, "event_type": "shelling", "source": "AFP"}
    values |= extra
    return Record(values, content_hash(values))


@pytest.fixture
def pg(pg_url) -> PostgresStore:
    return open_store(pg_url)


def test_the_point_follows_latitude_and_longitude_with_a_gist_index(pg):
    pg.apply([rec("a", latitude=39.8, longitude=46.75), rec("b")], [], batch=BY_TEST)
    pg.apply([], [rec("a", latitude=40.0, longitude=46.5)], batch=BY_TEST)
    with pg._connect() as conn:
        points = dict(
            conn.execute(
                "SELECT event_id, ST_AsText(geom) || ' ' || ST_SRID(geom) FROM events"
            ).fetchall()
        )
        indexes = dict(
            conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events' "
                "AND schemaname = current_schema()"
            ).fetchall()
        )
        kind = conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'events'::regclass AND attname = 'geom'"
        ).fetchone()[0]
        near = conn.execute(
            "SELECT event_id FROM events WHERE ST_DWithin(geom::geography, "
            "ST_SetSRID(ST_MakePoint(46.5, 40.0), 4326)::geography, 1000)"
        ).fetchall()
    assert points == {"a": "POINT(46.5 40) 4326", "b": None}
    assert kind == "geometry(Point,4326)"
    assert "USING gist (geom)" in indexes["events_by_geom"]
    assert "(event_date, event_id)" in indexes["events_by_date"]
    assert near == [("a",)]


def test_a_date_window_reads_the_date_index(pg):
    pg.apply([rec(f"e{i:04d}", f"20{10 + i % 10}-0{1 + i % 9}-1{i % 10}") for i in range(2000)],
             [], batch=BY_TEST)  # fmt: skip
    with pg._connect() as conn:
        conn.execute("ANALYZE events")
        plan = " ".join(
            r[0]
            for r in conn.execute(
                "EXPLAIN SELECT * FROM events WHERE event_date <= '2015-03-31' AND "
                "coalesce(date_end, event_date) >= '2015-03-01' AND event_date >= '2015-03-01' "
                "ORDER BY event_date, event_id"
            )
        )
    # Either index on the date (events_cover leads with it too), never the whole table.
    assert ("events_by_date" in plan or "events_cover" in plan) and "Seq Scan" not in plan


def test_the_database_refuses_an_impossible_date(pg):
    with pytest.raises(StoreError, match="nothing was changed"):
        pg.apply([rec("a", "2020-02-30")], [], batch=BY_TEST)
    assert pg.count() == 0 and pg.imports() == []


def test_every_import_and_undo_is_a_version_every_server_sees(pg, pg_url):
    other = PostgresStore(pg_url)  # as another app server opens it (same database)
    seen = [other.version()]
    pg.apply([rec("a")], [], batch=BY_TEST)
    seen.append(other.version())
    pg.apply([rec("b")], [], batch=BY_TEST)
    seen.append(other.version())
    pg.undo(2, user="carol")
    seen.append(other.version())
    assert seen == sorted(set(seen)) and len(seen) == 4


def test_readers_and_openers_never_wait_for_a_writer(pg, pg_url, monkeypatch):
    pg.apply([rec("a")], [], batch=BY_TEST)
    monkeypatch.setattr(gp, "_CURRENT", set())  # as a new process opens it
    writer = psycopg.connect(pg_url)  # a write in progress: the writers' lock, uncommitted
    writer.execute("UPDATE meta SET value = value WHERE key = 'data_version'")
    writer.execute("DELETE FROM signin_failures")
    done, outcome = threading.Event(), {}

    def read():
        try:
            store = open_store(pg_url)
            outcome["ids"] = list(store.events()["event_id"])
            outcome["version"] = store.version()
        except Exception as exc:  # pragma: no cover - reported by the asserts
            outcome["error"] = exc
        done.set()

    reader = threading.Thread(target=read)
    reader.start()
    finished = done.wait(timeout=5)
    writer.rollback()
    writer.close()
    reader.join()
    assert finished and outcome.get("error") is None
    assert outcome["ids"] == ["a"] and outcome["version"] == 1


def test_writers_queue_whatever_store_object_they_use(pg, pg_url):
    stores = [pg, PostgresStore(pg_url)]
    errors = []

    def write(n):
        try:
            for i in range(10):
                stores[n % 2].apply([rec(f"w{n}-{i}")], [], batch=BY_TEST)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and pg.count() == 40
    assert [b.id for b in pg.imports()] == list(range(40, 0, -1)) and pg.version() == 40


def test_the_url_is_the_setting_and_the_cache_key_without_its_password(pg_url, monkeypatch):
    monkeypatch.setenv("NKMAP_DB", pg_url)
    settings = Settings.from_env()
    assert settings.db_path == pg_url  # a URL stays a string
    assert isinstance(open_store(settings=settings), PostgresStore)
    secret = pg_url.replace("postgres@", "postgres:s3cret@", 1)
    assert gp.redact(secret) == pg_url and "s3cret" not in repr(PostgresStore(secret))
    # What the UI keys its caches on opens the same store again.
    assert open_store(PostgresStore(secret).path).count() == 0
    monkeypatch.setenv("NKMAP_DB", "var/x.sqlite")
    assert Settings.from_env().db_path.name == "x.sqlite"  # a path is still a resolved Path


def test_an_unreachable_server_is_a_store_error_that_says_so(monkeypatch):
    monkeypatch.setattr(gp, "POOL_TIMEOUT_S", 1)
    url = "postgresql://postgres@127.0.0.1:1/nothing"
    try:
        with pytest.raises(StoreError, match="cannot reach the event store .* README"):
            open_store(url)
    finally:
        gp.close_pool(url)


def test_it_has_every_public_method_of_the_sqlite_store_with_the_same_signature():
    import inspect

    from geo.store import SQLiteStore

    for name, method in inspect.getmembers(SQLiteStore, inspect.isfunction):
        if name.startswith("_"):
            continue
        assert hasattr(PostgresStore, name), name
        assert inspect.signature(getattr(PostgresStore, name)) == inspect.signature(method), name
