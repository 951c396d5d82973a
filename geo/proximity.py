"""How close fighting came to the line of contact and the pipelines.

Distances are measured in an azimuthal equidistant projection centred on Nagorno-Karabakh
(`METRIC_CRS`, 40.0 N 46.5 E, WGS84). Why not UTM 38N (EPSG:32638)? The pipelines reach
Ceyhan (35.8 E) and Novorossiysk (37.8 E), 7-9 degrees west of zone 38's central meridian
(45 E), where the UTM scale factor grows to about 1.008 (Ceyhan) and 1.004 (Novorossiysk).
The azimuthal equidistant projection has no scale error along lines through its centre and at
most c/sin(c) across them (c = angular distance from the centre): under 0.05 % within 300 km
(all of Armenia and Azerbaijan west of the Caspian) and about 0.4 % at Ceyhan and
Novorossiysk, ~950 km away. Either error is far below the layers' own accuracy (about 1 km for
the line of contact, tens of km for the schematic pipeline routes).

Events are rows shaped like `geo.store` frames; only `latitude` and `longitude` are needed
(plus `fatalities`, `event_date`, `location` for `counts_near`). Events without coordinates
are ignored by every function here; `missing_coordinates` returns them so callers can say how
many were left out.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from geo.errors import InputError
from geo.layers import layer_on
from geo.region import METRIC_PROJ
from geo.settings import Settings

METRIC_CRS = CRS.from_proj4(METRIC_PROJ)
_TO_METRIC = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)


def metric_xy(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes and latitudes (degrees) as x, y in metres of METRIC_CRS."""
    return _TO_METRIC.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))


# counts_near's columns and dtypes (the stores' near_counts return the same frame).
NEAR_COLUMNS = {
    "name": "string",
    "events": "int64",
    "fatalities": "Int64",
    "fatalities_unknown": "int64",
    "nearest_km": "float64",
    "nearest_date": "datetime64[ns]",
    "nearest_place": "string",
}


def _has_coordinates(events: pd.DataFrame) -> pd.Series:
    for col in ("latitude", "longitude"):
        if col not in events:
            raise InputError("events need latitude and longitude columns", column=col)
    return events["latitude"].notna() & events["longitude"].notna()


def missing_coordinates(events: pd.DataFrame) -> pd.DataFrame:
    """The events that have no latitude or no longitude (every function here ignores them)."""
    return events[~_has_coordinates(events)]


def _check_km(km: float) -> float:
    km = float(km)
    if math.isnan(km) or km < 0:
        raise InputError("expected a distance of 0 km or more", column="km", value=km)
    return km


def distances_km(
    events: pd.DataFrame, lines: gpd.GeoDataFrame, name_col: str = "name"
) -> pd.DataFrame:
    """Distance in km from each event with coordinates to each line.

    One row per located event (same index as `events`), one float column per distinct
    `lines[name_col]` value, in the order of first appearance. Features sharing a name count
    as one line (the distance to the nearest of them). No lines gives a frame with no
    columns; an event lying on a line is at 0 km.
    """
    if name_col not in lines:
        raise InputError("lines need a name column", column=name_col)
    if len(lines) and lines.crs is None:
        raise InputError("lines have no CRS; expected EPSG:4326 or another known CRS")
    located = events[_has_coordinates(events)]
    # A feature without geometry has no distance; leave it out rather than return NaN.
    lines = lines[lines.geometry.notna() & ~lines.geometry.is_empty]
    names = pd.unique(lines[name_col].astype(str))
    if not len(located) or not len(lines):
        return pd.DataFrame(
            np.empty((len(located), len(names))), index=located.index, columns=names
        )
    x, y = _TO_METRIC.transform(
        located["longitude"].to_numpy(dtype=float, na_value=np.nan),
        located["latitude"].to_numpy(dtype=float, na_value=np.nan),
    )
    points = shapely.points(x, y)
    metric = lines.to_crs(METRIC_CRS)
    # One vectorised call: (events, 1) against (1, features) broadcasts to every pair.
    per_feature = shapely.distance(points[:, None], metric.geometry.to_numpy()[None, :]) / 1000.0
    feature_names = lines[name_col].astype(str).to_numpy()
    out = np.column_stack([per_feature[:, feature_names == n].min(axis=1) for n in names])
    return pd.DataFrame(out, index=located.index, columns=names)


def events_near(
    events: pd.DataFrame, lines: gpd.GeoDataFrame, km: float, name_col: str = "name"
) -> pd.DataFrame:
    """The located events within `km` (inclusive) of any line.

    The events' own columns plus `nearest` (the name of the closest line; on a tie, the line
    listed first) and `distance_km` (the distance to it), in the events' order.
    """
    km = _check_km(km)
    dist = distances_km(events, lines, name_col)
    located = events[_has_coordinates(events)]
    if dist.shape[1] == 0:
        out = located.iloc[:0].copy()
        out["nearest"] = pd.Series(dtype="string")
        out["distance_km"] = pd.Series(dtype=float)
        return out
    matrix = dist.to_numpy()
    column = matrix.argmin(axis=1)  # ties go to the line listed first
    distance = matrix[np.arange(len(matrix)), column]
    keep = distance <= km
    # Positional selection: correct even when the events' index has duplicates.
    out = located[keep].copy()
    out["nearest"] = pd.array(dist.columns.to_numpy()[column[keep]], dtype="string")
    out["distance_km"] = distance[keep]
    return out


