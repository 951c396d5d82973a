"""The event store on both backends (tests/store/conftest.py): schema version, one transaction
per import, date-window reads; and SQLite's own: WAL, index plans, upgrades of old files."""

import csv
import hashlib
import io
import json
import sqlite3
import threading

import pandas as pd
import pytest

from geo.errors import StoreError
from geo.store import SCHEMA_VERSION, BatchInfo, Record, SQLiteStore, content_hash, open_store

BY_TEST = BatchInfo(user="test", file_name="test.csv")


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


def test_a_new_store_is_empty_with_a_schema_version(store):
    assert store.count() == 0 and store.schema_version() == SCHEMA_VERSION
    assert store.version() == 0 and store.imports() == [] and store.date_span() is None


def test_a_new_sqlite_store_uses_wal(sqlite_store):
    """SQLite only: its journal mode."""
    mode = sqlite3.connect(sqlite_store.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_a_store_from_a_newer_program_is_refused(store, store_target, monkeypatch):
    import geo.store.postgres as gp
    import geo.store.sqlite as gs

    with store._connect() as conn:
        conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    open_store(store_target)  # this process checked the store already: it does not read again
    # As another process (or a restart) opens it.
    monkeypatch.setattr(gs if isinstance(store, SQLiteStore) else gp, "_CURRENT", set())
    with pytest.raises(StoreError, match="schema version 99"):
        open_store(store_target)


def test_date_window_includes_multi_day_events_that_overlap(store):
    store.apply(
        [
            rec("a", "2020-09-27"),
            rec("b", "2020-10-01", "2020-10-20"),
            rec("c", "2020-11-10", kind="ceasefire"),
        ],
        [],
        batch=BY_TEST,
    )
    assert list(store.events("2020-10-10", "2020-10-12")["event_id"]) == ["b"]
    assert list(store.events("2020-09-27", "2020-09-27")["event_id"]) == ["a"]
    assert list(store.events(types=["ceasefire"])["event_id"]) == ["c"]
    frame = store.events()
    assert str(frame["event_date"].dtype).startswith("datetime64")
    assert str(frame["fatalities"].dtype) == "Int64"


def test_an_integrity_error_rolls_back_the_whole_import(store):
    store.apply([rec("a")], [], batch=BY_TEST)
    with pytest.raises(StoreError, match="nothing was changed"):
        store.apply(
            [rec("b"), rec("c"), rec("a")], [], batch=BY_TEST
        )  # "a" exists: primary key clash
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
            store.apply([bad], [], batch=BY_TEST)
    assert store.count() == 0


def test_concurrent_writers_are_serialised(store):
    errors = []

    def write(prefix):
        try:
            for i in range(20):
                store.apply([rec(f"{prefix}{i}")], [], batch=BY_TEST)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(p,)) for p in "abc"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and store.count() == 60


# ------------------------------------------------------------------------ date windows


def test_a_window_finds_a_long_event_that_started_long_before_it(store):
    store.apply(
        [rec("long", "2020-01-01", "2020-12-31"), rec("short", "2020-06-01")], [], batch=BY_TEST
    )
    assert list(store.events("2020-11-01", "2020-11-30")["event_id"]) == ["long"]
    assert list(store.events("2020-12-31", "2021-01-31")["event_id"]) == ["long"]
    assert store.events("2021-01-01", "2021-01-31").empty


def test_an_update_that_lengthens_an_event_widens_the_window_search(store):
    store.apply([rec("a", "2020-09-01"), rec("b", "2020-09-05", "2020-09-07")], [], batch=BY_TEST)
    assert store.events("2020-10-01", "2020-10-31").empty
    store.apply([], [rec("a", "2020-09-01", "2020-10-15")], batch=BY_TEST)
    assert list(store.events("2020-10-01", "2020-10-31")["event_id"]) == ["a"]
    assert list(store.events("2020-10-15", "2020-10-15", ["shelling"])["event_id"]) == ["a"]


def test_window_queries_read_an_index_range(sqlite_store):
    """SQLite only: its query plan (the PostgreSQL plan: test_postgres_store.py)."""
    store = sqlite_store
    store.apply([rec("a", "2020-09-01", "2020-09-03")], [], batch=BY_TEST)
    with store._connect() as conn:
        detail = " ".join(
            row[-1]
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT * FROM events WHERE event_date <= ? AND "
                "coalesce(date_end, event_date) >= ? AND event_date >= ? AND event_type IN (?) "
                "ORDER BY event_date, event_id",
                ("2020-10-31", "2020-10-01", "2020-09-29", "shelling"),
            )
        )
    # The table is stored in date order: a window is one range of it, already sorted.
    assert "USING PRIMARY KEY (event_date>? AND event_date<?)" in detail
    assert "TEMP B-TREE" not in detail


