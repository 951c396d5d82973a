"""Contested place names: the curated alias table and the naming conventions for labels.

Neutrality is part of the product: a contested place is labelled with both names unless the
user picks one convention. The table lives in data/gazetteer/aliases.csv (one row per place).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from geo.settings import get_settings
from geo.view import Convention


@dataclass(frozen=True)
class Alias:
    key: str
    armenian: str
    azerbaijani: str
    other_names: tuple[str, ...]
    country: str
    geonames_name: str
    note: str
    # Curated coordinates, only for places the offline gazetteer lacks (see aliases.csv).
    latitude: float | None = None
    longitude: float | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.armenian, self.azerbaijani, *self.other_names)

    def label(self, convention: Convention | str = Convention.BOTH) -> str:
        convention = Convention(convention)
        if convention is Convention.ARMENIAN:
            return self.armenian
        if convention is Convention.AZERBAIJANI:
            return self.azerbaijani
        if self.armenian.casefold() == self.azerbaijani.casefold():
            return self.armenian
        return f"{self.armenian} / {self.azerbaijani}"


def aliases_path() -> Path:
    return get_settings().root / "data" / "gazetteer" / "aliases.csv"


@lru_cache(maxsize=4)
def _load(path: Path) -> tuple[Alias, ...]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return tuple(
        Alias(
            key=r["key"],
            armenian=r["armenian"],
            azerbaijani=r["azerbaijani"],
            other_names=tuple(n for n in r["other_names"].split("|") if n),
            country=r["country"],
            geonames_name=r["geonames_name"],
            note=r["note"],
            latitude=_coordinate(r.get("latitude"), path, r["key"], "latitude", 90),
            longitude=_coordinate(r.get("longitude"), path, r["key"], "longitude", 180),
        )
        for r in rows
    )


def _coordinate(value: str | None, path: Path, key: str, column: str, limit: float) -> float | None:
    """A curated coordinate cell: blank means none; anything else must be a number in range."""
    if value is None or not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or not -limit <= number <= limit:
        raise ValueError(f"{path}: alias {key!r}, column {column!r}: bad coordinate {value!r}")
    return number


def aliases(path: Path | None = None) -> tuple[Alias, ...]:
    """Every curated alias, in file order."""
    return _load(path or aliases_path())


def find_alias(name: str, path: Path | None = None) -> Alias | None:
    """The alias whose any name equals `name` (case-insensitive), or None."""
    wanted = name.strip().casefold()
    for alias in aliases(path):
        if any(n.casefold() == wanted for n in alias.names):
            return alias
    return None


def place_label(name: str, convention: Convention | str = Convention.BOTH) -> str:
    """Label for a place name: both names for a contested place, else the name as given.

    Only a text that is exactly a known name is relabelled ("Shusha"), or one written with
    names of that same place only ("Stepanakert / Khankendi"). Any other text is the record's
    own words and stays as it is: "Southern front (Hadrut / Jabrayil / Fuzuli direction)" or
    "Gas pipeline near Shushi / Shusha" are never renamed.
    """
    alias = find_alias(name)
    if alias is None and " / " in name:
        found = {find_alias(part) for part in name.split(" / ")}
        alias = found.pop() if len(found) == 1 else None
    return alias.label(convention) if alias else name
