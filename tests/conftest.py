import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# scripts/ is not a package; its pure steps are tested directly.
sys.path.insert(0, str(REPO / "scripts"))

# Suite-wide guards (a test that starts Chromium carries the browser marker; _plugins.py);
# tests/ is on sys.path (rootdir import mode). pytester runs the guard on a sample suite.
pytest_plugins = ["_plugins", "pytester"]


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory) -> str:
    """An event store seeded with the curated events, shared read-only by page tests."""
    from geo.cli import main

    db = str(tmp_path_factory.mktemp("seeded") / "events.sqlite")
    assert main(["seed", "--db", db]) == 0
    return db
