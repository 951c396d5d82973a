import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# scripts/ is not a package; its pure steps are tested directly.
sys.path.insert(0, str(REPO / "scripts"))


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory) -> str:
    """An event store seeded with the curated events, shared read-only by page tests."""
    from geo.cli import main

    db = str(tmp_path_factory.mktemp("seeded") / "events.sqlite")
    assert main(["seed", "--db", db]) == 0
    return db
