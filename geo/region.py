"""The map's region, once: boxes as (lon_min, lat_min, lon_max, lat_max), longitude first.

A box is a `LonLatBox`; `contains(lon, lat)` takes scalars or numpy arrays, longitude first
like the box, so a swapped call reads wrong at a glance.
"""

from __future__ import annotations

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


# The South Caucasus with the pipelines' ends (Ceyhan, Novorossiysk) and a margin: coordinates
# outside it are "far outside the region".
REGION_LONLAT_BOX = LonLatBox(34.0, 35.0, 53.0, 47.5)
# Armenia, Azerbaijan and Georgia: a point outside it whose swap lands inside "looks swapped".
CORE_LONLAT_BOX = LonLatBox(43.0, 38.2, 51.0, 43.7)
