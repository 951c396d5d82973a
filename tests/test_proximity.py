"""Proximity of events to the pipelines and the line of contact, checked against known places."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import LineString

from geo.errors import InputError
from geo.layers import layer_on
from geo.proximity import (
    SCHEMATIC_KM,
    counts_near,
    distance_text,
    distances_km,
    events_near,
    missing_coordinates,
    proximity_table,
    reference_lines,
)

BTC = "Baku-Tbilisi-Ceyhan (BTC)"
LOC_1994 = "Line of Contact, 1994-2020"
WGS84 = Geod(ellps="WGS84")


def _events(rows: list[dict]) -> pd.DataFrame:
    """A frame with the store's dtypes for the columns proximity reads."""
    frame = pd.DataFrame(rows)
    return frame.astype(
        {
            "location": "string",
            "event_date": "datetime64[ns]",
            "latitude": "Float64",
            "longitude": "Float64",
            "fatalities": "Int64",
        }
    )


def _event(place, lat, lon, fatalities=None, day="2020-10-11") -> dict:
    return {
        "location": place,
        "event_date": day,
        "latitude": lat,
        "longitude": lon,
        "fatalities": fatalities,
    }


GANJA = _event("Ganja", 40.6828, 46.3606, 10)
STEPANAKERT = _event("Stepanakert / Khankendi", 39.8153, 46.7519)
TARTAR = _event("Tartar", 40.342, 46.932, 1)
NOWHERE = _event("Joint statement", None, None, 5)


def _meridian(lon: float, lat0: float, lat1: float, name: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": [name]}, geometry=[LineString([(lon, lat0), (lon, lat1)])], crs="EPSG:4326"
    )


# -- known places --------------------------------------------------------------------------


def test_ganja_lies_on_the_btc_route_and_stepanakert_far_from_it():
    pipelines = layer_on("pipelines")
    dist = distances_km(_events([GANJA, STEPANAKERT]), pipelines)
    assert dist.loc[0, BTC] < 5  # BTC's waypoint list includes Ganja
    assert dist.loc[1, BTC] > 50


def test_tartar_is_near_the_1994_line_of_contact():
    lines = layer_on("contact_line", "2015-01-01")
    assert lines["name"].tolist() == [LOC_1994]
    dist = distances_km(_events([TARTAR]), lines)
    assert dist.loc[0, LOC_1994] < 15


def test_reference_lines_on_a_day_with_and_without_a_line_of_contact():
    assert LOC_1994 in reference_lines("2015-01-01")["name"].tolist()
    # No line is drawn during the 2020 war: pipelines only, and no error.
    war = reference_lines("2020-10-11")
    assert set(war["layer"]) == {"pipelines"}
    counts = counts_near(_events([GANJA, TARTAR]), war, km=5)
    assert LOC_1994 not in counts["name"].tolist()
    assert counts.set_index("name").loc[BTC, "events"] == 1


# -- metric accuracy ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "lat", "tolerance"),
    [
        (46.5, 40.0, 0.001),  # Karabakh, the projection's centre
        (35.8, 37.0, 0.006),  # Ceyhan, ~950 km away (documented ~0.4 %)
        (37.8, 44.7, 0.006),  # Novorossiysk
    ],
)
def test_distances_match_the_geodesic(lon, lat, tolerance):
    # A point 0.2 deg east of a meridian segment: the nearest point is due west, at its latitude.
    line = _meridian(lon, lat - 1, lat + 1, "m")
    event = _events([_event("p", lat, lon + 0.2)])
    _, _, metres = WGS84.inv(lon, lat, lon + 0.2, lat)
    assert distances_km(event, line).loc[0, "m"] == pytest.approx(metres / 1000, rel=tolerance)


# -- thresholds, empties, missing data -----------------------------------------------------


def test_km_threshold_is_inclusive():
    line = _meridian(46.5, 39.0, 41.0, "m")
    events = _events([_event("a", 40.0, 46.6), _event("b", 40.0, 46.8)])
    d = distances_km(events, line)["m"]
    assert d[0] < d[1]
    assert events_near(events, line, km=d[0])["location"].tolist() == ["a"]
    assert events_near(events, line, km=np.nextafter(d[0], 0)).empty
    assert counts_near(events, line, km=d[1])["events"].tolist() == [2]


def test_events_near_names_the_nearest_line():
    lines = pd.concat([layer_on("pipelines"), layer_on("contact_line", "2015-01-01")])
    near = events_near(_events([GANJA, STEPANAKERT, TARTAR]), lines, km=15)
    assert near["location"].tolist() == ["Ganja", "Tartar"]
    assert near["nearest"].tolist() == [BTC, LOC_1994]  # BTC, SCP and Supsa tie at Ganja
    assert (near["distance_km"] <= 15).all()


def test_events_without_coordinates_are_ignored_and_reported():
    events = _events([GANJA, NOWHERE])
    pipelines = layer_on("pipelines")
    assert distances_km(events, pipelines).index.tolist() == [0]
    assert missing_coordinates(events)["location"].tolist() == ["Joint statement"]
    counts = counts_near(events, pipelines, km=1000).set_index("name")
    assert counts.loc[BTC, "events"] == 1
    assert counts.loc[BTC, "fatalities"] == 10  # the unplaced event's 5 are not counted


