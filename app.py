"""The dashboard's entry point (`streamlit run app.py`): its pages, named as users know them.

The map is the default page at the site's root; the others keep the addresses they had
(/Upload, /Sources, /Briefing), so permalinks and bookmarks stay valid. Icons are emoji, drawn
by the system's fonts: Streamlit's Material icons would be fetched from a font server.
"""

import streamlit as st

PAGES = [
    st.Page("pages/0_Map.py", title="Map", icon="🗺️", default=True),
    st.Page("pages/1_Upload.py", title="Upload events", icon="📤", url_path="Upload"),
    st.Page("pages/2_Sources.py", title="Sources", icon="📚", url_path="Sources"),
    st.Page("pages/3_Briefing.py", title="Briefing", icon="🖨️", url_path="Briefing"),
]
st.navigation(PAGES).run()
