"""Upload page (editors only): a dry run of a CSV of events (nothing is written), its import
as one batch, events found in a pasted report (reviewed, then imported the same way), and the
history of batches with Undo.

Thin page: read widgets, call geo, draw. Uploaded text is drawn as data (st.text, st.code,
data grids), never as Markdown; per-session state lives in st.session_state only."""

import streamlit as st

from geo import ui
from geo.errors import InputError
from geo.ingest import report as up
from geo.settings import get_settings
from geo.store import open_store

st.set_page_config(page_title="Upload events", page_icon="📤", layout="wide")
st.title("Upload events")
settings = get_settings()
identity = ui.require_role(settings, "editor")
store = open_store(settings.db_path)
upload_tab, report_tab, history_tab = st.tabs(
    ["Import a file", "From a report", "Import history and undo"]
)
with history_tab:  # drawn first: the file import flow below may stop the script
    ui.import_history(settings, identity)
with report_tab:  # a report -> reviewed candidate events -> the same dry run and import
    ui.report_tab(settings, identity, store)
with upload_tab:
    st.caption("Check a file first: nothing is written until you press Import.")
    file = st.file_uploader("Events file (CSV)", type=["csv", "txt", "tsv"], help=up.UPLOAD_HELP)
    if file is None:
        st.info("Choose a file to see what importing it would do.")
        st.stop()
    data = file.getvalue()
    fkey = up.file_key(data)
    done = st.session_state.get("upload_done") or (None, 0, 0, None)  # file, new, updated, view
    if done[0] == fkey:
        st.success(f"Imported {done[1]} new and {done[2]} updated events: they are on the map now.")
        if done[3]:  # the map at the imported events' period and extent
            st.page_link(
                "app_pages/0_Map.py",
                label="Open the map",
                icon=":material/map:",
                query_params=done[3].to_query(),
            )
    try:
        header = up.read_header(data)
    except InputError as exc:
        ui.problem("This file cannot be read.", up.plain_message(exc))
        st.stop()

    options = ui.upload_columns(header, fkey)
    date_key = f"date-format-{fkey}"
    date_format = (st.session_state.get(date_key) or "").strip() or None
    plan = ui.upload_dry_run(data, file.name, store, **options, date_format=date_format)
    if isinstance(plan, InputError):
        ui.problem("This file cannot be imported.", up.plain_message(plan))
    if date_format or (isinstance(plan, InputError) and up.is_date_order_problem(plan)):
        st.text_input("Date format", key=date_key, placeholder="%d/%m/%Y", help=up.DATE_FORMAT_HELP)
    if isinstance(plan, InputError):
        st.stop()
    ui.upload_report(plan, file.name)
    ui.upload_import(plan, store, identity, fkey, done=done[0] == fkey)
