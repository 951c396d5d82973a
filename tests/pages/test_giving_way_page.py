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
