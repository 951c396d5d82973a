"""Map page (the default page): a period's events on the reference geography, with playback
and filters.

Thin page: read widgets (geo.ui), call geo, draw. The page never holds a period's events: the
store counts and aggregates them (geo.store.query) and hands the map its payload in batches.
"""

import streamlit as st

from geo import ui
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
# The map carries the whole data span and the browser shows the period: the map's page is
# loaded once, and a new period, framing or view reaches it as values (geo.map.live).
span = ui.map_span(settings, view)
returned = ui.live_map(settings, view, span, height=600)
view = ui.remember_map_view(view, returned)
ui.write_permalink(view)
counts = ui.period_summary(settings, view)
ui.summary(summary, counts, view)
ui.timeline(settings, view)
ui.proximity_table(settings, view)
ui.events_table(settings, view, counts.events)
st.caption("The address bar is a permalink to this view (period, filters, layers, map view).")
