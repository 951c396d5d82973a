"""Accounts and sign-in (geo/auth.py) on a real SQLite store; Argon2 for real."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from geo import auth
from geo.errors import AuthError, InputError
from geo.store import open_store

PASSWORD = "correct horse battery"
T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "events.sqlite")
    auth.add_user(s, "edith", "editor", PASSWORD, created_by="test")
    return s


def test_passwords_are_stored_as_argon2id_hashes_never_as_text(store, tmp_path):
    record = store.user("edith")
    assert record.password_hash.startswith("$argon2id$")
    assert PASSWORD not in record.password_hash
    assert PASSWORD.encode() not in (tmp_path / "events.sqlite").read_bytes()


def test_sign_in_gives_the_stored_role(store):
    identity = auth.sign_in(store, "edith", PASSWORD, now=T0)
    assert identity == auth.Identity("edith", "editor")
    assert auth.require(store, identity, "editor") is identity
    assert auth.require(store, identity, "viewer") is identity
    with pytest.raises(AuthError, match="needs admin"):
        auth.require(store, identity, "admin")


@pytest.mark.parametrize(("name", "password"), [("edith", "wrong password!"), ("nobody", PASSWORD)])
def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(store, name, password):
    with pytest.raises(AuthError) as refused:
        auth.sign_in(store, name, password, now=T0)
    assert str(refused.value) == "wrong account name or password"
    assert password not in str(refused.value)


def test_failed_sign_ins_are_rate_limited_per_name_and_the_window_passes(store):
    for _ in range(auth.MAX_FAILURES):
        with pytest.raises(AuthError, match="wrong"):
            auth.sign_in(store, "edith", "not the password", now=T0)
    # Even the right password is refused now, without being checked.
    with pytest.raises(AuthError, match="too many failed sign-ins"):
        auth.sign_in(store, "edith", PASSWORD, now=T0 + dt.timedelta(minutes=1))
    later = T0 + auth.FAILURE_WINDOW + dt.timedelta(seconds=1)
    assert auth.sign_in(store, "edith", PASSWORD, now=later).role == "editor"
    # A success clears the count.
    assert store.signin_failures_since("edith", T0 - dt.timedelta(days=1)) == 0


def test_the_count_is_shared_by_every_process_on_the_store(store, tmp_path):
    other = open_store(tmp_path / "events.sqlite")  # another app server, same database
    for _ in range(auth.MAX_FAILURES):
        with pytest.raises(AuthError):
            auth.sign_in(other, "EDITH", "not the password", now=T0)
    with pytest.raises(AuthError, match="too many"):
        auth.sign_in(store, "edith", PASSWORD, now=T0)


def test_a_removed_or_demoted_account_loses_its_rights_at_once(store):
    identity = auth.sign_in(store, "edith", PASSWORD, now=T0)
    store.set_role("edith", "viewer")
    with pytest.raises(AuthError, match="needs editor"):
        auth.require(store, identity, "editor")
    store.remove_user("edith")
    assert auth.current_role(store, identity) is None
    with pytest.raises(AuthError):
        auth.require(store, identity, "viewer")


def test_sessions_expire_when_idle_and_after_the_longest_time():
    identity = auth.Identity("edith", "editor")
    session = auth.Session(identity, T0, T0)
    idle, longest = dt.timedelta(minutes=60), dt.timedelta(hours=12)
    assert not session.expired(T0 + dt.timedelta(minutes=59), idle, longest)
    assert session.expired(T0 + dt.timedelta(minutes=61), idle, longest)
    busy = session
    for minutes in range(30, 12 * 60, 30):  # active every half hour
        busy = busy.touched(T0 + dt.timedelta(minutes=minutes))
    assert not busy.expired(T0 + dt.timedelta(hours=11, minutes=31), idle, longest)
    assert busy.expired(T0 + dt.timedelta(hours=12, minutes=1), idle, longest)


@pytest.mark.parametrize(
    ("name", "role", "password", "message"),
    [
        ("bad name", "editor", PASSWORD, "account name"),
        ("", "editor", PASSWORD, "account name"),
        ("<script>", "editor", PASSWORD, "account name"),
        ("ok", "superuser", PASSWORD, "role must be"),
        ("ok", "editor", "short", "at least 10"),
        ("ok", "editor", "x" * 2000, "at most"),
    ],
)
def test_account_rules_are_explained(store, name, role, password, message):
    with pytest.raises(InputError, match=message) as refused:
        auth.add_user(store, name, role, password, created_by="test")
    if len(password) >= 10:
        assert password not in str(refused.value)


def test_names_are_unique_whatever_the_case(store):
    with pytest.raises(Exception, match="exists"):
        auth.add_user(store, "Edith", "viewer", PASSWORD, created_by="test")


def test_bootstrap_creates_one_admin_once(tmp_path):
    store = open_store(tmp_path / "events.sqlite")
    name, shown = auth.bootstrap_admin(store)
    assert name == "admin" and shown is not None and len(shown) >= auth.MIN_PASSWORD
    assert auth.sign_in(store, "admin", shown).role == "admin"
    assert auth.bootstrap_admin(store) == ("admin", None)  # printed once only
    other = open_store(tmp_path / "other.sqlite")
    assert auth.bootstrap_admin(other, PASSWORD) == ("admin", None)  # NKMAP_ADMIN_PASSWORD
    assert auth.sign_in(other, "admin", PASSWORD).role == "admin"


def test_an_external_account_cannot_sign_in_with_a_password(store):
    auth.add_user(store, "ana@example.org", "editor", None, created_by="test")
    with pytest.raises(AuthError, match="wrong"):
        auth.sign_in(store, "ana@example.org", auth.NO_PASSWORD)


def test_nothing_about_a_password_is_logged(store, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError):
        auth.sign_in(store, "edith", "a wrong one here", now=T0)
    auth.sign_in(store, "edith", PASSWORD, now=T0)
    hash_ = store.user("edith").password_hash
    for record in caplog.records:
        message = record.getMessage()
        assert PASSWORD not in message and "a wrong one here" not in message
        assert hash_ not in message


def test_require_login_shows_only_the_sign_in_form_until_signed_in(tmp_path, monkeypatch):
    """NKMAP_REQUIRE_LOGIN=1: a visitor sees no map and no data, only the form; a viewer
    account that signs in through it sees the map."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    db = tmp_path / "events.sqlite"
    auth.add_user(open_store(db), "vic", "viewer", PASSWORD, created_by="test")
    monkeypatch.setenv("NKMAP_DB", str(db))
    monkeypatch.setenv("NKMAP_REQUIRE_LOGIN", "1")
    app = Path(__file__).resolve().parent.parent / "app.py"
    at = AppTest.from_file(str(app), default_timeout=90).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Sign in"]
    assert not at.dataframe and not at.get("component_instance")
    at.text_input[0].input("vic")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert at.title[0].value == "Nagorno-Karabakh conflict map"
    assert at.get("component_instance")  # the map
