"""Briefing exports (geo/briefing/render.py, `nkmap snapshot`): real Chromium, no mocks, no network.

Tests that start Chromium carry the `browser` marker (tests/_plugins.py fails those that do
not). The bbox test spies on the renderer (it still draws) to reopen the page it drew.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from urllib.parse import urlencode

import pytest
from PIL import Image
from playwright.sync_api import Route, sync_playwright

import geo.briefing.render
from geo.briefing.render import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SnapshotOptions,
    _outside_event_loop,
    briefing_html,
    data_version,
    snapshot,
)
from geo.briefing.series import periods, series
from geo.cli import main
from geo.ingest import plan_import
from geo.map.assets import external_refs
from geo.store import open_store
from geo.view import View

HOSTILE = "<img src=x onerror=alert(1)>"
VIEW = View()  # 27 Sep - 5 Oct 2020, every layer


@pytest.fixture(scope="module")
def events(db: Path):
    return open_store(db).events(VIEW.start, VIEW.end)


def _not_blank(path: Path, size: tuple[int, int]) -> None:
    with Image.open(path) as img:
        assert img.size == size
        rgb = img.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50, "the image is (nearly) one colour"
        w, h = size
        centre = rgb.crop((w // 4, h // 4, 3 * w // 4, 3 * h // 4))
        assert len(centre.getcolors(maxcolors=1 << 20)) > 10, "the map area is blank"


@pytest.mark.browser
def test_png_default_size_is_print_quality_and_not_blank(tmp_path, events):
    options = SnapshotOptions(banner="FOR BRIEFING")
    out = snapshot(VIEW, tmp_path / "brief.png", options, None, events)
    assert out == tmp_path / "brief.png"
    _not_blank(out, (1600, 1000))
    assert [p.name for p in tmp_path.iterdir()] == ["brief.png"]  # no temp file left


def _leaflet_bounds(html: str, size: tuple[int, int]) -> tuple[float, float, float, float]:
    """(lon_min, lat_min, lon_max, lat_max) that the page's Leaflet map shows at `size`."""

    def read() -> tuple[float, float, float, float]:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
            try:
                page = browser.new_page(viewport={"width": size[0], "height": size[1]})
                page.route("**/*", lambda route: route.abort("blockedbyclient"))
                page.set_content(html, wait_until="load")
                page.wait_for_selector(".leaflet-container", state="attached")
                # folium declares the map as a global `map_<id>`; the briefing page has one.
                bounds = page.evaluate(
                    """() => {
                      const maps = Object.keys(window).filter(
                        (k) => /^map_[0-9a-f]+$/.test(k) && window[k] instanceof L.Map);
                      if (maps.length !== 1) return maps.length;
                      const b = window[maps[0]].getBounds();
                      return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
                    }"""
                )
            finally:
                browser.close()
        assert isinstance(bounds, list), f"{bounds} Leaflet maps on the page, expected 1"
        return tuple(bounds)

    return _outside_event_loop(read)


@pytest.mark.browser
def test_png_size_and_bbox_are_respected(tmp_path, events, monkeypatch):
    # Small and away from the default view (centre 40.1 N 46.4 E, zoom 7: ~8 degrees wide
    # at this size): Stepanakert and Shusha.
    bbox = (46.6, 39.7, 46.9, 39.9)
    size = (720, 450)
    drawn: list[tuple[str, str, tuple[int, int], bytes]] = []
    render = geo.briefing.render._Renderer.render

    def spy(self, html: str, fmt: str, size: tuple[int, int]) -> bytes:
        data = render(self, html, fmt, size)
        drawn.append((html, fmt, size, data))
        return data

    monkeypatch.setattr(geo.briefing.render._Renderer, "render", spy)
    out = snapshot(
        VIEW, tmp_path / "small.png", SnapshotOptions(size=size, bbox=bbox), None, events
    )
    _not_blank(out, size)

    # The page Chromium turned into this PNG, opened again at the PNG's size, shows the bbox.
    [(html, fmt, drawn_at, data)] = drawn
    assert (fmt, drawn_at, data) == ("png", size, out.read_bytes())
    west, south, east, north = _leaflet_bounds(html, size)
    lon_min, lat_min, lon_max, lat_max = bbox
    eps = 1e-6
    assert west <= lon_min + eps and east >= lon_max - eps, "the bbox is cut east-west"
    assert south <= lat_min + eps and north >= lat_max - eps, "the bbox is cut north-south"
    # fitBounds takes the largest whole zoom at which the bbox fits: one more zoom level
    # (half the span) would cut it, so in one direction the map is less than twice the bbox.
    ratio = min((east - west) / (lon_max - lon_min), (north - south) / (lat_max - lat_min))
    assert ratio < 2.05, f"the map shows {ratio:.1f} times the bbox: the bbox was not fitted"


