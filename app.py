"""The dashboard's entry point (`streamlit run app.py`): its pages, named as users know them.

The map is the default page at the site's root; the others keep the addresses they had
(/Upload, /Sources, /Briefing), so permalinks and bookmarks stay valid. No icons: Streamlit
fetches its Material icons from a font server, and emoji need a font the browser may lack.
"""

import streamlit as st

from geo import ui

PAGES = [
    st.Page("app_pages/0_Map.py", title="Map", default=True),
    st.Page("app_pages/1_Upload.py", title="Upload events", url_path="Upload"),
    st.Page("app_pages/2_Sources.py", title="Sources", url_path="Sources"),
    st.Page("app_pages/3_Briefing.py", title="Briefing", url_path="Briefing"),
]
page = st.navigation(PAGES)
ui.page_entered(page.url_path)
page.run()
