"""Pure helpers of the upload page (geo.ingest.report)."""

import csv
import datetime as dt
import io
import re

import pytest

from geo.errors import InputError
from geo.ingest import ImportPlan, RowIssue, column_mapping, plan_import
from geo.ingest import report as up
from geo.store import Record, open_store
from geo.view import View


def test_read_header_strips_and_refuses_empty_files():
    assert up.read_header("\ufeff Date ;Place\n2020-10-01;Goris\n".encode()) == ["Date", "Place"]
    with pytest.raises(InputError, match="empty"):
        up.read_header(b"\n\n")


def test_mapping_rows_show_the_preset_even_without_a_date_column():
    table = up.mapping_rows(["When", "Place", "Lat", "Lon", "Killed"], "generic")
    assert table[up.TARGET_COLUMN].tolist() == [
        up.IGNORE,
        "location",
        "latitude",
        "longitude",
        "fatalities",
    ]
    assert set(table[up.TARGET_COLUMN]) <= set(up.MAP_TO_CHOICES)


def test_edits_become_overrides_and_ignore_drops_a_preset_column():
    preset = up.mapping_rows(["When", "Place", "Notes"], "generic")
    edited = preset.copy()
    edited[up.TARGET_COLUMN] = ["event_date", up.IGNORE, "notes"]
    overrides, notes = up.overrides_from(preset, edited)
    assert overrides == {"When": "event_date", "Place": ""}
    assert notes == []
    mapping, ignored = column_mapping(["When", "Place", "Notes"], "generic", overrides)
    assert "Place" not in mapping and "Place" in ignored


def test_two_columns_on_one_target_keep_the_last():
    preset = up.mapping_rows(["A", "B", "date"], "generic")
    edited = preset.copy()
    edited[up.TARGET_COLUMN] = ["notes", "notes", "event_date"]
    overrides, notes = up.overrides_from(preset, edited)
    assert overrides == {"B": "notes"}
    assert "both map to 'notes'" in notes[0]


def test_plan_key_changes_with_bytes_and_options_only():
    key = up.plan_key(b"a", fmt="native", overrides={"x": "notes"})
    assert key == up.plan_key(b"a", overrides={"x": "notes"}, fmt="native")
    assert key != up.plan_key(b"b", fmt="native", overrides={"x": "notes"})
    assert key != up.plan_key(b"a", fmt="generic", overrides={"x": "notes"})


def test_messages_name_the_page_fields_not_command_line_flags():
    with pytest.raises(InputError) as caught:
        plan_import(b"date,type\n05/10/2020,shelling\n06/10/2020,shelling\n", store=None)
    assert up.is_date_order_problem(caught.value)
    text = up.plain_message(caught.value)
    assert "--" not in text and "a date format" in text


def test_escape_markdown_leaves_no_live_markup():
    payload = "![x](http://example.invalid/a.png) <img src=x onerror=alert(1)> $x$ :red[y] *b*"
    escaped = up.escape_markdown(payload)
    assert re.search(r"(?<!\\)[!\[\]()<>$:*=]", escaped) is None  # each special escaped
    assert escaped.replace("\\", "") == payload


def test_report_helpers(tmp_path):
    store = open_store(tmp_path / "events.sqlite")
    data = (
        b"event_id,event_date,event_type,location,source\n"
        b"a,2020-10-03,shelling,Goris,Test\n"
        b"b,2020-10-03,shelling,=HYPERLINK(1),Test\n"
    )
    plan = plan_import(data, store)
    assert up.plan_metrics(plan) == {
        "New": 1,
        "Updated": 0,
        "Duplicates": 0,
        "Rejected": 1,
        "Geocoded": 1,
    }
    assert up.plan_facts(plan) == "2 rows read · encoding utf-8 · delimiter comma · dates iso"
    assert up.import_label(plan) == "Import 1 event"
    assert up.nothing_to_import(plan) is None
    frame = up.issues_frame(plan.rejects)
    assert frame.to_dict("records")[0]["line"] == 3
    rows = list(csv.reader(io.StringIO(up.rejects_csv(plan.rejects))))
    assert rows[0] == ["line", "column", "value", "reason"]
    assert rows[1][2] == "'=HYPERLINK(1)"  # neutralised for spreadsheets


def test_nothing_to_import_says_why():
    empty = ImportPlan("f.csv", "utf-8", ",", "native", {}, [], "iso", rows=1)
    empty.rejects.append(RowIssue(2, "event_date", "x", "not a date"))
    assert "No valid rows (1 rows read)" in up.nothing_to_import(empty)
    assert "not a date" in up.nothing_to_import(empty)
    known = ImportPlan("f.csv", "utf-8", ",", "native", {}, [], "iso", rows=1, duplicates=["a"])
    assert "already in the store" in up.nothing_to_import(known)


def test_reject_file_name_is_safe():
    assert up.reject_file_name("war notes.csv") == "war_notes-rejects.csv"
    assert up.reject_file_name("../../x") == "x-rejects.csv"
    assert up.reject_file_name("C:\\data\\war.csv") == "war-rejects.csv"
    assert up.reject_file_name("") == "upload-rejects.csv"


# ------------------------------------------------------------------ the map after an import


def test_the_view_of_an_import_is_its_period_and_extent(tmp_path):
    store = open_store(tmp_path / "events.sqlite")
    data = (
        b"event_id,event_date,date_end,event_type,latitude,longitude,source\n"
        b"a,2020-10-04,,shelling,39.8,46.3,T\n"
        b"b,2020-09-27,2020-10-09,shelling,40.7,47.2,T\n"
        b"c,2020-10-01,,statement,,,T\n"
    )
    view = up.imported_view(plan_import(data, store))
    assert (view.start.isoformat(), view.end.isoformat()) == ("2020-09-27", "2020-10-09")
    assert view.center == pytest.approx((40.25, 46.75)) and view.zoom == 9
    query = view.to_query()  # what the "Open the map" link carries
    assert (query["from"], query["to"]) == ("2020-09-27", "2020-10-09")
    assert (query["lat"], query["lon"], query["z"]) == ("40.2500", "46.7500", "9")
    assert View.from_query(query) == view


def test_no_view_when_nothing_is_written_and_no_extent_without_points():
    empty = ImportPlan("f.csv", "utf-8", ",", "native", {}, [], "iso", rows=1)
    assert up.imported_view(empty) is None
    only_statements = ImportPlan("f.csv", "utf-8", ",", "native", {}, [], "iso", rows=1)
    only_statements.inserts.append(
        Record({"event_date": dt.date(2020, 10, 4), "date_end": None}, "h")
    )
    view = up.imported_view(only_statements)
    assert view.start == view.end and view.center is None and view.zoom is None


def test_the_type_picker_is_for_files_without_a_type_column():
    with_type = up.mapping_rows(["Date", "Type", "Place"], "generic")
    without = up.mapping_rows(["Date", "What happened", "Place"], "generic")
    assert up.maps_event_type(with_type) and not up.maps_event_type(without)
    assert without[up.TARGET_COLUMN].tolist() == ["event_date", "notes", "location"]
    assert up.TYPE_CHOICES[0] == up.NO_TYPE and "Other" in up.type_label(up.NO_TYPE)
    assert up.type_label("shelling") == "Shelling / artillery"