@pytest.mark.browser
def test_pdf_is_one_a4_landscape_page(tmp_path, events):
    data = snapshot(VIEW, tmp_path / "brief.pdf", events=events).read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", data)) == 1
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert boxes, "no media box"
    for width, height in boxes:
        assert abs(float(width) - 842) < 2 and abs(float(height) - 595) < 2


@pytest.mark.browser
def test_html_is_self_contained_escaped_and_draws_offline(tmp_path, events):
    options = SnapshotOptions(title=HOSTILE, banner="UNCLASSIFIED <b>x</b>")
    view = View(start=VIEW.start, end=VIEW.end, text="", types=("shelling", "armed_clash"))
    html = briefing_html(view, options, events=events)
    assert external_refs(html) == []
    assert HOSTILE not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "UNCLASSIFIED &lt;b&gt;x&lt;/b&gt;" in html
    assert view.describe() in html  # the subtitle (nothing to escape in it)
    assert "nk-time" in html  # the time control stays in the HTML export

    path = snapshot(view, tmp_path / "brief.html", options, events=events)
    blocked: list[str] = []

    def guard(route: Route) -> None:
        url = route.request.url
        if url == path.as_uri() or url.startswith(("data:", "about:", "blob:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("blockedbyclient")

    errors: list[str] = []

    def open_offline() -> None:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
            try:
                context = browser.new_context(viewport={"width": 1000, "height": 700})
                context.route("**/*", guard)
                page = context.new_page()
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                page.on("dialog", lambda dialog: errors.append(f"dialog {dialog.message}"))
                page.goto(path.as_uri())  # the one request let through: the page itself
                page.wait_for_selector(".leaflet-overlay-pane canvas", state="attached")
                assert page.query_selector(".leaflet-container .nk-time button") is not None
                assert page.title() == HOSTILE  # shown as text, not parsed as a tag
            finally:
                browser.close()

    # The browser tests' own Playwright session may hold an asyncio loop in this thread.
    _outside_event_loop(open_offline)
    assert errors == []
    assert blocked == []


@pytest.mark.browser
def test_zip_data_pack(tmp_path, db, events, monkeypatch):
    monkeypatch.setenv("NKMAP_PUBLIC_URL", "https://maps.example.org/karabakh/")
    out = snapshot(VIEW, tmp_path / "pack.zip", SnapshotOptions(size=(640, 400)), events=events)
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        assert names == {"pack.png", "pack.pdf", "events.csv", "events.geojson", "README.md"}
        csv_bytes = zf.read("events.csv")
        readme = zf.read("README.md").decode("utf-8")
        assert zf.read("pack.pdf").startswith(b"%PDF")
        assert zf.read("pack.png").startswith(b"\x89PNG")
        assert b"FeatureCollection" in zf.read("events.geojson")
    rows = list(csv.DictReader(io.StringIO(csv_bytes.decode("utf-8"))))
    assert len(rows) == len(events)
    plan = plan_import(csv_bytes, open_store(db), source_name="events.csv", fmt="native")
    assert plan.rejects == [] and plan.summary()["rejected"] == 0
    link = "https://maps.example.org/karabakh/?" + urlencode(VIEW.to_query())
    assert link in readme
    assert data_version(events) in readme and "Natural Earth" in readme
    # Package names and versions are for the README, not for the page a reader sees.
    assert "qgis-common" in readme and "3.22.16" in readme


@pytest.mark.browser
def test_series_has_one_file_per_day(tmp_path):
    seen: list[tuple[int, int]] = []
    view = View(start=VIEW.start.replace(day=30), end=VIEW.end.replace(day=2, month=10))
    files = series(
        view,
        tmp_path / "frames",
        "day",
        "png",
        SnapshotOptions(size=(480, 320)),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert [f.name for f in files] == ["2020-09-30.png", "2020-10-01.png", "2020-10-02.png"]
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == [f.name for f in files]
    assert seen == [(1, 3), (2, 3), (3, 3)]
    for f in files:
        _not_blank(f, (480, 320))


def test_weeks_are_iso_weeks_cut_to_the_period():
    view = View(start=VIEW.start, end=VIEW.start.replace(month=10, day=12))  # Sun 27 Sep ...
    assert [p[0] for p in periods(view, "week")] == ["2020-W39", "2020-W40", "2020-W41", "2020-W42"]
    assert periods(view, "week")[0][1:] == (view.start, view.start)


def test_bad_suffix_is_refused(tmp_path, events):
    with pytest.raises(ValueError, match=r"\.png, \.pdf, \.html, \.zip"):
        snapshot(VIEW, tmp_path / "brief.jpg", events=events)


@pytest.mark.browser
def test_cli_snapshot(tmp_path, db, capsys):
    out = tmp_path / "x.png"
    args = ["snapshot", "--db", str(db), "--from", "2020-10-01", "--to", "2020-10-03"]
    assert main([*args, "--size", "500x300", "--out", str(out)]) == 0
    _not_blank(out, (500, 300))
    assert main([*args, "--out", str(tmp_path / "x.docx")]) == 2
    err = capsys.readouterr().err
    assert "nkmap: error:" in err and ".png, .pdf, .html, .zip" in err


def test_cli_series_and_option_errors(tmp_path, db, capsys):
    args = ["snapshot", "--db", str(db), "--from", "2020-10-01", "--to", "2020-10-02"]
    out = tmp_path / "frames"
    assert main([*args, "--each", "day", "--format", "html", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["2020-10-01.html", "2020-10-02.html"]
    assert "2/2" in capsys.readouterr().err  # the progress bar
    for bad in (
        ["--type", "picnic"],
        ["--layers", "rivers"],
        ["--bbox", "1,2,3"],
        ["--bbox", "everything"],
        ["--label", "-1"],
        ["--label", "51"],
        ["--size", "big"],
        ["--each", "day"],  # --out x.png is not a directory
    ):
        assert main([*args, *bad, "--out", str(tmp_path / "x.png")]) == 2
        assert "nkmap: error:" in capsys.readouterr().err


@pytest.mark.browser
def test_snapshot_inside_a_running_asyncio_loop(tmp_path, events):
    # Regression: Playwright's sync API refuses to start inside a running loop (it failed when
    # the browser tests' own Playwright session was alive in the same thread).
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    async def inside() -> Path:
        return snapshot(
            VIEW, tmp_path / "loop.png", SnapshotOptions(size=(800, 500)), events=events
        )

    # A fresh thread, so asyncio.run works whatever this thread is running.
    with ThreadPoolExecutor(max_workers=1) as pool:
        out = pool.submit(asyncio.run, inside()).result()
    _not_blank(out, (800, 500))


def test_cli_whole_region_and_labels(tmp_path, db):
    from geo.briefing import WHOLE_REGION

    out = tmp_path / "whole.html"
    args = ["snapshot", "--db", str(db), "--from", "2020-09-27", "--to", "2020-11-10"]
    assert main([*args, "--bbox", "whole", "--label", "3", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    lon_min, lat_min, lon_max, lat_max = WHOLE_REGION
    assert f"fitBounds(\n                [[{lat_min}, {lon_min}], [{lat_max}, {lon_max}]]" in page
    assert page.count("nk-elabel nk-elabel-") == 3
    assert main([*args, "--out", str(tmp_path / "fit.html")]) == 0  # default: the events
    assert f"[[{lat_min}, {lon_min}]" not in (tmp_path / "fit.html").read_text(encoding="utf-8")
