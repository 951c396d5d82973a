"""The events canvas on its own page: aggregation at low zoom, hover and click, and a
payload that cannot be fetched is reported on the map, never a silently empty map."""

from __future__ import annotations

import folium
import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import Page

from geo.map import assets
from geo.map.assets import offline_html
from geo.map.build import build_map
from geo.map.events import EventData, EventsLayer, event_payload
from geo.schema import COLUMN_NAMES, EVENT_TYPES
from geo.store import typed_frame

from .conftest import save_screenshot

pytestmark = pytest.mark.browser


def _events(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({c: None for c in COLUMN_NAMES}, index=range(n))
    frame["event_id"] = [f"e{i}" for i in range(n)]
    frame["event_date"] = (
        pd.Timestamp("2020-09-27") + pd.to_timedelta(rng.integers(0, 45, n), "D")
    ).strftime("%Y-%m-%d")
    frame["event_type"] = rng.choice(list(EVENT_TYPES), n)
    frame["latitude"] = rng.normal(39.9, 0.25, n)
    frame["longitude"] = rng.normal(46.7, 0.35, n)
    frame["source"] = "test"
    frame["location"] = "Shusha"
    return typed_frame(frame)


def _open(page: Page, html: str) -> None:
    page.route("**/*", lambda route: route.abort())  # nothing leaves the page
    page.set_content(html, wait_until="load")
    page.evaluate(
        """() => { window.MAP = () => Object.keys(window).filter(k => k.startsWith("map_"))
                     .map(k => window[k]).find(v => v instanceof L.Map); }"""
    )


def _map_point(page: Page, lat: float, lon: float) -> tuple[float, float]:
    p = page.evaluate(
        """([lat, lon]) => { const m = MAP();
                             const p = m.latLngToContainerPoint([lat, lon]);
                             const r = m.getContainer().getBoundingClientRect();
                             return [r.left + p.x, r.top + p.y]; }""",
        [lat, lon],
    )
    return p[0], p[1]


def test_many_events_in_view_are_drawn_as_cells_that_zoom_in(page: Page):
    m = assets.leaflet_only(folium.Map(location=(39.9, 46.7), zoom_start=8, tiles=None))
    data = EventData(event_payload(_events(3000)))
    data.add_to(m)
    EventsLayer(data, "Events", aggregate_above=500).add_to(m)
    _open(page, offline_html(m))
    page.wait_for_function("() => window.nkEvents && window.nkEvents.draws > 0")
    state = page.evaluate("() => [nkEvents.mode, nkEvents.shown, nkEvents.drawn]")
    assert state[0] == "cells" and state[1] == 3000 and 0 < state[2] < 3000
    assert "each circle counts the events" in page.locator(".nk-cells-note").inner_text()
    save_screenshot(page, "events-cells")

    x, y = _map_point(page, 39.9, 46.7)
    page.mouse.move(x, y)
    tip = page.locator(".nk-event-tip")
    tip.wait_for(timeout=5_000)
    assert "events here" in tip.inner_text()
    zoom = page.evaluate("() => MAP().getZoom()")
    page.mouse.click(x, y)
    page.wait_for_function(f"() => MAP().getZoom() > {zoom} && !MAP()._animatingZoom")
    # Zoomed in far enough, fewer events are in view: they are drawn one by one again.
    page.evaluate("() => MAP().setView([39.9, 46.7], 13)")
    page.wait_for_function("() => nkEvents.mode === 'points'")
    assert not page.locator(".nk-cells-note").is_visible()


def test_a_payload_that_cannot_be_fetched_is_reported_on_the_map(page: Page):
    events = _events(20)
    m = build_map(
        "2020-11-10",
        layers=[],
        start="2020-09-27",
        events=event_payload(events),
        events_url="http://127.0.0.1:9/app/static/data/events-missing.json",
    )
    _open(page, offline_html(m))
    alert = page.locator(".nk-events-error")
    alert.wait_for(timeout=10_000)
    assert "could not be loaded" in alert.inner_text()
    assert page.evaluate("() => nkEvents.loaded") is False
    save_screenshot(page, "events-fetch-error")
