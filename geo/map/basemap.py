"""The offline basemap's reference look: rivers and lakes, roads, and place names by zoom.

The data (data/basemap, built by scripts/build_basemap.py) comes through geo.layers like the
other layers; this module says how it looks, as a topographic reference map would draw it:
blue water, thin brown roads (dashed where the line is schematic), and place names that
appear as the map zooms in (js/places.js). geo/map/build.py calls these from its builders.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
from branca.element import MacroElement, Template

from geo.places.names import find_alias
from geo.region import CONFLICT_LONLAT_BOX
from geo.text import script_safe_json
from geo.view import Convention

WATER_LINE = "#5b8fc7"
WATER_FILL = "#d4e4ef"  # the sea's colour (map.css): one colour for all water
ROAD_COLOR = "#8a6a48"
# WDBII river levels (GSHHG): 1 double-lined, 2-4 permanent rivers by importance, 5 minor,
# 6-8 intermittent, 9-11 canals. Bigger rivers draw wider; intermittent ones dashed.
_RIVER_WEIGHT = {1: 2.2, 2: 1.8, 3: 1.3, 4: 1.0}
_INTERMITTENT = {6, 7, 8}
PLACE_KINDS = ("capital", "city", "town", "village")
_JS = Path(__file__).with_name("js") / "places.js"


@cache
def _library() -> str:
    return _JS.read_text(encoding="utf-8")


def _rank(value: object) -> int | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if np.isnan(number) else int(number)


def water_style(feature: dict) -> dict:
    """Lakes and reservoirs filled light blue; rivers as blue lines by rank."""
    props = feature["properties"]
    if props.get("kind") in ("lake", "reservoir") or feature["geometry"]["type"].endswith(
        "Polygon"
    ):
        return {"color": WATER_LINE, "weight": 0.7, "fillColor": WATER_FILL, "fillOpacity": 1}
    rank = _rank(props.get("rank"))
    style = {"color": WATER_LINE, "weight": _RIVER_WEIGHT.get(rank, 0.8), "opacity": 0.85}
    if rank in _INTERMITTENT:
        style["dashArray"] = "3 3"
    return style


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value) and value == value  # NaN is not true


def road_style(feature: dict) -> dict:
    """Thin brown lines; a schematic road (straight between towns) is dashed."""
    style = {"color": ROAD_COLOR, "weight": 2, "opacity": 0.9}
    if _truthy(feature["properties"].get("schematic")):
        style["dashArray"] = "6 4"
    return style


def road_drawn_as(roads: gpd.GeoDataFrame) -> list[str]:
    """For each road, how its line was drawn, for the tooltip."""
    flags = roads["schematic"] if "schematic" in roads else [False] * len(roads)
    return [
        "schematic (straight segments between the towns it passes)" if _truthy(f) else "surveyed"
        for f in flags
    ]


def is_schematic(roads: gpd.GeoDataFrame) -> np.ndarray:
    if "schematic" not in roads:
        return np.zeros(len(roads), dtype=bool)
    return np.array([_truthy(f) for f in roads["schematic"]], dtype=bool)


# ISO 3166 alpha-3 (the places layer) to alpha-2 (the alias table).
_ISO2 = {"AZE": "AZ", "ARM": "AM", "GEO": "GE", "TUR": "TR", "IRN": "IR", "RUS": "RU"}


@lru_cache(maxsize=8192)
def _label(name: str, country: str, lon: float, lat: float, convention: Convention) -> str:
    """A place's label: both names only for the contested place itself.

    GeoNames repeats names: "Martuni" is also a town in Armenia's Gegharkunik, "Fuzuli" a
    village near Tovuz. The alias table's names belong to places of the conflict zone, so a
    place is relabelled only when its country is the alias's and it lies in that zone.
    """
    alias = find_alias(name)
    if alias is None:
        return name
    same_country = not country or _ISO2.get(country, country) == alias.country
    if same_country and CONFLICT_LONLAT_BOX.contains(lon, lat):
        return alias.label(convention)
    return name


def places_payload(
    places: gpd.GeoDataFrame,
    convention: Convention,
    fixed: Sequence[tuple[float, float, str, str]] = (),
) -> dict:
    """The places as columns for js/places.js, most prominent first (capitals, then by the
    zoom their label shows from and by population). Names follow the naming convention.

    `fixed`: labels the map draws anyway, (lat, lon, text, css class) as geo.map.build makes
    them (countries centred, sites beside their dots). Their space is kept free of place
    names, and a place with the same name within ~10 km of one is left out.
    """
    df = places[places.geometry.notna() & ~places.geometry.is_empty]
    n = len(df)
    kinds = df["kind"].astype(object).tolist() if "kind" in df else ["village"] * n
    kind_code = np.array(
        [PLACE_KINDS.index(k) if k in PLACE_KINDS else len(PLACE_KINDS) - 1 for k in kinds]
    )
    zoom = (
        df["min_zoom"].astype("Float64").fillna(11).to_numpy(float)
        if "min_zoom" in df
        else np.full(n, 11.0)
    )
    population = (
        df["population"].astype("Float64").fillna(0).to_numpy(float)
        if "population" in df
        else np.zeros(n)
    )
    lat, lon = df.geometry.y.to_numpy(float), df.geometry.x.to_numpy(float)
    order = np.lexsort((-population, zoom, kind_code))
    countries = df["country"].fillna("").astype(str) if "country" in df else [""] * n
    labels = [
        _label(str(name), c, round(float(x), 5), round(float(y), 5), convention)
        for name, c, x, y in zip(df["name"].astype(object), countries, lon, lat, strict=True)
    ]
    drawn = {}
    for f_lat, f_lon, text, _ in fixed:
        drawn.setdefault(text.casefold(), []).append((f_lat, f_lon))
    out: dict = {"lat": [], "lon": [], "label": [], "kind": [], "z": [], "kinds": PLACE_KINDS}
    for i in order:
        text = labels[i]
        if not text.strip():
            continue
        same = drawn.get(text.casefold(), ())
        if any(abs(a - lat[i]) < 0.1 and abs(b - lon[i]) < 0.1 for a, b in same):
            continue
        out["lat"].append(round(float(lat[i]), 5))
        out["lon"].append(round(float(lon[i]), 5))
        out["label"].append(text)
        out["kind"].append(int(kind_code[i]))
        out["z"].append(int(zoom[i]))
    # Space the fixed labels take: [lat, lon, characters, 1 if centred else 0].
    out["reserved"] = [
        [round(a, 5), round(b, 5), len(text), int(css == "nk-country-label")]
        for a, b, text, css in fixed
    ]
    return out


class FitLabels(MacroElement):
    """After every move, the map's marker names (countries, sites) that its edge cuts go to
    the left of their dot where they fit there, or are hidden (js/places.js
    NKPlaces.fitLabels). Added to the map after the names; carries no data."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.library }}
        NKPlaces.fitLabels({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "FitLabels"
        self.library = ""

    def render(self, **kwargs) -> None:
        # js/places.js once per page: a places layer added before this one carries it.
        before = []
        for child in self._parent._children.values():
            if child is self:
                break
            before.append(child)
        has_places = any(isinstance(c, PlacesLayer) for c in before)
        self.library = "" if has_places else _library()
        super().render(**kwargs)


class PlacesLayer(folium.map.Layer):
    """Place dots and names, shown by zoom (js/places.js); names reach the page as inert
    JSON (geo.text.script_safe_json) and are set as text in the browser."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.library }}
        var {{ this.get_name() }} = NKPlaces.layer({{ this.payload }}, {});
        {% endmacro %}
        """
    )

    def __init__(self, payload: dict, name: str, show: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "PlacesLayer"
        self.count = len(payload["label"])
        self.payload = script_safe_json(payload)
        self.library = _library()
