"""The events canvas on its own page: aggregation at low zoom, hover and click, and a
payload that cannot be fetched is reported on the map, never a silently empty map."""

from __future__ import annotations

import datetime as dt

import folium
import numpy as np
import pandas as pd
import pytest
from hostile import PAYLOADS
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


def test_the_time_control_works_before_the_events_arrive(page: Page):
    """At 1,000,000 events the payload takes seconds to arrive, and the time control sets
    the period before it has: no error, and the period is drawn once the events are in."""
    events = _events(200)
    payload = event_payload(events)
    m = build_map(
        "2020-11-10",
        layers=[],
        start="2020-09-27",
        events=payload,
        events_url="http://127.0.0.1:9/app/static/data/events-later.json",
    )
    held = []
    page.route("**/events-later.json", lambda route: held.append(route))  # answered below
    page.set_content(offline_html(m), wait_until="load")
    page.wait_for_function("() => window.nkTime && window.nkEvents")
    day = lambda text: (dt.date.fromisoformat(text) - dt.date(1970, 1, 1)).days  # noqa: E731
    page.evaluate("([a, b]) => nkTime.setPeriod(a, b)", [day("2020-10-01"), day("2020-10-20")])
    assert page.evaluate("() => [nkEvents.loaded, nkEvents.shown]") == [False, 0]
    page.wait_for_timeout(200)
    assert len(held) == 1
    held[0].fulfill(
        status=200,
        content_type="application/json",
        headers={"Access-Control-Allow-Origin": "*"},
        body=payload.json,
    )
    page.wait_for_function("() => nkEvents.loaded && nkEvents.draws > 0")
    dates = pd.to_datetime(events["event_date"])
    want = int(((dates >= "2020-10-01") & (dates <= "2020-10-20")).sum())
    assert page.evaluate("() => nkEvents.shown") == want > 0
    assert page.page_errors == []  # type: ignore[attr-defined]


def _three_at_one_point() -> pd.DataFrame:
    """Three events at one point (one with hostile text everywhere), and one a few km away."""
    frame = pd.DataFrame({c: None for c in COLUMN_NAMES}, index=range(4))
    frame["event_id"] = ["a", "b", "c", "far"]
    frame["event_date"] = ["2020-10-02", "2020-10-05", "2020-10-09", "2020-10-05"]
    frame["event_type"] = ["shelling", "air_drone_strike", "armed_clash", "shelling"]
    frame["latitude"] = [39.815, 39.815, 39.815, 39.9]
    frame["longitude"] = [46.752, 46.752, 46.752, 46.9]
    frame["location"] = ["Stepanakert", PAYLOADS["html_img"], "Khankendi", "Elsewhere"]
    frame["source"] = ["Source A", PAYLOADS["script_close"], "Source C", "Source D"]
    frame["claimed_by"] = ["Claimant A", PAYLOADS["jinja_expression"], "Claimant C", None]
    frame["notes"] = ["note a", PAYLOADS["html_attribute"], "note c", "note far"]
    return typed_frame(frame)


