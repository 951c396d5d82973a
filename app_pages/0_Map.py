"""Map page (the default page): a period's events on the reference geography, with playback
and filters.

Thin page: read widgets (geo.ui), call geo, draw.
"""

import streamlit as st
from streamlit_folium import st_folium

from geo import ui
from geo.map.build import build_map
from geo.map.framing import fit_to
from geo.map.timecontrol import period_change
from geo.map.timeline import RULES_CAPTION, timeline_charts
from geo.settings import get_settings
from geo.view import filter_events

st.set_page_config(page_title="Karabakh conflict map", page_icon="🗺️", layout="wide")
settings = get_settings()
ui.account_box(settings)  # with NKMAP_REQUIRE_LOGIN=1, stops here until signed in

st.title("Nagorno-Karabakh conflict map")
view = ui.sidebar_view(ui.claimants(settings), ui.data_span(settings))
if view.start > view.end:
    st.error("The period's start is after its end: pick an earlier From date.")
    st.stop()
summary = st.empty()  # above the map, filled once the map view is known
# The period's events first: the map is framed on them (geo.view.frame_box).
events = filter_events(ui.current_events(settings, view.start, view.end), view)
(origin_center, origin_zoom), fit = ui.map_frame(view, events)
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
changes = [period_change(view.start, view.end)] + ([fit_to(fit)] if fit else [])
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
ui.summary(summary, events, view)

if not events.empty:
    for chart in timeline_charts(events, view.start, view.end):
        st.altair_chart(chart, width="stretch")
    st.caption(RULES_CAPTION)

ui.proximity_table(events, view, settings)
ui.events_table(events)
st.caption("The address bar is a permalink to this view (period, filters, layers, map view).")
