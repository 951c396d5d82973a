"""Framing a drawn map: fit it to a box in the browser, without rebuilding it.

Only the browser knows the map's size in pixels, so Leaflet's fitBounds picks the zoom, and a
phone and a wide screen both see the whole frame. The box is either given (`fit_to`: the whole
region, or geo.view.frame_box when the map carries no events), or computed in the browser from
the events the map already holds (`fit_to_events`): the same rule as geo.view.frame_box over
the period's events, so a period change at a million events does not wait for the server to
read them again.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

import folium
from branca.element import MacroElement, Template

from geo.region import (
    FRAME_MARGIN,
    FRAME_MIN_DEG,
    FRAME_QUANTILE,
    REGION_LONLAT_BOX,
    WHOLE_REGION_LONLAT_BOX,
    LonLatBox,
)
from geo.schema import EVENT_TYPES, POINTLESS_TYPES

_JS = Path(__file__).with_name("js") / "framing.js"
_EPOCH = dt.date(1970, 1, 1)


@cache
def _library() -> str:
    return _JS.read_text(encoding="utf-8")


def box_fit(box: LonLatBox) -> dict:
    """The value that fits a drawn map to `box` (NKFrame.box): JSON numbers only."""
    return {"box": [[float(lat), float(lon)] for lat, lon in box.latlon_corners()]}


def events_fit(start: dt.date, end: dt.date, fallback: LonLatBox = WHOLE_REGION_LONLAT_BOX) -> dict:
    """The value that fits a drawn map to its own events of [start, end] (NKFrame.events):
    geo.view.frame_box's rule, applied in the browser. JSON numbers only."""
    region = REGION_LONLAT_BOX
    types = list(EVENT_TYPES)
    return {
        "events": {
            "start": (start - _EPOCH).days,
            "end": (end - _EPOCH).days,
            "pointless": sorted(types.index(t) for t in POINTLESS_TYPES),
            "region": [region.lon_min, region.lat_min, region.lon_max, region.lat_max],
            "quantile": FRAME_QUANTILE,
            "margin": FRAME_MARGIN,
            "min_deg": FRAME_MIN_DEG,
            "fallback": box_fit(fallback)["box"],
        }
    }


class Framing(MacroElement):
    """Fits the page's maps once drawn: to a box or to their events (`box_fit`, `events_fit`).
    The page carries the library (geo/map/js/framing.js) and one call with JSON numbers; with
    no `fit`, only the library (the live map calls it: geo.map.live)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.library }}
        {%- if this.fit and "box" in this.fit %}
        NKFrame.box({{ this.fit["box"] | tojson }});
        {%- elif this.fit %}
        NKFrame.events({{ this.fit["events"] | tojson }});
        {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(self, fit: dict | None = None) -> None:
        super().__init__()
        self._name = "Framing"
        self.fit = fit
        self.library = _library()


def fit_to(box: LonLatBox) -> folium.FeatureGroup:
    """A tiny layer to add to a map: once drawn, it moves to show `box` whole."""
    group = folium.FeatureGroup(name="Frame", control=False)
    Framing(box_fit(box)).add_to(group)
    return group


def fit_to_events(
    start: dt.date, end: dt.date, fallback: LonLatBox = WHOLE_REGION_LONLAT_BOX
) -> folium.FeatureGroup:
    """A tiny layer to add to a map: once drawn, it frames its own events of [start, end]."""
    group = folium.FeatureGroup(name="Frame", control=False)
    Framing(events_fit(start, end, fallback)).add_to(group)
    return group
