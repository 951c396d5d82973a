"""The committed reference geography: valid, in WGS84, and true to facts any reader knows."""

import geopandas as gpd
import pytest
from shapely.geometry import Point

from geo.layers import LAYER_NAMES, load_layer, valid_on
from geo.places.gazetteer import locate

METRIC = "EPSG:32638"


def _pt(name, country="AZ"):
    p = locate(name, country)
    return Point(p.longitude, p.latitude)


def _km(a, b):
    s = gpd.GeoSeries([a, b], crs=4326).to_crs(METRIC)
    return s.iloc[0].distance(s.iloc[1]) / 1000


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_layer_is_valid_wgs84_with_sources(name):
    gdf = load_layer(name)
    assert len(gdf) > 0
    assert gdf.crs.to_epsg() == 4326
    assert gdf.geometry.is_valid.all()
    assert not gdf.geometry.is_empty.any()
    minx, miny, maxx, maxy = gdf.total_bounds
    assert minx >= 25 and maxx <= 53 and miny >= 35 and maxy <= 47
    if name != "countries":
        assert gdf["source"].notna().all() and gdf["accuracy"].notna().all()


def test_countries_of_the_region_with_iso_codes():
    countries = load_layer("countries").set_index("iso_a3")
    assert set(countries.index) == {"ARM", "AZE", "GEO", "TUR", "IRN", "RUS"}
    aze = countries.loc["AZE", "geometry"]
    assert aze.contains(_pt("Baku"))
    # Nakhchivan is part of Azerbaijan, not of Armenia.
    nakhchivan = _pt("Nakhchivan")
    assert aze.contains(nakhchivan) and not countries.loc["ARM", "geometry"].contains(nakhchivan)
    assert aze.geom_type == "MultiPolygon" and len(aze.geoms) >= 3  # mainland, Nakhchivan, exclaves


def test_nkao_contains_its_towns_and_not_the_districts_around_it():
    nkao = load_layer("nkao").geometry.iloc[0]
    assert nkao.geom_type == "Polygon"
    area_km2 = gpd.GeoSeries([nkao], crs=4326).to_crs(METRIC).area.iloc[0] / 1e6
    assert 4000 < area_km2 < 4700  # the NKAO was about 4,400 km2
    for town in ("Stepanakert", "Shusha", "Hadrut", "Martakert"):
        assert nkao.contains(_pt(town)), town
    for town in ("Aghdam", "Lachin", "Kalbajar", "Tartar", "Barda", "Fuzuli"):
        assert not nkao.contains(_pt(town)), town


def _held(day):
    control = valid_on(load_layer("control"), day)
    return control[control["kind"] == "held_area"].union_all()


def test_held_area_1994_to_2020_includes_the_surrounding_districts():
    held = _held("2015-01-01")
    for town in ("Stepanakert", "Shusha", "Aghdam", "Lachin", "Kalbajar", "Jabrayil"):
        assert held.contains(_pt(town)), town
    for town in ("Tartar", "Barda", "Ganja", "Horadiz"):
        assert not held.contains(_pt(town)), town


def test_tartar_and_barda_were_never_held():
    control = load_layer("control")
    areas = control[control["kind"] != "capture"].union_all()
    for town in ("Tartar", "Barda"):
        assert not areas.contains(_pt(town)), town


def test_war_period_is_marked_unresolved_and_captures_appear_by_date():
    on = valid_on(load_layer("control"), "2020-10-18")
    assert "contested_area" in set(on["kind"])
    assert "held_area" not in set(on["kind"])
    captured = {n.split(":")[0] for n in on.loc[on["kind"] == "capture", "name"]}
    assert captured == {"Mekhakavan / Jabrayil", "Hadrut", "Varanda / Fuzuli"}
    assert valid_on(load_layer("contact_line"), "2020-10-18").empty


def test_after_the_2020_statement_stepanakert_is_held_and_shusha_is_not():
    held = _held("2021-06-01")
    assert held.contains(_pt("Stepanakert"))
    assert not held.contains(_pt("Shusha"))
    assert not held.contains(_pt("Aghdam"))
    corridor = valid_on(load_layer("control"), "2021-06-01").query("kind == 'corridor'")
    assert corridor.union_all().contains(_pt("Lachin"))


def test_no_contact_line_while_districts_were_being_handed_over():
    lines = load_layer("contact_line")
    assert valid_on(lines, "2020-11-20").empty
    assert len(valid_on(lines, "2020-12-01")) == 1


def test_handover_districts_end_on_their_dates():
    assert _held("2020-11-19").contains(_pt("Aghdam"))
    assert not _held("2020-11-20").contains(_pt("Aghdam"))
    assert _held("2020-11-24").contains(_pt("Kalbajar"))
    assert not _held("2020-11-25").contains(_pt("Kalbajar"))


def test_nothing_is_held_after_september_2023():
    assert valid_on(load_layer("control"), "2023-09-21").empty
    assert valid_on(load_layer("contact_line"), "2023-09-21").empty
    assert not valid_on(load_layer("control"), "2023-09-20").empty


def test_contact_line_1994_runs_from_armenian_to_iranian_border():
    line = valid_on(load_layer("contact_line"), "2015-01-01")
    assert len(line) == 1
    geom = line.geometry.iloc[0]
    countries = load_layer("countries").set_index("iso_a3")
    ends = [Point(geom.coords[0]), Point(geom.coords[-1])]
    assert min(countries.loc["ARM", "geometry"].distance(e) for e in ends) < 0.01
    assert min(countries.loc["IRN", "geometry"].distance(e) for e in ends) < 0.02


def test_btc_passes_yevlakh_and_tovuz_and_ends_at_ceyhan():
    pipes = load_layer("pipelines").set_index("name")
    btc = pipes.loc["Baku-Tbilisi-Ceyhan (BTC)"]
    assert btc["commodity"] == "oil"
    assert _km(btc.geometry, _pt("Yevlakh")) < 5
    assert _km(btc.geometry, _pt("Tovuz")) < 5
    assert _km(Point(btc.geometry.coords[-1]), _pt("Ceyhan", "TR")) < 40
    assert _km(Point(btc.geometry.coords[0]), _pt("Baku")) < 60


def test_all_five_pipelines_with_attributes():
    pipes = load_layer("pipelines")
    assert len(pipes) == 5
    assert set(pipes["commodity"]) == {"oil", "gas"}
    for col in ("name", "commodity", "operator", "length_km", "opened", "accuracy"):
        assert pipes[col].notna().all(), col
    assert pipes["accuracy"].str.contains("Schematic").all()


def test_sites_include_terminals_base_and_capitals_with_both_names():
    sites = load_layer("sites")
    kinds = sites.groupby("kind")["name"].apply(set)
    assert {"Sangachal Terminal", "Supsa Terminal", "Ceyhan Marine Terminal"} <= kinds["terminal"]
    assert kinds["military_base"] == {"Russian 102nd military base"}
    assert {"Yerevan", "Baku", "Tbilisi"} <= kinds["capital"]
    assert "Stepanakert / Khankendi" in set(sites["label"])
    gyumri = sites.set_index("kind").loc["military_base", "geometry"]
    assert _km(gyumri, _pt("Gyumri", "AM")) < 1
