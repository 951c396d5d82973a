"""Reference layers from data/boundaries: load them, and keep what was valid on a date.

Each layer is one GeoJSON file in EPSG:4326 built by scripts/build_boundaries.py. Time-bound
features carry `valid_from` / `valid_to` (ISO dates, both inclusive; empty = open-ended).
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from geo.errors import InputError, LayerError
from geo.settings import Settings, get_settings

if TYPE_CHECKING:  # geopandas and pandas load in functions: `nkmap geocode` needs neither
    import geopandas as gpd

LAYER_NAMES: tuple[str, ...] = (
    "countries",
    "water",
    "roads",
    "nkao",
    "control",
    "contact_line",
    "pipelines",
    "sites",
    "places",
)
LAYER_TITLES: dict[str, str] = {
    "countries": "Countries",
    "nkao": "Nagorno-Karabakh (NKAO boundary)",
    "control": "Area held / control changes",
    "contact_line": "Line of contact",
    "pipelines": "Oil and gas pipelines",
    "sites": "Terminals, bases and capitals",
    "places": "Towns and villages",
    "water": "Rivers and lakes",
    "roads": "Roads (schematic)",
}
# The offline basemap, built by scripts/build_basemap.py into settings.basemap_dir.
BASEMAP_NAMES: tuple[str, ...] = ("places", "water", "roads")


def layer_path(name: str, settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    if name in BASEMAP_NAMES:
        return settings.basemap_dir / f"{name}.geojson"
    if name not in LAYER_NAMES:
        known = ", ".join(dict.fromkeys((*LAYER_NAMES, *BASEMAP_NAMES)))
        raise LayerError(f"unknown layer {name!r}; known layers: {known}")
    return settings.boundaries_dir / f"{name}.geojson"


@lru_cache(maxsize=32)
def _read(path: Path, mtime_ns: int) -> gpd.GeoDataFrame:
    import geopandas as gpd
    import pandas as pd

    gdf = gpd.read_file(path, engine="pyogrio")
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        raise LayerError(f"{path.name}: expected EPSG:4326, found {gdf.crs}")
    for col in ("valid_from", "valid_to"):
        if col in gdf:
            # GDAL may already parse ISO dates; normalise to datetime64 either way.
            gdf[col] = pd.to_datetime(gdf[col], errors="raise").astype("datetime64[ns]")
    return gdf


def load_layer(name: str, settings: Settings | None = None) -> gpd.GeoDataFrame:
    """A copy of the whole layer (cached on file path and modification time)."""
    path = layer_path(name, settings)
    if not path.exists():
        target = "basemap" if name in BASEMAP_NAMES else "boundaries"
        raise LayerError(f"layer file missing: {path} (rebuild with `make {target}`)")
    return _read(path, path.stat().st_mtime_ns).copy()


def parse_date(value: str | dt.date) -> dt.date:
    """An ISO date (YYYY-MM-DD), or InputError naming the value."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError("expected an ISO date YYYY-MM-DD", column="date", value=value) from None


def valid_on(gdf: gpd.GeoDataFrame, day: str | dt.date) -> gpd.GeoDataFrame:
    """The features of `gdf` valid on `day`; a layer without validity columns is returned whole."""
    import pandas as pd

    if "valid_from" not in gdf and "valid_to" not in gdf:
        return gdf
    ts = pd.Timestamp(parse_date(day))
    keep = pd.Series(True, index=gdf.index)
    if "valid_from" in gdf:
        keep &= gdf["valid_from"].isna() | (gdf["valid_from"] <= ts)
    if "valid_to" in gdf:
        keep &= gdf["valid_to"].isna() | (gdf["valid_to"] >= ts)
    return gdf[keep]


def layer_on(
    name: str, day: str | dt.date | None = None, settings: Settings | None = None
) -> gpd.GeoDataFrame:
    """Layer `name`, restricted to what was valid on `day` when a day is given."""
    gdf = load_layer(name, settings)
    return gdf if day is None else valid_on(gdf, day)


def control_area_on(day: str | dt.date, settings: Settings | None = None) -> gpd.GeoDataFrame:
    """Held areas, corridors and dated captures valid on `day`."""
    return layer_on("control", day, settings)


def contact_line_on(day: str | dt.date, settings: Settings | None = None) -> gpd.GeoDataFrame:
    """The line of contact valid on `day` (none during the 2020 war or after Sep 2023)."""
    return layer_on("contact_line", day, settings)


def to_geojson(gdf: gpd.GeoDataFrame) -> str:
    """A GeoJSON FeatureCollection; dates as ISO strings, missing values as null."""
    out = gdf.copy()
    for col in ("valid_from", "valid_to"):
        if col in out:
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return json.dumps(json.loads(out.to_json(drop_id=True, na="null")), ensure_ascii=False)
