"""Every import is a batch: who, when, which file; listed, undone in one transaction, traced.
On both backends (tests/store/conftest.py), but for the upgrades of old SQLite files."""

from __future__ import annotations

import hashlib
import sqlite3
import threading

import pytest

import geo.store.sqlite as gs
from geo.errors import StoreError
from geo.ingest import apply_plan, plan_import
from geo.schema import COLUMN_NAMES
from geo.store import SCHEMA_VERSION, BatchInfo, Record, SQLiteStore, content_hash


def rec(event_id, day="2020-10-04", kind="shelling", **extra):
    values = {"event_id": event_id, "event_date": day, "event_type": kind, "source": "AFP"}
    values.update(extra)
    return Record(values, content_hash(values))


def info(user="alice", file="f.csv", **kw):
    return BatchInfo(user=user, file_name=file, format="native", **kw)


def dump(store) -> dict[str, tuple]:
    """Every stored event as its full row: schema columns, content hash and batch."""
    with store._connect() as conn:
        cols = ", ".join([*COLUMN_NAMES, "content_hash", "import_id"])
        return {r[0]: r for r in conn.execute(f"SELECT {cols} FROM events")}  # noqa: S608


def table(store, name) -> list[tuple]:
    with store._connect() as conn:
        return conn.execute(f"SELECT * FROM {name} ORDER BY 1, 2").fetchall()  # noqa: S608


# ------------------------------------------------------------------------ recording batches


def test_an_import_records_who_which_file_and_counts(store, tmp_path):
    head = "event_id,event_date,event_type,latitude,longitude,source\n"
    data = (
        head + "a,2020-10-04,shelling,40.1,46.1,AP\nb,2020-10-05,shelling,40.1,46.1,\n"
    ).encode()
    plan = plan_import(data, store, source_name="war.csv")
    assert plan.sha256 == hashlib.sha256(data).hexdigest()
    result = apply_plan(plan, store, user="cli:alice")
    [batch] = store.imports()
    assert batch.id == result.import_id == 1
    assert (batch.user, batch.file, batch.sha256, batch.format) == (
        "cli:alice",
        "war.csv",
        hashlib.sha256(data).hexdigest(),
        "native",
    )
    assert (batch.rows, batch.inserted, batch.updated, batch.duplicates, batch.rejected) == (
        2,
        2,
        0,
        0,
        0,
    )
    assert batch.undone_at is batch.undone_by is batch.undo_of is None
    assert batch.at.endswith("+00:00")
    again = plan_import(data, store, source_name="war.csv")
    apply_plan(again, store, user="bob")  # all duplicates: still a batch, that changed nothing
    assert [(b.id, b.user, b.duplicates, b.inserted) for b in store.imports()] == [
        (2, "bob", 2, 0),
        (1, "cli:alice", 0, 2),
    ]
    assert [b.id for b in store.imports(limit=1)] == [2]


def test_a_write_without_a_batch_is_refused(store):
    with pytest.raises(TypeError, match="batch"):
        store.apply([rec("a")], [])
    assert store.imports() == [] and store.count() == 0


def test_versions_hold_the_previous_row_of_updates_and_only_the_id_of_inserts(store):
    store.apply([rec("a", fatalities=1), rec("b")], [], batch=info())
    before = dump(store)["a"]
    store.apply([rec("c")], [rec("a", fatalities=5)], batch=info(user="bob"))
    rows = {
        (r[0], r[1]): r for r in table(store, "event_versions")
    }  # (import_id, event_id, action, columns..., content_hash, prev_import_id)
    assert set(rows) == {(1, "a"), (1, "b"), (2, "a"), (2, "c")}
    assert rows[(1, "a")][2] == "insert" and set(rows[(1, "a")][3:]) == {None}
    assert rows[(2, "c")][2] == "insert"
    update = rows[(2, "a")]
    assert update[2] == "update"
    assert update[3:-2] == before[1:-2]  # every schema column but the id, as it was
    assert update[-2:] == before[-2:]  # its content hash and batch (1)


def test_a_failed_import_records_no_batch_and_no_versions(store):
    store.apply([rec("a")], [], batch=info())
    with pytest.raises(StoreError, match="nothing was changed"):
        store.apply([rec("b")], [rec("a", kind="picnic")], batch=info())
    assert [b.id for b in store.imports()] == [1]
    assert [r[:3] for r in table(store, "event_versions")] == [(1, "a", "insert")]


def test_a_plan_made_before_an_undo_cannot_update_what_the_undo_removed(store):
    head = "event_id,event_date,event_type,latitude,longitude,source,fatalities\n"
    apply_plan(
        plan_import((head + "a,2020-10-04,shelling,40.1,46.1,AP,\n").encode(), store),
        store,
        user="u",
    )
    stale = plan_import((head + "a,2020-10-04,shelling,40.1,46.1,AP,3\n").encode(), store)
    assert len(stale.updates) == 1
    store.undo(1, user="carol")  # "a" is gone now
    with pytest.raises(StoreError, match="changed since the file was checked"):
        apply_plan(stale, store, user="u")
    assert dump(store) == {} and len(store.imports()) == 2


