"""Readers never wait for writers: while an import holds the store's write lock, the map page
renders and exports succeed (the README promises readers go on during an import).

The lock is held by a raw SQLite connection for up to 15 s (longer than the store's 10 s busy
timeout, so a reader that waited for it would fail with "database is locked", not just be
slow); the readers must all finish while it is still held.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from streamlit.testing.v1 import AppTest

from geo.cli import main

REPO = Path(__file__).resolve().parents[2]
HOLD_S = 15


def _hold_write_lock(path: Path, held: threading.Event, release: threading.Event) -> None:
    writer = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("DELETE FROM signin_failures")  # a write in progress, uncommitted
        held.set()
        release.wait(timeout=HOLD_S)
        writer.execute("ROLLBACK")
    finally:
        writer.close()


def test_a_page_render_and_exports_succeed_while_an_import_holds_the_lock(
    seeded_db, tmp_path, monkeypatch
):
    db = Path(seeded_db)
    held, release = threading.Event(), threading.Event()
    writer = threading.Thread(target=_hold_write_lock, args=(db, held, release))
    writer.start()
    try:
        assert held.wait(timeout=10)
        monkeypatch.setenv("NKMAP_DB", str(db))
        page = AppTest.from_file(str(REPO / "app.py"), default_timeout=HOLD_S).run()
        csv_out, html_out = tmp_path / "war.csv", tmp_path / "war.html"
        exported = main(["export", "--db", str(db), "--format", "csv", "--out", str(csv_out)])
        snapped = main(["snapshot", "--db", str(db), "--out", str(html_out)])
        still_locked = writer.is_alive() and not release.is_set()
    finally:
        release.set()
        writer.join()
    assert still_locked, "the readers finished only after the writer let go"
    assert not page.exception and page.get("component_instance")
    # Every one of the 184 curated events, and the header.
    assert exported == 0 and csv_out.read_text(encoding="utf-8").count("\n") > 180
    assert snapped == 0 and "nk-brief" in html_out.read_text(encoding="utf-8")
