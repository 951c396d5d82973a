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
# Every store read below stops when the user asks for another view meanwhile: the new run
# has started, and the old one's aggregates would take a core for seconds (geo.store.giveway).
with ui.giving_way():
    # The map carries the whole data span and the browser shows the period: the map's page is
    # loaded once, and a new period, framing or view reaches it as values (geo.map.live).
    span = ui.map_span(settings, view)
    shown = ui.live_map(settings, view, span, height=600)
    view = ui.remember_map_view(view, shown.view)
    ui.write_permalink(view)
    ui.summary(summary, view)
    # The map first: what is under it is counted once the map has drawn the period (it says so,
    # and the page reruns), so the store's aggregates do not compete with the draw.
    counts = ui.period_summary(settings, view) if shown.drawn else None
    line = st.empty()
    ui.counts_line(line, counts, view)
    # The page under the map stays as it is until the map has drawn (or the hold runs out).
    if not shown.drawn and ui.hold_while_the_map_draws():
        ui.counts_line(line, counts, view)  # held no longer: placeholders come instead
    ui.timeline(settings, view, drawn=shown.drawn)
    ui.proximity_table(settings, view, drawn=shown.drawn)
    ui.events_table(settings, view, counts.events if counts else None)
    ui.sections_shown(shown.drawn)
st.caption("The address bar is a permalink to this view (period, filters, layers, map view).")
