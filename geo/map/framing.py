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
import json

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

FIT_PADDING_PX = 12
FIT_MAX_ZOOM = 11  # a single village's events still show the village's surroundings


# fit(bounds): every Leaflet map of the page fits `bounds` ([[lat, lon], [lat, lon]]), clear
# of an open legend on the right when the map is wide enough to spare its width.
_FIT_JS = """
  function fit(bounds) {
    var pad = PAD;
    Object.keys(window).forEach(function (key) {
      var map = window[key];
      if (key.indexOf("map_") === 0 && window.L && map instanceof window.L.Map) {
        var legend = map.getContainer().querySelector(".nk-legend");
        var right = pad;
        if (legend && legend.offsetWidth && legend.offsetWidth < map.getSize().x / 3) {
          right += legend.offsetWidth;
        }
        // No zoom animation: the map shows the new frame in the same draw (an animated
        // fit drew the period twice, the second time 250 ms later).
        map.fitBounds(bounds, {paddingTopLeft: [pad, pad],
                               paddingBottomRight: [right, pad],
                               maxZoom: MAX_ZOOM, animate: false});
      }
    });
  }
""".replace("PAD", str(FIT_PADDING_PX)).replace("MAX_ZOOM", str(FIT_MAX_ZOOM))


class FitBounds(MacroElement):
    """Fits every Leaflet map of the page to a box (numbers only: nothing from the data)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (bounds) {
        {{ this.fit_js }}
          fit(bounds);
        })({{ this.bounds }});
        {% endmacro %}
        """
    )

    def __init__(self, box: LonLatBox) -> None:
        super().__init__()
        self._name = "FitBounds"
        corners = [[float(lat), float(lon)] for lat, lon in box.latlon_corners()]
        self.bounds = json.dumps(corners)
        self.fit_js = _FIT_JS


def fit_to(box: LonLatBox) -> folium.FeatureGroup:
    """A tiny layer for streamlit-folium's `feature_group_to_add`: the map already in the
    browser moves to show `box` whole."""
    group = folium.FeatureGroup(name="Frame", control=False)
    FitBounds(box).add_to(group)
    return group


_EPOCH = dt.date(1970, 1, 1)


class FitEvents(MacroElement):
    """Fits the map to the events it draws (window.nkEvents, geo/map/js/events.js) that fall
    in [start, end]: geo.view.frame_box's rule (events on the ground first, then any; only
    points in the region; the outer FRAME_QUANTILE left out above 50 points, interpolated as
    numpy does; FRAME_MARGIN and FRAME_MIN_DEG). `fallback` when there is no such event or the
    events cannot be loaded. Numbers only: nothing from the data is written here."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (o) {
        {{ this.fit_js }}
          // The k-th smallest of a (reordered in place): O(n), where sorting a million
          // coordinates took ~100 ms per axis on a period change.
          function select(a, k) {
            var lo = 0, hi = a.length - 1;
            while (hi > lo) {
              var pivot = a[(lo + hi) >> 1], i = lo, j = hi;
              while (i <= j) {
                while (a[i] < pivot) { i++; }
                while (a[j] > pivot) { j--; }
                if (i <= j) { var t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
              }
              if (k <= j) { hi = j; } else if (k >= i) { lo = i; } else { break; }
            }
            return a[k];
          }
          function quantile(a, q) {  // numpy's default (linear) interpolation
            var h = (a.length - 1) * q, i = Math.floor(h), v = select(a, i);
            return h > i && i + 1 < a.length ? v + (h - i) * (select(a, i + 1) - v) : v;
          }
          function box(d, grounded) {
            var n = 0, lat = new Float64Array(d.n), lon = new Float64Array(d.n), r = o.region;
            for (var i = 0; i < d.n; i++) {
              if (d.d0[i] > o.end || d.d1[i] < o.start) { continue; }
              if (grounded && o.pointless.indexOf(d.type[i]) >= 0) { continue; }
              var y = d.lat[i], x = d.lon[i];
              if (!(x >= r[0] && x <= r[2] && y >= r[1] && y <= r[3])) { continue; }
              lat[n] = y; lon[n] = x; n++;
            }
            if (!n) { return null; }
            lat = lat.subarray(0, n); lon = lon.subarray(0, n);
            var q = n > 50 ? o.quantile : 0;
            var s = quantile(lat, q), N = quantile(lat, 1 - q);
            var w = quantile(lon, q), e = quantile(lon, 1 - q);
            var py = Math.max((N - s) * o.margin, (o.min_deg - (N - s)) / 2, 0);
            var px = Math.max((e - w) * o.margin, (o.min_deg - (e - w)) / 2, 0);
            return [[s - py, w - px], [N + py, e + px]];
          }
          var tries = 0;
          function go() {
            // The events layer of this map: the map's script made it (and set nkEvents)
            // before this script runs; its payload may still be on its way (10 s at most).
            var layer = window.nkEvents;
            if (layer && layer.loaded && layer.data) {
              window.nkFramed = box(layer.data, true) || box(layer.data, false) || o.fallback;
              fit(window.nkFramed);
            } else if ((layer && layer.error) || ++tries >= 600) {
              fit(o.fallback);
            } else {
              requestAnimationFrame(go);
            }
          }
          go();
        })({{ this.options }});
        {% endmacro %}
        """
    )

    def __init__(self, start: dt.date, end: dt.date, fallback: LonLatBox) -> None:
        super().__init__()
        self._name = "FitEvents"
        region = REGION_LONLAT_BOX
        types = list(EVENT_TYPES)
        self.options = json.dumps(
            {
                "start": (start - _EPOCH).days,
                "end": (end - _EPOCH).days,
                "pointless": sorted(types.index(t) for t in POINTLESS_TYPES),
                "region": [region.lon_min, region.lat_min, region.lon_max, region.lat_max],
                "quantile": FRAME_QUANTILE,
                "margin": FRAME_MARGIN,
                "min_deg": FRAME_MIN_DEG,
                "fallback": [[float(a), float(b)] for a, b in fallback.latlon_corners()],
            }
        )
        self.fit_js = _FIT_JS


def fit_to_events(
    start: dt.date, end: dt.date, fallback: LonLatBox = WHOLE_REGION_LONLAT_BOX
) -> folium.FeatureGroup:
    """A tiny layer for `feature_group_to_add`: the map already in the browser moves to frame
    its own events of [start, end] (FitEvents)."""
    group = folium.FeatureGroup(name="Frame", control=False)
    FitEvents(start, end, fallback).add_to(group)
    return group
