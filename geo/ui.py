"""The one Streamlit glue module: cached loaders, sidebar widgets and the view in the URL.

Pages call these; everything else in geo/ stays free of Streamlit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
import streamlit as st

from geo.eventlayer import EventPayload, event_payload, publish
from geo.filters import ALL_LAYERS, FIRST_DAY, LAST_DAY, PRESETS, View, filter_events
from geo.layers import LAYER_TITLES
from geo.names import Convention
from geo.schema import EVENT_TYPES, SIDES
from geo.settings import Settings
from geo.store import open_store

LAYER_LABELS = {**LAYER_TITLES, "events": "Events", "heat": "Event density (heat)"}
CONVENTION_LABELS = {
    "both": "Both (Armenian / Azerbaijani)",
    "armenian": "Armenian",
    "azerbaijani": "Azerbaijani",
}


# Few entries: at a million events one period's frame can hold hundreds of thousands of rows.
@st.cache_data(show_spinner=False, max_entries=4)
def load_events(db_path: str, version: int, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Events of [start, end]; `version` (the store's last import) keys the cache, so an
    import shows at once."""
    return open_store(db_path).events(start, end)


@st.cache_data(show_spinner=False, max_entries=8)
def _date_span(db_path: str, version: int) -> tuple[dt.date, dt.date] | None:
    return open_store(db_path).date_span()


@st.cache_data(show_spinner=False, max_entries=8)
def _claimants(db_path: str, version: int) -> list[str]:
    return open_store(db_path).claimants()


def claimants(settings: Settings) -> list[str]:
    """The "claimed by" values of the whole store (cached per store version): the filter's
    options do not depend on the period, so changing the period reads no events first."""
    store = open_store(settings.db_path)
    return _claimants(str(store.path), store.version())


def data_span(settings: Settings) -> tuple[dt.date, dt.date]:
    """The days the stored events cover (the whole range when the store is empty)."""
    store = open_store(settings.db_path)
    return _date_span(str(store.path), store.version()) or (FIRST_DAY, LAST_DAY)


def current_events(settings: Settings, start: dt.date, end: dt.date) -> pd.DataFrame:
    store = open_store(settings.db_path)
    return load_events(str(store.path), store.version(), start, end)


def map_span(settings: Settings, view: View) -> tuple[dt.date, dt.date]:
    """The days the map carries: the stored events' span, widened to the view's period.

    The map holds the events and reference layers of this whole span and the browser shows
    the period, so changing the period does not rebuild the map (geo.playback.period_change).
    """
    first, last = data_span(settings)
    first, last = min(first, view.start), max(last, view.end)
    if first == last:
        first -= dt.timedelta(days=1)
    return first, last


@st.cache_data(show_spinner=False, max_entries=4)
def _event_payload(
    db_path: str, version: int, start: dt.date, end: dt.date, filters: View, convention: str
) -> EventPayload:
    events = filter_events(open_store(db_path).events(start, end), filters)
    return event_payload(events, convention)


def map_events(
    settings: Settings, view: View, span: tuple[dt.date, dt.date]
) -> tuple[EventPayload, str]:
    """The filtered events of the whole map span, encoded for the browser (cached per store
    version, filters and naming convention: a period change reuses it), and the URL the
    browser fetches them from."""
    store = open_store(settings.db_path)
    filters = replace(view, start=span[0], end=span[1], layers=(), center=None, zoom=None)
    payload = _event_payload(str(store.path), store.version(), *span, filters, view.convention)
    return payload, publish(payload, settings)


def _init_from_url() -> None:
    """Seed the widgets' state: from the permalink on a session's first run, and again from
    the last view when the user comes back from another page (Streamlit drops the state of
    widgets a page did not draw; keys starting with "_" survive)."""
    if "from" in st.session_state:
        return
    last = st.session_state.get("_view")
    view = last if isinstance(last, View) else View.from_query(st.query_params.to_dict())
    st.session_state.update(
        {
            "from": view.start,
            "to": view.end,
            "span": (view.start, view.end),
            "types": list(view.types),
            "sides": list(view.sides),
            "claimed": list(view.claimed_by),
            "fmin": view.fatalities_min,
            "fmax": view.fatalities_max,
            "precise": view.precise_only,
            "q": view.text,
            "layers": list(view.layers),
            "names": view.convention,
            "_center": view.center,
            "_zoom": view.zoom,
            # Where the map opens. Kept fixed while the user stays on the page: rebuilding
            # the map at every pan would make st_folium redraw it; panning is the browser's.
            "_origin": (view.center, view.zoom),
            "_view_ready": True,
        }
    )