def test_a_bulk_import_that_rebuilds_indexes_records_its_versions(store, monkeypatch):
    monkeypatch.setattr(gs, "REINDEX_MIN_ROWS", 2)
    store.apply([rec("a")], [], batch=info())
    store.apply([rec("b"), rec("c"), rec("d")], [rec("a", fatalities=2)], batch=info())
    assert [r[:3] for r in table(store, "event_versions") if r[0] == 2] == [
        (2, "a", "update"),
        (2, "b", "insert"),
        (2, "c", "insert"),
        (2, "d", "insert"),
    ]
    store.undo(2, user="alice")
    assert list(dump(store)) == ["a"] and dump(store)["a"][-1] == 1


# ------------------------------------------------------------------------ undo


@pytest.fixture
def three(store):
    """Batch 1 inserts a b c; batch 2 inserts d e and updates a; batch 3 inserts f, updates b."""
    store.apply([rec("a"), rec("b"), rec("c", "2020-10-01")], [], batch=info(file="one.csv"))
    after_1 = dump(store)
    store.apply([rec("d"), rec("e")], [rec("a", "2020-11-01", notes="moved")], batch=info())
    store.apply([rec("f")], [rec("b", fatalities=3)], batch=info(user="bob", file="three.csv"))
    return store, after_1


def test_undo_removes_what_the_batch_inserted_and_restores_what_it_updated(three):
    store, after_1 = three
    before = dump(store)
    undo = store.undo(2, user="carol")
    after = dump(store)
    # Nothing else changed: the events of batches 1 and 3 are exactly as they were.
    expected = {k: v for k, v in before.items() if k not in {"a", "d", "e"}}
    expected["a"] = after_1["a"]  # batch 1's version: values, content hash and batch id
    assert after == expected
    assert after["a"][-1] == 1 and after["a"][-2] == content_hash(rec("a").values)
    assert (undo.id, undo.format, undo.undo_of, undo.user, undo.file) == (
        4,
        "undo",
        2,
        "carol",
        None,
    )
    assert (undo.removed, undo.updated, undo.inserted, undo.rows) == (2, 1, 0, 3)
    undone = store.batch(2)
    assert undone.undone_by == "carol" and undone.undone_at == undo.at
    assert store.batch(1).undone_at is None and store.batch(3).undone_at is None
    assert list(store.events("2020-11-01", "2020-11-30")["event_id"]) == []  # the moved date


def test_an_undo_is_refused_when_a_later_batch_changed_its_events(three):
    store, _ = three
    before, batches = dump(store), store.imports()
    with pytest.raises(StoreError) as refused:
        store.undo(1, user="carol")
    message = str(refused.value)
    assert "batch 1 cannot be undone" in message
    assert "2 of its events" in message and "batches 2, 3" in message  # a by 2, b by 3
    assert "event a, b" in message and "force" in message
    assert dump(store) == before and store.imports() == batches  # nothing changed


def test_a_later_batch_undone_since_does_not_block(three):
    store, _ = three
    store.undo(3, user="carol")
    store.undo(2, user="carol")
    undo = store.undo(1, user="carol")
    assert dump(store) == {} and undo.removed == 3
    assert [b.undone_at is not None for b in store.imports()] == [False] * 3 + [True] * 3


def test_force_removes_its_inserts_and_restores_its_updates_whatever_came_later(store):
    store.apply([rec("a", notes="v1"), rec("b")], [], batch=info())
    store.apply([rec("c", notes="c2")], [rec("a", notes="v2")], batch=info())
    store.apply([], [rec("a", notes="v3"), rec("c", notes="c3")], batch=info())
    with pytest.raises(
        StoreError, match=r"2 of its events were changed since by batch 3 \(event a, c\)"
    ):
        store.undo(2, user="carol")
    before = dump(store)
    undo = store.undo(2, user="carol", force=True)
    after = dump(store)
    # a: batch 2's previous version (batch 1's v1), although batch 3 changed it since;
    # c: batch 2 inserted it, so it goes, batch 3's change with it; b: untouched.
    assert after["a"][COLUMN_NAMES.index("notes")] == "v1" and after["a"][-1] == 1
    assert "c" not in after and after["b"] == before["b"]
    assert (undo.removed, undo.updated) == (1, 1)
    assert store.batch(3).undone_at is None  # the later batch is not marked undone
    # History keeps what batch 3 wrote, and the undo that replaced it.
    notes = [
        (v["batch"], v["action"], v["values"] and v["values"]["notes"]) for v in store.history("a")
    ]
    assert notes == [
        (1, "insert", "v1"),
        (2, "update", "v2"),
        (3, "update", "v3"),
        (4, "update", "v1"),
    ]
    assert [(v["batch"], v["action"]) for v in store.history("c")] == [
        (2, "insert"),
        (3, "update"),
        (4, "delete"),
    ]


