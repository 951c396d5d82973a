"""The offline basemap on the map: water and roads under the conflict layers, place names by
zoom in the naming convention, everything from the data as inert text (rendered, no browser).

The basemap files are small fixtures written in each test's own folder, with the schema of
scripts/build_basemap.py (places, water, roads).
"""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pytest
from hostile import PAYLOADS, assert_inert
from shapely.geometry import LineString, Point, Polygon

from geo.layers import BASEMAP_NAMES, LAYER_NAMES, LAYER_TITLES
from geo.map.basemap import places_payload, road_style, water_style
from geo.map.build import build_map
from geo.settings import Settings
from geo.view import ALL_LAYERS, DEFAULT_LAYERS, Convention, View


def _write(folder, name, rows):
    gpd.GeoDataFrame(rows, crs=4326).to_file(folder / f"{name}.geojson", driver="GeoJSON")


def _source(text="fixture"):
    return {"source": text}


@pytest.fixture
def settings(tmp_path) -> Settings:
    _write(
        tmp_path,
        "water",
        [
            {
                "name": "Fixture Lake",
                "kind": "lake",
                "rank": None,
                **_source(),
                "geometry": Polygon([(45.0, 40.3), (45.4, 40.3), (45.4, 40.5), (45.0, 40.5)]),
            },
            {
                "name": "Fixture River",
                "kind": "river",
                "rank": 2,
                **_source(),
                "geometry": LineString([(46.0, 39.5), (47.0, 39.6)]),
            },
            {
                "name": "",
                "kind": "river",
                "rank": 7,
                **_source(),
                "geometry": LineString([(46.0, 39.3), (46.5, 39.35)]),
            },
        ],
    )
    _write(
        tmp_path,
        "roads",
        [
            {
                "name": "Old corridor road",
                "kind": "corridor_road",
                "valid_from": None,
                "valid_to": "2022-08-30",
                "waypoints": "Goris - Lachin - Stepanakert",
                "schematic": True,
                "accuracy": "schematic: straight segments between the towns listed",
                "source": "fixture",
                "note": "",
                "geometry": LineString([(46.38, 39.51), (46.55, 39.63), (46.75, 39.82)]),
            },
            {
                "name": "New bypass road",
                "kind": "corridor_road",
                "valid_from": "2022-08-30",
                "valid_to": None,
                "waypoints": "Goris - Tegh - Stepanakert",
                "schematic": True,
                "accuracy": "schematic: straight segments between the towns listed",
                "source": "fixture",
                "note": "",
                "geometry": LineString([(46.38, 39.51), (46.47, 39.56), (46.75, 39.82)]),
            },
        ],
    )
    _write(
        tmp_path,
        "places",
        [
            {
                "name": name,
                "geonameid": i,
                "country": "AZE",
                "population": pop,
                "kind": kind,
                "min_zoom": z,
                **_source(),
                "geometry": Point(lon, lat),
            }
            for i, (name, kind, z, pop, lat, lon) in enumerate(
                [
                    ("Baku", "capital", 5, 2_300_000, 40.38, 49.89),
                    ("Khankendi", "city", 7, 55_000, 39.815, 46.752),
                    ("Shusha", "town", 9, 4_000, 39.76, 46.75),
                    ("Smallvillage", "village", 11, None, 39.9, 46.9),
                    (PAYLOADS["html_img"], "village", 11, None, 39.95, 46.95),
                    (PAYLOADS["jinja_expression"], "village", 11, None, 39.97, 46.97),
                    (PAYLOADS["script_close"], "village", 11, None, 39.99, 46.99),
                ]
            )
        ],
    )
    return Settings(basemap_dir=tmp_path)


def _events():
    import pandas as pd

    from geo.schema import COLUMN_NAMES
    from geo.store import typed_frame

    row = {c: None for c in COLUMN_NAMES}
    row.update(event_id="e1", event_date="2020-09-28", event_type="shelling")
    row.update(latitude=39.8, longitude=46.75, source="fixture")
    return typed_frame(pd.DataFrame([row]))


def _html(m) -> str:
    return m.get_root().render()


def _places(html: str) -> dict:
    start = html.index("NKPlaces.layer(") + len("NKPlaces.layer(")
    return json.JSONDecoder().raw_decode(html[start:])[0]


def test_the_basemap_layers_are_known_in_drawing_order():
    assert set(BASEMAP_NAMES) <= set(LAYER_NAMES)
    assert LAYER_NAMES == (
        "countries",
        "water",
        "roads",
        "nkao",
        "control",
        "contact_line",
        "pipelines",
        "sites",
        "places",
    )
    assert set(LAYER_NAMES) <= set(DEFAULT_LAYERS) <= set(ALL_LAYERS)
    for name in BASEMAP_NAMES:
        assert LAYER_TITLES[name]


def test_an_old_permalink_listing_layers_still_opens():
    old = View.from_query({"from": "2020-09-27", "to": "2020-11-10", "layers": "countries,events"})
    assert old.layers == ("countries", "events")
    # ... and one without layers gets today's defaults, the basemap included.
    assert set(BASEMAP_NAMES) <= set(View.from_query({"from": "2020-09-27"}).layers)
    html = _html(build_map("2020-11-10", layers=[n for n in old.layers if n in LAYER_NAMES]))
    assert "NKPlaces.layer(" not in html  # no basemap places (the labels fit code is there)


def test_the_places_library_comes_once_per_page():
    """js/places.js serves the places layer and the fitting of marker names to the map's
    edge: one copy per page, with or without the places layer."""
    for layers in (None, ["countries", "sites"]):
        m = build_map("2020-11-10", **({} if layers is None else {"layers": layers}))
        html = _html(m)
        assert html.count("if (window.NKPlaces)") == 1, layers
        assert html.count("NKPlaces.fitLabels(") == 1, layers


