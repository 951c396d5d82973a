"""Briefing export: the view on the map page as PNG, PDF, HTML or a zip of all three.

Thin page: read the view and the options, call geo.briefing, offer the files. Titles and
banners are user text: they are drawn with st.text / st.code only, never as Markdown.
"""

import tempfile
from pathlib import Path

import streamlit as st

from geo import briefing as snap
from geo import ui
from geo.errors import NkMapError
from geo.settings import get_settings
from geo.view import filter_events

st.set_page_config(page_title="Briefing export", page_icon="🗺️", layout="wide")
SIZES = {"1600 × 1000": (1600, 1000), "2400 × 1500": (2400, 1500), "1200 × 800": (1200, 800)}
SIZES["Phone, portrait (1080 × 1350)"] = (1080, 1350)
EXTENTS = {"Fit the view's events": {}, "The map page's current view": {"frame": "view"}}
EXTENTS["The whole region"] = {"bbox": snap.WHOLE_REGION}  # SnapshotOptions fields
MIME = {"png": "image/png", "pdf": "application/pdf", "html": "text/html"}

settings = get_settings()
ui.account_box(settings)
view = ui.current_view()
st.title("Briefing export")
counts = ui.period_summary(settings, view)  # counted by the store: no events read yet
st.caption(
    f"The map page's view ({counts.events:,} events): period, filters, layers, place names and "
    "map centre. Change it on the map; the link below reopens it."
)
st.text(view.describe())
st.code(snap.permalink(view, ui.app_url()), language=None)
if not settings.public_url:
    st.caption("Exports carry no link to the view: NKMAP_PUBLIC_URL is not set.")

default = snap.default_title(view, box=ui.view_box(settings, view))
title = st.text_input("Title", value=default, max_chars=200)
banner = st.text_input("Banner", placeholder="e.g. UNCLASSIFIED — for discussion", max_chars=200)
size = SIZES[st.selectbox("PNG size (pixels)", list(SIZES))]
extent = st.radio("Extent", list(EXTENTS), horizontal=True)
LABEL = "Label the most important events (most fatalities, then captures, then by date)"
label = st.number_input(LABEL, min_value=0, max_value=snap.MAX_LABELS, value=0)
columns = st.columns(len(snap.FORMATS))
chosen = [
    f
    for f, col in zip(snap.FORMATS, columns, strict=True)
    if col.checkbox(f.upper(), value=f in ("png", "pdf"), key=f"format-{f}")
]

if st.button("Make exports", type="primary", disabled=not chosen):
    options = snap.SnapshotOptions(
        title=title or None, banner=banner or None, size=size, label=int(label), **EXTENTS[extent]
    )
    files, bar = {}, st.progress(0.0)
    try:  # the exports carry every event of the view: read them now, once
        events = filter_events(ui.current_events(settings, view.start, view.end), view)
        with tempfile.TemporaryDirectory() as tmp:
            for n, fmt in enumerate(chosen):
                bar.progress(n / len(chosen), text=f"Drawing the {fmt.upper()}…")
                out = Path(tmp) / f"briefing-{view.start}-{view.end}.{fmt}"
                files[out.name] = snap.snapshot(view, out, options, settings, events).read_bytes()
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
    if name.endswith(".png"):
        st.image(data, caption=f"Preview of {name}")
