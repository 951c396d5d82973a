"""Briefing export: the view on the map page as PNG, PDF, HTML or a zip of all three.

Thin page: read the view and the options, call geo.snapshot, offer the files. Titles and
banners are user text: they are drawn with st.text / st.code only, never as Markdown.
"""

import tempfile
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st

from geo import ui
from geo.errors import NkMapError
from geo.filters import View, filter_events
from geo.settings import get_settings
from geo.snapshot import FORMATS, SnapshotOptions, snapshot

st.set_page_config(page_title="Briefing export", page_icon="🗺️", layout="wide")
ISO, WHOLE = (lambda d: d.isoformat()), (lambda n: str(int(n)))
# The map page's widget state in its URL form (View.from_query then reads it defensively).
AS_TEXT = {"from": ISO, "to": ISO, "types": ",".join, "sides": ",".join, "claimed": "|".join}
AS_TEXT |= {"fmin": WHOLE, "fmax": WHOLE, "precise": lambda b: "1" if b else "", "q": str}
AS_TEXT |= {"layers": ",".join, "names": str}
SIZES = {"1600 × 1000": (1600, 1000), "2400 × 1500": (2400, 1500), "1200 × 800": (1200, 800)}
MIME = {"png": "image/png", "pdf": "application/pdf", "html": "text/html"}
# Armenia, Azerbaijan and Nakhchivan: lon_min, lat_min, lon_max, lat_max.
REGION_BBOX = (43.4, 38.3, 50.7, 42.0)


def map_view() -> View:
    """The map page's view as it left it in this session, else the URL's (a permalink).

    In a browser Streamlit clears a page's widget state when another page opens, so a View
    the map page keeps under "_view" comes first; then its widget keys, read through
    View.from_query (a missing or odd value falls back as a permalink's does)."""
    s, query = st.session_state, st.query_params.to_dict()
    if isinstance(s.get("_view"), View):
        return s["_view"]
    if not s.get("_view_ready"):
        return View.from_query(query)
    for key, text in AS_TEXT.items():
        try:
            query[key] = "" if s[key] is None else text(s[key])
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # not set by the map page, or unreadable: the URL's value stands
    try:
        lat, lon = s["_center"]
        query.update(lat=f"{float(lat):.4f}", lon=f"{float(lon):.4f}", z=str(int(s["_zoom"])))
    except (KeyError, TypeError, ValueError):
        pass
    view = View.from_query({k: v for k, v in query.items() if v})
    return replace(view, layers=()) if query.get("layers") == "" else view


settings, view = get_settings(), map_view()
ui.account_box(settings)
st.title("Briefing export")
events = filter_events(ui.current_events(settings, view.start, view.end), view)
st.caption(
    f"The map page's view ({len(events)} events): period, filters, layers, place names and "
    "map centre. Change it on the map; the link below reopens it."
)
st.text(view.describe())
# The app's address: st.context.url may still end with this page's path.
base = (st.context.url or "http://localhost:8501").rstrip("/").removesuffix("/Briefing") + "/"
permalink = base + "?" + urlencode(view.to_query())
st.code(permalink, language=None)

period = view.describe().split("; ")[0]
title = st.text_input("Title", value=f"Nagorno-Karabakh: {period}", max_chars=200)
banner = st.text_input("Banner", placeholder="e.g. UNCLASSIFIED — for discussion", max_chars=200)
size = SIZES[st.selectbox("PNG size (pixels)", list(SIZES))]
extent = st.radio("Extent", ["The map page's current view", "The whole region"], horizontal=True)
columns = st.columns(len(FORMATS))
chosen = [
    f
    for f, col in zip(FORMATS, columns, strict=True)
    if col.checkbox(f.upper(), value=f in ("png", "pdf"), key=f"format-{f}")
]

if st.button("Make exports", type="primary", disabled=not chosen):
    options = SnapshotOptions(
        title=title or None,
        banner=banner or None,
        size=size,
        bbox=None if extent.startswith("The map") else REGION_BBOX,  # None: its centre/zoom
        permalink_base=base,
    )
    files, bar = {}, st.progress(0.0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n, fmt in enumerate(chosen):
                bar.progress(n / len(chosen), text=f"Drawing the {fmt.upper()}…")
                out = Path(tmp) / f"briefing-{view.start}-{view.end}.{fmt}"
                path = snapshot(view, out, options, settings, events)
                files[path.name] = path.read_bytes()
    except (NkMapError, ValueError) as exc:
        st.session_state.pop("briefing", None)
        ui.problem("The export failed; nothing was written.", exc)
    else:
        st.session_state["briefing"] = (view.describe(), files)  # kept across reruns
    bar.empty()

made_for, files = st.session_state.get("briefing", ("", {}))
if files:
    st.text(f"Exports of: {made_for}")
for name, data in files.items():
    mime = MIME.get(name.rsplit(".", 1)[-1], "application/zip")
    st.download_button(f"Download {name}", data, file_name=name, mime=mime, on_click="ignore")
for name, data in files.items():
    if name.endswith(".png"):
        st.image(data, caption=f"Preview of {name}")