def test_force_re_creates_an_updated_event_a_forced_undo_removed(store):
    store.apply([rec("a", notes="v1")], [], batch=info())
    store.apply([], [rec("a", notes="v2")], batch=info())
    store.undo(1, user="carol", force=True)  # a removed (batch 1 inserted it)
    assert dump(store) == {}
    with pytest.raises(StoreError, match="1 of its events was changed since by batch 3"):
        store.undo(2, user="carol")
    undo = store.undo(2, user="carol", force=True)  # a's version before batch 2: v1
    assert (undo.inserted, undo.updated, undo.removed) == (1, 0, 0)
    assert dump(store)["a"][COLUMN_NAMES.index("notes")] == "v1"


def test_undo_refuses_unknown_repeated_and_undo_batches(three):
    store, _ = three
    with pytest.raises(StoreError, match="there is no batch 99"):
        store.undo(99, user="carol")
    undo = store.undo(3, user="carol")
    with pytest.raises(StoreError, match="batch 3 was already undone .* by carol"):
        store.undo(3, user="dave")
    with pytest.raises(StoreError, match=f"batch {undo.id} is the undo of batch 3"):
        store.undo(undo.id, user="carol", force=True)


def test_a_failing_undo_changes_nothing(three, backend):
    store, _ = three
    before = (dump(store), store.imports(), table(store, "event_versions"))
    backend.fail_when_undone_at_is_set()
    with pytest.raises(StoreError, match="nothing was changed"):
        store.undo(2, user="carol")  # fails after removing and restoring events
    assert (dump(store), store.imports(), table(store, "event_versions")) == before


def test_an_undo_is_a_new_store_version(three):
    store, _ = three
    version = store.version()
    store.undo(3, user="carol")
    assert store.version() > version


# ------------------------------------------------------------------------ history


def test_history_lists_every_version_oldest_first_with_the_current_last(three):
    store, _ = three
    store.undo(2, user="carol")
    versions = store.history("a")
    assert [(v["batch"], v["action"], v["user"], v["current"]) for v in versions] == [
        (1, "insert", "alice", False),
        (2, "update", "alice", False),
        (4, "update", "carol", True),
    ]
    assert versions[0]["file"] == "one.csv"
    assert versions[1]["values"]["notes"] == "moved"
    assert versions[1]["values"]["event_date"] == "2020-11-01"
    assert versions[2]["values"] == versions[0]["values"]
    assert versions[2]["format"] == "undo" and versions[2]["undo_of"] == 2
    assert versions[2]["content_hash"] == content_hash(rec("a").values)
    gone = store.history("d")
    assert [(v["action"], v["current"]) for v in gone] == [("insert", False), ("delete", False)]
    assert gone[-1]["values"] is None
    assert store.history("f")[-1]["current"] is True
    assert store.history("nope") == []


# ------------------------------------------------------------------------ version 2 stores