def _apply_preset() -> None:
    name = st.session_state.get("preset")
    if name in PRESETS:
        st.session_state["from"], st.session_state["to"] = PRESETS[name]
    elif name == "Single day (the To date)":
        st.session_state["from"] = st.session_state["to"]
    _dates_to_span()


def _dates_to_span() -> None:
    st.session_state["span"] = (st.session_state["from"], st.session_state["to"])


def _span_to_dates() -> None:
    st.session_state["from"], st.session_state["to"] = st.session_state["span"]


def sidebar_view(claimants: list[str], span: tuple[dt.date, dt.date]) -> View:
    """Draw the sidebar and return the view it describes; `span` bounds the period slider."""
    _init_from_url()
    sb = st.sidebar
    lo = min(span[0], st.session_state["from"])
    hi = max(span[1], st.session_state["to"])
    sb.header("Period")
    sb.selectbox(
        "Preset",
        ["Custom", *PRESETS, "Single day (the To date)"],
        key="preset",
        on_change=_apply_preset,
    )
    sb.slider(
        "Period",
        min_value=lo,
        max_value=hi,
        key="span",
        on_change=_span_to_dates,
        format="DD MMM YYYY",
        help="Over the span of the stored events; type exact days below.",
    )
    sb.date_input(
        "From", min_value=FIRST_DAY, max_value=LAST_DAY, key="from", on_change=_dates_to_span
    )
    sb.date_input(
        "To",
        min_value=FIRST_DAY,
        max_value=LAST_DAY,
        key="to",
        on_change=_dates_to_span,
        help="Held areas and the line of contact are drawn as they were on this day.",
    )
    sb.header("Filters")
    sb.multiselect("Event types", list(EVENT_TYPES), format_func=EVENT_TYPES.get, key="types")
    sb.multiselect("Side (of the actor)", list(SIDES), key="sides")
    options = sorted(set(claimants) | set(st.session_state.get("claimed") or []))
    sb.multiselect("Claimed by", options, key="claimed")
    c1, c2 = sb.columns(2)
    c1.number_input("Fatalities from", min_value=0, step=1, key="fmin", value=None)
    c2.number_input("to", min_value=0, step=1, key="fmax", value=None)
    sb.checkbox("Precise locations only", key="precise")
    sb.text_input("Search text", key="q", max_chars=200)
    sb.header("Map")
    sb.multiselect("Layers", list(ALL_LAYERS), format_func=LAYER_LABELS.get, key="layers")
    sb.radio(
        "Contested place names",
        [c.value for c in Convention],
        format_func=CONVENTION_LABELS.get,
        key="names",
    )
    s = st.session_state
    return View(
        start=s["from"],
        end=s["to"],
        types=tuple(s["types"]),
        sides=tuple(s["sides"]),
        claimed_by=tuple(s["claimed"]),
        fatalities_min=None if s["fmin"] is None else int(s["fmin"]),
        fatalities_max=None if s["fmax"] is None else int(s["fmax"]),
        precise_only=bool(s["precise"]),
        text=s["q"] or "",
        layers=tuple(s["layers"]),
        convention=s["names"],
        center=s.get("_center"),
        zoom=s.get("_zoom"),
    )


def map_origin() -> tuple[tuple[float, float] | None, int | None]:
    """Centre and zoom the map opens at (from the permalink, else None = defaults)."""
    return st.session_state.get("_origin", (None, None))


def remember_map_view(view: View, returned: dict | None) -> View:
    """The view with the map's current centre and zoom (from st_folium), kept for the
    permalink."""
    center, zoom = (returned or {}).get("center"), (returned or {}).get("zoom")
    if not (center and zoom):
        return view
    st.session_state["_center"] = (round(center["lat"], 4), round(center["lng"], 4))
    st.session_state["_zoom"] = int(zoom)
    return replace(view, center=st.session_state["_center"], zoom=int(zoom))


def write_permalink(view: View) -> None:
    """Put the view in the URL, so the address bar is always a permalink to it, and keep it
    for the other pages (the briefing export) and for coming back to the map."""
    st.session_state["_view"] = view
    query = view.to_query()
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
