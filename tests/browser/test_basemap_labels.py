"""Place names of the offline basemap in a real browser: they appear as the map zooms in,
never overlap one another, and hostile names stay text."""

from __future__ import annotations

import geopandas as gpd
import pytest
from hostile import PAYLOADS
from playwright.sync_api import Page
from shapely.geometry import Point

from geo.map.assets import offline_html
from geo.map.build import build_map
from geo.settings import Settings

from .conftest import save_screenshot

pytestmark = pytest.mark.browser

PLACES = [
    ("Baku", "capital", 5, 2_300_000, 40.38, 49.89),
    ("Khankendi", "city", 7, 55_000, 39.815, 46.752),
    ("Shusha", "town", 9, 4_000, 39.76, 46.75),
    ("Smallvillage", "village", 11, None, 39.88, 46.83),
    # Two villages 300 m apart: at zoom 11 their names would overlap, only one is shown.
    ("Crowded One", "village", 11, None, 39.86, 46.70),
    ("Crowded Two", "village", 11, None, 39.8615, 46.7005),
    (PAYLOADS["html_img"], "village", 11, None, 39.84, 46.86),
    (PAYLOADS["jinja_expression"], "village", 11, None, 39.80, 46.86),
]


def _settings(folder) -> Settings:
    rows = [
        {
            "name": name,
            "geonameid": i,
            "country": "AZE",
            "population": pop,
            "kind": kind,
            "min_zoom": z,
            "source": "fixture",
            "geometry": Point(lon, lat),
        }
        for i, (name, kind, z, pop, lat, lon) in enumerate(PLACES)
    ]
    gpd.GeoDataFrame(rows, crs=4326).to_file(folder / "places.geojson", driver="GeoJSON")
    return Settings(basemap_dir=folder)


def _labels(page: Page) -> list[str]:
    return page.evaluate("() => nkPlaces.labels()")


def test_place_names_appear_by_zoom_without_overlapping(page: Page, tmp_path):
    m = build_map(
        "2020-11-10", layers=["places"], settings=_settings(tmp_path), center=(39.85, 46.8), zoom=7
    )
    page.route("**/*", lambda route: route.abort())
    page.set_content(offline_html(m), wait_until="load")
    page.wait_for_function("() => window.nkPlaces && nkPlaces.layouts > 0")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    assert sorted(_labels(page)) == ["Baku", "Stepanakert / Khankendi"]
    page.evaluate(
        """() => { const m = Object.keys(window).filter(k => k.startsWith("map_"))
                     .map(k => window[k]).find(v => v instanceof L.Map);
                   m.setView([39.84, 46.78], 11, { animate: false }); }"""
    )
    page.wait_for_function("() => nkPlaces.labels().includes('Smallvillage')")
    shown = _labels(page)
    assert {"Stepanakert / Khankendi", "Shushi / Shusha", "Smallvillage"} <= set(shown)
    assert PAYLOADS["html_img"] in shown and PAYLOADS["jinja_expression"] in shown
    assert ("Crowded One" in shown) != ("Crowded Two" in shown)
    boxes = page.evaluate(
        "() => Array.from(document.querySelectorAll('.nk-place span'))"
        ".map(s => s.getBoundingClientRect().toJSON())"
    )
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = (
                a["right"] <= b["left"]
                or b["right"] <= a["left"]
                or a["bottom"] <= b["top"]
                or b["bottom"] <= a["top"]
            )
            assert apart, (a, b)
    assert page.evaluate("() => document.querySelectorAll('.nk-places img').length") == 0
    assert page.evaluate("() => window.__nkXss") is None and dialogs == []
    save_screenshot(page, "basemap-place-labels")
