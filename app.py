"""The dashboard's entry point (`streamlit run app.py`): its pages, named as users know them.

The map is the default page at the site's root; the others keep the addresses they had
(/Upload, /Sources, /Briefing), so permalinks and bookmarks stay valid.
"""

import streamlit as st

PAGES = [
    st.Page("pages/0_Map.py", title="Map", icon=":material/map:", default=True),
    st.Page(
        "pages/1_Upload.py", title="Upload events", icon=":material/upload:", url_path="Upload"
    ),
    st.Page("pages/2_Sources.py", title="Sources", icon=":material/menu_book:", url_path="Sources"),
    st.Page("pages/3_Briefing.py", title="Briefing", icon=":material/print:", url_path="Briefing"),
]
st.navigation(PAGES).run()
