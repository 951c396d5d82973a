"""Sources and accuracy: where every layer and event comes from, and how far to trust it.

Thin page: geo.provenance reads, this page draws. Data strings only ever go into st.dataframe;
st.markdown renders our own SOURCES.md files.
"""

import streamlit as st

from geo import ui
from geo.errors import NkMapError
from geo.layers import LAYER_NAMES, LAYER_TITLES
from geo.provenance import (
    ATTRIBUTION,
    build_manifest,
    layer_provenance,
    manifest_versions,
    publishers_of,
    sources_markdown,
    verifications_of,
)
from geo.settings import get_settings

st.set_page_config(page_title="Sources and accuracy", page_icon="🗺️", layout="wide")
settings = get_settings()
ui.account_box(settings)

st.title("Sources and accuracy")
st.caption(ATTRIBUTION)

st.header("Reference layers")
provenance = layer_provenance(settings)
for name in LAYER_NAMES:
    rows = provenance[provenance["layer"] == name]
    total = int(rows["layer_features"].iloc[0]) if len(rows) else 0
    st.subheader(LAYER_TITLES[name])
    st.caption(f"Layer `{name}`: {total} feature{'s' if total != 1 else ''}")
    # Features first: long source/accuracy texts would push the count off screen.
    st.dataframe(
        rows[["features", "source", "accuracy"]],
        hide_index=True,
        height="content",
        column_config={
            "features": st.column_config.NumberColumn(width="small"),
            "source": st.column_config.TextColumn(width="large"),
            "accuracy": st.column_config.TextColumn(width="large"),
        },
    )

st.header("Build manifest")
st.caption(
    "Source versions of the last `make boundaries` and `make basemap` (the manifest.json in "
    "data/boundaries and data/basemap)."
)
st.dataframe(manifest_versions(build_manifest(settings)), hide_index=True)

st.header("Event store")
try:
    sources, checks = ui.value_counts(settings, "source"), ui.value_counts(settings, "verification")
except NkMapError as exc:
    ui.problem("The event store cannot be read.", exc)
else:
    st.caption(f"{int(sources.sum())} events in the store.")
    left, right = st.columns(2)
    with left:
        st.subheader("Events per publisher (top 30)")
        st.dataframe(publishers_of(sources, top=30), hide_index=True, height="content")
    with right:
        st.subheader("Events per verification")
        st.dataframe(verifications_of(checks), hide_index=True)

st.header("Source notes")
for label, text in sources_markdown(settings).items():
    with st.expander(label, expanded=True):
        st.markdown(text)
