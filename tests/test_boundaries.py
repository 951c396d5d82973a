"""The committed reference geography: valid, in WGS84, and true to facts any reader knows."""

import csv
import datetime as dt
import itertools
import json
import re
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

from geo.cli import main as cli_main
from geo.layers import LAYER_NAMES, control_area_on, load_layer, valid_on
from geo.places.gazetteer import locate
from geo.region import METRIC_PROJ

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


def test_war_period_is_a_reconstruction_with_captures_by_date():
    on = valid_on(load_layer("control"), "2020-10-18")
    assert set(on["kind"]) == {"held_area_reconstructed", "capture"}
    [held] = on.loc[on["kind"] == "held_area_reconstructed"].itertuples()
    assert held.label == "claimed captures, reconstruction"
    assert "not a front line" in held.accuracy and "captures.csv" in held.source
    captured = {n.split(":")[0] for n in on.loc[on["kind"] == "capture", "name"]}
    assert captured == {"Mekhakavan / Jabrayil", "Hadrut", "Varanda / Fuzuli"}
    assert valid_on(load_layer("contact_line"), "2020-10-18").empty
    assert "contested_area" not in set(load_layer("control")["kind"])


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


# --------------------------------------------------------------------------- 2020 war, day by day

_CAPTURES = Path(__file__).resolve().parent.parent / "data" / "boundaries" / "captures.csv"
_WAR_DAYS = [dt.date(2020, 9, 27) + dt.timedelta(days=i) for i in range(44)]  # to 9 Nov


def _captures() -> list[dict]:
    with open(_CAPTURES, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _held_on(day):
    """Everything held that day: the held areas of every kind (the corridor is not held)."""
    on = control_area_on(day)
    return on[on["kind"].str.startswith("held_area")].union_all()


def _km2(geom) -> float:
    return gpd.GeoSeries([geom], crs=4326).to_crs(METRIC_PROJ).area.iloc[0] / 1e6


def test_every_war_day_has_exactly_one_held_area():
    control = load_layer("control")
    for day in _WAR_DAYS:
        kinds = list(valid_on(control, day)["kind"])
        assert kinds.count("held_area_reconstructed") == 1, day
        assert "held_area" not in kinds, day


def test_held_area_shrinks_day_by_day_and_after_every_claim():
    areas = {day: _km2(_held_on(day)) for day in _WAR_DAYS}
    for before, after in itertools.pairwise(_WAR_DAYS):
        assert areas[after] <= areas[before] + 1e-6, after
    claim_days = {dt.date.fromisoformat(r["date"]) for r in _captures()}
    assert len(claim_days) >= 6
    for day in claim_days:
        assert areas[day] < areas[day - dt.timedelta(days=1)] - 10, day  # km2
    assert areas[_WAR_DAYS[0]] == pytest.approx(_km2(_held("2020-09-26")), rel=1e-6)
    # After the 10 Nov statement, less again: the schematic post-war area and three districts.
    assert _km2(_held_on("2020-11-10")) < areas[_WAR_DAYS[-1]]


@pytest.mark.parametrize("row", _captures(), ids=lambda r: r["geonames_name"])
def test_claimed_settlement_is_held_the_day_before_and_not_the_day_after(row):
    town = Point(float(row["longitude"]), float(row["latitude"]))
    day = dt.date.fromisoformat(row["date"])
    assert _held_on(day - dt.timedelta(days=1)).contains(town)
    assert not _held_on(day).contains(town)
    assert not _held_on(day + dt.timedelta(days=1)).contains(town)


def test_hadrut_and_shusha_change_hands_on_their_claimed_days():
    assert _held_on("2020-10-08").contains(_pt("Hadrut"))
    assert not _held_on("2020-10-10").contains(_pt("Hadrut"))
    assert _held_on("2020-11-07").contains(_pt("Shusha"))
    assert not _held_on("2020-11-09").contains(_pt("Shusha"))
    # Towns never claimed in the war stay held to its last day.
    for town in ("Stepanakert", "Martakert", "Aghdam", "Kalbajar", "Lachin", "Khojavend"):
        assert _held_on("2020-11-09").contains(_pt(town)), town


def test_captures_table_rows_have_sources_and_addresses():
    rows = _captures()
    assert list(rows[0]) == [
        "date",
        "settlement",
        "geonames_name",
        "latitude",
        "longitude",
        "claimant",
        "source",
        "source_url",
        "note",
    ]
    for row in rows:
        assert "2020-09-27" <= row["date"] <= "2020-11-09", row
        assert row["source"].strip() and row["claimant"].strip(), row
        assert re.search(r", \d{4}-\d{2}-\d{2}$", row["source"]), row["source"]
        url = row["source_url"]
        assert url.startswith(("https://", "http://")) or row["note"].strip(), row
        # Coordinates are the gazetteer's, never typed in by hand.
        place = locate(row["geonames_name"], "AZ")
        assert (place.latitude, place.longitude) == pytest.approx(
            (float(row["latitude"]), float(row["longitude"])), abs=1e-4
        )


def test_lachin_corridor_leaves_lachin_town_on_26_august_2022():
    def corridor(day):
        on = control_area_on(day)
        return on[on["kind"] == "corridor"]

    lachin = _pt("Lachin")
    assert corridor("2022-08-25").union_all().contains(lachin)
    new = corridor("2022-08-26")
    assert len(new) == 1 and not new.union_all().contains(lachin)
    arm = load_layer("countries").set_index("iso_a3").loc["ARM", "geometry"]
    assert new.union_all().distance(arm) < 0.01  # still reaches Armenia
    assert len(corridor("2023-09-20")) == 1 and corridor("2023-09-21").empty
    lines = load_layer("contact_line")
    assert len(valid_on(lines, "2022-08-25")) == 1 and len(valid_on(lines, "2022-08-26")) == 1


def test_post_war_held_area_matches_the_figure_in_sources_md():
    sources = (_CAPTURES.parent / "SOURCES.md").read_text(encoding="utf-8")
    row = next(line for line in sources.splitlines() if "| 2020-11-10 → 2023-09-20 |" in line)
    stated = float(re.search(r"Area ([\d,]+) km²", row).group(1).replace(",", ""))
    on = control_area_on("2021-06-01")
    [area] = on.loc[on["kind"] == "held_area", "geometry"]
    assert _km2(area) == pytest.approx(stated, abs=1)


def test_cli_layer_on_a_war_day_prints_features_and_areas(capsys, tmp_path):
    assert cli_main(["layer", "control", "--on", "2020-10-10"]) == 0
    out, err = capsys.readouterr()
    fc = json.loads(out)
    kinds = {f["properties"]["kind"] for f in fc["features"]}
    assert kinds == {"held_area_reconstructed", "capture"}
    held = round(_km2(_held_on("2020-10-10")))
    assert "control on 2020-10-10: 3 features" in err
    assert re.search(rf"held_area_reconstructed\t1\t{held:,} km²", err), err
    target = tmp_path / "day.geojson"
    assert cli_main(["layer", "control", "--on", "2023-09-21", "--out", str(target)]) == 0
    out, err = capsys.readouterr()
    assert out == "" and json.loads(target.read_text())["features"] == []
    assert "0 features" in err


def test_lachin_district_is_held_until_its_handover_on_1_december():
    on = control_area_on("2020-11-30")
    [district] = on.loc[on["name"].str.contains("Lachin district"), "geometry"]
    inside = district.representative_point()
    assert _held_on("2020-11-30").contains(inside)
    assert not _held_on("2020-12-01").contains(inside)
