"""The SQLite store: schema version, WAL, one transaction per import, date-window reads."""

import sqlite3
import threading

import pytest

from geo.errors import StoreError
from geo.ingest import content_hash
from geo.store import Record, SQLiteStore


def rec(event_id, day="2020-10-04", end=None, kind="shelling", **extra):
    values = {
        "event_id": event_id,
        "event_date": day,
        "date_end": end,
        "event_type": kind,
        "source": "AFP, 2020-10-04",
        **extra,
    }
    return Record(values, content_hash(values))


@pytest.fixture
def store(tmp_path):
    return SQLiteStore(tmp_path / "var" / "events.sqlite")


def test_a_new_store_is_empty_with_a_schema_version_and_wal(store):
    assert store.count() == 0 and store.schema_version() == 1
    mode = sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_a_store_from_a_newer_program_is_refused(store):
    sqlite3.connect(store.path, isolation_level=None).execute(
        "UPDATE meta SET value='99' WHERE key='schema_version'"
    )
    with pytest.raises(StoreError, match="schema version 99"):
        SQLiteStore(store.path)


def test_date_window_includes_multi_day_events_that_overlap(store):
    store.apply(
        [
            rec("a", "2020-09-27"),
            rec("b", "2020-10-01", "2020-10-20"),
            rec("c", "2020-11-10", kind="ceasefire"),
        ],
        [],
    )
    assert list(store.events("2020-10-10", "2020-10-12")["event_id"]) == ["b"]
    assert list(store.events("2020-09-27", "2020-09-27")["event_id"]) == ["a"]
    assert list(store.events(types=["ceasefire"])["event_id"]) == ["c"]
    frame = store.events()
    assert str(frame["event_date"].dtype).startswith("datetime64")
    assert str(frame["fatalities"].dtype) == "Int64"


def test_an_integrity_error_rolls_back_the_whole_import(store):
    store.apply([rec("a")], [])
    with pytest.raises(StoreError, match="nothing was changed"):
        store.apply([rec("b"), rec("c"), rec("a")], [])  # "a" exists: primary key clash
    assert store.count() == 1
    assert store.hashes(["a", "b", "c"]).keys() == {"a"}


def test_the_database_refuses_what_validation_should_have_caught(store):
    for bad in (
        rec("x", kind="picnic"),
        rec("y", latitude=95.0, longitude=1.0),
        rec("z", latitude=40.0),
        rec("w", "2020-10-04", "2020-10-01"),
    ):
        with pytest.raises(StoreError):
            store.apply([bad], [])
    assert store.count() == 0


def test_concurrent_writers_are_serialised(store):
    errors = []

    def write(prefix):
        try:
            for i in range(20):
                store.apply([rec(f"{prefix}{i}")], [])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(p,)) for p in "abc"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and store.count() == 60
