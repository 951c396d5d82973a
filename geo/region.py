"""The map's region, once: every box, centre and projection the code uses.

A box is a `LonLatBox`, (lon_min, lat_min, lon_max, lat_max), longitude first;
`contains(lon, lat)` takes scalars or numpy arrays, longitude first like the box, so a swapped
call reads wrong at a glance. Centres are (lat, lon), as Leaflet takes them, and say so in
their names.
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
