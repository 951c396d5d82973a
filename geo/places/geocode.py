"""Geocoding front door for ingestion and the CLI: offline by default, Nominatim on request.

    get_geocoder("offline").geocode("Martuni")            # GeoNames + curated aliases, no network
    get_geocoder("nominatim").geocode("Madagiz", "AZ")    # OpenStreetMap, rate-limited, cached

Nominatim's usage policy (https://operations.osmfoundation.org/policies/nominatim/): at most one
request per second for the whole application, an identifying User-Agent, cache the answers, no
bulk geocoding. geopy's own RateLimiter keeps its state per instance and turns errors into None,
so this module keeps one process-wide limiter (`NOMINATIM_LIMITER`), a SQLite cache, and raises
`GeocoderUnavailable` for network/HTTP/timeout failures (never cached) while a no-match is an
ordinary `Resolution(best=None)` (cached). Nothing here touches the network at import time.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from geo.places.gazetteer import (
    GeocoderUnavailable,
    Place,
    Resolution,
    is_ambiguous,
    resolve,
)
from geo.region import GEOCODER_LONLAT_BOX
from geo.settings import Settings, get_settings

GEOCODERS = ("offline", "nominatim")
NOMINATIM_TIMEOUT_S = 10.0
# Bias (not bound) results to the South Caucasus: countries searched when the caller names none,
# and a view box (lat, lon) corners around Georgia, Armenia and Azerbaijan.
REGION_COUNTRY_CODES = ("am", "az", "ge")
REGION_VIEWBOX = GEOCODER_LONLAT_BOX.latlon_corners()
# Nominatim address types that are a settlement (geo_precision 1) or a province (3).
_SETTLEMENT_TYPES = {
    "city", "town", "village", "hamlet", "suburb", "quarter", "neighbourhood",
    "isolated_dwelling", "locality", "farm", "allotments", "city_district", "borough",
}  # fmt: skip
_PROVINCE_TYPES = {"state", "province", "region", "country", "state_district"}


@runtime_checkable
class Geocoder(Protocol):
    """Anything that turns a place name (and optional ISO alpha-2 country) into a Resolution."""

    def geocode(self, name: str, country: str | None = None) -> Resolution: ...


class OfflineGeocoder:
    """The default: the offline gazetteer (GeoNames + curated aliases); never uses the network."""

    name = "offline"

    def geocode(self, name: str, country: str | None = None) -> Resolution:
        return resolve(name, country)


# --------------------------------------------------------------------------- rate limiting


class RateLimiter:
    """At most one call per `min_interval` seconds across every thread that shares this object.

    The interval runs from the end of one call to the start of the next, so a slow answer never
    lets two requests crowd together. `clock` and `sleep` are attributes so tests can swap in a
    fake clock.
    """

    def __init__(
        self,
        min_interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.min_interval = min_interval
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._last: float | None = None

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold the only request slot: waits for the interval, runs the body, stamps the end."""
        with self._lock:
            if self._last is not None:
                while (wait := self._last + self.min_interval - self.clock()) > 0:
                    self.sleep(wait)
            try:
                yield
            finally:
                self._last = self.clock()

    def reset(self) -> None:
        """Forget the last call (tests only: a fresh fake clock starts a fresh history)."""
        with self._lock:
            self._last = None


# One limiter per process, shared by every NominatimGeocoder and thread (policy: 1 request/s).
NOMINATIM_LIMITER = RateLimiter(min_interval=1.0)


# --------------------------------------------------------------------------------- cache


class GeocodeCache:
    """Persistent answers (geo.store.kvcache), keyed by (provider, normalised query, country).
    Only real answers are stored (a place or a no-match), never errors."""

    def __init__(self, path: Path) -> None:
        from geo.store.kvcache import AnswerCache

        self.path = Path(path)
        self._answers = AnswerCache(self.path)

    def get(self, provider: str, query: str, country: str) -> Resolution | None:
        text = self._answers.get(provider, query, country)
        return _resolution_from_json(text) if text is not None else None

    def put(self, provider: str, query: str, country: str, resolution: Resolution) -> None:
        self._answers.put(provider, query, country, _resolution_to_json(resolution))


