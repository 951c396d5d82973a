"""App tests: the page runs, its widgets change what the map script contains."""

import datetime as dt
import json
import re
import tomllib
from pathlib import Path

import pytest
from live_map import map_args as _map_args
from live_map import report_drawn as _drawn
from streamlit.testing.v1 import AppTest

from geo.schema import EVENT_TYPES

REPO = Path(__file__).resolve().parents[2]
APP = str(REPO / "app.py")


@pytest.fixture(autouse=True)
def _own_store(monkeypatch, seeded_db):
    # AppTest runs the page in this process: the page reads NKMAP_DB from the environment.
    monkeypatch.setenv("NKMAP_DB", seeded_db)


@pytest.fixture(autouse=True)
def _no_hold(monkeypatch):
    # AppTest runs no component: nothing reports the map's draw during a run, and a run after
    # a period change would wait out the hold (geo.ui.hold_while_the_map_draws, tested in
    # test_giving_way_page.py) before drawing the placeholders these tests look for.
    from geo import ui

    monkeypatch.setattr(ui, "HOLD_LIMIT_S", 0.0)


def _open(**query: str) -> AppTest:
    """The map page at a permalink, drawn."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query)
    return _drawn(at.run())


def _map_html(at: AppTest) -> str:
    """The map's page the component loads, as the app wrote it."""
    from geo.map.served import served_path

    return served_path(_map_args(at)["doc"]).read_text(encoding="utf-8")


def test_map_page_runs_and_draws_the_layers():
    at = _open()
    assert not at.exception
    assert at.title[0].value == "Nagorno-Karabakh conflict map"
    html = _map_html(at)
    assert "Oil and gas pipelines" in html
    assert "reconstruction from claimed captures" in html  # the 2020 war day by day
    assert "NKMap.eventsLayer(" in html  # the curated events are drawn
    table = next(d.value for d in at.dataframe if "event_date" in d.value)
    assert "2020-10-05" in table["event_date"].astype(str).tolist()


def test_a_period_change_moves_the_drawn_map_instead_of_rebuilding_it():
    from geo.map.timecontrol import day_number

    at = AppTest.from_file(APP, default_timeout=60).run()
    before = _map_args(at)
    page = _map_html(at)
    # The map's page carries the whole data span: the war's front and the later corridor
    # alike, and the time control shows the period's days.
    assert "Lachin corridor" in page
    assert "reconstruction from claimed captures" in page
    assert "nk-time" in page
    assert before["fit"] and before["fit"]["seq"] == 1  # the opening frames the events
    at.date_input[1].set_value("2021-06-01").run()
    at.date_input[0].set_value("2021-06-01").run()
    assert not at.exception
    after = _map_args(at)
    # The same page (the browser keeps it); only the values changed: the period, and a new
    # framing of the new period's events.
    assert after["doc"] == before["doc"]
    day = day_number("2021-06-01", 0)
    assert after["period"] == [day, day] and before["period"] != after["period"]
    assert after["fit"]["seq"] > before["fit"]["seq"]
    assert after["fit"]["events"]["start"] == day == after["fit"]["events"]["end"]
    # A rerun that changes nothing sends no new framing (the user's pans stay).
    at.run()
    assert _map_args(at)["fit"] is None and _map_args(at)["doc"] == before["doc"]


def test_a_layer_change_publishes_another_map_page():
    at = AppTest.from_file(APP, default_timeout=60).run()
    before = _map_args(at)["doc"]
    at.multiselect(key="layers").set_value(["countries", "events"]).run()
    assert not at.exception
    after = _map_args(at)["doc"]
    assert after != before
    assert "Oil and gas pipelines" in Path(_served(before)).read_text(encoding="utf-8")
    assert "Oil and gas pipelines" not in Path(_served(after)).read_text(encoding="utf-8")


def _served(url: str) -> Path:
    from geo.map.served import served_path

    return served_path(url)


def _counts_line(at: AppTest) -> str:
    return next(c.value for c in at.caption if re.match(r"[\d,]+ events, ", c.value))


def _count(at: AppTest) -> int:
    return int(_counts_line(at).split(" events")[0].replace(",", ""))


def test_filters_reduce_the_events_and_go_into_the_url():
    at = _open()
    everything = _count(at)
    shelling = _count(_drawn(at.multiselect(key="types").set_value(["shelling"]).run()))
    assert 0 < shelling < everything
    assert at.query_params["types"] == ["shelling"] or at.query_params["types"] == "shelling"
    assert _count(_drawn(at.text_input(key="q").set_value("Ganja").run())) < shelling