def test_events_at_one_point_are_one_marker_with_a_count_listing_them_all(page: Page):
    m = build_map(
        "2020-10-10",
        layers=[],
        start="2020-09-27",
        events=_three_at_one_point(),
        center=(39.85, 46.8),
        zoom=11,
    )
    _open(page, offline_html(m))
    page.wait_for_function("() => window.nkEvents && window.nkEvents.draws > 0")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    groups = page.evaluate("() => nkEvents.groupsShown()")
    assert [(g["count"], g["label"], g["exact"]) for g in groups] == [(3, "3", True)]
    # The count is drawn: a white badge beside the marker (the canvas has white pixels there).
    x, y = _map_point(page, 39.815, 46.752)
    page.mouse.move(x, y)
    tip = page.locator(".nk-event-tip")
    tip.wait_for(timeout=5_000)
    assert tip.inner_text().startswith("3 events at this point")
    page.mouse.click(x, y)
    popup = page.locator(".leaflet-popup-content .nk-group")
    popup.wait_for(timeout=5_000)
    assert popup.locator(".nk-group-head").inner_text().startswith("3 events at this point")
    entries = popup.locator(".nk-group-list > li")
    assert entries.count() == 3
    titles = popup.locator(".nk-group-title").all_inner_texts()
    assert titles == [
        "2020-10-02 \u00b7 Shelling / artillery",
        "2020-10-05 \u00b7 Air / drone strike",
        "2020-10-09 \u00b7 Armed clash",
    ]
    places = popup.locator(".nk-group-place").all_text_contents()
    assert places[1] == PAYLOADS["html_img"]  # the place as recorded, as text
    assert "Stepanakert / Khankendi" in places  # a known name in both names
    sources = popup.locator(".nk-group-source").all_text_contents()
    assert f"Claimed by {PAYLOADS['jinja_expression']}" in sources[1]
    assert PAYLOADS["script_close"] in sources[1]
    # An entry unfolds into the event's full table, text as typed.
    popup.locator(".nk-group-list > li summary").nth(1).click()
    cells = popup.locator(".nk-group-list > li").nth(1).locator("td").all_text_contents()
    assert PAYLOADS["html_attribute"] in cells
    assert (
        page.evaluate("() => document.querySelectorAll('.leaflet-popup img, svg[onload]').length")
        == 0
    )
    assert page.evaluate("() => window.__nkXss") is None and dialogs == []
    save_screenshot(page, "events-group-popup")

    # The playback day counts: on 2020-10-06 two of the three have happened.
    page.evaluate("() => MAP().closePopup()")
    page.evaluate("() => nkTime.setDay(Math.floor(Date.parse('2020-10-06') / 864e5))")
    page.wait_for_function(
        "() => nkEvents.groupsShown().length && nkEvents.groupsShown()[0].count === 2"
    )
    page.wait_for_timeout(300)
    page.mouse.move(x + 1, y)
    page.mouse.click(x, y)
    popup.wait_for(timeout=5_000)
    assert popup.locator(".nk-group-list > li").count() == 2
    # With one event left the marker is a single event again, and its popup its table.
    page.evaluate("() => MAP().closePopup()")
    page.evaluate("() => nkTime.setDay(Math.floor(Date.parse('2020-10-03') / 864e5))")
    page.wait_for_function("() => nkEvents.groupsShown().length === 0 && nkEvents.shown === 1")
    page.wait_for_timeout(300)
    page.mouse.click(x, y)
    single = page.locator(".leaflet-popup-content table.nk-popup")
    single.wait_for(timeout=5_000)
    assert "Source A" in single.inner_text()
    assert page.locator(".leaflet-popup-content .nk-group").count() == 0


def test_the_playback_readout_says_what_it_counts(page: Page):
    events = _three_at_one_point()
    m = build_map("2020-10-10", layers=[], start="2020-09-27", events=events)
    _open(page, offline_html(m))
    readout = page.locator(".nk-time .nk-count")
    expect_text = "4 of 4 events with a map point shown up to 2020-10-10"
    page.wait_for_function(
        "t => document.querySelector('.nk-time .nk-count').textContent === t", arg=expect_text
    )
    page.evaluate("() => nkTime.setDay(Math.floor(Date.parse('2020-10-05') / 864e5))")
    assert readout.inner_text() == "3 of 4 events with a map point shown up to 2020-10-05"
    # A narrower period (the app's period change): the total is that period's.
    page.evaluate(
        "() => nkTime.setPeriod(Math.floor(Date.parse('2020-10-04') / 864e5),"
        " Math.floor(Date.parse('2020-10-10') / 864e5))"
    )
    assert readout.inner_text() == "3 of 3 events with a map point shown up to 2020-10-10"
    page.select_option(".nk-window", "1")
    page.evaluate("() => nkTime.setDay(Math.floor(Date.parse('2020-10-05') / 864e5))")
    assert readout.inner_text() == "2 of 3 events with a map point shown on 2020-10-05"
    # The layer control names the layer without a count that could disagree.
    names = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert [n.strip() for n in names] == ["Events"]


