"""The in-map legend in a real browser: it folds, starts folded on a phone, and does not
stay where it would hide events; `legend=False` and `scale=True` for exports."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from playwright.sync_api import Page

from geo.map.assets import offline_html
from geo.map.build import build_map
from geo.schema import COLUMN_NAMES
from geo.store import typed_frame

from .conftest import save_screenshot

pytestmark = pytest.mark.browser

CENTER, ZOOM = (39.85, 46.8), 9
VIEW = (1440, 900)


def _latlon_at(x: float, y: float) -> tuple[float, float]:
    """The point at container pixel (x, y) of a VIEW-sized map on CENTER at ZOOM."""
    world = 256 * 2**ZOOM
    cx = (CENTER[1] + 180) / 360 * world
    lat_c = math.radians(CENTER[0])
    cy = (1 - math.log(math.tan(lat_c) + 1 / math.cos(lat_c)) / math.pi) / 2 * world
    px, py = cx + x - VIEW[0] / 2, cy + y - VIEW[1] / 2
    lon = px / world * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * py / world))))
    return lat, lon


def _events_at(points: list[tuple[float, float]]) -> pd.DataFrame:
    frame = pd.DataFrame({c: None for c in COLUMN_NAMES}, index=range(len(points)))
    frame["event_id"] = [f"e{i}" for i in range(len(points))]
    frame["event_date"] = "2020-10-05"
    frame["event_type"] = "shelling"
    frame["latitude"] = [p[0] for p in points]
    frame["longitude"] = [p[1] for p in points]
    frame["source"] = "fixture"
    return typed_frame(frame)


def _open(page: Page, m) -> None:
    page.route("**/*", lambda route: route.abort())
    page.set_content(offline_html(m), wait_until="load")
    page.wait_for_function("() => window.nkLegend && window.nkEvents && nkEvents.draws > 0")
    page.wait_for_timeout(100)


def test_the_legend_leaves_a_corner_where_it_would_hide_events(page: Page):
    # Events in the bottom-right corner, where the legend starts, and one in the middle.
    corner = [_latlon_at(VIEW[0] - 40 - 25 * k, VIEW[1] - 45 - 5 * k) for k in range(6)]
    events = _events_at([*corner, _latlon_at(VIEW[0] / 2, VIEW[1] / 2)])
    m = build_map(
        "2020-10-10", layers=[], start="2020-10-01", events=events, center=CENTER, zoom=ZOOM
    )
    _open(page, m)
    legend = page.locator(".nk-legend")
    page.wait_for_function(
        "() => document.querySelector('.nk-legend').getAttribute('data-nk-covers') === '0'"
    )
    corner_now = legend.get_attribute("data-nk-corner")
    assert corner_now != "bottomright"
    parent = page.evaluate("() => document.querySelector('.nk-legend').parentNode.className")
    assert corner_now.replace("bottom", "bottom ").replace("top", "top ").split()[0] in parent
    # Nothing the map shows is under it: no event point inside its box.
    box = legend.bounding_box()
    inside = page.evaluate(
        """(b) => nkEvents.visible().filter(i => {
             const m = nkEvents._map, r = m.getContainer().getBoundingClientRect();
             const p = m.latLngToContainerPoint([nkEvents.data.lat[i], nkEvents.data.lon[i]]);
             const x = r.left + p.x, y = r.top + p.y;
             return x >= b.x && x <= b.x + b.width && y >= b.y && y <= b.y + b.height; }).length""",
        box,
    )
    assert inside == 0
    save_screenshot(page, "legend-moved-off-events")


def test_count_in_rects_agrees_with_leaflets_projection(page: Page):
    # The legend counts the events under each corner in one pass on the draw's projected
    # coordinates (events.countIn); Leaflet's own projection of each shown event must agree,
    # with the time filter applied and each box grown by the padding.
    points = [_latlon_at(20 + 97 * k % 1400, 15 + 53 * k % 870) for k in range(300)]
    events = _events_at(points)
    events.loc[events.index % 3 == 0, "event_date"] = pd.Timestamp("2020-11-20")
    m = build_map(
        "2020-10-10", layers=[], start="2020-10-01", events=events, center=CENTER, zoom=ZOOM
    )
    _open(page, m)
    rects = [
        {"x0": 0, "y0": 0, "x1": 400, "y1": 300},
        {"x0": 1000, "y0": 500, "x1": 1440, "y1": 900},
        {"x0": 600, "y0": 350, "x1": 640, "y1": 380},
        {"x0": 5000, "y0": 5000, "x1": 5100, "y1": 5100},
    ]
    counts = page.evaluate(
        """(rects) => {
             const m = nkEvents._map, pad = 4;
             const brute = rects.map(r => nkEvents.visible().filter(i => {
               const p = m.latLngToContainerPoint([nkEvents.data.lat[i], nkEvents.data.lon[i]]);
               return p.x >= r.x0 - pad && p.x <= r.x1 + pad &&
                      p.y >= r.y0 - pad && p.y <= r.y1 + pad; }).length);
             return {fast: nkEvents.countIn(rects, pad), brute: brute,
                     shown: nkEvents.visible().length};
           }""",
        rects,
    )
    assert counts["shown"] == 200  # the events of 20 November are after the map's day
    assert counts["fast"] == counts["brute"]
    assert counts["brute"][0] > 0 and counts["brute"][1] > 0 and counts["brute"][3] == 0
    assert sum(counts["brute"]) < counts["shown"]


def test_the_legend_folds_and_starts_folded_on_a_phone(page: Page):
    events = _events_at([CENTER])
    m = build_map("2020-10-10", layers=["sites"], start="2020-10-01", events=events)
    _open(page, m)
    rows = page.locator(".nk-legend details > div")
    assert rows.first.is_visible()
    assert page.locator(".nk-legend").get_attribute("data-nk-corner") == "bottomright"
    page.locator(".nk-legend summary").click()
    assert not rows.first.is_visible()
    page.locator(".nk-legend summary").click()
    assert rows.first.is_visible()

    phone = page.context.new_page()
    phone.set_viewport_size({"width": 390, "height": 800})
    _open(phone, m)
    assert phone.evaluate("() => document.querySelector('.nk-legend details').open") is False
    assert phone.locator(".nk-legend summary").is_visible()
    save_screenshot(phone, "legend-folded-phone")
    phone.close()


def test_exports_can_leave_the_legend_out_and_add_a_metric_scale(page: Page):
    events = _events_at([CENTER])
    m = build_map(
        "2020-10-10", layers=["sites"], start="2020-10-01", events=events, legend=False, scale=True
    )
    page.route("**/*", lambda route: route.abort())
    page.set_content(offline_html(m), wait_until="load")
    page.wait_for_function("() => window.nkEvents && nkEvents.draws > 0")
    assert page.locator(".nk-legend").count() == 0
    scale = page.locator(".leaflet-control-scale-line")
    assert scale.count() == 1  # metric only
    assert scale.inner_text().strip().endswith(("km", "m"))
    plain = build_map("2020-10-10", layers=["sites"], start="2020-10-01", events=events)
    page.set_content(offline_html(plain), wait_until="load")
    page.wait_for_function("() => window.nkLegend")
    assert page.locator(".leaflet-control-scale").count() == 0
    assert page.locator(".nk-legend").count() == 1
