"""Shared by the Upload page tests: a fresh store with an editor and a viewer account."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import auth
from geo.store import open_store

EDITOR, VIEWER = "edith", "vic"
PASSWORD = "a long test password"


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    # AppTest runs the page in this process: the page reads NKMAP_DB from the environment.
    path = tmp_path / "events.sqlite"
    monkeypatch.setenv("NKMAP_DB", str(path))
    store = open_store(path)
    auth.add_user(store, EDITOR, "editor", PASSWORD, created_by="test")
    auth.add_user(store, VIEWER, "viewer", PASSWORD, created_by="test")
    return path