def test_a_permalink_restores_the_view():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(
        {"from": "2020-10-01", "to": "2020-10-10", "types": "shelling", "names": "azerbaijani"}
    )
    at.run()
    assert not at.exception
    assert str(at.date_input(key="from").value) == "2020-10-01"
    assert at.multiselect(key="types").value == ["shelling"]
    assert at.radio(key="names").value == "azerbaijani"


def test_presets_set_the_period():
    at = _open()
    _drawn(at.selectbox(key="preset").set_value("2023 offensive and exodus").run())
    assert str(at.date_input(key="from").value) == "2023-09-19"
    assert "2023" in at.caption[0].value and "2023" in _counts_line(at)


def test_naming_convention_reaches_the_map():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.radio(key="names").set_value("azerbaijani").run()
    html = _map_html(at)
    # The label's HTML sits JSON-escaped in the map's script ("<" as \u003c).
    assert re.search(r"nk-site-label\W+u003eKhankendi\W", html)
    assert not re.search(r"nk-site-label\W+u003eStepanakert", html)


def test_streamlit_config_is_safe_and_serves_static_assets():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    server = config["server"]
    assert server["enableStaticServing"] is True
    assert server["enableXsrfProtection"] is True
    assert 0 < server["maxUploadSize"] <= 200
    # "none": generic messages only (False still shows tracebacks with server paths).
    assert config["client"]["showErrorDetails"] == "none"
    assert server["address"] == "127.0.0.1"  # loopback unless the deployer says otherwise
    # No gc.collect(2) after each run: it stalled the next run's map (bench/RESULTS.md).
    assert config["runner"]["postScriptGC"] is False


def test_proximity_table_counts_events_near_each_line():
    at = _open()
    near = next(d.value for d in at.dataframe if "line" in d.value)
    assert "Baku-Tbilisi-Ceyhan (BTC)" in set(near["line"])
    within = [c for c in near.columns if c.startswith("events within")][0]
    at.slider(key="km").set_value(50).run()  # the map has drawn this period: no wait
    wider = next(d.value for d in at.dataframe if "line" in d.value)
    assert wider[within.replace("10", "50")].sum() >= near[within].sum()


def test_period_slider_and_date_fields_stay_in_step():
    import datetime as dt

    at = AppTest.from_file(APP, default_timeout=60).run()
    assert at.slider(key="span").value == (dt.date(2020, 9, 27), dt.date(2020, 10, 5))
    at.slider(key="span").set_value((dt.date(2020, 10, 10), dt.date(2020, 10, 20))).run()
    assert str(at.date_input(key="from").value) == "2020-10-10"
    assert str(at.date_input(key="to").value) == "2020-10-20"
    at.date_input(key="to").set_value(dt.date(2020, 10, 25)).run()
    assert at.slider(key="span").value[1] == dt.date(2020, 10, 25)


def test_coming_back_from_another_page_keeps_the_view():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.date_input(key="to").set_value("2020-10-20").run()
    at.switch_page("app_pages/2_Sources.py").run()
    assert not at.exception
    at.switch_page("app_pages/0_Map.py").run()
    assert not at.exception
    assert str(at.date_input(key="to").value) == "2020-10-20"


def test_coming_back_from_another_page_holds_no_sections_that_are_gone():
    """Streamlit clears the screen on a page switch: back on the map, its first run has no
    earlier sections to keep while the map draws (a hold would leave nothing under the map
    until it reports, under a caption saying the previous view's charts are shown)."""
    at = _open()
    assert at.session_state["_sections_shown"] is True  # the sections under the map are drawn
    at.switch_page("app_pages/2_Sources.py").run()
    assert not at.exception
    assert at.session_state["_sections_shown"] is False
    at.switch_page("app_pages/0_Map.py").run()
    assert not at.exception


def test_proximity_says_why_there_is_no_line_of_contact_during_the_war():
    at = _open(**{"from": "2020-10-01", "to": "2020-10-10"})
    near = next(d.value for d in at.dataframe if "closest event" in d.value)
    assert "Line of Contact, 1994-2020" not in set(near["line"])
    assert any("No line of contact is drawn for 10 Oct 2020" in c.value for c in at.caption)
    assert not any(" km" in str(v) and "0.0" in str(v) for v in near["closest event"])


def test_a_permalink_to_a_presets_dates_shows_that_preset_and_zooms_the_slider():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"from": "2020-09-27", "to": "2020-11-10", "sides": "armenian"})
    at.run()
    assert at.selectbox(key="preset").value == "2020 war"
    slider = at.slider(key="span")  # AppTest gives a date slider's bounds in microseconds
    bounds = [dt.date(1970, 1, 1) + dt.timedelta(microseconds=b) for b in (slider.min, slider.max)]
    assert bounds == [dt.date(2020, 1, 1), dt.date(2020, 12, 31)]
    sides = at.multiselect(key="sides")
    assert sides.value == ["armenian"] and "Armenian forces" in " ".join(sides.options)
    at.date_input(key="to").set_value(dt.date(2020, 11, 9)).run()
    assert at.selectbox(key="preset").value == "Custom"


