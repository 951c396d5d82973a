"""Building the map in Python: ours (`build_map`) beside a plain folium marker map."""

from __future__ import annotations

import html
import time

import folium
import pandas as pd

from bench.dataset import Dataset
from bench.results import Measurement
from geo.map import assets
from geo.map.build import DEFAULT_CENTER, DEFAULT_ZOOM, build_map

NAIVE_MAP_CAP = 100_000


def our_map(events: pd.DataFrame, data: Dataset) -> folium.Map:
    """The dashboard's map of the whole data span with `events` (as app.py builds it)."""
    start, end = data.span()
    return build_map(end, start=start, events=events)


# folium.Popup's script sets its content with jQuery's `$(html)[0]`. The app's pages load
# Leaflet alone (jQuery is not vendored: geo/map/assets.py), so the naive page gets the one
# use of `$` it makes, parsing the popup's HTML into a node as jQuery does (innerHTML).
# Without it every naive page stopped at "$ is not defined" and its baseline was lost.
JQUERY_HTML_SHIM = """<script>
window.$ = window.$ || function (html) {
  var box = document.createElement("div");
  box.innerHTML = String(html).trim();
  return [box.firstChild];
};
</script>"""


def naive_map(events: pd.DataFrame) -> folium.Map:
    """What one would write first: a folium.Marker with an (escaped) popup per event."""
    m = assets.leaflet_only(
        folium.Map(location=DEFAULT_CENTER, zoom_start=DEFAULT_ZOOM, tiles=None)
    )
    m.options["max_zoom"] = 18
    m.get_root().header.add_child(folium.Element(JQUERY_HTML_SHIM))
    rows = events[["latitude", "longitude", "event_date", "event_type", "location", "notes"]]
    for lat, lon, day, kind, place, notes in rows.itertuples(index=False, name=None):
        if pd.isna(lat) or pd.isna(lon):
            continue
        text = html.escape(f"{day:%Y-%m-%d} {kind} at {place}: {notes}")
        folium.Marker([float(lat), float(lon)], popup=folium.Popup(text)).add_to(m)
    return m


def _build_and_render(build) -> tuple[float, int]:
    t = time.perf_counter()
    page = build().get_root().render()
    return time.perf_counter() - t, len(page)


def measure_map(data: Dataset, cap: int = NAIVE_MAP_CAP) -> list[Measurement]:
    """Python seconds and payload bytes of our map and of the naive map (capped)."""
    frame = data.frame()
    ours_s, ours_bytes = _build_and_render(lambda: our_map(frame, data))
    size = min(cap, len(frame))
    capped = data.sample(size)
    naive_s, naive_bytes = _build_and_render(lambda: naive_map(capped))
    note = "baseline: one folium.Marker per event"
    out = []
    if size < len(frame):
        # The ratio compares equal sizes: ours again at the baseline's size.
        small_s, small_bytes = _build_and_render(lambda: our_map(capped, data))
        out += [
            Measurement("map_build", size, small_s, naive_s, "s", note=note),
            Measurement("map_payload", size, small_bytes, naive_bytes, "bytes", note=note),
        ]
        note += f" (capped at {cap:,}; not run at {len(frame):,})"
        naive_s = naive_bytes = None
    out = [
        Measurement("map_build", len(frame), ours_s, naive_s, "s", note=note),
        Measurement("map_payload", len(frame), ours_bytes, naive_bytes, "bytes", note=note),
        *out,
    ]
    return out
