"""AppTest tests of the briefing page: it exports the map page's view, and makes the files.

A user reaches the page from the map: the tests start at app.py, change the view there and
switch pages. AppTest's switch_page keeps the map's widget state and URL, which a browser's
page switch clears (see the "_view" test).
"""

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.schema import EVENT_TYPES
from geo.view import View

REPO = Path(__file__).resolve().parents[2]
APP = str(REPO / "app.py")
PAGE = "app_pages/3_Briefing.py"
TIMEOUT = 180  # a PNG export renders the map in a headless browser


@pytest.fixture(autouse=True)
def _own_store(monkeypatch, seeded_db):
    # AppTest runs the page in this process: the page reads NKMAP_DB from the environment.
    monkeypatch.setenv("NKMAP_DB", seeded_db)


def briefing_from_map(**map_changes) -> AppTest:
    """The map page, with its date fields set to `map_changes`, then the briefing page."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    for key, day in map_changes.items():
        at.date_input(key=key).set_value(day).run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


def described(at: AppTest) -> str:
    return at.text[0].value


def test_the_page_describes_the_map_pages_view():
    at = briefing_from_map(to=dt.date(2020, 10, 20))
    assert at.title[0].value == "Briefing export"
    assert described(at) == "27 Sep 2020 to 20 Oct 2020"
    assert "from=2020-09-27&to=2020-10-20" in at.code[0].value
    # The default title says what and where; the period is the subtitle's (not repeated).
    title = at.text_input[0].value
    assert title.startswith("Conflict events in") and "Karabakh" in title
    assert "Oct 2020" not in title
    at.selectbox[0].select("1200 × 800").run()  # a rerun on this page keeps the view
    assert not at.exception
    assert described(at) == "27 Sep 2020 to 20 Oct 2020"


def test_a_view_the_map_page_keeps_in_the_session_comes_first():
    # In a browser, Streamlit clears the map's widget state when another page opens: a View
    # kept under "_view" (a plain session key) is what survives the switch.
    at = briefing_from_map()
    at.session_state["_view"] = View(start=dt.date(2023, 9, 19), end=dt.date(2023, 10, 1))
    at.run()
    assert not at.exception, at.exception
    assert described(at) == "19 Sep 2023 to 01 Oct 2023"
    assert "from=2023-09-19&to=2023-10-01" in at.code[0].value


def test_without_the_map_page_the_view_comes_from_the_url():
    at = AppTest.from_file(str(REPO / PAGE), default_timeout=TIMEOUT)
    at.query_params.update({"from": "2016-04-01", "to": "2016-04-05", "types": "shelling"})
    at.run()
    assert not at.exception, at.exception
    assert described(at) == f"01 Apr 2016 to 05 Apr 2016; types: {EVENT_TYPES['shelling']}"


def test_user_text_is_never_rendered_as_markdown():
    at = briefing_from_map()
    at.text_input[0].input("![x](http://example.invalid/x.png) **bold**").run()
    assert not at.exception
    assert not at.markdown or all("example.invalid" not in m.value for m in at.markdown)


def test_extent_labels_and_public_url_reach_the_export(monkeypatch):
    import geo.briefing

    seen = []

    def fake_snapshot(view, out, options, settings, events):
        seen.append((options, settings.public_url))
        out.write_text("<html></html>", encoding="utf-8")
        return out

    monkeypatch.setattr(geo.briefing, "snapshot", fake_snapshot)
    monkeypatch.setenv("NKMAP_PUBLIC_URL", "https://maps.example.org/karabakh")
    at = briefing_from_map()
    assert not any("NKMAP_PUBLIC_URL" in c.value for c in at.caption)
    for fmt in ("png", "pdf", "zip"):
        at.checkbox(key=f"format-{fmt}").uncheck()
    at.checkbox(key="format-html").check()
    assert at.radio[0].value == "Fit the view's events"  # the default frame
    at.number_input[0].set_value(5)
    at.button[0].click().run()
    assert not at.exception, at.exception
    ((options, public_url),) = seen
    assert (options.bbox, options.frame, options.label) == (None, "events", 5)
    assert public_url == "https://maps.example.org/karabakh"
    at.radio[0].set_value("The whole region")
    at.button[0].click().run()
    assert seen[-1][0].bbox == geo.briefing.WHOLE_REGION
    at.radio[0].set_value("The map page's current view")
    at.button[0].click().run()
    assert (seen[-1][0].bbox, seen[-1][0].frame) == (None, "view")


def test_without_a_public_url_the_page_says_exports_carry_no_link(monkeypatch):
    monkeypatch.delenv("NKMAP_PUBLIC_URL", raising=False)
    at = briefing_from_map()
    assert any("NKMAP_PUBLIC_URL is not set" in c.value for c in at.caption)


@pytest.mark.browser  # the PNG is drawn by Chromium
def test_make_exports_offers_the_png():
    at = briefing_from_map(to=dt.date(2020, 10, 20))
    for fmt in ("pdf", "html", "zip"):
        at.checkbox(key=f"format-{fmt}").uncheck()
    at.checkbox(key="format-png").check()
    at.selectbox[0].select("1200 × 800").run()
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download briefing-2020-09-27-2020-10-20.png"]
    made_for, files = at.session_state["briefing"]
    assert made_for == "27 Sep 2020 to 20 Oct 2020"
    assert list(files) == ["briefing-2020-09-27-2020-10-20.png"]
    png = next(iter(files.values()))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(png[16:20], "big") == 1200  # the PNG's width, from its header
    assert at.image[0].captions == ["Preview of briefing-2020-09-27-2020-10-20.png"]
    at.run()  # the download survives a rerun
    assert [b.label for b in at.get("download_button")] == labels


def test_a_failed_export_is_reported_and_offers_nothing(monkeypatch):
    import geo.briefing

    def fail(*args, **kwargs):
        raise geo.briefing.RenderError("Chromium not found at /nowhere/chromium")

    monkeypatch.setattr(geo.briefing, "snapshot", fail)
    at = briefing_from_map()
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert "export failed" in at.error[0].value
    assert "Chromium not found at /nowhere/chromium" in at.code[-1].value  # details as text
    assert not at.get("download_button")
