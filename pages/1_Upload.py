"""Upload page (editors only): a dry run of a CSV of events (nothing is written), its import
as one batch, and the history of batches with Undo.

Thin page: read widgets, call geo, draw. Uploaded text is drawn as data (st.text, st.code,
data grids), never as Markdown; per-session state lives in st.session_state only."""

import streamlit as st

from geo import ui
from geo import upload as up
from geo.errors import InputError, StoreError
from geo.ingest import apply_plan, plan_import
from geo.settings import get_settings
from geo.store import open_store

st.set_page_config(page_title="Upload events", page_icon="📤", layout="wide")


def dry_run(data: bytes, name: str, store, **options):
    """The plan (or the InputError refusing the file), recomputed only when an input changes."""
    key = up.plan_key(data, name=name, version=store.version(), **options)
    cached = st.session_state.get("upload_plan")
    if cached is None or cached[0] != key:
        bar = st.progress(0.0, text="Checking rows and placing them on the map…")
        try:
            plan = plan_import(
                data, store, source_name=name, progress=lambda n, t: bar.progress(n / t), **options
            )
        except InputError as exc:
            plan = exc
        bar.empty()
        cached = st.session_state["upload_plan"] = (key, plan)  # one per session: the latest
    return cached[1]


st.title("Upload events")
settings = get_settings()
identity = ui.require_role(settings, "editor")
store = open_store(settings.db_path)
upload_tab, history_tab = st.tabs(["Import a file", "Import history and undo"])
with history_tab:  # drawn first: the import flow below may stop the script
    ui.import_history(settings, identity)
with upload_tab:
    st.caption("Check a file first: nothing is written until you press Import.")
    file = st.file_uploader("Events file (CSV)", type=["csv", "txt", "tsv"], help=up.UPLOAD_HELP)
    if file is None:
        st.info("Choose a file to see what importing it would do.")
        st.stop()
    data = file.getvalue()
    fkey = up.file_key(data)
    done = st.session_state.get("upload_done") or (None, 0, 0)  # (file key, inserted, updated)
    if done[0] == fkey:
        st.success(f"Imported {done[1]} new and {done[2]} updated events: they are on the map now.")
        st.page_link("app.py", label="Open the map", icon=":material/map:")
    try:
        header = up.read_header(data)
    except InputError as exc:
        ui.problem("This file cannot be read.", up.plain_message(exc))
        st.stop()

    detected, formats = up.default_format(header), list(up.FORMATS)
    fmt = st.selectbox(
        "Format",
        formats,
        index=formats.index(detected),
        format_func=lambda f: up.FORMATS[f] + (" — detected" if f == detected else ""),
        key=f"format-{fkey}",
        help="Detected from the header; change it if the guess is wrong.",
    )

    st.subheader("Columns")
    preset = up.mapping_rows(header, fmt)
    edited = st.data_editor(
        preset,
        key=f"mapping-{fkey}-{fmt}",
        hide_index=True,
        num_rows="fixed",
        disabled=[up.SOURCE_COLUMN],
        column_config={
            up.TARGET_COLUMN: st.column_config.SelectboxColumn(
                options=list(up.MAP_TO_CHOICES), required=True, help="The event field it fills"
            )
        },
    )
    overrides, notes = up.overrides_from(preset, edited)
    for note in notes:
        st.warning("Two columns fill the same field:")
        st.text(note)

    date_key = f"date-format-{fkey}"
    date_format = (st.session_state.get(date_key) or "").strip() or None
    plan = dry_run(data, file.name, store, fmt=fmt, overrides=overrides, date_format=date_format)
    if isinstance(plan, InputError):
        ui.problem("This file cannot be imported.", up.plain_message(plan))
    if date_format or (isinstance(plan, InputError) and up.is_date_order_problem(plan)):
        st.text_input("Date format", key=date_key, placeholder="%d/%m/%Y", help=up.DATE_FORMAT_HELP)
    if isinstance(plan, InputError):
        st.stop()

    st.subheader("Dry run: what importing would do")
    for column, (label, value) in zip(st.columns(5), up.plan_metrics(plan).items(), strict=True):
        column.metric(label, value)
    st.text(up.plan_facts(plan))
    if plan.ignored_columns:
        st.text("Ignored columns: " + ", ".join(plan.ignored_columns))
    for heading, issues in (("Warnings", plan.warnings), ("Rejected rows", plan.rejects)):
        if issues:
            st.subheader(f"{heading} ({len(issues)})")
            st.dataframe(up.issues_frame(issues), hide_index=True)
    if plan.rejects:
        st.download_button(
            "Download the rejected rows (CSV)",
            up.rejects_csv(plan.rejects),
            file_name=up.reject_file_name(file.name),
            mime="text/csv",
        )

    why_not = up.nothing_to_import(plan)
    if why_not and done[0] != fkey:
        if plan.valid_rows == 0:
            st.error("No valid rows: nothing can be imported.")
        st.text(why_not)
    strict = st.checkbox(
        "Strict: all or nothing", help="Import nothing if any row is rejected.", key="strict"
    )
    if st.button(up.import_label(plan), type="primary", disabled=why_not is not None, key="import"):
        try:
            result = apply_plan(plan, store, strict=strict, user=identity.label)
        except (InputError, StoreError) as exc:
            ui.problem("Nothing was imported.", up.plain_message(exc))
        else:
            st.session_state["upload_done"] = (fkey, result.inserted, result.updated)
            st.rerun()
