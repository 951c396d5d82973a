"""Map page: the events of a period on the reference geography, with playback and filters.

Thin page: read widgets (geo.ui), call geo, draw.
"""

import streamlit as st
from streamlit_folium import st_folium

from geo import ui
from geo.filters import filter_events
from geo.mapview import DEFAULT_CENTER, DEFAULT_ZOOM, build_map
from geo.playback import period_change
from geo.proximity import counts_near, reference_lines
from geo.schema import EVENT_TYPES
from geo.settings import get_settings
from geo.timeline import timeline_chart

st.set_page_config(page_title="Karabakh conflict map", page_icon="🗺️", layout="wide")
settings = get_settings()
ui.account_box(settings)  # with NKMAP_REQUIRE_LOGIN=1, stops here until signed in

st.title("Nagorno-Karabakh conflict map")
view = ui.sidebar_view(ui.claimants(settings), ui.data_span(settings))
if view.start > view.end:
    st.error("The period's start is after its end: pick an earlier From date.")
    st.stop()
# Filled once the period's events are read: the map goes out first, so a new period reaches
# the drawn map without waiting for the query, the timeline or the table.
summary = st.empty()

origin_center, origin_zoom = ui.map_origin()
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
    center=origin_center or DEFAULT_CENTER,
    zoom=origin_zoom or DEFAULT_ZOOM,
)
returned = st_folium(
    m,
    height=600,
    use_container_width=True,
    returned_objects=["center", "zoom"],
    feature_group_to_add=period_change(view.start, view.end),
    key="map",
)
view = ui.remember_map_view(view, returned)
ui.write_permalink(view)

events = filter_events(ui.current_events(settings, view.start, view.end), view)
placed = int(events["latitude"].notna().sum())
with summary.container():
    # Our words as a caption; the filters in words (they carry permalink text: `q`, `claimed`)
    # as plain text, never as Markdown.
    st.caption(
        f"{len(events):,} events, {view.start:%d %b %Y} to {view.end:%d %b %Y} "
        f"({len(events) - placed:,} without a map point, e.g. statements). Reference geography "
        f"as on {view.end:%d %b %Y}; ▶ replays the period. Click an event for its source and "
        "whose claim it is. Schematic geometry is labelled."
    )
    st.text("View: " + view.describe())

if not events.empty:
    st.altair_chart(timeline_chart(events), width="stretch")

st.subheader("How close to the pipelines and the line of contact")
km = st.slider("Within (km)", 1, 50, 10, key="km")
near = counts_near(events, reference_lines(view.end, settings), km)
st.dataframe(
    near.rename(
        columns={
            "name": "line",
            "events": f"events within {km} km",
            "fatalities": "known fatalities",
            "fatalities_unknown": "events with unknown fatalities",
        }
    ),
    hide_index=True,
    width="stretch",
)
st.caption(
    "Distances to schematic pipeline routes (tens of km of error) and to the line of contact "
    f"valid on {view.end:%d %b %Y}; events without a map point are not counted."
)

# The browser gets at most TABLE_ROWS rows: a table of 100,000 rows costs seconds per rerun
# and nobody reads it; exports (Briefing page, `nkmap export`) carry every event.
TABLE_ROWS = 10_000
with st.expander(f"The {len(events):,} events shown", expanded=False):
    if len(events) > TABLE_ROWS:
        st.caption(
            f"The first {TABLE_ROWS:,} by date; the Briefing page's data pack or "
            "`nkmap export` has all of them."
        )
    st.dataframe(
        events.head(TABLE_ROWS).assign(event_type=lambda f: f["event_type"].map(EVENT_TYPES))[
            [
                "event_date",
                "event_type",
                "location",
                "fatalities",
                "source",
                "claimed_by",
                "verification",
                "notes",
            ]
        ],
        hide_index=True,
        width="stretch",
    )
st.caption("The address bar is a permalink to this view (period, filters, layers, map view).")
