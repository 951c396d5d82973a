"""`nkmap seed --db postgresql://...` and `nkmap copy`: a store moves between SQLite and
PostgreSQL and back as it is (events, batches, versions, accounts), export for export."""

from __future__ import annotations

import datetime as dt

import pytest

from geo.cli import main
from geo.store import BatchInfo, Record, content_hash, open_store


def rec(event_id, day="2020-10-04", **extra):
    values = {"event_id": event_id, "event_date": day, "event_type": "shelling", "source": "AFP"}
    values |= extra
    return Record(values, content_hash(values))


def everything(store) -> tuple:
    """What a copy must keep: batches, accounts, failures, every event's history."""
    ids = sorted(store.events()["event_id"])
    return (
        store.imports(),
        [(u.name, u.role, u.password_hash, u.created_at, u.created_by) for u in store.users()],
        store.signin_failures_since("ghost", dt.datetime(2000, 1, 1)),
        {i: store.history(i) for i in [*ids, "gone"]},
        store.value_counts("source").sort_index().to_dict(),
        store.date_span(),
    )


def export(target, path) -> bytes:
    assert main(["export", "--db", str(target), "--format", "csv", "--out", str(path)]) == 0
    return path.read_bytes()


def test_seed_creates_the_postgis_schema_and_is_idempotent(pg_url, capsys):
    assert main(["seed", "--db", pg_url]) == 0
    store = open_store(pg_url)
    first = (store.count(), store.version(), len(store.imports()))
    assert first[0] > 180 and first[1] >= 1
    assert main(["seed", "--db", pg_url]) == 0  # a second seed inserts nothing
    assert store.count() == first[0]
    assert pg_url.split("?")[0] in capsys.readouterr().err  # the store, never a password


def test_a_copy_to_postgresql_and_back_exports_the_same_bytes(tmp_path, pg_url):
    first = tmp_path / "first.sqlite"
    assert main(["seed", "--db", str(first)]) == 0
    store = open_store(first)
    store.apply(
        [rec("gone"), rec("extra", "2020-11-02", date_end="2020-11-20", latitude=39.8,
                          longitude=46.75, notes='quote " , newline\nand é')],
        [],
        batch=BatchInfo(user="alice", file_name="x.csv", format="native", sha256="ab" * 32),
    )  # fmt: skip
    store.apply([], [rec("extra", "2020-11-02", fatalities=0, latitude=-0.0, longitude=1e-7)],
                batch=BatchInfo(user="bob"))  # fmt: skip
    store.undo(store.imports()[1].id, user="carol", force=True)  # "gone" goes
    store.apply([rec("later", fatalities=12)], [], batch=BatchInfo(user="dave"))
    store.add_user("Alice", "admin", "$argon2id$hash", created_by="cli:root")
    store.add_user("bob", "viewer", "$argon2id$other", created_by=None)
    store.record_signin_failure("ghost", dt.datetime(2024, 5, 1, 12, 0, 0, 123456))

    assert main(["copy", "--from", str(first), "--to", pg_url]) == 0
    back = tmp_path / "back.sqlite"
    assert main(["copy", "--from", pg_url, "--to", f"sqlite:///{back}"]) == 0

    pg, again = open_store(pg_url), open_store(back)
    original = export(first, tmp_path / "first.csv")
    assert export(pg_url, tmp_path / "pg.csv") == original
    assert export(back, tmp_path / "back.csv") == original
    assert everything(pg) == everything(store) == everything(again)
    assert again.version() == store.version()
    # The copies go on as the original would: the next batch number, undo of copied batches.
    assert pg.apply([rec("new")], [], batch=BatchInfo(user="eve")).import_id == (
        store.imports()[0].id + 1
    )
    assert pg.undo(store.imports()[0].id, user="eve").undo_of == store.imports()[0].id


def test_a_copy_refuses_a_store_that_is_not_empty(tmp_path, pg_url, capsys):
    source = tmp_path / "a.sqlite"
    open_store(source).apply([rec("a")], [], batch=BatchInfo(user="u"))
    target = open_store(pg_url)
    target.add_user("x", "viewer", "h", created_by=None)
    assert main(["copy", "--from", str(source), "--to", pg_url]) == 2
    assert "not empty" in capsys.readouterr().err
    assert target.count() == 0 and target.imports() == []


@pytest.mark.parametrize("bad", ["events", "accounts"])
def test_a_copy_that_fails_leaves_the_target_empty(tmp_path, pg_url, bad):
    import sqlite3

    source = tmp_path / "a.sqlite"
    store = open_store(source)
    store.apply([rec("a"), rec("b")], [], batch=BatchInfo(user="u"))
    store.add_user("x", "viewer", "h", created_by=None)
    with sqlite3.connect(source, isolation_level=None) as conn:  # what PostgreSQL refuses
        if bad == "events":
            conn.execute("UPDATE events SET event_date = '2020-02-30' WHERE event_id = 'b'")
        else:
            # The last table copied: text with a NUL, which PostgreSQL text cannot hold.
            conn.execute("INSERT INTO signin_failures VALUES ('nul' || char(0), 'now')")
    assert main(["copy", "--from", str(source), "--to", pg_url]) == 2
    target = open_store(pg_url)
    assert target.count() == 0 and target.imports() == [] and target.users() == []


def test_a_copy_from_a_file_that_does_not_exist_creates_nothing(tmp_path, capsys):
    missing, target = tmp_path / "missing.sqlite", tmp_path / "target.sqlite"
    assert main(["copy", "--from", str(missing), "--to", str(target)]) == 2
    assert "no such store file" in capsys.readouterr().err
    assert not missing.exists() and not target.exists()
