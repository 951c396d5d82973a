"""geo.ui.superseded reads Streamlit's pending request (not a public API): these fail when a
Streamlit release changes it, and show that a store read inside geo.ui.giving_way ends the run
early so the next one starts at once."""

from __future__ import annotations

import pytest
from store_backends import pg_database, pg_url, store_target  # noqa: F401 (fixtures)
from streamlit.testing.v1 import AppTest


def _page(db: str) -> None:
    import datetime as dt
    import threading

    import streamlit as st
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    from geo import ui
    from geo.store import open_store
    from geo.view import View

    def elsewhere(check) -> bool:  # asked from another thread, as the PostgreSQL watcher does
        out = []
        thread = threading.Thread(target=lambda: out.append(check()))
        thread.start()
        thread.join()
        return out[0]

    runs = st.session_state.setdefault("runs", [])
    runs.append(["idle", ui.superseded(), elsewhere(ui.run_superseded())])
    if len(runs) == 1:
        # The user asks for another view while this run is still counting.
        get_script_run_ctx().script_requests.request_rerun(RerunData())
        runs[-1] += [ui.superseded(), elsewhere(ui.run_superseded())]
        with ui.giving_way():
            open_store(db).timeline(View(start=dt.date(2020, 9, 27), end=dt.date(2020, 11, 10)))
            runs[-1].append("the read ran to its end")
        runs[-1].append("the run went on")
    st.text(repr(runs))


def test_a_read_no_longer_wanted_ends_the_run_and_the_next_starts(tmp_path):
    db = str(tmp_path / "events.sqlite")
    at = AppTest.from_function(_page, args=(db,), default_timeout=30).run()
    assert not at.exception
    assert at.text[0].value == repr([["idle", False, False, True, True], ["idle", False, False]])


def test_nothing_is_superseded_outside_a_run():
    from geo import ui

    assert ui.superseded() is False


def _held_page(shown: bool) -> None:
    import threading

    import streamlit as st
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    from geo import ui

    runs = st.session_state.setdefault("runs", [])
    runs.append("run")
    if len(runs) == 1:
        ui.sections_shown(shown)
        st.text("an earlier view's sections")
        ctx = get_script_run_ctx()
        # The map reports its draw (a rerun request) while this run waits for it.
        threading.Timer(0.2, lambda: ctx.script_requests.request_rerun(RerunData())).start()
        with ui.giving_way():
            ui.hold_while_the_map_draws()
            runs.append("the run went on")
    st.text(repr(runs))


def test_the_page_under_the_map_is_held_until_the_map_reports():
    """A run whose map has not drawn keeps the sections an earlier run left, and ends when
    the map's report asks for the next run (which draws them), not at the hold's limit."""
    at = AppTest.from_function(_held_page, args=(True,), default_timeout=30).run()
    assert not at.exception
    assert at.text[-1].value == repr(["run", "run"])  # the first run ended in the hold


def test_a_page_with_nothing_under_the_map_is_not_held():
    at = AppTest.from_function(_held_page, args=(False,), default_timeout=30).run()
    assert not at.exception
    assert at.text[-1].value == repr(["run", "the run went on"])  # (the first open)


def test_a_map_that_never_reports_is_waited_for_only_so_long(monkeypatch):
    from geo import ui

    monkeypatch.setattr(ui, "HOLD_LIMIT_S", 0.0)  # (the component reports within 3 s)
    at = AppTest.from_function(_held_page, args=(True,), default_timeout=30).run()
    assert not at.exception
    assert "the run went on" in at.text[-1].value
    assert at.session_state["_sections_shown"] is False  # the placeholders are drawn next


def _long_read_page(db: str) -> None:
    import threading

    import streamlit as st
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    from geo import ui
    from geo.store import SQLiteStore, open_store

    runs = st.session_state.setdefault("runs", [])
    used = st.session_state.setdefault("used", [])
    runs.append("run")
    if len(runs) == 1:
        store = open_store(db)
        sql = (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 400000000)"
            " SELECT count(*) FROM c"
            if isinstance(store, SQLiteStore)
            else "SELECT pg_sleep(60)"
        )
        ctx = get_script_run_ctx()
        # The user asks for another view while the store is busy with this run's read.
        threading.Timer(0.3, lambda: ctx.script_requests.request_rerun(RerunData())).start()
        with ui.giving_way(), store._read() as conn:
            used.append(conn)
            conn.execute(sql).fetchall()
            runs.append("the read ran to its end")
        runs.append("the run went on")
    st.text(repr(runs))


@pytest.fixture
def db(store_target):  # noqa: F811 (the imported fixture)
    """A new store on each backend: SQLite in tmp_path, PostgreSQL in a throw-away database."""
    return store_target


def test_a_long_read_stops_when_the_user_asks_for_another_view(db):
    """The app's own check (geo.ui.giving_way, bound to the run) stops a statement the store
    is running: SQLite's progress handler, and on PostgreSQL the watcher thread's cancel,
    asking from a thread where Streamlit knows of no run. A minute-long read ends at once,
    the next run starts, and PostgreSQL's cancelled connection is not pooled again."""
    at = AppTest.from_function(_long_read_page, args=(db,), default_timeout=30).run()
    assert not at.exception
    assert at.text[-1].value == repr(["run", "run"])  # the first run ended in its read
    conn = at.session_state["used"][0]
    if hasattr(conn, "closed"):  # psycopg: a connection sent a cancel is closed
        assert conn.closed