def test_water_and_roads_are_drawn_under_the_conflict_layers(settings):
    m = build_map("2020-10-01", start="2020-09-20", settings=settings, events=_events())
    html = _html(m)
    water, road = html.index("Fixture River"), html.index("Old corridor road")
    above_them = ("1994 ceasefire", "Line of Contact", "NKPlaces.layer(", "eventsLayer(")
    for above in above_them:
        assert water < html.index(above) and road < html.index(above), above
    assert html.index("countries") < water
    # Only named water answers the mouse; unnamed rivers never take a click.
    assert '"interactive": false' in html


def test_styles_look_like_a_reference_map():
    river = {"properties": {"kind": "river", "rank": 2}, "geometry": {"type": "LineString"}}
    stream = {"properties": {"kind": "river", "rank": 7}, "geometry": {"type": "LineString"}}
    lake = {"properties": {"kind": "lake", "rank": None}, "geometry": {"type": "Polygon"}}
    assert water_style(river)["weight"] > water_style(stream)["weight"]
    assert "dashArray" in water_style(stream) and "dashArray" not in water_style(river)
    assert water_style(lake)["fillOpacity"] == 1
    schematic = {"properties": {"schematic": True}}
    surveyed = {"properties": {"schematic": False}}
    assert road_style(schematic)["dashArray"] and "dashArray" not in road_style(surveyed)


def test_roads_follow_their_validity_and_say_they_are_schematic(settings):
    war = _html(build_map("2020-11-10", start="2020-09-27", settings=settings))
    assert "Old corridor road" in war and "New bypass road" not in war
    assert "schematic (straight segments between the towns it passes)" in war
    assert "schematic: straight segments between the towns listed" in war  # the accuracy
    assert "Road (schematic)" in war
    # A period across the switch carries both, each shown on its own days (time control).
    across = _html(build_map("2022-09-30", start="2022-08-01", settings=settings))
    assert "Old corridor road" in across and "New bypass road" in across
    legend_row = re.search(
        r'<div data-nk-days="([^"]+)">[^<]*<span[^>]*dashed[^>]*></span> '
        r"Road \(schematic\)",
        across,
    )
    assert legend_row is not None
    assert '"d0"' in across and '"d1"' in across


def test_places_carry_their_min_zoom_and_contested_places_both_names(settings):
    payload = _places(_html(build_map("2020-11-10", layers=["places"], settings=settings)))
    by_label = dict(zip(payload["label"], payload["z"], strict=True))
    assert by_label["Stepanakert / Khankendi"] == 7
    assert by_label["Shushi / Shusha"] == 9
    assert by_label["Smallvillage"] == 11
    # Most prominent first: the layout gives them room before villages.
    assert payload["label"][0] == "Baku"
    azerbaijani = _places(
        _html(
            build_map("2020-11-10", layers=["places"], convention="azerbaijani", settings=settings)
        )
    )
    assert (
        "Khankendi" in azerbaijani["label"]
        and "Stepanakert / Khankendi" not in azerbaijani["label"]
    )


def test_a_place_the_sites_layer_labels_already_is_not_labelled_twice(settings):
    html = _html(build_map("2020-11-10", layers=["sites", "places"], settings=settings))
    payload = _places(html)
    assert "Stepanakert / Khankendi" not in payload["label"]
    assert "Baku" not in payload["label"]
    # ... and the sites' labels keep their space free of place names.
    assert payload["reserved"] and all(len(r) == 4 for r in payload["reserved"])


def test_hostile_place_names_reach_the_page_as_inert_text(settings):
    html = _html(build_map("2020-11-10", layers=["places"], settings=settings))
    assert_inert(html)
    for live in ("<img src=x", "</script><script>window", "{{ 6*7 }}"):
        assert live not in html, live
    labels = _places(html)["label"]
    assert PAYLOADS["html_img"] in labels and PAYLOADS["jinja_expression"] in labels


def test_places_payload_without_optional_columns():
    gdf = gpd.GeoDataFrame(
        {"name": ["A", ""], "geometry": [Point(46, 40), Point(46.1, 40)]}, crs=4326
    )
    payload = places_payload(gdf, Convention.BOTH)
    assert payload["label"] == ["A"] and payload["z"] == [11] and payload["reserved"] == []


def test_a_namesake_of_a_contested_place_keeps_its_own_name():
    # GeoNames repeats names (DESIGN.md): Martuni is also a town in Armenia's Gegharkunik,
    # Fuzuli also a village near Tovuz. Only the contested place itself gets both names.
    rows = [
        ("Martuni", "ARM", 45.30232, 40.14028),
        ("Fuzuli", "AZE", 46.13223, 40.82076),
        ("Fuzuli", "AZE", 47.14529, 39.60094),
        ("Martuni", "AZE", 47.0, 39.79),
    ]
    gdf = gpd.GeoDataFrame(
        {
            "name": [r[0] for r in rows],
            "country": [r[1] for r in rows],
            "min_zoom": [9, 11, 8, 9],
            "geometry": [Point(r[2], r[3]) for r in rows],
        },
        crs=4326,
    )
    payload = places_payload(gdf, Convention.BOTH)
    at = {
        (lat, lon): label
        for lat, lon, label in zip(payload["lat"], payload["lon"], payload["label"], strict=True)
    }
    assert at[(40.14028, 45.30232)] == "Martuni"
    assert at[(40.82076, 46.13223)] == "Fuzuli"
    assert at[(39.60094, 47.14529)] == "Varanda / Fuzuli"
    assert at[(39.79, 47.0)] == "Martuni / Khojavend"
