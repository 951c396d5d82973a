"""The committed offline basemap (data/basemap) and the build script's pure steps.

The data checks use only the committed files; the positions they check against come from a
different source than the geometry (GeoNames towns on a river's bank for WDBII rivers).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import build_basemap as bm
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from geo.errors import LayerError
from geo.layers import BASEMAP_NAMES, layer_on, layer_path, load_layer
from geo.places.names import place_label
from geo.region import CONFLICT_LONLAT_BOX, METRIC_PROJ, WHOLE_REGION_LONLAT_BOX, LonLatBox
from geo.settings import Settings

BASEMAP = Path(__file__).resolve().parent.parent / "data" / "basemap"
STEPANAKERT_BOX = LonLatBox(46.45, 39.60, 47.05, 40.03)


@pytest.fixture(scope="module")
def places():
    return load_layer("places")


@pytest.fixture(scope="module")
def water():
    return load_layer("water")


@pytest.fixture(scope="module")
def roads():
    return load_layer("roads")


def _one(gdf, **props):
    rows = gdf
    for key, value in props.items():
        rows = rows[rows[key] == value]
    assert len(rows) == 1, f"expected one feature with {props}, found {len(rows)}"
    return rows.iloc[0]


def _km(geom_a, geom_b) -> float:
    import geopandas as gpd

    a = gpd.GeoSeries([geom_a], crs="EPSG:4326").to_crs(METRIC_PROJ).iloc[0]
    b = gpd.GeoSeries([geom_b], crs="EPSG:4326").to_crs(METRIC_PROJ).iloc[0]
    return a.distance(b) / 1000


# --------------------------------------------------------------------------- the files


def test_basemap_layers_load_through_geo_layers():
    for name in BASEMAP_NAMES:
        gdf = layer_on(name)
        assert gdf.crs.to_epsg() == 4326
        assert len(gdf) > 0
        assert gdf.geometry.is_valid.all()


def test_basemap_layers_live_in_the_basemap_folder(tmp_path):
    settings = Settings(basemap_dir=tmp_path)
    assert layer_path("water", settings) == tmp_path / "water.geojson"
    with pytest.raises(LayerError, match="make basemap"):
        load_layer("water", settings)


def test_folder_is_small_and_coordinates_have_five_decimals():
    assert sum(p.stat().st_size for p in BASEMAP.iterdir()) < 3_000_000
    for name in BASEMAP_NAMES:
        text = (BASEMAP / f"{name}.geojson").read_text(encoding="utf-8")
        assert not re.search(r"\d\.\d{6,}", text.split('"features"', 1)[1])


def test_manifest_matches_the_files_and_sources_md():
    manifest = json.loads((BASEMAP / "manifest.json").read_text())
    sources = (BASEMAP / "SOURCES.md").read_text(encoding="utf-8")
    for key, version in manifest.items():
        if key != "layers":
            assert str(version) in sources, f"{key} {version} is not named in SOURCES.md"
    for name in BASEMAP_NAMES:
        assert manifest["layers"][name] == len(load_layer(name))
        assert f"`{name}`" in sources


# --------------------------------------------------------------------------- places


def test_places_properties(places):
    assert set(places["kind"]) <= {"capital", "city", "town", "village"}
    assert set(places["country"]) == {"ARM", "AZE", "GEO", "TUR", "IRN"}
    assert places["min_zoom"].between(5, 11).all()
    assert places["name"].str.len().gt(0).all()
    ids = places["geonameid"].dropna()
    assert ids.is_unique
    assert (places["population"].dropna() >= 0).all()
    assert set(places.loc[places["kind"] == "capital", "name"]) == {"Yerevan", "Baku", "Tbilisi"}


def test_places_around_stepanakert_show_at_zoom_11(places):
    # GeoNames' cities500/cities1000 (all the registries offer) list only 9 places in this box;
    # the curated villages of the contested-name table make up the 20 a zoom-11 view needs
    # (data/basemap/SOURCES.md, "Known gap").
    box = places.cx[
        STEPANAKERT_BOX.lon_min : STEPANAKERT_BOX.lon_max,
        STEPANAKERT_BOX.lat_min : STEPANAKERT_BOX.lat_max,
    ]
    shown = box[box["min_zoom"] <= 11]
    assert len(shown) >= 20
    assert {"Khankendi", "Shusha", "Khojaly", "Askyaran", "Aghdam", "Laçın"} <= set(shown["name"])
    assert {"Şuşikənd", "Daşaltı", "Ballıca", "Pirlər", "Çartar"} <= set(shown["name"])


def test_curated_places_carry_their_source_and_lie_in_azerbaijan(places):
    from geo.places.names import find_alias

    curated = places[places["source"] == bm.CURATED_PLACE_SOURCE]
    assert len(curated) >= 20
    assert (curated["accuracy"] == bm.CURATED_PLACE_ACCURACY).all()
    assert curated["geonameid"].isna().all() and curated["population"].isna().all()
    assert set(curated["country"]) == {"AZE"}
    assert set(curated["kind"]) <= {"village", "town"}
    assert set(curated["min_zoom"]) <= {10, 11}
    countries = load_layer("countries")
    aze = countries.loc[countries["iso_a3"] == "AZE"].geometry.union_all()
    assert curated.geometry.within(aze).all(), list(curated.loc[~curated.within(aze), "name"])
    geonames = places[places["source"] != bm.CURATED_PLACE_SOURCE]
    for _, row in curated.iterrows():
        # Named with the table's Azerbaijani name, so the map labels it with both names.
        alias = find_alias(row["name"])
        assert alias is not None and alias.azerbaijani == row["name"]
        assert (alias.longitude, alias.latitude) == pytest.approx(
            (row.geometry.x, row.geometry.y), abs=1e-5
        )
        assert place_label(row["name"]) == f"{alias.armenian} / {alias.azerbaijani}"
        # Not a GeoNames place listed twice.
        x, y = geonames.geometry.x.to_numpy(), geonames.geometry.y.to_numpy()
        nearest = geonames.geometry.iloc[
            int(np.argmin(bm._km_apart(row.geometry.x, row.geometry.y, x, y)))
        ]
        assert _km(row.geometry, nearest) > bm.CURATED_SAME_PLACE_KM
    # The bridges on the Aras are in the table with coordinates but are not a settlement.
    assert "Khudafarin bridges" not in set(places["name"])


# The towns the conflict map needs, by the name readers know -> the GeoNames name in the layer.
CONFLICT_TOWNS = {
    "Stepanakert": ("Khankendi", "AZE"),
    "Shusha": ("Shusha", "AZE"),
    "Martakert": ("Martakert", "AZE"),
    "Hadrut": ("Hadrut", "AZE"),
    "Lachin": ("Laçın", "AZE"),
    "Barda": ("Barda", "AZE"),
    "Tartar": ("Tartar", "AZE"),
    "Goris": ("Goris", "ARM"),
    "Jermuk": ("Jermuk", "ARM"),
    "Askeran": ("Askyaran", "AZE"),
    "Khojaly": ("Khojaly", "AZE"),
    "Fuzuli": ("Fuzuli", "AZE"),
    "Jabrayil": ("Jabrayil", "AZE"),
    "Aghdam": ("Aghdam", "AZE"),
    "Kalbajar": ("Kalbajar", "AZE"),
    "Martuni": ("Khojavend", "AZE"),
}


@pytest.mark.parametrize("known_as", sorted(CONFLICT_TOWNS))
def test_conflict_towns_are_present_and_show_early(places, known_as):
    name, country = CONFLICT_TOWNS[known_as]
    rows = places[(places["name"] == name) & (places["country"] == country)]
    rows = rows[CONFLICT_LONLAT_BOX.contains(rows.geometry.x, rows.geometry.y)]
    assert len(rows) == 1, f"{known_as} ({name}) missing from the conflict area"
    assert rows.iloc[0]["min_zoom"] <= 8


def test_ganja_is_a_city_shown_early(places):
    ganja = _one(places, name="Ganja", country="AZE")
    assert ganja["kind"] == "city" and ganja["min_zoom"] <= 7


def test_contested_names_get_both_names_from_the_alias_table(places):
    for name, other in [
        ("Khankendi", "Stepanakert"),
        ("Shusha", "Shushi"),
        ("Laçın", "Berdzor"),
        ("Martakert", "Aghdara"),
        ("Khojavend", "Martuni"),
        ("Kalbajar", "Karvachar"),
    ]:
        assert name in set(places["name"])
        label = place_label(name)
        assert other in label and " / " in label, f"{name} labelled {label!r}"


def test_fuzuli_village_near_tovuz_is_not_promoted(places):
    fuzulis = places[places["name"] == "Fuzuli"]
    outside = fuzulis[~CONFLICT_LONLAT_BOX.contains(fuzulis.geometry.x, fuzulis.geometry.y)]
    assert len(outside) == 1
    assert outside.iloc[0]["kind"] == "village" and outside.iloc[0]["min_zoom"] == 11


# --------------------------------------------------------------------------- water


def test_water_properties(water):
    assert set(water["kind"]) == {"river", "lake", "reservoir"}
    rivers = water[water["kind"] == "river"]
    assert (rivers.geom_type == "LineString").all()
    assert rivers["rank"].between(1, 4).all()
    still = water[water["kind"] != "river"]
    assert still.geom_type.isin(["Polygon"]).all()
    assert still["rank"].isna().all()
    minx, miny, maxx, maxy = water.total_bounds
    box = WHOLE_REGION_LONLAT_BOX
    assert box.lon_min <= minx and maxx <= box.lon_max
    assert box.lat_min <= miny and maxy <= box.lat_max


def test_lake_sevan_and_mingachevir_reservoir(water, places):
    sevan = _one(water, name="Lake Sevan")
    assert sevan.geometry.contains(Point(45.3, 40.4))
    assert _km(sevan.geometry, _one(places, name="Sevan", country="ARM").geometry) < 5
    reservoir = _one(water, name="Mingachevir Reservoir")
    assert reservoir["kind"] == "reservoir"
    assert _km(reservoir.geometry, _one(places, name="Mingachevir").geometry) < 5
    assert 1000 < sevan.geometry.area * 111 * 85 < 1600  # km², roughly; Sevan is ~1,260 km²


@pytest.mark.parametrize(
    ("river", "towns"),
    [("Aras (Araz)", ["Julfa", "Ordubad", "Horadiz"]), ("Kura", ["Yevlakh", "Sabirabad"])],
)
def test_named_rivers_pass_the_towns_on_their_banks(water, places, river, towns):
    lines = water[water["name"] == river]
    assert len(lines) >= 2
    course = lines.geometry.union_all()
    for town in towns:
        assert _km(course, _one(places, name=town, country="AZE").geometry) < 5, town


def test_kura_does_not_pass_the_aras_towns(water, places):
    kura = water[water["name"] == "Kura"].geometry.union_all()
    assert _km(kura, _one(places, name="Julfa", country="AZE").geometry) > 100


# --------------------------------------------------------------------------- roads


def test_roads_are_dated_schematic_lines(roads):
    assert roads["schematic"].all()
    assert (roads.geom_type == "LineString").all()
    assert roads["accuracy"].str.startswith("schematic").all()
    assert roads["waypoints"].str.count(" - ").ge(2).all()
    both = roads.dropna(subset=["valid_from", "valid_to"])
    assert (both["valid_from"] <= both["valid_to"]).all()
    corridor = roads[roads["kind"] == "corridor_road"]
    assert len(corridor) == 2
    assert (corridor["valid_from"].notna() | corridor["valid_to"].notna()).all()
    assert set(roads["kind"]) == {"corridor_road", "main_road"}


def test_lachin_road_moves_to_the_bypass_on_30_aug_2022(roads, places):
    switch = pd.Timestamp("2022-08-30")
    old = roads[roads["valid_to"] == switch]
    new = roads[roads["valid_from"] == switch]
    assert len(old) == 1 and len(new) == 1

    def corridor_on(day):
        on = layer_on("roads", day)
        return list(on.loc[on["kind"] == "corridor_road", "name"])

    assert corridor_on("2021-06-01") == list(old["name"])
    assert corridor_on("2022-09-15") == list(new["name"])
    assert len(corridor_on(dt.date(2022, 8, 30))) == 2
    lachin = _one(places, name="Laçın").geometry
    assert _km(old.geometry.iloc[0], lachin) < 1
    assert _km(new.geometry.iloc[0], lachin) > 2  # the bypass avoids Lachin town


# --------------------------------------------------------------------------- script: readers


def _basemap_file(shapes):
    data, meta, offset = b"", [], 0
    for level, xy in shapes:
        raw = np.asarray(xy, dtype="<f4").tobytes()
        lats = [p[1] for p in xy]
        meta.append(f"{level} 12.5 {len(xy)} {min(lats):9.5f} {max(lats):9.5f} {offset} {len(raw)}")
        data += raw
        offset += len(raw)
    return data, meta


def test_read_basemap_shapes_reads_points_and_filters_by_box():
    lake = [(45.0, 40.0), (45.5, 40.0), (45.5, 40.5), (45.0, 40.0)]
    far = [(10.0, 50.0), (11.0, 50.0), (11.0, 51.0), (10.0, 50.0)]
    east = [(60.0, 40.0), (61.0, 40.0), (61.0, 40.5), (60.0, 40.0)]
    data, meta = _basemap_file([(2, lake), (1, far), (2, east)])
    shapes = bm.read_basemap_shapes(data, meta, LonLatBox(44, 39, 46, 41))
    assert len(shapes) == 1
    level, area, xy = shapes[0]
    assert (level, area) == (2, 12.5)
    np.testing.assert_allclose(xy, lake, atol=1e-5)


def test_read_basemap_shapes_refuses_a_bad_index():
    data, meta = _basemap_file([(2, [(45.0, 40.0), (45.5, 40.0), (45.0, 40.0)])])
    bad = meta[0].rsplit(" ", 1)[0] + " 999"
    with pytest.raises(ValueError, match="meta line 1"):
        bm.read_basemap_shapes(data, [bad], LonLatBox(44, 39, 46, 41))


def _binned(points_by_bin):
    """A 1-degree binned river file (as h5py reads it) with one segment per given bin."""
    n_bins = 360 * 180
    first_seg = np.zeros(n_bins, "i4")
    n_seg = np.zeros(n_bins, "i2")
    n_pts, levels, first_pt, dx, dy = [], [], [], [], []
    for seg, ((lon_sw, lat_sw), level, rel) in enumerate(points_by_bin):
        b = (90 - lat_sw - 1) * 360 + lon_sw
        first_seg[b], n_seg[b] = seg, 1
        first_pt.append(len(dx))
        n_pts.append(len(rel))
        levels.append(level)
        for x, y in rel:  # fractions of the bin, stored as unsigned 16-bit in a signed array
            dx.append(np.uint16(round(x * 65535)).view(np.int16))
            dy.append(np.uint16(round(y * 65535)).view(np.int16))
    return {
        "Bin_size_in_minutes": np.array([60], "i4"),
        "N_bins_in_360_longitude_range": np.array([360], "i4"),
        "Id_of_first_segment_in_a_bin": first_seg,
        "N_segments_in_a_bin": n_seg,
        "N_points_for_a_segment": np.array(n_pts, "i2"),
        "Hierarchial_level_of_a_segment": np.array(levels, "i2"),
        "Id_of_first_point_in_a_segment": np.array(first_pt, "i4"),
        "Relative_longitude_from_SW_corner_of_bin": np.array(dx, "i2"),
        "Relative_latitude_from_SW_corner_of_bin": np.array(dy, "i2"),
    }


def test_decode_binned_segments_places_points_in_their_bin():
    nc = _binned(
        [
            ((46, 39), 2, [(0.0, 0.5), (0.75, 1.0)]),  # 46-47 E, 39-40 N
            ((10, 50), 3, [(0.5, 0.5), (1.0, 1.0)]),  # far away
        ]
    )
    [(level, xy)] = bm.decode_binned_segments(nc, LonLatBox(45, 38, 48, 41))
    assert level == 2
    np.testing.assert_allclose(xy, [(46.0, 39.5), (46.75, 40.0)], atol=1e-4)


# --------------------------------------------------------------------------- script: steps


def test_classify_place():
    assert bm.classify_place("Yerevan", "AM", 1_000_000, 44.5, 40.2) == ("capital", 5)
    assert bm.classify_place("Gyumri", "AM", 120_000, 43.8, 40.8) == ("city", 7)
    assert bm.classify_place("Sisian", "AM", 13_000, 46.0, 39.5) == ("town", 9)
    assert bm.classify_place("Khot", "AM", None, 46.3, 39.5) == ("village", 11)
    # A conflict town with an old, small GeoNames population shows early, in the conflict box.
    assert bm.classify_place("Khankendi", "AZ", 2_100, 46.75, 39.82) == ("town", 8)
    assert bm.classify_place("Fuzuli", "AZ", 800, 46.13, 40.82) == ("village", 11)


def _row(name, country, lon, lat, population=None):
    return bm.PlaceRow(name, None, country, population, lon, lat, "test")


def test_select_places_skips_towns_listed_twice():
    rows500 = [_row("Laçın", "AZ", 46.55, 39.637, 2300), _row("Kars", "TR", 43.1, 40.6, 80_000)]
    rows1000 = [
        _row("Lacin", "AZ", 46.55, 39.599),  # same name, 4 km away: the same town
        _row("Laçın", "AZ", 46.551, 39.64),  # same spot
        _row("Hadrut", "AZ", 47.03, 39.52),  # cities500 lacks it
        _row("Kagizman", "TR", 43.1, 40.1),  # neighbours take no population-less rows
    ]
    names = [r.name for r in bm.select_places(rows500, rows1000)]
    assert names == ["Laçın", "Kars", "Hadrut"]
    assert bm.fold_name("Qubadlı") == bm.fold_name("QUBADLI")


def test_select_curated_keeps_settlements_the_geonames_layer_lacks():
    from geo.places.names import Alias

    def alias(key, lat, lon, country="AZ"):
        return Alias(key, key.title(), key.upper(), (), country, "", "", lat, lon)

    chosen = [_row("Shusha", "AZ", 46.75, 39.76)]
    table = [
        alias("shosh", 39.77, 46.7847),  # 3 km from Shusha: kept
        alias("twin", 39.765, 46.75),  # about 0.6 km from Shusha: the same place
        alias("khudafarin_bridges", 39.15, 46.94),  # not a settlement
        alias("far", 35.0, 46.0),  # outside the places box
        Alias("nocoords", "A", "B", (), "AZ", "", ""),
        alias("elsewhere", 39.5, 46.5, country="RU"),  # a country the layer does not cover
        alias("chartar", 39.7581, 47.0161),
    ]
    kept = bm.select_curated(table, chosen)
    assert [a.key for a in kept] == ["shosh", "chartar"]
    village, town = (bm.curated_place_record(a) for a in kept)
    assert (village["name"], village["country"], village["kind"], village["min_zoom"]) == (
        "SHOSH",
        "AZE",
        "village",
        11,
    )
    assert (town["kind"], town["min_zoom"]) == ("town", 10)
    assert village["population"] is None and village["geonameid"] is None
    assert village["source"] == bm.CURATED_PLACE_SOURCE
    assert village["accuracy"] == bm.CURATED_PLACE_ACCURACY


def test_merge_rivers_joins_across_bin_edges_but_not_past_a_confluence():
    segments = [
        (2, np.array([(45.5, 39.5), (46.0, 39.5)])),  # main river, cut at 46 E
        (2, np.array([(46.0, 39.5), (46.5, 39.5)])),
        (2, np.array([(46.5, 39.5), (46.9, 39.5)])),
        (2, np.array([(46.5, 39.9), (46.5, 39.5)])),  # tributary of the same level at 46.5 E
        (6, np.array([(45.6, 39.6), (45.7, 39.7)])),  # intermittent: left out
    ]
    lines = bm.merge_rivers(segments, LonLatBox(45, 39, 48, 41))
    lengths = sorted(round(line.length, 3) for _, line in lines)
    assert lengths == [0.4, 0.4, 1.0]
    assert {rank for rank, _ in lines} == {2}


def test_name_rivers_and_lakes():
    lines = [LineString([(0, 0), (1, 0)]), LineString([(0, 1), (1, 1)])]
    table = (("A", "river", (0.5, 0.01)), ("B", "river", (0.5, 0.99)))
    assert bm.name_rivers(lines, table) == ["A", "B"]
    with pytest.raises(ValueError, match="no river"):
        bm.name_rivers(lines, (("C", "river", (5.0, 5.0)),))
    lake = Point(0, 0).buffer(1)
    assert bm.name_lakes([lake], (("L", "reservoir", (0.1, 0.1)),)) == [("L", "reservoir")]
    assert bm.name_lakes([lake], (("L", "lake", (3.0, 3.0)),)) == [("", "lake")]


def test_build_roads_goes_through_the_waypoints():
    from geo.places.gazetteer import Place

    def lookup(name, country):
        lon = {"Goris": 46.34, "Kornidzor": 46.53, "Tegh": 46.48, "Lachin": 46.55}.get(name, 46.0)
        return Place(name, 39.6, lon, country, None, "test", None, "primary")

    roads = bm.build_roads(lookup)
    assert len(roads) == len(bm.ROADS) + len(bm.MAIN_ROADS)
    assert roads["waypoints"].iloc[0].startswith("Goris - Kornidzor - Lachin")
    assert roads["schematic"].all()
    for value in [*roads["valid_from"].dropna(), *roads["valid_to"].dropna()]:
        dt.date.fromisoformat(value)
