"""AppTest tests of the upload page: dry run, import, strict mode, dates, mapping, sessions,
and the files a new user brings (free-text columns, no type column, unknown counts, ambiguous
places, swapped coordinates). After an import, "Open the map" is a permalink to the imported
events' period and extent. Tests start at app.py and switch to the page (as a user does)."""

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import geo.ingest
from geo import auth
from geo.ingest import report as up
from geo.store import open_store
from tests.pages.conftest import EDITOR, VIEWER

REPO = Path(__file__).resolve().parents[2]
APP = str(REPO / "app.py")
PAGE = "app_pages/1_Upload.py"
TIMEOUT = 120  # the first geocode loads the offline gazetteer

HEADER = "event_id,event_date,event_type,location,source,notes\n"

GOOD_AND_BAD = (
    HEADER + "up-test-goris,2020-10-03,shelling,Goris,Test wire 2020-10-03,new place\n"
    "up-test-bad,2020-13-45,shelling,Goris,Test wire,impossible date\n"
).encode()


def signed_in(at: AppTest, name: str = EDITOR, role: str = "editor") -> AppTest:
    """The session as the sign-in form leaves it (tests/browser signs in through the form)."""
    now = dt.datetime.now(dt.UTC)
    at.session_state["_session"] = auth.Session(auth.Identity(name, role), now, now)
    return at


def upload_page(data: bytes | None = None, name: str = "events.csv") -> AppTest:
    at = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT))
    at.switch_page(PAGE)
    at.run()
    if data is not None:
        at.file_uploader[0].set_value((name, data, "text/csv"))
        at.run()
    assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, int]:
    return {m.label: int(m.value) for m in at.metric}


def map_link(at: AppTest) -> str:
    """Where the "Open the map" link goes: the map page with the view as its query string
    (and the session's view set to it, so the map opens there in the same tab)."""
    (link,) = [b for b in at.get("page_link") if b.proto.label == "Open the map"]
    assert at.session_state["_view"].to_query() == dict(
        pair.split("=") for pair in link.proto.query_string.split("&")
    )
    return "/?" + link.proto.query_string


def warnings_table(at: AppTest) -> list[dict]:
    """The rows of the warnings table (drawn before the rejects table)."""
    assert any(h.value.startswith("Warnings (") for h in at.subheader)
    table = next(df.value for df in at.dataframe if "reason" in df.value.columns)
    return table.to_dict("records")


def test_page_runs_on_its_own(db):
    at = signed_in(AppTest.from_file(str(REPO / PAGE), default_timeout=TIMEOUT)).run()
    assert not at.exception
    assert at.title[0].value == "Upload events"
    assert "50 MB" in at.file_uploader[0].help
    assert at.file_uploader[0].allowed_type == [".csv", ".txt", ".tsv"]


def test_dry_run_reports_and_writes_nothing(db):
    at = upload_page(GOOD_AND_BAD)
    assert metrics(at) == {"New": 1, "Updated": 0, "Duplicates": 0, "Rejected": 1, "Geocoded": 1}
    assert "encoding utf-8 · delimiter comma" in " ".join(t.value for t in at.text)
    rejects = at.dataframe[-1].value
    assert rejects.to_dict("records") == [
        {"line": 3, "column": "event_date", "value": "2020-13-45", "reason": "impossible date"}
    ]
    assert at.button(key="import").label == "Import 1 event"
    assert [b.label for b in at.get("download_button")]
    assert open_store(db).count() == 0


def test_import_writes_the_store_and_links_to_the_map(db):
    at = upload_page(GOOD_AND_BAD)
    version = open_store(db).version()
    at.button(key="import").click().run()
    assert not at.exception
    store = open_store(db)
    assert store.version() > version  # the map's cache key changes: the event shows at once
    events = store.events()
    assert events["event_id"].tolist() == ["up-test-goris"]
    assert events["latitude"].iloc[0] == pytest.approx(39.511, abs=0.01)  # geocoded: Goris
    assert "Imported 1 new" in at.success[0].value
    assert map_link(at).endswith("/?from=2020-10-03&to=2020-10-03&lat=39.5111&lon=46.3417&z=10")
    # The dry run is redone against the new store: the row is now a duplicate.
    assert metrics(at)["Duplicates"] == 1 and metrics(at)["New"] == 0
    assert at.button(key="import").disabled