def test_the_events_table_has_readable_headings_and_days_without_times():
    at = _open(**{"from": "2020-09-27", "to": "2020-11-10"})
    table = at.dataframe[-1]
    config = json.loads(table.proto.columns)
    headings = {name: c["label"] for name, c in config.items() if "label" in c}
    assert headings["event_date"] == "Date" and headings["claimed_by"] == "Claimed by"
    assert set(table.value.columns) <= set(headings)  # every column has its heading
    assert "_" not in "".join(headings.values())  # no schema names shown as headings
    assert config["event_date"]["type_config"]["format"] == "DD MMM YYYY"
    assert config["source_url"]["type_config"]["type"] == "link"
    assert set(table.value["event_type"]) <= set(EVENT_TYPES.values())  # labels, not codes


def test_the_caption_counts_what_the_map_draws_and_says_what_the_events_are():
    at = _open(**{"from": "2020-09-27", "to": "2020-11-10"})
    caption = at.caption[0].value  # above the map
    table = at.dataframe[-1].value  # every event of the period
    m = re.search(r"(\d+) events, .*?: (\d+) with a map point, (\d+) without one", _counts_line(at))
    assert m and int(m.group(1)) == len(table) == int(m.group(2)) + int(m.group(3))
    assert "compiled from public reports" in caption and "one side's claims" in caption


def test_the_map_is_drawn_before_what_is_under_it():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    # The first run sends the map and keeps the places of what is under it: no counts, chart or
    # table yet (the store's aggregates would compete with the map's draw).
    assert not at.dataframe and not at.get("vega_lite_chart")
    assert any(c.value.startswith("Counting the events, 27 Sep 2020") for c in at.caption)
    assert at.slider(key="km").value == 10  # widgets stay drawn: their values are kept
    _drawn(at)
    assert at.dataframe and at.get("vega_lite_chart") and _count(at) > 0
    # A period change: the map gets its period; the rest follows the map's report for it.
    earlier = _map_args(at)["ready"]
    at.date_input(key="to").set_value("2020-10-20").run()
    assert _map_args(at)["ready"] != earlier
    assert not at.dataframe and not at.get("vega_lite_chart")
    # (No report came within the hold, in AppTest: placeholders, not the previous view's.)
    assert not any("previous view's" in c.value for c in at.caption)
    # The earlier period's report (still the component's value) is not this one's.
    at.session_state["map"] = {"view": None, "drawn": earlier}
    assert not at.run().dataframe
    assert "20 Oct 2020" in _counts_line(_drawn(at)) and at.dataframe


def test_a_move_reported_with_the_draw_goes_into_the_permalink():
    at = _open()
    assert "lat" not in at.query_params  # framed by the browser: no map view to keep
    ready = _map_args(at)["ready"]
    at.session_state["map"] = {
        "view": {"center": {"lat": 40.1, "lng": 46.7}, "zoom": 9},
        "drawn": ready,
    }
    at.run()
    assert float(at.query_params["lat"]) == 40.1 and at.query_params["z"] == "9"
    assert at.dataframe  # still drawn: a move is not a new period
    # A value that is not the component's own shape moves nothing and counts as not drawn.
    at.session_state["map"] = {"view": {"center": {"lat": "x", "lng": None}, "zoom": 9}}
    at.run()
    assert not at.exception and float(at.query_params["lat"]) == 40.1
    assert not at.dataframe


def test_the_table_keeps_its_page_while_the_map_draws(tmp_path, monkeypatch):
    from bench import synth
    from geo.cli import main

    db = str(tmp_path / "big.sqlite")
    assert main(["ingest", "--db", db, str(synth.write_csv(tmp_path / "e.csv", 2_500))]) == 0
    monkeypatch.setenv("NKMAP_DB", db)
    at = _open(**{"from": "2000-01-01", "to": "2030-12-31"})
    pages = at.number_input(key="table_page")
    assert pages.label == "Page (of 3)"
    _drawn(pages.set_value(2).run())
    second = at.dataframe[-1].value
    assert len(second) == 1_000
    # A layer change loads another map page: the table waits for its draw, and keeps page 2.
    at.multiselect(key="layers").set_value(["countries", "events"]).run()
    assert not at.dataframe
    _drawn(at)
    assert at.number_input(key="table_page").value == 2
    assert at.dataframe[-1].value["event_date"].tolist() == second["event_date"].tolist()