@pytest.mark.parametrize("n", [30, 3000])
def test_the_browser_frames_a_period_as_the_server_would(page: Page, n: int):
    """geo.map.framing.fit_to_events computes geo.view.frame_box's box in the browser from the
    events the map holds: statements in Baku do not widen it, a stray point outside the
    region is ignored, the outer 1 % is left out above 50 points (issue 14, item 3)."""
    import datetime as dt

    from geo.map.framing import fit_to_events
    from geo.view import frame_box

    events = _events(n)
    events.loc[events.index[:3], ["event_type", "latitude", "longitude"]] = [
        "statement",
        40.41,
        49.87,
    ]  # statements made in Baku
    events.loc[events.index[3], ["latitude", "longitude"]] = [10.0, 10.0]  # a stray point
    start, end = dt.date(2020, 10, 1), dt.date(2020, 10, 20)
    in_period = events[
        (events["event_date"] >= "2020-10-01") & (events["event_date"] <= "2020-10-20")
    ]
    m = assets.leaflet_only(folium.Map(location=(40.0, 46.0), zoom_start=6, tiles=None))
    data = EventData(event_payload(events))
    data.add_to(m)
    EventsLayer(data, "Events").add_to(m)
    fit_to_events(start, end).add_to(m)
    _open(page, offline_html(m))
    page.wait_for_function("() => window.nkFramed !== undefined")
    (south, west), (north, east) = page.evaluate("() => window.nkFramed")
    want = frame_box(in_period)
    assert want is not None
    # Float32 coordinates in the browser: within 1e-4 degrees (about 10 m).
    got = (west, south, east, north)
    assert all(abs(a - b) < 2e-4 for a, b in zip(got, want, strict=True)), (got, want)
    assert not (west <= 49.87 <= east)  # Baku's statements stay out
    bounds = page.evaluate("() => MAP().getBounds().toBBoxString()")
    w, s, e, nn = (float(v) for v in bounds.split(","))
    assert w <= west + 1e-6 and e >= east - 1e-6 and s <= south + 1e-6 and nn >= north - 1e-6


def test_the_browsers_quantiles_are_numpys(page: Page):
    """The framing's quantiles (a histogram, then a selection in the bins that hold the ranks
    asked for) are numpy's linear quantiles exactly: with ties, every value in one bin, values
    on the range's ends, and one or two values."""
    from geo.map.framing import fit_to_events

    m = assets.leaflet_only(folium.Map(location=(40.0, 46.0), zoom_start=6, tiles=None))
    fit_to_events(dt.date(2020, 10, 1), dt.date(2020, 10, 2)).add_to(m)
    _open(page, offline_html(m))
    rng = np.random.default_rng(5)
    cases = [
        rng.uniform(38.0, 42.0, 5000),
        38.0 + 4.0 * rng.uniform(0, 1, 20000) ** 4,  # most values in the lowest bins
        np.full(3000, 40.0),  # every value in one bin
        rng.choice([38.0, 40.5, 42.0], 999),  # ties, on both ends of the range
        np.round(rng.uniform(38.0, 42.0, 777), 1),
        np.array([41.0]),
        np.array([39.0, 41.5]),
    ]
    for values in cases:
        values = values.astype(np.float32).astype(np.float64)  # the browser holds Float32
        for q in (0.0, 0.01, 0.013, 0.5):
            got = page.evaluate(
                "([v, q]) => NKFrame.tails(Float64Array.from(v), q, 38.0, 42.0)",
                [values.tolist(), q],
            )
            want = [float(np.quantile(values, q)), float(np.quantile(values, 1 - q))]
            assert got == pytest.approx(want, rel=0, abs=1e-12), (len(values), q)


