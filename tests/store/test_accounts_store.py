"""The store's account tables: users and failed sign-ins (hashing and rules live in geo.auth).
On both backends (tests/store/conftest.py)."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from geo.errors import StoreError
from geo.store import ROLES, SQLiteStore, UserRecord

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"  # looks like one; the store never reads it


def test_add_and_read_users(store):
    assert store.users() == [] and store.user("alice") is None
    store.add_user("alice", "admin", HASH, created_by="cli:root")
    store.add_user("Bob", "viewer", "h2", created_by="alice")
    alice = store.user("alice")
    assert isinstance(alice, UserRecord)
    assert (alice.name, alice.role, alice.password_hash, alice.created_by) == (
        "alice",
        "admin",
        HASH,
        "cli:root",
    )
    assert dt.datetime.fromisoformat(alice.created_at).tzinfo is not None
    assert [u.name for u in store.users()] == ["alice", "Bob"]
    assert store.user("BOB").name == "Bob"  # names ignore case: one account


def test_names_are_unique_whatever_their_case(store):
    store.add_user("alice", "editor", HASH, created_by=None)
    for name in ("alice", "ALICE", "Alice"):
        with pytest.raises(StoreError, match="already exists") as refused:
            store.add_user(name, "viewer", "other-hash", created_by=None)
        assert HASH not in str(refused.value) and "other-hash" not in str(refused.value)
    assert len(store.users()) == 1 and store.user("alice").role == "editor"


def test_roles_and_names_are_checked(store, backend):
    assert ROLES == ("viewer", "editor", "admin")
    with pytest.raises(StoreError, match="role"):
        store.add_user("carol", "root", HASH, created_by=None)
    for bad in ("", " carol"):
        with pytest.raises(StoreError, match="name"):
            store.add_user(bad, "viewer", HASH, created_by=None)
    store.add_user("carol", "viewer", HASH, created_by=None)
    with pytest.raises(StoreError, match="role"):
        store.set_role("carol", "superuser")
    # The database refuses it too, whatever the code above does.
    with pytest.raises(backend.integrity_error), store._connect() as conn:
        conn.execute("UPDATE users SET role = 'root' WHERE name = 'carol'")
    assert store.user("carol").role == "viewer"


def test_change_role_password_and_remove(store):
    store.add_user("dave", "viewer", HASH, created_by="alice")
    assert store.set_role("DAVE", "editor") is True and store.user("dave").role == "editor"
    assert store.set_password_hash("dave", "new-hash") is True
    assert store.user("dave").password_hash == "new-hash"
    assert store.set_role("nobody", "admin") is False
    assert store.set_password_hash("nobody", "x") is False
    assert store.remove_user("Dave") is True and store.user("dave") is None
    assert store.remove_user("dave") is False


def test_a_user_record_never_shows_its_hash(store):
    store.add_user("erin", "viewer", HASH, created_by=None)
    record = store.user("erin")
    assert HASH not in repr(record) and HASH not in str(record)
    assert HASH not in repr(store.users())


def test_signin_failures_are_counted_per_name_since_a_moment(store):
    t0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
    for minutes in (0, 5, 10):
        store.record_signin_failure("frank", t0 + dt.timedelta(minutes=minutes))
    store.record_signin_failure("ghost", t0)  # names that are no account count too
    assert store.signin_failures_since("frank", t0) == 3
    assert store.signin_failures_since("FRANK", t0 + dt.timedelta(minutes=5)) == 2
    assert store.signin_failures_since("frank", t0 + dt.timedelta(minutes=11)) == 0
    assert store.signin_failures_since("ghost", t0) == 1
    # Another time zone, or a naive UTC time, is the same moment.
    yerevan = dt.timezone(dt.timedelta(hours=4))
    assert (
        store.signin_failures_since("frank", (t0 + dt.timedelta(minutes=5)).astimezone(yerevan))
        == 2
    )
    assert store.signin_failures_since("frank", dt.datetime(2024, 5, 1, 12, 5)) == 2
    store.clear_signin_failures("Frank")
    assert store.signin_failures_since("frank", t0) == 0
    assert store.signin_failures_since("ghost", t0) == 1
    assert store.prune_signin_failures(t0 + dt.timedelta(seconds=1)) == 1
    assert store.signin_failures_since("ghost", t0) == 0


def test_accounts_live_in_the_store_file(tmp_path):
    """SQLite only: the accounts are in the store's file."""
    path = tmp_path / "events.sqlite"
    SQLiteStore(path).add_user("hana", "admin", HASH, created_by=None)
    SQLiteStore(path).record_signin_failure("hana", dt.datetime.now(dt.UTC))
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT name, role FROM users").fetchall() == [("hana", "admin")]
    assert conn.execute("SELECT count(*) FROM signin_failures").fetchone() == (1,)
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "signin_failures_by_name" in indexes
