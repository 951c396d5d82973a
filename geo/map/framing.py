"""Framing a drawn map: fit it to a box in the browser, without rebuilding it.

The page knows the box (geo.view.frame_box of the view's events, or the whole region); only
the browser knows the map's size in pixels, so Leaflet's fitBounds picks the zoom, and a
phone and a wide screen both see the whole frame.
"""

from __future__ import annotations

import json

import folium
from branca.element import MacroElement, Template

from geo.region import LonLatBox

FIT_PADDING_PX = 12
FIT_MAX_ZOOM = 11  # a single village's events still show the village's surroundings


class FitBounds(MacroElement):
    """Fits every Leaflet map of the page to a box (numbers only: nothing from the data)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (bounds) {
          var pad = {{ this.padding }};
          Object.keys(window).forEach(function (key) {
            var map = window[key];
            if (key.indexOf("map_") === 0 && window.L && map instanceof window.L.Map) {
              // Keep the framed events clear of an open legend on the right, when the map
              // is wide enough to spare its width.
              var legend = map.getContainer().querySelector(".nk-legend");
              var right = pad;
              if (legend && legend.offsetWidth && legend.offsetWidth < map.getSize().x / 3) {
                right += legend.offsetWidth;
              }
              map.fitBounds(bounds, {paddingTopLeft: [pad, pad],
                                     paddingBottomRight: [right, pad],
                                     maxZoom: {{ this.max_zoom }}});
            }
          });
        })({{ this.bounds }});
        {% endmacro %}
        """
    )

    def __init__(self, box: LonLatBox) -> None:
        super().__init__()
        self._name = "FitBounds"
        corners = [[float(lat), float(lon)] for lat, lon in box.latlon_corners()]
        self.bounds = json.dumps(corners)
        self.padding = FIT_PADDING_PX
        self.max_zoom = FIT_MAX_ZOOM


def fit_to(box: LonLatBox) -> folium.FeatureGroup:
    """A tiny layer for streamlit-folium's `feature_group_to_add`: the map already in the
    browser moves to show `box` whole."""
    group = folium.FeatureGroup(name="Frame", control=False)
    FitBounds(box).add_to(group)
    return group
