"""Map page: events of a period on the reference geography of its last day.

Thin page: read widgets, call geo, draw.
"""

import datetime as dt

import streamlit as st
from streamlit_folium import st_folium

from geo.layers import LAYER_NAMES, LAYER_TITLES, layer_on
from geo.mapview import build_map
from geo.names import Convention
from geo.schema import EVENT_TYPES
from geo.settings import get_settings
from geo.store import open_store

FIRST_DAY = dt.date(1994, 5, 12)  # the 1994 ceasefire
LAST_DAY = dt.date(2024, 12, 31)
WAR_2020 = (dt.date(2020, 9, 27), dt.date(2020, 11, 10))
SEED_DAY = dt.date(2020, 10, 5)  # the seed article: the co-chairs' ministers' ceasefire call

st.set_page_config(page_title="Karabakh conflict map", page_icon="🗺️", layout="wide")
settings = get_settings()


@st.cache_data(show_spinner=False, max_entries=64)
def load_events(db_path: str, version: int, start: dt.date, end: dt.date):
    # `version` (the store's last import id) is part of the cache key: new imports show at once.
    return open_store(db_path).events(start, end)


with st.sidebar:
    st.header("View")
    start = st.date_input("From", value=WAR_2020[0], min_value=FIRST_DAY, max_value=LAST_DAY)
    end = st.date_input(
        "To",
        value=SEED_DAY,
        min_value=FIRST_DAY,
        max_value=LAST_DAY,
        help="Held areas and the line of contact are drawn as they were on this day.",
    )
    shown = st.multiselect(
        "Reference layers",
        options=list(LAYER_NAMES),
        default=list(LAYER_NAMES),
        format_func=LAYER_TITLES.get,
    )
    convention = st.radio(
        "Contested place names",
        options=[c.value for c in Convention],
        format_func={
            "both": "Both (Armenian / Azerbaijani)",
            "armenian": "Armenian",
            "azerbaijani": "Azerbaijani",
        }.get,
    )
    web_tiles = st.toggle("Web map tiles (needs internet)", value=settings.web_tiles)

st.title("Nagorno-Karabakh conflict map")
if start > end:
    st.error("The period's start is after its end.")
    st.stop()

store = open_store(settings.db_path)
events = load_events(str(store.path), store.version(), start, end)
placed = int(events["latitude"].notna().sum())
st.caption(
    f"{len(events)} events from {start:%d %b %Y} to {end:%d %b %Y} ({len(events) - placed} "
    f"without a map point, e.g. statements); reference geography as on {end:%d %b %Y}. "
    "Click an event for its source and whose claim it is. Schematic geometry is labelled."
)

m = build_map(
    end, layers=shown, convention=convention, events=events, web_tiles=web_tiles, settings=settings
)
st_folium(m, height=620, use_container_width=True, returned_objects=[], key="map")

with st.expander(f"The {len(events)} events in this period"):
    table = events.assign(event_type=events["event_type"].map(EVENT_TYPES))
    st.dataframe(
        table[
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

with st.expander("Sources and accuracy of the layers shown"):
    for name in shown:
        gdf = layer_on(name, end, settings)
        st.markdown(f"**{LAYER_TITLES[name]}** ({len(gdf)} features on {end:%d %b %Y})")
        for source in sorted(set(gdf["source"].dropna())):
            st.text(source)
    st.markdown("**Events**: see data/events/SOURCES.md; each event names its publisher.")
