"""Places named in a report: towns from the offline gazetteer, and regions.

A place is a run of capitalised words (with hyphens and diacritics: "Nagorno-Karabakh",
"Ağdam") that the gazetteer resolves to a town or village in Azerbaijan or Armenia, with the
same ranking and ambiguity rule as `nkmap geocode` (geo.places.gazetteer.resolve). A name the
gazetteer finds only elsewhere (Minsk, Moscow), a country, a word on the lexicon's NOT_PLACES
list, a dateline in capitals ("BAKU, Oct. 26") and a capital used for its government ("Baku
said", "Yerevan's claim") are not places.

Precision follows geo.schema.GEO_PRECISION: 1 for a town or village; 2 for "near X", "X
district", "X region" or "the X corridor" (X's coordinates); 3 for a region alone
(Nagorno-Karabakh: the centroid of the NKAO boundary in data/boundaries; an Armenian province:
the mean of its towns in GeoNames cities1000). A country alone is never a place.

An ambiguous name (Martuni in Karabakh or in Gegharkunik) takes, among the gazetteer's
candidates of that name, the one nearest the report's other places (its region context); with
no context it keeps the gazetteer's best, and the candidate says it is ambiguous.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from geo.extract.lexicon import NOT_PLACES
from geo.ingest.rules import distance_km
from geo.places.gazetteer import Place, Resolution, resolve
from geo.settings import get_settings

# Countries whose towns can be event places here (the conflict's two states).
PLACE_COUNTRIES = ("AZ", "AM")
ISO3 = {"AZ": "AZE", "AM": "ARM"}


@dataclass(frozen=True)
class Region:
    label: str
    pattern: re.Pattern
    country: str  # ISO alpha-2
    admin1: str | None  # cities1000 admin1 name, or None for Nagorno-Karabakh (NKAO)


def _region(label: str, country: str, admin1: str | None, names: str) -> Region:
    return Region(label, re.compile(rf"\b(?:{names})\b", re.IGNORECASE), country, admin1)


REGIONS: tuple[Region, ...] = (
    _region("Nagorno-Karabakh", "AZ", None,
            r"nagorno[- ]karabakh|nagorny[- ]karabakh|(?<!upper\s)(?<!lower\s)karabakh(?!\s+"
            r"(?:war|conflict|armenians?|authorities|officials|army|defen[cs]e|leader|president"
            r"|ombudsman|forces|troops|fighters))|artsakh(?!\s+(?:defen[cs]e|army|authorities|"
            r"officials|president|ombudsman|forces))"),
    _region("Syunik province", "AM", "Syunik'i Marz", r"syunik|siunik"),
    _region("Gegharkunik province", "AM", "Geghark'unik'i Marz", r"gegharkunik"),
    _region("Vayots Dzor province", "AM", "Vayots' Dzori Marz", r"vayots[- ]dzor"),
    _region("Tavush province", "AM", "Tavush", r"tavush"),
    _region("Ararat province", "AM", "Ararat", r"ararat\s+(?:province|region|marz)"),
    _region("Lori province", "AM", "Lorri", r"lori\s+(?:province|region|marz)"),
    _region("Kotayk province", "AM", "Kotayk'i Marz", r"kotayk"),
    _region("Nakhchivan", "AZ", "Nakhichevan",
            r"nakhchivan\s+(?:autonomous\s+republic|exclave)|nakhichevan\s+autonomous"),
)  # fmt: skip


@lru_cache(maxsize=1)
def _nkao_centroid() -> tuple[float, float]:
    from shapely.geometry import shape

    path = get_settings().root / "data" / "boundaries" / "nkao.geojson"
    feature = json.loads(path.read_text(encoding="utf-8"))["features"][0]
    point = shape(feature["geometry"]).representative_point()
    return round(point.y, 4), round(point.x, 4)


@lru_cache(maxsize=32)
def region_point(region: Region) -> tuple[float, float]:
    """(latitude, longitude) standing for a whole region (precision 3)."""
    if region.admin1 is None:
        return _nkao_centroid()
    from geo.places.gazetteer import _cities1000

    rows = [r for r in _cities1000() if r["cc"] == region.country and r["admin1"] == region.admin1]
    if not rows:  # the source changed: fail loudly rather than place events at 0, 0
        raise LookupError(f"no towns of {region.admin1!r} in GeoNames cities1000")
    lat = sum(float(r["lat"]) for r in rows) / len(rows)
    lon = sum(float(r["lon"]) for r in rows) / len(rows)
    return round(lat, 4), round(lon, 4)


@dataclass(frozen=True)
class Mention:
    """A place named in a sentence."""

    name: str  # as the report spells it
    start: int  # offsets in the sentence
    end: int
    latitude: float
    longitude: float
    precision: int  # geo.schema.GEO_PRECISION
    country: str  # ISO alpha-2
    admin1: str | None
    ambiguous: bool = False
    alternatives: tuple[Place, ...] = ()
    origin: bool = False  # "from X": where fire came from, not where it fell


_WORD = r"[A-ZÀ-ÖØ-ÞĀ-ſƏŞÇĞÜÖİ][\w'’\-]*"
_RUN = re.compile(rf"{_WORD}(?:\s+{_WORD})*")
_QUALIFIER = re.compile(
    r"^\s+(?:district|region|rayon|province|marz|raion|area|direction|corridor|sector)\b",
    re.IGNORECASE,
)
_CAPITALS = frozenset({"baku", "yerevan"})
_LOCATIVE = re.compile(
    r"\b(?:in|at|near|outside|around|into|towards?|over)\s+(?:central\s+)?$", re.I
)
_FIRING = re.compile(
    r"\b(?:fir\w*|launch\w*|shell\w*|struck|strikes?|attack\w*)\b[^.]{0,60}$", re.I
)
_NEAR = re.compile(r"\b(?:near|outside|around|close\s+to|on\s+the\s+outskirts\s+of)\s+$", re.I)
_FROM = re.compile(r"\bfrom\s+(?:the\s+)?(?:direction\s+of\s+|territory\s+of\s+)?$", re.I)


@lru_cache(maxsize=8192)
def _lookup(name: str) -> Resolution | None:
    if len(name) < 3 or name.casefold() in NOT_PLACES:
        return None
    words = name.split()
    if all(w.casefold() in NOT_PLACES for w in words):
        return None
    r = resolve(name)
    if r.best is None or r.best.country not in PLACE_COUNTRIES:
        return None
    return r


def _ascii_fold(word: str) -> str:
    return word.replace("’", "'")


def find_places(sentence: str) -> list[Mention]:
    """Places named in one sentence, in order (regions included)."""
    found: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for region in REGIONS:
        for m in region.pattern.finditer(sentence):
            lat, lon = region_point(region)
            found.append(
                Mention(region.label, m.start(), m.end(), lat, lon, 3, region.country, None)
            )
            taken.append(m.span())
    for run in _RUN.finditer(sentence):
        words = list(re.finditer(r"\S+", run.group(0)))
        i = 0
        while i < len(words):
            hit = None
            for j in range(min(len(words), i + 3), i, -1):  # longest first
                a = run.start() + words[i].start()
                b = run.start() + words[j - 1].end()
                name = sentence[a:b].rstrip("'’").removesuffix("'s").removesuffix("’s")
                b = a + len(name)
                if any(not (b <= x or a >= y) for x, y in taken):
                    continue
                if name.isupper() and len(name) > 3:  # a dateline: "BAKU, Azerbaijan"
                    continue
                resolution = _lookup(_ascii_fold(name))
                if resolution is not None:
                    hit = (a, b, name, resolution, j)
                    break
            if hit is None:
                i += 1
                continue
            a, b, name, resolution, j = hit
            i = j
            after, before = sentence[b:], sentence[:a]
            if name.casefold() in _CAPITALS and not _LOCATIVE.search(before):
                continue  # "Baku said", "shelling by Yerevan": the capital for its government
            precision = 2 if (_QUALIFIER.match(after) or _NEAR.search(before)) else 1
            best = resolution.best
            assert best is not None
            found.append(
                Mention(
                    name,
                    a,
                    b,
                    best.latitude,
                    best.longitude,
                    precision,
                    best.country,
                    best.admin1,
                    resolution.ambiguous,
                    tuple(
                        p
                        for p in resolution.alternatives
                        if p.country in PLACE_COUNTRIES and p.name.casefold() == name.casefold()
                    ),
                    origin=bool(_FROM.search(before) and _FIRING.search(before)),
                )
            )
            taken.append((a, b))
    found.sort(key=lambda m: m.start)
    return found


def settle(mentions: list[Mention], context: list[Mention]) -> list[Mention]:
    """Ambiguous mentions moved to the candidate nearest the report's unambiguous places."""
    anchors = [m for m in context if not m.ambiguous and m.precision < 3]
    regions = [m for m in context if m.precision == 3]
    anchors = anchors or regions
    if not anchors:
        return mentions
    lat = sum(m.latitude for m in anchors) / len(anchors)
    lon = sum(m.longitude for m in anchors) / len(anchors)
    out = []
    for m in mentions:
        if m.ambiguous and m.alternatives:
            options = [(m.latitude, m.longitude, m.country, m.admin1)] + [
                (p.latitude, p.longitude, p.country, p.admin1) for p in m.alternatives
            ]
            best = min(options, key=lambda o: distance_km(o[0], o[1], lat, lon))
            m = Mention(
                m.name, m.start, m.end, best[0], best[1], m.precision, best[2], best[3],
                True, m.alternatives, m.origin,
            )  # fmt: skip
        out.append(m)
    return out