def _resolution_to_json(r: Resolution) -> str:
    return json.dumps(
        {
            "best": asdict(r.best) if r.best else None,
            "alternatives": [asdict(p) for p in r.alternatives],
            "ambiguous": r.ambiguous,
            "geo_precision": r.geo_precision,
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def _resolution_from_json(text: str) -> Resolution:
    d = json.loads(text)
    return Resolution(
        best=Place(**d["best"]) if d["best"] else None,
        alternatives=[Place(**p) for p in d["alternatives"]],
        ambiguous=d["ambiguous"],
        geo_precision=d["geo_precision"],
    )


# ----------------------------------------------------------------------------- Nominatim


def _raw_dict(raw: Any) -> dict:
    """The JSON Nominatim returned, from a geopy Location or the dict itself."""
    return raw.raw if hasattr(raw, "raw") else raw


def _prepare_result(raw: Any, query: str | None = None) -> Place:
    """One Nominatim answer (geopy Location, or its `.raw` dict) as a Place. Pure.

    `matched` is "primary" when the answer's name is the query (or no query is given), else
    "alternate" (Nominatim matched another of its names, e.g. Stepanakert -> Khankendi).
    """
    d = _raw_dict(raw)
    address = d.get("address") or {}
    display = d.get("display_name") or getattr(raw, "address", "") or ""
    name = d.get("name") or display.split(",")[0].strip()
    population = (d.get("extratags") or {}).get("population")
    try:
        population = int(population) if population else None
    except (TypeError, ValueError):
        population = None
    matched = "primary"
    if query is not None and name.casefold() != " ".join(query.split()).casefold():
        matched = "alternate"
    return Place(
        name=name,
        latitude=float(d["lat"]),
        longitude=float(d["lon"]),
        country=(address.get("country_code") or "").upper(),
        population=population,
        source="nominatim",
        geonameid=None,
        matched=matched,
        admin1=address.get("state") or address.get("province") or None,
    )


def _geo_precision(raw: Any) -> int:
    """GEO_PRECISION code of one Nominatim answer: 1 settlement, 3 province, 2 anything else."""
    d = _raw_dict(raw)
    kind = d.get("addresstype") or d.get("type") or ""
    if kind in _SETTLEMENT_TYPES:
        return 1
    if kind in _PROVINCE_TYPES:
        return 3
    return 2


def _resolution_of_answers(answers: list, query: str) -> Resolution:
    """Rank Nominatim answers (kept in its importance order within match kind and region)."""
    if not answers:
        return Resolution(best=None)
    pairs = [(_prepare_result(a, query), a) for a in answers]
    pairs.sort(key=lambda pair: (pair[0].matched != "primary", pair[0].region_tier))
    ranked = [p for p, _ in pairs]
    return Resolution(
        best=ranked[0],
        alternatives=ranked[1:],
        ambiguous=is_ambiguous(ranked),
        geo_precision=_geo_precision(pairs[0][1]),
    )


def _normalise(query: str) -> str:
    return " ".join(query.split()).casefold()


class NominatimGeocoder:
    """OpenStreetMap Nominatim through geopy: one request/s per process, cached in SQLite.

    `provider` replaces geopy's Nominatim object (tests pass a fake; nothing else should).
    Raises GeocoderUnavailable on network, HTTP or timeout errors; those are not cached.
    """

    name = "nominatim"

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        user_agent: str | None = None,
        cache_path: Path | None = None,
        provider: Any = None,
        timeout: float = NOMINATIM_TIMEOUT_S,
        country_codes: tuple[str, ...] = REGION_COUNTRY_CODES,
        viewbox: tuple[tuple[float, float], tuple[float, float]] = REGION_VIEWBOX,
    ) -> None:
        try:
            import geopy.exc
            from geopy.geocoders import Nominatim
        except ImportError as exc:  # pragma: no cover - geopy is a declared dependency
            raise ImportError(
                "NominatimGeocoder needs the 'geopy' package: pip install 'geopy>=2.4'"
            ) from exc
        settings = settings or get_settings()
        self.user_agent = user_agent or settings.nominatim_user_agent
        self.timeout = timeout
        self.country_codes = tuple(c.lower() for c in country_codes)
        self.viewbox = viewbox
        self.cache = GeocodeCache(cache_path or settings.geocode_cache)
        self.limiter = NOMINATIM_LIMITER
        self._provider_errors = (geopy.exc.GeocoderServiceError, OSError)
        if provider is None:
            provider = Nominatim(user_agent=self.user_agent, timeout=timeout)
        self.provider = provider

    def geocode(self, name: str, country: str | None = None) -> Resolution:
        query = _normalise(name)
        country = (country or "").upper()
        if not query:
            return Resolution(best=None)
        cached = self.cache.get(self.name, query, country)
        if cached is not None:
            return cached
        answers = self._request(query, country)
        resolution = _resolution_of_answers(answers, query)
        self.cache.put(self.name, query, country, resolution)
        return resolution

    def _request(self, query: str, country: str) -> list:
        codes = [country.lower()] if country else list(self.country_codes)
        try:
            with self.limiter.slot():
                answers = self.provider.geocode(
                    query,
                    exactly_one=False,
                    limit=5,
                    addressdetails=True,
                    country_codes=codes,
                    viewbox=self.viewbox,
                    bounded=False,
                    timeout=self.timeout,
                )
        except self._provider_errors as exc:
            where = f" in {country}" if country else ""
            raise GeocoderUnavailable(
                f"Nominatim could not answer for {query!r}{where}: {type(exc).__name__}: {exc}"
            ) from exc
        return list(answers or [])


def get_geocoder(name: str = "offline", settings: Settings | None = None) -> Geocoder:
    """The geocoder called `name`: "offline" (default, no network) or "nominatim"."""
    if name == "offline":
        return OfflineGeocoder()
    if name == "nominatim":
        return NominatimGeocoder(settings=settings)
    choices = " or ".join(repr(c) for c in GEOCODERS)
    raise ValueError(f"unknown geocoder {name!r}: choose {choices}")