def test_windows_match_a_plain_filter_of_every_event(store):
    import random

    rng = random.Random(7)
    days = pd.date_range("2019-01-01", "2021-12-31").strftime("%Y-%m-%d").tolist()
    records = []
    for i in range(400):
        first = rng.randrange(len(days) - 60)
        end = days[first + rng.randrange(60)] if rng.random() < 0.3 else None
        records.append(rec(f"e{i:03d}", days[first], end, kind=rng.choice(["shelling", "other"])))
    store.apply(records, [], batch=BY_TEST)
    every = store.events()
    for _ in range(30):
        a = rng.randrange(len(days))
        start, end = days[a], days[min(len(days) - 1, a + rng.randrange(40))]
        types = rng.choice([None, ["shelling"], ["other", "shelling"]])
        last = every["date_end"].fillna(every["event_date"])
        keep = (every["event_date"] <= end) & (last >= start)
        if types:
            keep &= every["event_type"].isin(types)
        expected = every[keep].reset_index(drop=True)
        pd.testing.assert_frame_equal(store.events(start, end, types), expected)


# ------------------------------------------------------------------------ version 1 stores

V1_EVENTS = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE imports (
    import_id INTEGER PRIMARY KEY AUTOINCREMENT, imported_at TEXT NOT NULL, source_name TEXT,
    rows INTEGER, inserted INTEGER, updated INTEGER, duplicates INTEGER, rejected INTEGER
);
CREATE TABLE events (
    {columns}, content_hash TEXT NOT NULL,
    import_id INTEGER REFERENCES imports(import_id), PRIMARY KEY (event_id),
    CHECK (event_type IN ('shelling', 'other'))
) WITHOUT ROWID;
CREATE INDEX events_by_date ON events (event_date, event_type);
CREATE INDEX events_by_end ON events (date_end);
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO imports (imported_at) VALUES ('2024-01-01T00:00:00');
"""


def v1_hash(values):  # version 1's definition: sha256 of the JSON of the non-empty values
    payload = {k: v for k, v in values.items() if v is not None}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def make_v1_store(path, rows) -> None:
    from geo.schema import BY_NAME, COLUMN_NAMES

    conn = sqlite3.connect(path, isolation_level=None)
    types = {"float": "REAL", "int": "INTEGER"}
    columns = ", ".join(f"{c} {types.get(BY_NAME[c].kind.value, 'TEXT')}" for c in COLUMN_NAMES)
    conn.executescript(V1_EVENTS.format(columns=columns))
    for r in rows:
        conn.execute(
            f"INSERT INTO events ({', '.join(r)}, content_hash, import_id) "
            f"VALUES ({', '.join('?' * len(r))}, ?, 1)",
            (*r.values(), v1_hash(r)),
        )
    conn.close()


V1_ROWS = [
    {"event_id": "a", "event_date": "2020-10-04", "event_type": "shelling",
     "latitude": 40.6828, "longitude": 46.3606, "fatalities": 2, "source": "AFP"},
    {"event_id": "b", "event_date": "2020-10-01", "date_end": "2020-10-20",
     "event_type": "other", "location": "Ganja", "latitude": 40.68, "longitude": 46.36,
     "source": "Reuters", "notes": 'quote " and é'},
]  # fmt: skip


def test_a_version_1_store_is_upgraded_in_place_and_keeps_its_duplicates(tmp_path):
    """SQLite only: version-1 stores are SQLite files (PostgreSQL stores start at 4)."""
    from geo.ingest import plan_import
    from geo.schema import COLUMN_NAMES

    path = tmp_path / "old.sqlite"
    make_v1_store(path, V1_ROWS)
    store = SQLiteStore(path)
    assert store.schema_version() == SCHEMA_VERSION and store.count() == 2
    assert store.hashes(["a", "b"]) == {r["event_id"]: content_hash(r) for r in V1_ROWS}
    assert list(store.events("2020-10-15", "2020-10-16")["event_id"]) == ["b"]
    with store._connect() as conn:
        ddl = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'events'").fetchone()[0]
        assert " IN (" not in ddl and "event_type = 'capture'" in ddl  # today's constraints
    # The events re-imported from a file are duplicates, not updates.
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMN_NAMES)
    writer.writerows([r.get(c, "") for c in COLUMN_NAMES] for r in V1_ROWS)
    plan = plan_import(out.getvalue().encode(), store)
    assert not plan.rejects and not plan.inserts and not plan.updates
    assert sorted(plan.duplicates) == ["a", "b"]


def test_a_failed_upgrade_leaves_the_version_1_store_as_it_was(tmp_path, monkeypatch):
    """SQLite only: version-1 stores are SQLite files."""
    import geo.store.sqlite as gs

    path = tmp_path / "old.sqlite"
    make_v1_store(path, V1_ROWS)
    before = sqlite3.connect(path).execute("SELECT * FROM events ORDER BY event_id").fetchall()

    def broken(frame):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(gs, "content_hashes", broken)
    with pytest.raises(RuntimeError):
        SQLiteStore(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("1",)
    assert conn.execute("SELECT * FROM events ORDER BY event_id").fetchall() == before
    ddl = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'events'").fetchone()[0]
    assert " IN (" in ddl


def test_a_bulk_import_rebuilds_indexes_and_still_refuses_a_repeated_id(sqlite_store, monkeypatch):
    """SQLite only: its index rebuild during a large import."""
    import geo.store.sqlite as gs

    store = sqlite_store
    monkeypatch.setattr(gs, "REINDEX_MIN_ROWS", 2)
    store.apply([rec("a")], [], batch=BY_TEST)
    with pytest.raises(StoreError, match="nothing was changed"):
        store.apply(
            [rec("c", "2020-10-09"), rec("b", "2020-10-01"), rec("a", "2020-11-01")],
            [],
            batch=BY_TEST,
        )
    assert store.count() == 1
    store.apply([rec("c", "2020-10-09"), rec("b", "2020-10-01", "2020-10-30")], [], batch=BY_TEST)
    assert list(store.events()["event_id"]) == ["b", "a", "c"]
    assert list(store.events("2020-10-20", "2020-10-20")["event_id"]) == ["b"]
    with store._connect() as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"events_by_id", "events_by_end"} <= names


def test_a_batch_leaves_out_empty_columns_but_an_update_clears_them(store, monkeypatch):
    import geo.store.sqlite as gs
    from geo.ingest import apply_plan, plan_import
    from geo.schema import COLUMN_NAMES

    monkeypatch.setattr(gs, "WRITE_BATCH", 2)  # notes empty in one batch, not in the other
    head = ",".join(COLUMN_NAMES) + "\n"

    def row(event_id, notes):
        values = {"event_id": event_id, "event_date": "2020-10-04", "event_type": "shelling"}
        values |= {"latitude": "40.1", "longitude": "46.1", "source": "AFP", "notes": notes}
        return ",".join(values.get(c, "") for c in COLUMN_NAMES) + "\n"

    data = head + row("a", "") + row("b", "") + row("c", "seen") + row("d", "")
    apply_plan(plan_import(data.encode(), store), store, user="test")
    notes = store.events().set_index("event_id")["notes"]
    assert notes.isna().tolist() == [True, True, False, True] and notes["c"] == "seen"
    plan = plan_import((head + row("c", "")).encode(), store)
    assert len(plan.updates) == 1
    apply_plan(plan, store, user="test")
    assert store.events().set_index("event_id")["notes"].isna().all()


def test_rows_are_typed_as_typed_frame_types_them():
    # The store's read path builds typed columns through Arrow; it must give exactly what
    # typed_frame gives from the same rows (NULLs in every kind of column, and no rows).
    from geo.schema import COLUMN_NAMES
    from geo.store.records import _rows_frame, typed_frame

    full = {c: None for c in COLUMN_NAMES}
    full.update(
        event_id="a",
        event_date="2020-10-01",
        date_end="2020-10-03",
        event_type="shelling",
        latitude=39.8,
        longitude=46.7,
        fatalities=3,
        geo_precision=2,
        notes="<b>x</b> é",
    )
    sparse = {c: None for c in COLUMN_NAMES}
    sparse.update(event_id="b", event_date="2020-10-02", event_type="statement", source="s")
    rows = [tuple(r[c] for c in COLUMN_NAMES) for r in (full, sparse)]
    expected = typed_frame(pd.DataFrame.from_records(rows, columns=list(COLUMN_NAMES)))
    pd.testing.assert_frame_equal(_rows_frame(rows), expected)
    empty = typed_frame(pd.DataFrame(columns=list(COLUMN_NAMES)))
    pd.testing.assert_frame_equal(_rows_frame([]), empty)


def test_reads_in_batches_give_the_same_frame(store, monkeypatch):
    # A store read larger than one fetch batch is the concatenation of the batches' frames.
    import geo.store.postgres as gp
    import geo.store.sqlite as gs
    from geo.ingest import apply_plan, plan_import

    rows = ["event_id,event_date,date_end,event_type,latitude,longitude,fatalities,source"]
    for i in range(23):
        end = f"2020-10-{i % 9 + 10:02d}" if i % 4 == 0 else ""
        fat = str(i) if i % 3 else ""
        rows.append(f"e{i:02d},2020-10-{i % 9 + 1:02d},{end},shelling,40.0,46.5,{fat},src")
    s = store
    apply_plan(
        plan_import(("\n".join(rows) + "\n").encode(), s, source_name="b.csv"), s, user="test"
    )
    whole = s.events()
    monkeypatch.setattr(gs if isinstance(store, SQLiteStore) else gp, "READ_BATCH", 5)
    pd.testing.assert_frame_equal(s.events(), whole)
    pd.testing.assert_frame_equal(
        s.events("2020-10-03", "2020-10-05"),
        whole[
            (whole["event_date"] <= "2020-10-05")
            & (whole["date_end"].fillna(whole["event_date"]) >= "2020-10-03")
        ].reset_index(drop=True),
    )