def test_strict_refuses_a_file_with_rejects(db):
    at = upload_page(GOOD_AND_BAD)
    at.checkbox(key="strict").check().run()
    at.button(key="import").click().run()
    assert not at.exception
    assert "Nothing was imported" in at.error[0].value
    assert open_store(db).count() == 0


def test_zero_valid_rows_is_an_error_and_imports_nothing(db):
    at = upload_page((HEADER + "x,2020-02-30,shelling,Goris,Test,bad day\n").encode())
    assert "No valid rows" in at.error[0].value
    assert at.button(key="import").disabled
    assert open_store(db).count() == 0


def test_ambiguous_dates_offer_a_date_format(db):
    data = (
        b"event_date,event_type,latitude,longitude,source\n"
        b"05/10/2020,shelling,39.81,46.75,Test\n"
        b"06/10/2020,shelling,39.81,46.75,Test\n"
    )
    at = upload_page(data)
    assert "cannot be imported" in at.error[0].value
    assert "ambiguous" in at.code[0].value  # the details, as plain text
    assert "--date-format" not in at.code[0].value
    assert not at.metric
    at.text_input(key=f"date-format-{up.file_key(data)}").input("%d/%m/%Y").run()
    assert not at.exception and not at.error
    assert metrics(at)["New"] == 2
    dates = open_store(db).events()  # still a dry run
    assert dates.empty


