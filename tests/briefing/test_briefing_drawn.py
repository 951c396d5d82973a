"""What Chromium draws of a briefing page, and the one Chromium kept between exports.

Real Chromium, no mocks of the browser. The page checks open the very HTML the renderer drew
(a spy on `_Renderer.render`) in a page of the same size, and measure it.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import sync_playwright

import geo.briefing.render
from geo.briefing import SnapshotOptions, snapshot
from geo.briefing.chromium import CHROMIUM, CHROMIUM_ARGS, SERVICE
from geo.briefing.render import _outside_event_loop
from geo.store import open_store
from geo.view import View

WAR = View(start=dt.date(2020, 9, 27), end=dt.date(2020, 11, 10))


@pytest.fixture(scope="module")
def events(db: Path):
    return open_store(db).events(WAR.start, WAR.end)


def _drawn_html(monkeypatch, view, options, events, out: Path) -> str:
    drawn: list[str] = []
    render = geo.briefing.render._Renderer.render

    def spy(self, html, fmt, size):
        drawn.append(html)
        return render(self, html, fmt, size)

    monkeypatch.setattr(geo.briefing.render._Renderer, "render", spy)
    snapshot(view, out, options, None, events)
    (html,) = drawn
    return html


_MEASURE = """() => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom]; };
  const q = (s) => document.querySelector(s);
  return {
    map: box(q(".nk-mapbox")), legend: box(q(".nk-legend-box")), inset: box(q(".nk-inset")),
    foot: box(q(".nk-foot")),
    rings: [...document.querySelectorAll(".leaflet-marker-pane .nk-ring")].map(box),
    labels: [...document.querySelectorAll(".nk-elabel")].map(box),
    attribution: (q(".leaflet-control-attribution") || {}).textContent || "",
    frame: ["x", "y", "width", "height"].map((a) => +q("#nk-inset-frame").getAttribute(a)),
  };
}"""


def _measure(html: str, size: tuple[int, int]) -> dict:
    def run() -> dict:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
            try:
                page = browser.new_page(viewport={"width": size[0], "height": size[1]})
                page.route("**/*", lambda route: route.abort("blockedbyclient"))
                page.set_content(html, wait_until="load")
                page.wait_for_selector(".leaflet-marker-pane > *", state="attached")
                page.wait_for_timeout(300)
                return page.evaluate(_MEASURE)
            finally:
                browser.close()

    return _outside_event_loop(run)


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.browser
@pytest.mark.parametrize("size", [(1600, 1000), (1080, 1350)], ids=["landscape", "portrait"])
def test_legend_and_inset_beside_the_map_labels_next_to_their_points(
    tmp_path, monkeypatch, events, size
):
    options = SnapshotOptions(size=size, label=6, banner="FOR BRIEFING")
    html = _drawn_html(monkeypatch, WAR, options, events, tmp_path / "b.png")
    got = _measure(html, size)
    assert not _overlap(got["legend"], got["map"]) and not _overlap(got["inset"], got["map"])
    if size[0] < size[1]:  # a phone: the side panel goes under the map
        assert got["legend"][1] >= got["map"][3] - 1
    else:
        assert got["legend"][0] >= got["map"][2] - 1
    assert got["legend"][3] <= got["foot"][1] + 1  # the legend does not run into the footer
    assert len(got["rings"]) == len(got["labels"]) == 6
    for ring, label in zip(got["rings"], got["labels"], strict=True):
        cx, cy = (ring[0] + ring[2]) / 2, (ring[1] + ring[3]) / 2
        # The label touches its point's surroundings: within 12 px of the ring's centre.
        dx = max(label[0] - cx, 0, cx - label[2])
        dy = max(label[1] - cy, 0, cy - label[3])
        assert max(dx, dy) <= 12, (ring, label)
        assert _overlap(label, got["map"])  # drawn on the map, not off it
    assert "Leaflet" not in got["attribution"]
    # The inset's rectangle was moved to the map's real bounds: a box inside the inset.
    x, y, w, h = got["frame"]
    inset_w = got["inset"][2] - got["inset"][0]
    assert x >= 0 and w >= 3 and x + w <= inset_w * 1.05 and h >= 3
    Image.open(tmp_path / "b.png").verify()


@pytest.mark.browser
def test_one_chromium_serves_consecutive_exports_and_restarts_after_a_crash(tmp_path, events):
    SERVICE.shutdown()
    before = SERVICE.starts
    options = SnapshotOptions(size=(640, 400))
    snapshot(WAR, tmp_path / "1.png", options, None, events)
    snapshot(WAR, tmp_path / "2.pdf", options, None, events)
    assert SERVICE.starts == before + 1 and SERVICE.running()

    # The browser goes away (as if it crashed): the next export starts a new one.
    SERVICE.run(lambda: SERVICE._renderer._browser.close())
    assert not SERVICE.running()
    out = snapshot(WAR, tmp_path / "3.png", options, None, events)
    assert out.read_bytes().startswith(b"\x89PNG")
    assert SERVICE.starts == before + 2


@pytest.mark.browser
def test_exports_from_several_threads_share_the_browser(tmp_path, events):
    snapshot(WAR, tmp_path / "warm.png", SnapshotOptions(size=(400, 300)), None, events)
    before = SERVICE.starts
    errors: list[BaseException] = []

    def export(i: int) -> None:
        try:
            snapshot(WAR, tmp_path / f"t{i}.png", SnapshotOptions(size=(400, 300)), None, events)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=export, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and SERVICE.starts == before
    for i in range(3):
        with Image.open(tmp_path / f"t{i}.png") as img:
            assert img.size == (400, 300)