# Draws sprites with the layer's rasteriser and with a reference, and returns the largest
# difference of premultiplied channels (levels of 255) and how many pixels were covered. The
# references: Canvas 2D (each sprite an image, composited source-over; it rounds to 8 bits at
# every composite, so it drifts where circles pile up), or straight-alpha source-over in
# float64 with no rounding (the blend the old rasteriser did per pixel, with a division).
RASTER_VS_REFERENCE_JS = """
([stamps, W, H, reference]) => {
  const R = NKMap.raster, sprites = {};
  const key = (s) => s.join(":");
  const get = (s) => sprites[key(s)] || (sprites[key(s)] = R.sprite(s[0], s[1], s[2], s[3]));
  const buf = new Float32Array(W * H * 4);
  for (const [s, x, y] of stamps) { R.stamp(buf, W, H, x, y, get(s)); }
  const ours = new ImageData(W, H);
  R.unpremultiply(buf, new Uint32Array(ours.data.buffer));
  let want;
  if (reference === "canvas") {
    const ref = document.createElement("canvas");
    ref.width = W; ref.height = H;
    const ctx = ref.getContext("2d");
    for (const [s, x, y] of stamps) {
      const sp = get(s), w = sp.x1 - sp.x0 + 1, h = sp.y1 - sp.y0 + 1, img = new ImageData(w, h);
      for (let k = 0; k < sp.dx.length; k++) {
        const o = ((sp.dy[k] - sp.y0) * w + sp.dx[k] - sp.x0) * 4;
        img.data[o] = sp.r[k]; img.data[o + 1] = sp.g[k]; img.data[o + 2] = sp.b[k];
        img.data[o + 3] = Math.round(sp.a[k] * 255);
      }
      const tile = document.createElement("canvas");
      tile.width = w; tile.height = h;
      tile.getContext("2d").putImageData(img, 0, 0);
      ctx.drawImage(tile, Math.round(x) + sp.x0, Math.round(y) + sp.y0);
    }
    want = ctx.getImageData(0, 0, W, H).data;
  } else {
    const px = new Float64Array(W * H * 4);  // straight r, g, b (0-255), alpha (0-1)
    for (const [s, x, y] of stamps) {
      const sp = get(s), x0 = Math.round(x), y0 = Math.round(y);
      for (let k = 0; k < sp.dx.length; k++) {
        const X = x0 + sp.dx[k], Y = y0 + sp.dy[k];
        if (X < 0 || Y < 0 || X >= W || Y >= H) { continue; }
        const o = (Y * W + X) * 4, sa = sp.a[k], da = px[o + 3], keep = da * (1 - sa);
        const oa = sa + keep, src = [sp.r[k], sp.g[k], sp.b[k]];
        for (let c = 0; c < 3; c++) { px[o + c] = (src[c] * sa + px[o + c] * keep) / oa; }
        px[o + 3] = oa;
      }
    }
    want = new Float64Array(W * H * 4);
    for (let o = 0; o < px.length; o += 4) {
      for (let c = 0; c < 3; c++) { want[o + c] = px[o + c]; }
      want[o + 3] = px[o + 3] * 255;
    }
  }
  const got = ours.data;
  let worst = 0, covered = 0;
  for (let o = 0; o < got.length; o += 4) {
    const a1 = got[o + 3], a2 = want[o + 3];
    if (a2 > 0) { covered++; }
    worst = Math.max(worst, Math.abs(a1 - a2));
    for (let c = 0; c < 3; c++) {
      worst = Math.max(worst, Math.abs(got[o + c] * a1 - want[o + c] * a2) / 255);
    }
  }
  return [worst, covered];
}
"""


