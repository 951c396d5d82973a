"""Data is never code, in Chromium: hostile popups are text, hostile permalinks fetch nothing.

The unit half (every output path rendered and parsed) is tests/test_hostile_text.py.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
import pytest
from hostile import PAYLOADS, hostile_rows
from playwright.sync_api import Frame, Page, expect

from geo.map.assets import offline_html
from geo.map.build import build_map
from geo.store import typed_frame

from .conftest import PageLog, save_screenshot, wait_for_map

pytestmark = pytest.mark.browser

HOSTILE_PERMALINK = {
    "from": "2020-09-27",
    "to": "2020-10-05",
    "q": PAYLOADS["markdown_image"],
    "claimed": "|".join(
        PAYLOADS[k] for k in ("markdown_link", "html_img", "jinja_expression", "script_close")
    ),
    "types": PAYLOADS["html_attribute"],
    "names": PAYLOADS["javascript_url"],
}
# Nothing a payload could have made: an image from outside, a javascript: link, a flag set.
LIVE_JS = """() => ({
  images: [...document.querySelectorAll("img")].map(i => i.getAttribute("src") || "")
            .filter(s => s.includes("203.0.113") || s === "x"),
  links: [...document.querySelectorAll("a[href]")].map(a => a.getAttribute("href"))
            .filter(h => h.trim().toLowerCase().startsWith("javascript:")),
  flag: window.__nkXss === undefined ? null : String(window.__nkXss),
})"""


def _nothing_live(target: Page | Frame) -> None:
    assert target.evaluate(LIVE_JS) == {"images": [], "links": [], "flag": None}


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/", "Nagorno-Karabakh conflict map"),
        ("/Upload", "Upload events"),
        ("/Sources", "Sources and accuracy"),
        ("/Briefing", "Briefing export"),
    ],
)
def test_pages_with_a_hostile_permalink_fetch_nothing_outside_and_run_nothing(
    app_url: str, page: Page, page_log: PageLog, path: str, heading: str
):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{app_url}{path}?{urlencode(HOSTILE_PERMALINK)}")
    expect(page.get_by_role("heading", name=heading).first).to_be_visible(timeout=60_000)
    if path == "/":
        frame = wait_for_map(page)
        _nothing_live(frame)
        # The filters in words show the search text as typed.
        expect(page.get_by_text(PAYLOADS["markdown_image"], exact=False).first).to_be_visible()
    page.wait_for_timeout(1_000)  # let late requests (images, fonts) be made, if any
    _nothing_live(page)
    save_screenshot(page, f"hostile-permalink-{path.strip('/') or 'map'}")
    assert page_log.offsite_requests == []
    assert dialogs == [] and page_log.page_errors == []


def test_hostile_popups_in_a_self_contained_map_are_text(page: Page):
    rows = hostile_rows("2020-10-02")
    events = typed_frame(pd.DataFrame(rows))
    center = (39.80 + 0.002 * (len(rows) - 1), 46.75)
    m = build_map("2020-10-02", layers=[], events=events, center=center, zoom=12)
    page.route("**/*", lambda route: route.abort())  # nothing leaves the page
    page.set_content(offline_html(m), wait_until="load")
    page.wait_for_function("() => window.nkEvents && window.nkEvents.draws > 0")
    title = page.title()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.evaluate(
        """() => { window.MAP = () => Object.keys(window).filter(k => k.startsWith("map_"))
                     .map(k => window[k]).find(v => v instanceof L.Map); }"""
    )
    for row in rows:
        # An open popup may cover the next point, and opening one may pan the map: close it
        # and let any pan finish before aiming.
        page.evaluate("() => MAP().closePopup()")
        page.wait_for_function("() => !MAP()._panAnim || !MAP()._panAnim._inProgress")
        point = page.evaluate(
            """([lat, lon]) => {
                 const m = MAP();
                 const p = m.latLngToContainerPoint([lat, lon]);
                 const r = m.getContainer().getBoundingClientRect();
                 return [r.left + p.x, r.top + p.y]; }""",
            [row["latitude"], row["longitude"]],
        )
        page.wait_for_timeout(300)  # the closed popup fades out; a click during it is lost
        page.mouse.move(*point)
        page.mouse.click(*point)
        popup = page.locator(".leaflet-popup-content")
        expect(popup).to_contain_text(str(row["notes"]).strip()[:12], timeout=5_000)
        cells = popup.locator("td").all_text_contents()
        assert row["notes"] in cells, (row["event_id"], cells)
        _nothing_live(page)
    assert page.title() == title and dialogs == []
    save_screenshot(page, "hostile-popup-export")
