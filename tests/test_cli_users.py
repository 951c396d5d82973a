"""`nkmap users`: accounts from the trusted command line (real store, real Argon2)."""

from __future__ import annotations

import json

import pytest

from geo import auth
from geo.cli import main
from geo.store import open_store

PASSWORD = "a long enough password"


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "events.sqlite")


@pytest.fixture
def password_file(tmp_path):
    path = tmp_path / "pw.txt"
    path.write_text(PASSWORD + "\n", encoding="utf-8")
    return str(path)


def test_add_list_role_remove(db, password_file, capsys):
    assert main(["users", "add", "alice", "--role", "editor", "--password-file", password_file,
                 "--db", db]) == 0  # fmt: skip
    assert auth.sign_in(open_store(db), "alice", PASSWORD).role == "editor"
    capsys.readouterr()
    assert main(["users", "list", "--json", "--db", db]) == 0
    (alice,) = json.loads(capsys.readouterr().out)
    assert alice["name"] == "alice" and alice["role"] == "editor"
    assert alice["by"].startswith("cli:")  # the OS user who made it
    assert PASSWORD not in json.dumps(alice) and "argon2" not in json.dumps(alice)
    assert main(["users", "role", "alice", "--role", "viewer", "--db", db]) == 0
    assert open_store(db).user("alice").role == "viewer"
    assert main(["users", "remove", "alice", "--db", db]) == 0
    assert open_store(db).user("alice") is None
    assert main(["users", "remove", "alice", "--db", db]) == 2
    assert "no such account" in capsys.readouterr().err


def test_without_a_terminal_the_password_must_come_from_a_file(db, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["users", "add", "bob", "--role", "editor", "--db", db]) == 2
    assert "--password-file" in capsys.readouterr().err
    assert open_store(db).user("bob") is None


def test_a_short_password_is_refused_and_never_echoed(db, tmp_path, capsys):
    short = tmp_path / "short.txt"
    short.write_text("hunter2\n", encoding="utf-8")
    assert main(["users", "add", "c", "--password-file", str(short), "--db", db]) == 2
    err = capsys.readouterr().err
    assert "at least 10 characters" in err and "hunter2" not in err


def test_passwd_changes_the_password_and_lifts_a_lock_out(db, password_file, tmp_path):
    assert main(["users", "add", "dora", "--role", "editor", "--password-file", password_file,
                 "--db", db]) == 0  # fmt: skip
    store = open_store(db)
    for _ in range(auth.MAX_FAILURES):
        with pytest.raises(auth.AuthError):
            auth.sign_in(store, "dora", "wrong password!")
    new = tmp_path / "new.txt"
    new.write_text("another long password\n", encoding="utf-8")
    assert main(["users", "passwd", "dora", "--password-file", str(new), "--db", db]) == 0
    assert auth.sign_in(store, "dora", "another long password").name == "dora"


def test_bootstrap_prints_the_admin_password_once(db, capsys, monkeypatch):
    monkeypatch.delenv("NKMAP_ADMIN_PASSWORD", raising=False)
    assert main(["users", "bootstrap", "--db", db]) == 0
    out = capsys.readouterr().out
    password = out.split("shown this once: ")[1].split()[0]
    assert auth.sign_in(open_store(db), "admin", password).role == "admin"
    assert main(["users", "bootstrap", "--db", db]) == 0
    assert capsys.readouterr().out == ""  # never again


def test_bootstrap_takes_the_admin_password_from_the_environment(db, capsys, monkeypatch):
    monkeypatch.setenv("NKMAP_ADMIN_PASSWORD", PASSWORD)
    assert main(["users", "bootstrap", "--db", db]) == 0
    assert PASSWORD not in capsys.readouterr().out
    assert auth.sign_in(open_store(db), "admin", PASSWORD).role == "admin"
