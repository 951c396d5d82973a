"""geo.ui.superseded reads Streamlit's pending request (not a public API): these fail when a
Streamlit release changes it, and show that a store read inside geo.ui.giving_way ends the run
early so the next one starts at once."""

from __future__ import annotations

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
