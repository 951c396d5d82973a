"""Map page: the reference geography of the Nagorno-Karabakh conflict on a chosen day.

Thin page: read widgets, call geo, draw. The full dashboard (events, playback, filters) builds
on this page.
"""

import datetime as dt

import streamlit as st
from streamlit_folium import st_folium

from geo.layers import LAYER_NAMES, LAYER_TITLES, layer_on
from geo.mapview import build_map
from geo.names import Convention
from geo.settings import get_settings

FIRST_DAY = dt.date(1994, 5, 12)  # the 1994 ceasefire
LAST_DAY = dt.date(2024, 12, 31)
DEFAULT_DAY = dt.date(2020, 10, 5)  # the seed article: the OSCE co-chairs' ceasefire call

st.set_page_config(page_title="Karabakh conflict map", page_icon="🗺️", layout="wide")
settings = get_settings()

with st.sidebar:
    st.header("View")
    day = st.date_input(
        "Reference layers on",
        value=DEFAULT_DAY,
        min_value=FIRST_DAY,
        max_value=LAST_DAY,
        help="Held areas and the line of contact change with the date.",
    )
    shown = st.multiselect(
        "Layers",
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
st.caption(
    f"Reference geography on {day:%d %b %Y}. Schematic geometry is labelled as such; "
    "hover a feature for its source and accuracy."
)

m = build_map(day, layers=shown, convention=convention, web_tiles=web_tiles, settings=settings)
st_folium(m, height=620, use_container_width=True, returned_objects=[], key="map")

with st.expander("Sources and accuracy of the layers shown"):
    for name in shown:
        gdf = layer_on(name, day, settings)
        st.markdown(f"**{LAYER_TITLES[name]}** ({len(gdf)} features on this day)")
        for source in sorted(set(gdf["source"].dropna())):
            st.text(source)
