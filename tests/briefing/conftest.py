"""One seeded store for the briefing tests (they only read it): seeded once, not per module."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.cli import main


@pytest.fixture(scope="session")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("briefing") / "events.sqlite"
    assert main(["seed", "--db", str(path)]) == 0
    return path


@pytest.fixture(autouse=True)
def _store(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exports read this store, and link no public URL unless a test sets one."""
    monkeypatch.setenv("NKMAP_DB", str(db))
    monkeypatch.delenv("NKMAP_PUBLIC_URL", raising=False)
