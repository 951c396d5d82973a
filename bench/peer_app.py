"""The peer of the map page (bench/dashboard.py, `app_page_open`): a minimal Streamlit page.

`NKMAP_DB=STORE streamlit run bench/peer_app.py`, opened at `/?from=YYYY-MM-DD&to=YYYY-MM-DD`
(default: the store's whole span). It reads the period's events from the same store the app
reads (`store.frames`, in batches) and draws every located one as a point of a deck.gl
ScatterplotLayer (`st.pydeck_chart`), with no basemap (`map_style=None`: nothing is fetched
off the machine). No sidebar, filters, timeline, table or time control: what a plain
Streamlit + pydeck page costs for the same points.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import pandas as pd
import pydeck as pdk
import streamlit as st

# `streamlit run bench/peer_app.py` puts bench/ on the path, not the repo root that geo/ is in.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.store import open_store  # noqa: E402
from geo.view import View  # noqa: E402

COLUMNS = ["latitude", "longitude", "event_type"]
# One colour per event type (RGB), a fixed palette cycled over the sorted types.
PALETTE = ((215, 48, 39), (69, 117, 180), (26, 152, 80), (152, 78, 163), (255, 127, 0))


@st.cache_data(show_spinner=False)
def points(db: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """The located events of [start, end]: latitude, longitude, event_type and a colour."""
    frames = [f[COLUMNS] for f in open_store(db).frames(View(start=start, end=end))]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    frame = frame.dropna(subset=["latitude", "longitude"]).reset_index(drop=True)
    frame["latitude"] = frame["latitude"].astype(float)
    frame["longitude"] = frame["longitude"].astype(float)
    types = sorted(frame["event_type"].unique())
    colours = {t: list(PALETTE[i % len(PALETTE)]) for i, t in enumerate(types)}
    frame["colour"] = frame["event_type"].map(colours)
    return frame


def _day(name: str, default: dt.date) -> dt.date:
    value = st.query_params.get(name)
    return dt.date.fromisoformat(value) if value else default


def main() -> None:
    st.set_page_config(page_title="Peer map", layout="wide")
    db = os.environ["NKMAP_DB"]
    span = open_store(db).date_span() or (dt.date.today(), dt.date.today())
    start, end = _day("from", span[0]), _day("to", span[1])
    frame = points(db, start, end)
    st.caption(f"{len(frame):,} events, {start} to {end}")
    centre = (
        (float(frame["latitude"].mean()), float(frame["longitude"].mean()))
        if len(frame)
        else (39.8, 46.8)
    )
    layer = pdk.Layer(
        "ScatterplotLayer",
        data=frame,
        get_position="[longitude, latitude]",
        get_fill_color="colour",
        get_radius=300,
        radius_min_pixels=2,
        pickable=False,
    )
    view = pdk.ViewState(latitude=centre[0], longitude=centre[1], zoom=8)
    st.pydeck_chart(pdk.Deck(layers=[layer], map_style=None, initial_view_state=view), height=700)


main()
