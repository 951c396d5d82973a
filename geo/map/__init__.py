"""The map: a folium/Leaflet map of a view (reference layers as on a day, the events on one
canvas, the legend and the time control), with self-hosted assets. `build_map` is the entry.

Names load on first use (PEP 562), so `python -m geo.map.assets install` runs the module
without the package having imported it first.
"""

import importlib
from typing import Any

__all__ = ["DEFAULT_CENTER", "DEFAULT_ZOOM", "build_map"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("geo.map.build"), name)
    raise AttributeError(f"module 'geo.map' has no attribute {name!r}")