def test_fatalities_are_na_aware():
    line = _meridian(46.5, 39.0, 41.0, "m")
    events = _events(
        [
            _event("a", 40.0, 46.51, 3),
            _event("b", 40.0, 46.52, None),
            _event("c", 40.0, 46.53, 0),
            _event("d", 40.0, 46.54, None),
        ]
    )
    row = counts_near(events, line, km=10).iloc[0]
    assert (row["events"], row["fatalities"], row["fatalities_unknown"]) == (4, 3, 2)
    assert row["nearest_place"] == "a"
    assert row["nearest_date"] == pd.Timestamp("2020-10-11")
    # Only unknown figures: the total is unknown, not 0.
    only_unknown = counts_near(events.iloc[[1, 3]], line, km=10).iloc[0]
    assert pd.isna(only_unknown["fatalities"])
    assert only_unknown["fatalities_unknown"] == 2
    # Nothing near: zero events, zero fatalities, no nearest event.
    far = counts_near(events, line, km=0.1).iloc[0]
    assert (far["events"], far["fatalities"], far["fatalities_unknown"]) == (0, 0, 0)
    assert pd.isna(far["nearest_place"]) and pd.isna(far["nearest_km"])


def test_empty_inputs():
    pipelines = layer_on("pipelines")
    no_events = _events([GANJA]).iloc[:0]
    assert distances_km(no_events, pipelines).shape == (0, len(pipelines))
    assert events_near(no_events, pipelines, 10).empty
    counts = counts_near(no_events, pipelines, 10)
    assert counts["events"].tolist() == [0] * len(pipelines)

    no_lines = layer_on("contact_line", "2024-01-01")  # empty on purpose after Sep 2023
    assert no_lines.empty
    events = _events([GANJA, TARTAR])
    assert distances_km(events, no_lines).shape == (2, 0)
    near = events_near(events, no_lines, 10)
    assert near.empty and {"nearest", "distance_km"} <= set(near.columns)
    assert counts_near(events, no_lines, 10).empty


def test_duplicate_index_is_handled_positionally():
    line = _meridian(46.5, 39.0, 41.0, "m")
    events = _events([_event("a", 40.0, 46.51), _event("b", 40.0, 47.5)])
    events.index = [7, 7]
    near = events_near(events, line, km=5)
    assert near["location"].tolist() == ["a"]


def test_bad_arguments_are_named():
    line = _meridian(46.5, 39.0, 41.0, "m")
    events = _events([GANJA])
    with pytest.raises(InputError, match="km"):
        events_near(events, line, km=-1)
    with pytest.raises(InputError, match="label"):
        distances_km(events, line, name_col="label")
    with pytest.raises(InputError, match="latitude"):
        distances_km(events.drop(columns="latitude"), line)


def test_many_events_in_one_vectorised_call():
    # 20,000 events x the 5 pipelines: a shape check (no wall-clock assertion).
    rng = np.random.default_rng(1)
    n = 20_000
    events = pd.DataFrame({"latitude": rng.uniform(38, 42, n), "longitude": rng.uniform(44, 50, n)})
    dist = distances_km(events, layer_on("pipelines"))
    assert dist.shape == (n, 5)
    assert np.isfinite(dist.to_numpy()).all()


@pytest.mark.parametrize(
    ("km", "accuracy", "text"),
    [
        (0.0012, 10, "< 10 km"),
        (9.9, 10, "< 10 km"),
        (26.0, 10, "~30 km"),
        (0.3, 1, "< 1 km"),
        (3.6, 1, "~4 km"),
        (float("nan"), 10, ""),
    ],
)
def test_distances_are_rounded_to_the_lines_accuracy(km, accuracy, text):
    """Regression: the table said 0.0012 km from the BTC, a route schematic to tens of km."""
    assert distance_text(km, accuracy) == text


def test_each_line_carries_the_accuracy_its_source_states():
    war_before = reference_lines("2015-01-01").set_index("name")["accuracy_km"]
    assert war_before["Line of Contact, 1994-2020"] == 1  # NE 1:10m: about 1 km
    assert war_before["Baku-Tbilisi-Ceyhan (BTC)"] == SCHEMATIC_KM  # "tens of km"
    after = reference_lines("2022-01-01")
    assert after.loc[after["layer"] == "contact_line", "accuracy_km"].tolist() == [10]


def test_the_table_reads_as_words_with_the_closest_event_by_place_and_day():
    events = _events([GANJA])
    lines = reference_lines("2020-10-11")
    table = proximity_table(counts_near(events, lines, 10), lines, 10)
    assert list(table.columns) == [
        "line",
        "events within 10 km",
        "known fatalities",
        "events with unknown fatalities",
        "closest event",
    ]
    btc = table.set_index("line").loc["Baku-Tbilisi-Ceyhan (BTC)"]
    assert btc["closest event"] == "Ganja, 11 Oct 2020: < 10 km"
    assert "00:00" not in " ".join(table["closest event"].dropna())