V2_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE imports (
    import_id INTEGER PRIMARY KEY AUTOINCREMENT,
    imported_at TEXT NOT NULL,
    source_name TEXT,
    rows INTEGER, inserted INTEGER, updated INTEGER, duplicates INTEGER, rejected INTEGER
);
{events};
CREATE UNIQUE INDEX events_by_id ON events (event_id);
CREATE INDEX events_by_end ON events (date_end);
INSERT INTO meta VALUES ('schema_version', '2'), ('max_duration_days', '0');
INSERT INTO imports (imported_at, source_name, rows, inserted, updated, duplicates, rejected)
VALUES ('2024-01-01T00:00:00+00:00', 'old.csv', 2, 2, 0, 0, 0);
"""


def make_v2_store(path):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(V2_SCHEMA.format(events=gs._CREATE_EVENTS))
    for r in (rec("a"), rec("b")):
        cols = [*r.values, "content_hash", "import_id"]
        conn.execute(
            f"INSERT INTO events ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            (*r.values.values(), r.content_hash, 1),
        )
    conn.close()


def test_a_version_2_store_is_upgraded_and_keeps_its_batches(tmp_path):
    """SQLite only: version-2 stores are SQLite files (PostgreSQL stores start at 4)."""
    path = tmp_path / "v2.sqlite"
    make_v2_store(path)
    store = SQLiteStore(path)
    assert store.schema_version() == SCHEMA_VERSION == 5 and store.count() == 2
    [old] = store.imports()
    assert (old.id, old.user, old.file, old.at, old.inserted) == (
        1,
        gs.USER_BEFORE_V3,
        "old.csv",
        "2024-01-01T00:00:00+00:00",
        2,
    )
    assert [(v["batch"], v["action"], v["current"]) for v in store.history("a")] == [
        (1, "unrecorded", True)
    ]
    with pytest.raises(StoreError, match="before the store kept previous versions"):
        store.undo(1, user="carol")
    # New batches over old events are recorded and undone as any other.
    store.apply([rec("c")], [rec("a", notes="new")], batch=info())
    assert [(v["batch"], v["action"]) for v in store.history("a")] == [
        (1, "unrecorded"),
        (2, "update"),
    ]
    store.undo(2, user="carol")
    assert sorted(dump(store)) == ["a", "b"] and dump(store)["a"][-1] == 1
    with store._connect() as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert {"event_versions", "users", "signin_failures", "events_by_import"} <= names


def test_a_failed_upgrade_leaves_the_version_2_store_as_it_was(tmp_path, monkeypatch):
    """SQLite only: version-2 stores are SQLite files."""
    path = tmp_path / "v2.sqlite"
    make_v2_store(path)
    real = gs._upgrade_from_2

    def broken(conn):
        real(conn)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(gs, "_upgrade_from_2", broken)
    with pytest.raises(RuntimeError):
        SQLiteStore(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("2",)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(imports)")]
    assert "source_name" in columns and "user" not in columns
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "event_versions" not in names and "users" not in names
    conn.close()
    monkeypatch.setattr(gs, "_upgrade_from_2", real)
    assert SQLiteStore(path).schema_version() == 5  # and it upgrades once the bug is gone


# ------------------------------------------------------------------------ opening never waits


@pytest.mark.parametrize("seen_before", [True, False])
def test_opening_and_reading_go_on_while_an_import_holds_the_write_lock(
    tmp_path, monkeypatch, seen_before
):
    """SQLite only: its write lock, held by a raw connection (PostgreSQL:
    test_postgres_store.py)."""
    path = tmp_path / "events.sqlite"
    SQLiteStore(path).apply([rec("a")], [], batch=info())
    if not seen_before:  # as a new process opens it: the schema version is read, not written
        monkeypatch.setattr(gs, "_CURRENT", set())
    writer = sqlite3.connect(path, isolation_level=None, timeout=0)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM signin_failures")  # holds the write lock, uncommitted
    released = threading.Event()
    done = threading.Event()
    outcome = {}

    def read():
        try:
            outcome["ids"] = list(SQLiteStore(path).events()["event_id"])
            outcome["while_locked"] = not released.is_set()
        except Exception as exc:  # pragma: no cover - reported by the asserts
            outcome["error"] = exc
        done.set()

    reader = threading.Thread(target=read)
    reader.start()
    # Far below the 10 s busy timeout a blocked open would wait for; the writer holds on.
    finished = done.wait(timeout=5)
    released.set()
    writer.execute("ROLLBACK")
    writer.close()
    reader.join()
    assert finished and outcome.get("error") is None
    assert outcome["ids"] == ["a"] and outcome["while_locked"] is True


# ------------------------------------------------------------------------ version 3 stores


def test_a_version_3_store_gets_a_second_report_url_and_fresh_hashes(tmp_path):
    """SQLite only (version-3 stores are SQLite files). Version 4 added source_url_2; the
    content hash covers every column, so the upgrade
    recomputes the hashes of events and kept versions: a re-import still finds duplicates and
    an undo still puts back a version whose hash matches its content."""
    path = tmp_path / "v3.sqlite"
    store = SQLiteStore(path)
    store.apply([rec("a"), rec("b")], [], batch=info())
    store.apply([], [rec("a", fatalities=3)], batch=info(file="g.csv"))
    with store._connect() as conn:  # make it the version-3 store an older program left
        for name in ("events", "event_versions"):
            conn.execute(f"ALTER TABLE {name} DROP COLUMN source_url_2")
            conn.execute(f"UPDATE {name} SET content_hash = 'v3' WHERE content_hash IS NOT NULL")
        conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    gs._CURRENT.clear()

    store = SQLiteStore(path)
    assert store.schema_version() == SCHEMA_VERSION == 5
    assert store.hashes(["a", "b"]) == {
        "a": rec("a", fatalities=3).content_hash,
        "b": rec("b").content_hash,
    }
    kept = table(store, "event_versions")
    assert "v3" not in {cell for row in kept for cell in row}
    store.undo(2, user="alice")  # back to the version before batch 2, with its right hash
    assert store.hashes(["a"]) == {"a": rec("a").content_hash}
    with store._connect() as conn:
        assert conn.execute("SELECT source_url_2 FROM events").fetchall() == [(None,), (None,)]