def test_the_circles_are_composited_as_canvas_2d_would(page: Page):
    """The points' rasteriser (premultiplied floats, one conversion per draw) composites as
    Canvas 2D does, and as exact source-over does where circles pile up: precise and
    approximate circles of several colours and sizes, overlapping, piled at one spot, and cut
    by the canvas's edges."""
    m = assets.leaflet_only(folium.Map(location=(40.0, 46.0), zoom_start=6, tiles=None))
    data = EventData(event_payload(_events(10)))
    data.add_to(m)
    EventsLayer(data, "Events").add_to(m)
    _open(page, offline_html(m))
    rng = np.random.default_rng(11)
    kinds = [
        [color, radius, approx, scale]
        for color in ("#d62728", "#1f77b4", "#2ca02c")
        for radius, approx, scale in ((5, 0, 1), (7.5, 1, 1), (4, 0, 2), (9, 1, 2))
    ]
    W, H = 160, 120

    def stamps(n: int, pile: bool) -> list:
        out = []
        for j in range(n):
            x, y = rng.uniform(-10, W + 10), rng.uniform(-10, H + 10)
            if pile and j % 5 == 0:  # a fifth of them at one spot
                x, y = 80.0, 60.0
            out.append([kinds[j % len(kinds)], x, y])
        return out

    worst, covered = page.evaluate(RASTER_VS_REFERENCE_JS, [stamps(60, False), W, H, "canvas"])
    assert covered > W * H // 3 and worst <= 3, (worst, covered)
    worst, covered = page.evaluate(RASTER_VS_REFERENCE_JS, [stamps(600, True), W, H, "exact"])
    assert covered > W * H // 2 and worst <= 1, (worst, covered)


# A circle's pixels as the legend describes them, computed whole for one colour: coverage by
# distance from the centre, a white 1 px ring on precise circles, a dashed 2 px ring in the
# circle's colour on approximate ones; fill alpha 0.85 (precise) or 0.15 (approximate).
CIRCLE_REFERENCE_JS = """
([hex, radius, approx, scale]) => {
  const v = parseInt(hex.slice(1), 16), fill = [(v >> 16) & 255, (v >> 8) & 255, v & 255];
  const R = radius * scale, ring = (approx ? 2 : 1) * scale, dash = 3 * scale;
  const edge = approx ? fill : [255, 255, 255], span = Math.ceil(R + 1), out = [];
  for (let dy = -span; dy <= span; dy++) {
    for (let dx = -span; dx <= span; dx++) {
      const dist = Math.sqrt(dx * dx + dy * dy), cover = Math.min(1, Math.max(0, R + 0.5 - dist));
      if (cover <= 0) { continue; }
      let color = fill, alpha = approx ? 0.15 : 0.85;
      const along = (Math.atan2(dy, dx) + Math.PI) * R;
      if (dist > R - ring && (!approx || Math.floor(along / dash) % 2 === 0)) {
        color = edge; alpha = 1;
      }
      out.push([dx, dy, ...color, Math.fround(alpha * cover)]);
    }
  }
  return out;
}
"""

SPRITE_PIXELS_JS = """
(s) => { const sp = NKMap.raster.sprite(s[0], s[1], s[2], s[3]), out = [];
         for (let k = 0; k < sp.dx.length; k++) {
           out.push([sp.dx[k], sp.dy[k], sp.r[k], sp.g[k], sp.b[k], sp.a[k]]);
           const want = [sp.r[k] * sp.a[k], sp.g[k] * sp.a[k], sp.b[k] * sp.a[k]];
           const got = [sp.pr[k], sp.pg[k], sp.pb[k]];
           if (got.some((x, c) => Math.abs(x - want[c]) > 1e-3)) { return "premultiplied " + k; }
         }
         return out; }
"""


