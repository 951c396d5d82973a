"""The map: a folium/Leaflet map of a view (reference layers as on a day, the events on one
canvas, the legend and the time control), with self-hosted assets. `build_map` is the entry."""

from geo.map.build import DEFAULT_CENTER, DEFAULT_ZOOM, build_map

__all__ = ["DEFAULT_CENTER", "DEFAULT_ZOOM", "build_map"]
