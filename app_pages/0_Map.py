"""Map page (the default page): a period's events on the reference geography, with playback
and filters.

Thin page: read widgets (geo.ui), call geo, draw. The page never holds a period's events: the
store counts and aggregates them (geo.store.query) and hands the map its payload in batches.
"""

import streamlit as st
from streamlit_folium import st_folium

from geo import ui
from geo.map.build import build_map
from geo.map.timecontrol import period_change
from geo.settings import get_settings

st.set_page_config(page_title="Karabakh conflict map", page_icon="🗺️", layout="wide")
settings = get_settings()
ui.account_box(settings)  # with NKMAP_REQUIRE_LOGIN=1, stops here until signed in

st.title("Nagorno-Karabakh conflict map")
view = ui.sidebar_view(ui.claimants(settings), ui.data_span(settings))
if view.start > view.end:
    st.error("The period's start is after its end: pick an earlier From date.")
    st.stop()
summary = st.empty()  # above the map, filled once the map view is known
# The map is framed on the period's events: by the browser, which holds them, or by the store.
(origin_center, origin_zoom), fit = ui.map_frame(
    view, lambda: ui.view_box(settings, view), in_browser="events" in view.layers
)
# The map carries the whole data span and the browser shows the period: a new period reaches
# the drawn map as a small update (period_change), not a rebuilt map.
span = ui.map_span(settings, view)
shows_events = "events" in view.layers or "heat" in view.layers
payload, payload_url = ui.map_events(settings, view, span) if shows_events else (None, None)
m = build_map(
    span[1],
    layers=[n for n in view.layers if n not in ("events", "heat")],
    convention=view.convention,
    start=span[0],
    events=payload,
    events_url=payload_url,
    heat="heat" in view.layers,
    draw_points="events" in view.layers,
    settings=settings,
    center=origin_center,
    zoom=origin_zoom,
    scale=True,
)
changes = [period_change(view.start, view.end)] + ([fit] if fit else [])
returned = st_folium(
    m,
    height=600,
    use_container_width=True,
    returned_objects=["center", "zoom"],
    feature_group_to_add=changes,
    key="map",
)
view = ui.remember_map_view(view, returned)
ui.write_permalink(view)
counts = ui.period_summary(settings, view)
ui.summary(summary, counts, view)
ui.timeline(settings, view)
ui.proximity_table(settings, view)
ui.events_table(settings, view, counts.events)
st.caption("The address bar is a permalink to this view (period, filters, layers, map view).")