def test_each_circle_has_its_colour_and_the_legends_ring(page: Page):
    """Circles of one size share their shape whatever their type (computed once): each
    sprite still has its own type's colour, a white ring when precise and a dashed ring in its
    colour when approximate, pixel for pixel as computed whole for that colour; and sprites of
    other colours made before it do not change it."""
    m = assets.leaflet_only(folium.Map(location=(40.0, 46.0), zoom_start=6, tiles=None))
    data = EventData(event_payload(_events(10)))
    data.add_to(m)
    EventsLayer(data, "Events").add_to(m)
    _open(page, offline_html(m))
    for radius, approx, scale in ((5, 0, 1), (7.5, 1, 1), (4, 0, 2), (9, 1, 2), (18, 1, 1)):
        for color in ("#d62728", "#1f77b4", "#000000", "#ffffff"):
            case = [color, radius, approx, scale]
            got = page.evaluate(SPRITE_PIXELS_JS, case)
            want = page.evaluate(CIRCLE_REFERENCE_JS, case)
            assert got == want, case


@pytest.mark.parametrize("in_date_order", [True, False])
def test_the_time_filter_looks_only_where_the_period_can_be(page: Page, in_date_order: bool):
    """The time filter's loops start and stop where the period's events can be (the payload in
    date order, no event longer than the longest), and count what a scan of every event
    counts: with multi-day events crossing the period's start, a one-day window, periods
    before and after the data, and data not in date order (scanned whole)."""
    rng = np.random.default_rng(3)
    frame = _events(4000)
    start = pd.Timestamp("2020-09-01") + pd.to_timedelta(rng.integers(0, 120, len(frame)), "D")
    frame["event_date"] = start.strftime("%Y-%m-%d")
    frame.loc[::7, "date_end"] = (
        start[::7] + pd.to_timedelta(rng.integers(1, 40, len(start[::7])), "D")
    ).strftime("%Y-%m-%d")
    frame = frame.sort_values("event_date", kind="stable") if in_date_order else frame
    m = assets.leaflet_only(folium.Map(location=(39.9, 46.7), zoom_start=8, tiles=None))
    data = EventData(event_payload(typed_frame(frame.reset_index(drop=True))))
    data.add_to(m)
    EventsLayer(data, "Events").add_to(m)
    _open(page, offline_html(m))
    page.wait_for_function("() => window.nkEvents && window.nkEvents.draws > 0")
    day = lambda text: (dt.date.fromisoformat(text) - dt.date(1970, 1, 1)).days  # noqa: E731
    periods = [
        ("2020-10-20", "2020-10-25", 0),  # long events that began in September still count
        ("2020-09-01", "2020-12-31", 0),
        ("2020-10-01", "2020-11-15", 1),  # the last day only
        ("2020-10-01", "2020-11-15", 7),
        ("2019-01-01", "2019-12-31", 0),  # before the data
        ("2021-06-01", "2021-06-30", 0),  # after the data
        ("2020-12-31", "2021-02-20", 0),  # the last starts, and events lasting into 2021
    ]
    for first, last, window in periods:
        got = page.evaluate(
            """([p0, day, w]) => {
                 const ev = nkEvents, d = ev.data;
                 ev.setTime(p0, day, w);
                 const low = w > 0 ? day - w : -Infinity;
                 let all = 0, span = 0;
                 for (let i = 0; i < d.n; i++) {  // every event, as before the range
                   const overlaps = d.d0[i] <= day && d.d1[i] >= p0;
                   if (overlaps) { span++; }
                   if (overlaps && d.d1[i] > low) { all++; }
                 }
                 const r = d.range(p0, day);
                 return [ev.shown, all, ev.countPeriod(p0, day), span, ev.visible().length,
                         r[1] - r[0], d.n];
               }""",
            [day(first), day(last), window],
        )
        shown, scanned, period, spanned, visible, looked, n = got
        assert shown == scanned == visible, (first, last, window, got)
        assert period == spanned, (first, last, window, got)
        if in_date_order and (first, last) == ("2019-01-01", "2019-12-31"):
            assert looked == 0  # nothing starts in the range: nothing is looked at
        if not in_date_order:
            assert looked == n
