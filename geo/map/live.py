"""The live map: the dashboard's map as a page the browser loads once and moves with values.

streamlit-folium re-renders a folium map's script on every rerun and evaluates it in its own
React iframe; at 100,000 events that put a period change at 0.6-0.9 s and a page open at
5.9 s, most of it that component (bench/RESULTS.md). Here the map's page is rendered once per
layers, filters and names, written where the app serves static files (geo.map.served, named by
its content) and loaded by a small Streamlit component (geo/map/component/): later reruns send
it the period, a framing and the opening view as JSON values, which it applies to the page it
already shows (window.nkTime, window.NKFrame). No Streamlit here: geo/ui.py declares the
component.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import folium

from geo.map import served
from geo.map.framing import Framing
from geo.map.timecontrol import OPEN_END, OPEN_START, day_number
from geo.settings import Settings

COMPONENT_DIR = Path(__file__).with_name("component")
KIND, SUFFIX = "map", ".html"


def map_page(m: folium.Map) -> str:
    """The map as a whole HTML page, with the framing library the component calls."""
    Framing().add_to(m)
    return m.get_root().render()


def publish_map(m: folium.Map, settings: Settings | None = None) -> str:
    """Render `m` as a page (`map_page`), write it where the app serves it, return its URL."""
    html = map_page(m)
    digest = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32]
    return served.publish(KIND, digest, SUFFIX, html, settings)


def is_map_published(url: str, settings: Settings | None = None) -> bool:
    """True when the page behind `url` (from `publish_map`) is still served."""
    path = served.served_path(url, settings)
    if path is None or not path.name.startswith(f"{KIND}-"):
        return False
    digest = path.name.removeprefix(f"{KIND}-").removesuffix(SUFFIX)
    return served.is_published(KIND, digest, SUFFIX, settings)


def live_args(
    doc: str,
    *,
    center: tuple[float, float],
    zoom: int,
    start: dt.date,
    end: dt.date,
    fit: dict | None = None,
    fit_seq: int = 0,
    height: int = 600,
) -> dict:
    """The component's arguments: the page's URL and JSON values (see component/live.js).
    `ready` names the page and period: the component hands it back as "drawn" once the map
    shows them drawn (`has_drawn`)."""
    period = [day_number(start, OPEN_START), day_number(end, OPEN_END)]
    return {
        "doc": doc,
        "center": [float(center[0]), float(center[1])],
        "zoom": int(zoom),
        "period": period,
        "fit": {"seq": int(fit_seq), **fit} if fit else None,
        "height": int(height),
        "ready": f"{doc}#{period[0]},{period[1]}",
    }


def has_drawn(args: dict, value: object) -> bool:
    """True when the component's value (`{"view", "drawn"}`) says the map has drawn what
    `args` asked for: the page and period, not an earlier one."""
    return isinstance(value, dict) and value.get("drawn") == args["ready"]


def moved_view(value: object) -> dict | None:
    """The user's last move in the component's value: {"center": {"lat", "lng"}, "zoom"},
    or None (no move yet, or not a value of this component)."""
    view = value.get("view") if isinstance(value, dict) else None
    if not isinstance(view, dict) or not isinstance(view.get("center"), dict):
        return None
    numbers = (view["center"].get("lat"), view["center"].get("lng"), view.get("zoom"))
    if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
        return None
    return view
