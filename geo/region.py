"""The map's region, once: every box, centre and projection the code uses.

A box is a `LonLatBox`, (lon_min, lat_min, lon_max, lat_max), longitude first;
`contains(lon, lat)` takes scalars or numpy arrays, longitude first like the box, so a swapped
call reads wrong at a glance. Centres are (lat, lon), as Leaflet takes them, and say so in
their names.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple


class LonLatBox(NamedTuple):
    """An axis-aligned box in degrees, in (lon_min, lat_min, lon_max, lat_max) order."""

    lon_min: float
    lat_min: float
    lon_max: float
    lat_max: float

    def contains(self, lon, lat):
        """True where (lon, lat) lies inside or on the edge (scalars or numpy arrays)."""
        return (
            (self.lon_min <= lon)
            & (lon <= self.lon_max)
            & (self.lat_min <= lat)
            & (lat <= self.lat_max)
        )

    def latlon_corners(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """((lat_min, lon_min), (lat_max, lon_max)): Leaflet's bounds, geopy's viewbox."""
        return (self.lat_min, self.lon_min), (self.lat_max, self.lon_max)


# The South Caucasus with the pipelines' ends (Ceyhan, Novorossiysk) and a margin: coordinates
# outside it are "far outside the region".
REGION_LONLAT_BOX = LonLatBox(34.0, 35.0, 53.0, 47.5)
# Armenia, Azerbaijan and Georgia: a point outside it whose swap lands inside "looks swapped".
CORE_LONLAT_BOX = LonLatBox(43.0, 38.2, 51.0, 43.7)
# Nagorno-Karabakh and the districts around it: the conflict zone proper (the gazetteer ranks
# places inside it first).
CONFLICT_LONLAT_BOX = LonLatBox(45.5, 38.8, 47.6, 40.6)
# Armenia, Azerbaijan and Nakhchivan: "the whole region" of a briefing export.
WHOLE_REGION_LONLAT_BOX = LonLatBox(43.4, 38.3, 50.7, 42.0)
# Where online geocoders are asked to look first (Nominatim's viewbox).
GEOCODER_LONLAT_BOX = LonLatBox(40.0, 38.3, 50.9, 43.6)
# Where the map opens: Armenia, Azerbaijan and Nagorno-Karabakh together.
DEFAULT_CENTER_LATLON = (40.1, 46.4)
DEFAULT_ZOOM = 7
# Distances (geo/proximity.py): azimuthal equidistant, centred on Nagorno-Karabakh (PROJ text;
# why not UTM 38N is said in geo/proximity.py).
METRIC_PROJ = "+proj=aeqd +lat_0=40 +lon_0=46.5 +datum=WGS84 +units=m +no_defs"


# Framing a view on its events (the map page, the CLI snapshot, the briefing exports).
POINT_ZOOM = 10  # one place, or events all within a few km: a town and its surroundings
MIN_ZOOM = 3
FRAME_QUANTILE = 0.01  # the 1% of events farthest out on each side do not widen the frame
FRAME_MARGIN = 0.08  # of the box's size, on each side, so edge events are not cut by the frame
FRAME_MIN_DEG = 0.25  # the smallest box (degrees): about 25 km, a town with its surroundings


def events_box(latitudes: Sequence[float], longitudes: Sequence[float]) -> LonLatBox | None:
    """The box a view of these events should show, or None when there are no located events.

    Only points inside REGION_LONLAT_BOX count (a stray point in another continent must not
    turn the frame into a world map). With more than 50 events the outermost FRAME_QUANTILE on
    each side is left out of the extent; the frame gets a FRAME_MARGIN and at least
    FRAME_MIN_DEG on each axis.
    """
    import numpy as np

    lat = np.asarray(latitudes, dtype="float64")
    lon = np.asarray(longitudes, dtype="float64")
    keep = np.isfinite(lat) & np.isfinite(lon) & REGION_LONLAT_BOX.contains(lon, lat)
    lat, lon = lat[keep], lon[keep]
    if lat.size == 0:
        return None
    q = FRAME_QUANTILE if lat.size > 50 else 0.0
    south, north = np.quantile(lat, [q, 1 - q])
    west, east = np.quantile(lon, [q, 1 - q])
    return pad_box(west, south, east, north)


def pad_box(west: float, south: float, east: float, north: float) -> LonLatBox:
    """An events' extent as a frame: FRAME_MARGIN around it and at least FRAME_MIN_DEG."""
    pad_lat = max((north - south) * FRAME_MARGIN, (FRAME_MIN_DEG - (north - south)) / 2, 0.0)
    pad_lon = max((east - west) * FRAME_MARGIN, (FRAME_MIN_DEG - (east - west)) / 2, 0.0)
    return LonLatBox(
        round(float(west - pad_lon), 4),
        round(float(south - pad_lat), 4),
        round(float(east + pad_lon), 4),
        round(float(north + pad_lat), 4),
    )


def fit_extent(
    latitudes: Sequence[float],
    longitudes: Sequence[float],
    width_px: int = 900,
    height_px: int = 600,
) -> tuple[tuple[float, float], int]:
    """The centre (lat, lon) of the points' bounding box and the largest web-map zoom at which
    the box fits a `width_px` x `height_px` map (POINT_ZOOM for a single place)."""
    south, north = min(latitudes), max(latitudes)
    west, east = min(longitudes), max(longitudes)

    def mercator_y(lat: float) -> float:
        lat = max(-85.0, min(85.0, lat))
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    centre = ((south + north) / 2, (west + east) / 2)
    # At zoom z the world is 256 * 2**z pixels wide: 360 degrees, or 2 pi in mercator y.
    zooms = [POINT_ZOOM]
    if east > west:
        zooms.append(math.log2(width_px * 360 / (256 * (east - west))))
    if north > south:
        zooms.append(
            math.log2(height_px * 2 * math.pi / (256 * (mercator_y(north) - mercator_y(south))))
        )
    return centre, max(MIN_ZOOM, min(POINT_ZOOM, math.floor(min(zooms))))


def fit_box(
    box: LonLatBox, width_px: int = 900, height_px: int = 600
) -> tuple[tuple[float, float], int]:
    """fit_extent for a box: the centre (lat, lon) and zoom that show it whole."""
    return fit_extent([box.lat_min, box.lat_max], [box.lon_min, box.lon_max], width_px, height_px)