def counts_near(
    events: pd.DataFrame, lines: gpd.GeoDataFrame, km: float, name_col: str = "name"
) -> pd.DataFrame:
    """One row per line: the located events within `km` (inclusive) of it and their toll.

    Columns: `name`, `events`, `fatalities` (sum of the known figures; <NA> when events were
    found but none has a figure; unknown is not zero), `fatalities_unknown` (events without a
    figure), and the closest event within `km`: `nearest_km`, `nearest_date`, `nearest_place`
    (<NA> when there is none). An event near two lines (BTC and the South Caucasus Pipeline
    run side by side) counts for both. No lines, no rows.
    """
    km = _check_km(km)
    dist = distances_km(events, lines, name_col)
    located = events[_has_coordinates(events)]
    fatalities = (
        pd.to_numeric(located["fatalities"]).astype("Int64")
        if "fatalities" in located
        else pd.Series(pd.NA, index=located.index, dtype="Int64")
    )
    known_mask = fatalities.notna().to_numpy()
    known_values = fatalities.fillna(0).to_numpy(dtype="int64")
    rows = []
    for i, name in enumerate(dist.columns):  # one pass per line (a handful), vectorised
        d = dist.iloc[:, i].to_numpy()
        near = d <= km
        n_near = int(near.sum())
        n_known = int((near & known_mask).sum())
        row = {
            "name": name,
            "events": n_near,
            # Unknown is not zero: no total when every event found lacks a figure.
            "fatalities": int(known_values[near].sum()) if n_known or not n_near else pd.NA,
            "fatalities_unknown": n_near - n_known,
            "nearest_km": np.nan,
            "nearest_date": pd.NaT,
            "nearest_place": pd.NA,
        }
        if n_near:
            closest = int(np.where(near, d, np.inf).argmin())
            row["nearest_km"] = d[closest]
            if "event_date" in located:
                row["nearest_date"] = located["event_date"].iloc[closest]
            if "location" in located:
                row["nearest_place"] = located["location"].iloc[closest]
        rows.append(row)
    return pd.DataFrame(rows, columns=list(NEAR_COLUMNS)).astype(NEAR_COLUMNS)


def reference_lines(
    day: str | dt.date | None = None, settings: Settings | None = None
) -> gpd.GeoDataFrame:
    """The pipelines, plus the line of contact valid on `day` (none without a day).

    Columns `name`, `layer` (`pipelines` or `contact_line`), geometry (EPSG:4326). On days with
    no line of contact (the 2020 war, 10-30 Nov 2020, after 20 Sep 2023) only pipelines.
    """
    parts = [layer_on("pipelines", settings=settings).assign(layer="pipelines")]
    if day is not None:
        contact = layer_on("contact_line", day, settings)
        if len(contact):
            parts.append(contact.assign(layer="contact_line"))
    frame = pd.concat(
        [p[["name", "layer", "accuracy", "geometry"]] for p in parts], ignore_index=True
    )
    frame["accuracy_km"] = [accuracy_km(str(a)) for a in frame["accuracy"]]
    return gpd.GeoDataFrame(frame.drop(columns="accuracy"), geometry="geometry", crs=parts[0].crs)


# A line whose accuracy text names no distance ("tens of km" for the schematic pipelines) is
# taken to be good to this many km at best.
SCHEMATIC_KM = 10


def accuracy_km(accuracy: str) -> float:
    """The distance a line's stated accuracy names ("about 1 km", "up to about 10 km"), else
    SCHEMATIC_KM."""
    found = re.search(r"(\d+(?:\.\d+)?)\s*km\b", accuracy)
    return float(found.group(1)) if found else float(SCHEMATIC_KM)


def distance_text(km: float, accuracy: float) -> str:
    """A distance rounded to what the line's accuracy allows: "< 10 km", "~30 km", "~4 km"."""
    if pd.isna(km):
        return ""
    if km < accuracy:
        return f"< {accuracy:g} km"
    return f"~{round(km / accuracy) * accuracy:g} km"


def proximity_table(near: pd.DataFrame, lines: gpd.GeoDataFrame, km: float) -> pd.DataFrame:
    """`counts_near` in words for a reader: readable columns, the closest event as place and
    day, its distance rounded to the line's accuracy (never "0.0012 km" from a schematic
    route)."""
    acc = dict(zip(lines["name"], lines["accuracy_km"], strict=True))
    closest = [
        ""
        if pd.isna(row.nearest_km)
        else f"{row.nearest_place}, {row.nearest_date:%d %b %Y}: "
        f"{distance_text(row.nearest_km, acc.get(row.name, SCHEMATIC_KM))}"
        for row in near.itertuples(index=False)
    ]
    return pd.DataFrame(
        {
            "line": near["name"],
            f"events within {km:g} km": near["events"],
            "known fatalities": near["fatalities"],
            "events with unknown fatalities": near["fatalities_unknown"],
            "closest event": pd.array(closest, dtype="string"),
        }
    )