def test_mapping_table_edits_become_overrides(db):
    data = b"When,What,Lat,Lon,Who said\n2020-10-04,shelling,39.81,46.75,Test wire 2020-10-04\n"
    at = upload_page(data)
    assert "no column gives the event date" in at.code[0].value
    table = at.data_editor[0].value
    assert table[up.TARGET_COLUMN].tolist()[:2] == [up.IGNORE, up.IGNORE]
    key = f"mapping-{up.file_key(data)}-generic"
    at.session_state[key] = {
        "edited_rows": {0: {up.TARGET_COLUMN: "event_date"}, 1: {up.TARGET_COLUMN: "event_type"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception and not at.error
    assert metrics(at)["New"] == 1
    assert "Ignored columns: Who said" in " ".join(t.value for t in at.text)


def test_the_plan_is_not_recomputed_on_every_rerun(db, monkeypatch):
    calls = []
    real = geo.ingest.plan_import

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(geo.ingest, "plan_import", counting)
    at = upload_page(GOOD_AND_BAD)
    at.run()
    at.checkbox(key="strict").check().run()
    assert len(calls) == 1
    at.selectbox(key=f"format-{up.file_key(GOOD_AND_BAD)}").select(
        "generic"
    ).run()  # an option changed: a new plan
    assert len(calls) == 2


def test_sessions_do_not_see_each_others_uploads(db):
    first = upload_page(GOOD_AND_BAD, name="first.csv")
    other = (HEADER + "up-test-other,2020-10-03,shelling,,Test,no place\n").encode()
    second = upload_page(other, name="second.csv")
    assert metrics(first)["New"] == 1 and metrics(first)["Rejected"] == 1
    assert metrics(second) == {
        "New": 0,
        "Updated": 0,
        "Duplicates": 0,
        "Rejected": 1,
        "Geocoded": 0,
    }
    assert second.session_state["upload_plan"][0] != first.session_state["upload_plan"][0]
    fresh = upload_page()
    assert not fresh.metric and "upload_plan" not in fresh.session_state


# ------------------------------------------------------------------ who may change the record


def test_a_visitor_who_is_not_signed_in_cannot_import(db):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    assert not at.file_uploader
    assert "import" not in [b.key for b in at.button]
    assert any("editor account" in i.value for i in at.info)
    assert [t.label for t in at.text_input] == ["Account name", "Password"]
    assert open_store(db).imports() == []


def test_a_viewer_cannot_import_either(db):
    at = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT), VIEWER, "viewer")
    at.switch_page(PAGE)
    at.run()
    assert not at.exception and not at.file_uploader
    assert "needs the editor role" in at.warning[0].value


def _sign_in_through_the_form(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    at.button[0].click().run()  # the form's submit button
    return at


def test_signing_in_through_the_form_opens_the_upload_page(db):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page(PAGE)
    at.run()
    _sign_in_through_the_form(at, EDITOR, "a long test password")
    assert not at.exception
    assert at.file_uploader, "the editor sees the uploader after signing in"
    assert f"Signed in: {EDITOR} (editor)" in " ".join(t.value for t in at.sidebar.text)


def test_a_wrong_password_is_refused_with_a_plain_message(db):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page(PAGE)
    at.run()
    _sign_in_through_the_form(at, EDITOR, "not the password at all")
    assert not at.exception and not at.file_uploader
    assert at.error[0].value == "Sign-in refused."
    assert "wrong account name or password" in " ".join(t.value for t in at.text)


def test_an_editor_demoted_mid_session_cannot_import(db):
    at = upload_page(GOOD_AND_BAD)
    open_store(db).set_role(EDITOR, "viewer")
    at.run()
    assert not at.file_uploader and "needs the editor role" in at.warning[0].value
    assert open_store(db).imports() == []


def test_the_import_is_a_batch_with_its_editor_and_can_be_undone_on_the_page(db):
    at = upload_page(GOOD_AND_BAD, name="goris.csv")
    at.button(key="import").click().run()
    store = open_store(db)
    (batch,) = store.imports()
    assert (batch.user, batch.file, batch.inserted, batch.rejected) == (EDITOR, "goris.csv", 1, 1)
    assert len(batch.sha256) == 64
    history = next(df.value for df in at.dataframe if "file sha256" in df.value.columns)
    assert history["who"].tolist() == [EDITOR] and history["file sha256"][0] == batch.sha256[:12]
    at.selectbox(key="undo-batch").select(batch.id).run()
    assert at.button(key="undo").disabled  # not before the user says yes
    at.checkbox(key="undo-sure").check().run()
    at.button(key="undo").click().run()
    assert not at.exception
    assert "Batch 1 undone" in at.success[0].value
    assert open_store(db).count() == 0
    (undo, undone) = open_store(db).imports()
    assert undo.undo_of == batch.id and undone.undone_by == EDITOR


# ------------------------------------------------------------------ files a new user brings

HAND_MADE = (
    b"Date,Place,Killed,What happened,Lat,Lon,Source\n"
    b"2020-10-04,Ganja,unknown,Shelling hit the old town,40.6828,46.3606,AP\n"
    b"2020-10-06,Ganja,2,Swapped by hand,46.3606,40.6828,AP\n"
    b"2020-10-05,Martuni,3,Which Martuni?,,,AP\n"
)


def test_a_hand_made_file_is_understood(db):
    at = upload_page(HAND_MADE)
    table = at.data_editor[0].value
    assert (
        dict(zip(table[up.SOURCE_COLUMN], table[up.TARGET_COLUMN], strict=True))["What happened"]
        == "notes"
    )
    assert metrics(at)["New"] == 3 and metrics(at)["Rejected"] == 0  # "unknown" killed: blank
    rows = warnings_table(at)
    assert all(isinstance(r["line"], int) for r in rows)  # every warning has its line
    by_line = {(r["line"], r["column"]): r["reason"] for r in rows}
    assert by_line[(2, "event_type")] == "no event type: recorded as 'other'"
    assert by_line[(3, "latitude")].startswith("latitude and longitude were swapped")
    assert "Martuni → Khojavend (AZ), also Martuni, Gegharkunik (AM)" in by_line[(4, "location")]
    assert "add country AM" in by_line[(4, "location")]


def test_a_file_without_a_type_column_lets_the_editor_pick_one(db):
    at = upload_page(HAND_MADE)
    picker = at.selectbox(key=f"type-{up.file_key(HAND_MADE)}")
    assert picker.value == up.NO_TYPE  # none chosen: nothing is made up silently
    picker.select("shelling").run()
    assert not at.exception
    assert not [r for r in warnings_table(at) if r["column"] == "event_type"]
    at.button(key="import").click().run()
    assert set(open_store(db).events()["event_type"]) == {"shelling"}


def test_no_type_picker_when_a_column_gives_the_type(db):
    at = upload_page(GOOD_AND_BAD)
    assert f"type-{up.file_key(GOOD_AND_BAD)}" not in [s.key for s in at.selectbox]


def test_open_the_map_shows_the_imported_period_and_extent(db):
    at = upload_page(HAND_MADE)
    at.button(key="import").click().run()
    assert not at.exception
    link = map_link(at)
    assert "?from=2020-10-04&to=2020-10-06&" in link
    query = dict(pair.split("=") for pair in link.split("?")[1].split("&"))
    assert 39.7 < float(query["lat"]) < 40.7 and 46.3 < float(query["lon"]) < 47.2
    assert 7 <= int(query["z"]) <= 10
