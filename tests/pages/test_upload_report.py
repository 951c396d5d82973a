"""The Upload page's "From a report" tab (AppTest, nothing mocked): a report -> candidate events
in an editable table, the report's text with each candidate's sentence highlighted, a map
preview, and the same dry run and import (one batch, with the user, undoable) as a file.
Hostile text in a report is shown escaped and imported byte for byte. Also the tab's pure
helpers (geo.extract.review): the table <-> CSV round trip and the highlighted markup."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo import auth
from geo.extract import extract_report, review, to_csv
from geo.store import open_store
from tests.hostile import EVALUATED, PAYLOADS, assert_inert
from tests.pages.conftest import EDITOR, VIEWER

REPO = Path(__file__).resolve().parents[2]
APP = str(REPO / "app.py")
PAGE = "app_pages/1_Upload.py"
TIMEOUT = 120  # the first geocode loads the offline gazetteer

SEED = (REPO / "tests" / "extract" / "seed_report.txt").read_text(encoding="utf-8")
PUBLISHED = dt.date(2020, 10, 5)
K = review.INDEX_NAME


def signed_in(at: AppTest, name: str, role: str) -> AppTest:
    """The session as the sign-in form leaves it (the browser test signs in through the form)."""
    now = dt.datetime.now(dt.UTC)
    at.session_state["_session"] = auth.Session(auth.Identity(name, role), now, now)
    return at


def report_page(name: str = EDITOR, role: str = "editor") -> AppTest:
    at = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT), name, role)
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


def find_events(
    at: AppTest, text: str, published=PUBLISHED, source: str = "Seed Wire", url: str = ""
) -> AppTest:
    at.text_area(key="report-text").input(text)
    if published is not None:
        at.date_input(key="report-published").set_value(published)
    at.text_input(key="report-source").input(source)
    at.text_input(key="report-url").input(url)
    at.button(key="report-find").click().run()
    assert not at.exception, at.exception
    return at


def highlighted(at: AppTest) -> str:
    (markup,) = [h.value for h in at.html if 'class="nk-report"' in h.value]
    return markup


def candidates(at: AppTest) -> pd.DataFrame:
    (table,) = at.data_editor
    return table.value


def check_and_import(at: AppTest) -> AppTest:
    at.button(key="report-check").click().run()
    assert not at.exception, at.exception
    at.button(key="report-import").click().run()
    assert not at.exception, at.exception
    return at


# ----------------------------------------------------------------------- the page


def test_the_tab_sits_between_the_file_import_and_the_history(db):
    at = report_page()
    assert [t.label for t in at.tabs] == [
        "Import a file",
        "From a report",
        "Import history and undo",
    ]
    assert at.button(key="report-find").label == "Find events"
    assert any("press Find events" in i.value for i in at.info)


def test_the_seed_article_gives_reviewable_candidates(db):
    at = find_events(report_page(), SEED)
    table = candidates(at)
    assert table.index.name == K and list(table.index) == list(range(1, len(table) + 1))
    # The useful columns come first; every native column (and the evidence) is kept.
    assert list(table.columns[:12]) == list(review.FIRST_COLUMNS)
    assert set(review.SHOWN_COLUMNS) | set(review.EVIDENCE_COLUMNS) <= set(table.columns)
    rows = {(str(d)[:10], t) for d, t in zip(table["event_date"], table["event_type"], strict=True)}
    assert ("2020-10-05", "statement") in rows
    assert ("2020-09-27", "armed_clash") in rows
    statement = table[table["event_type"] == "statement"].iloc[0]
    assert "Lavrov" in statement["actor1"] and "Pompeo" in statement["actor1"]
    # Each candidate's sentence is marked in the text, with the row's number.
    markup = highlighted(at)
    for number, row in table.iterrows():
        sentence = html.escape(SEED[row["evidence_start"] : row["evidence_end"]])
        assert f'<span class="nk-n">{number}</span>{sentence}</mark>' in markup
    assert "pipelines carry Azerbaijani oil" in markup  # the rest of the text is there too
    # The map preview is drawn from the offline builder (no web tiles).
    assert at.get("iframe") or at.get("component_instance")
    assert open_store(db).count() == 0  # finding events writes nothing


def test_check_then_import_writes_one_batch_with_the_user(db):
    at = find_events(report_page(), SEED)
    n = len(candidates(at))
    at.button(key="report-check").click().run()
    assert not at.exception
    assert {m.label: int(m.value) for m in at.metric}["New"] == n
    assert at.button(key="report-import").label == f"Import {n} events"
    assert open_store(db).count() == 0  # the check is a dry run
    at.button(key="report-import").click().run()
    assert not at.exception, at.exception
    store = open_store(db)
    events = store.events()
    assert len(events) == n
    days = set(zip(events["event_date"].dt.strftime("%Y-%m-%d"), events["event_type"], strict=True))
    assert ("2020-10-05", "statement") in days and ("2020-09-27", "armed_clash") in days
    assert set(events["source"]) == {"Seed Wire, 2020-10-05"}
    (batch,) = store.imports()
    assert batch.user == "edith" and batch.inserted == n
    assert batch.file == "report: Seed Wire, 2020-10-05"
    assert any("Imported" in s.value and "history" in s.value for s in at.success)
    # The batch is in the history tab, where it can be undone.
    history = next(df.value for df in at.dataframe if "who" in df.value.columns)
    assert history["who"].tolist() == ["edith"]
    assert at.selectbox(key="undo-batch").value == batch.id
    # The dry run is redone against the new store: nothing new to import.
    assert at.button(key="report-import").disabled


def test_a_new_report_starts_fresh(db):
    at = find_events(report_page(), SEED)
    first = candidates(at)
    at = find_events(at, SEED, source="TASS")
    again = candidates(at)
    assert len(again) == len(first)
    assert set(again["source"]) == {"TASS, 2020-10-05"}
    assert len(at.data_editor) == 1


def test_a_viewer_does_not_see_the_tab(db):
    at = report_page(VIEWER, "viewer")
    assert not at.tabs
    assert not [b for b in at.button if b.key == "report-find"]
    assert "may not change the record" in at.warning[0].value


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://example.org/report", "not a url"])
def test_a_bad_url_is_a_clear_error_and_imports_nothing(db, url):
    at = find_events(report_page(), SEED, url=url)
    assert "This report cannot be read." in at.error[0].value
    assert "URL" in at.code[0].value and url in at.code[0].value  # the detail, as plain text
    assert not at.data_editor
    assert not [b for b in at.button if b.key in ("report-check", "report-import")]
    assert open_store(db).count() == 0


def test_a_missing_date_is_asked_for(db):
    at = find_events(report_page(), SEED, published=None)
    assert "publication date" in at.error[0].value
    assert not at.data_editor


def test_a_failed_read_drops_the_earlier_candidates(db):
    at = find_events(report_page(), SEED)
    assert at.data_editor
    at = find_events(at, SEED, url="javascript:alert(1)")
    assert not at.data_editor
    assert open_store(db).count() == 0


# ------------------------------------------------------------------ hostile text

# Sentences the extractor reads as events (a place, a date, a cue), each carrying a payload.
HOSTILE_PAYLOADS = [
    PAYLOADS[name]
    for name in (
        "jinja_expression",
        "jinja_statement",
        "script_close",
        "html_img",
        "html_attribute",
        "markdown_link",
        "markdown_emphasis",
        "js_template_literal",
    )
]
HOSTILE_REPORT = "\n\n".join(
    f"Azerbaijani forces shelled {place} on Saturday, the Armenian defence ministry said {text}."
    for place, text in zip(
        ["Goris", "Kapan", "Stepanakert", "Martakert", "Shusha", "Hadrut", "Berdzor", "Sisian"],
        HOSTILE_PAYLOADS,
        strict=True,
    )
)
HOSTILE_SOURCE = PAYLOADS["jinja_expression"] + " " + PAYLOADS["html_img"]


def test_hostile_text_is_shown_escaped():
    found = extract_report(HOSTILE_REPORT, PUBLISHED, source=HOSTILE_SOURCE)
    frame = review.review_frame(found.candidates)
    markup = review.highlight_html(found.text, review.evidence_spans(frame))
    for payload in HOSTILE_PAYLOADS:
        assert html.escape(payload) in markup
    body = markup.split("</style>", 1)[1]
    tags = set(re.findall(r"</?([a-zA-Z][\w-]*)", body))
    assert tags <= {"div", "mark", "span"}, tags  # only the fixed tags are live
    assert "<script" not in markup and "<img" not in markup and "<svg" not in markup
    assert_inert(markup)


def test_hostile_text_in_the_app_is_data_and_imported_byte_for_byte(db):
    at = find_events(report_page(), HOSTILE_REPORT, source=HOSTILE_SOURCE)
    table = candidates(at)
    assert len(table) >= 6
    markup = highlighted(at)
    for payload in HOSTILE_PAYLOADS:
        assert html.escape(payload) in markup
    assert "<script" not in markup and "<img" not in markup
    for element in (*at.markdown, *at.caption, *at.success, *at.warning, *at.error):
        assert_inert(element.value)
    # The reviewed rows carry the source as typed; the store keeps it byte for byte.
    check_and_import(at)
    events = open_store(db).events()
    assert len(events) == len(table)
    assert set(events["source"]) == {f"{HOSTILE_SOURCE}, 2020-10-05"}
    stored = " ".join(map(str, events.to_numpy().ravel()))
    for value in EVALUATED:
        assert value not in stored


# ----------------------------------------------------------- geo.extract.review


def test_the_reviewed_table_round_trips_to_the_native_csv():
    found = extract_report(SEED, PUBLISHED, source="Seed Wire")
    frame = review.review_frame(found.candidates)
    assert review.review_csv(frame).decode() == to_csv(found.candidates, extra=False)


def test_edits_and_deleted_rows_reach_the_csv():
    found = extract_report(SEED, PUBLISHED, source="Seed Wire")
    edited = review.review_frame(found.candidates)
    edited = edited.drop(index=2)  # a dropped row
    first = edited.index[0]
    edited.loc[first, "event_date"] = pd.Timestamp("2020-10-04")
    edited.loc[first, "location"] = "Goris"
    edited.loc[first, "latitude"], edited.loc[first, "longitude"] = 39.5111, 46.3417
    edited.loc[first, "fatalities"] = 3
    edited.loc[first, "notes"] = '  "quoted", with a\nnew line  '
    rows = pd.read_csv(io.BytesIO(review.review_csv(edited)), dtype=str, keep_default_na=False)
    assert len(rows) == len(found.candidates) - 1
    assert rows.loc[0, "event_date"] == "2020-10-04"
    assert (rows.loc[0, "latitude"], rows.loc[0, "longitude"]) == ("39.5111", "46.3417")
    assert rows.loc[0, "fatalities"] == "3" and rows.loc[0, "geo_precision"] == ""
    assert rows.loc[0, "notes"] == '  "quoted", with a\nnew line  '
    # The highlights follow the table: the dropped row's sentence is no longer marked.
    spans = review.evidence_spans(edited)
    assert [label for label, _, _ in spans] == [str(i) for i in edited.index]


def test_rows_of_one_sentence_share_one_mark():
    text = "One. Two and three. Four."
    markup = review.highlight_html(text, [("2", 5, 19), ("1", 0, 4), ("3", 5, 19), ("4", 99, 120)])
    body = markup.split("</style>", 1)[1]
    assert body == (
        '<div class="nk-report"><mark data-rows="1"><span class="nk-n">1</span>One.</mark> '
        '<mark data-rows="2, 3"><span class="nk-n">2, 3</span>Two and three.</mark> Four.</div>'
    )


def test_the_preview_leaves_out_rows_it_cannot_draw():
    found = extract_report(SEED, PUBLISHED, source="Seed Wire")
    edited = review.review_frame(found.candidates)
    placed = edited["latitude"].notna()
    assert len(review.preview_events(edited)) == placed.sum()
    edited.loc[edited.index[placed][0], "event_type"] = None  # a cleared required cell
    assert len(review.preview_events(edited)) == placed.sum() - 1


def test_an_html_report_file_is_read_as_its_text(db):
    at = report_page()
    at.radio(key="report-how").set_value("Upload a file").run()
    assert not [t for t in at.text_area if t.key == "report-text"]
    page = "<html><body>" + "".join(f"<p>{html.escape(p)}</p>" for p in SEED.split("\n\n"))
    (uploader,) = [u for u in at.file_uploader if u.key == "report-file"]
    uploader.set_value(("seed.html", (page + "</body></html>").encode(), "text/html")).run()
    at.date_input(key="report-published").set_value(PUBLISHED)
    at.button(key="report-find").click().run()
    assert not at.exception, at.exception
    table = candidates(at)
    rows = set(zip(table["event_date"].dt.strftime("%Y-%m-%d"), table["event_type"], strict=True))
    assert ("2020-09-27", "armed_clash") in rows
    markup = highlighted(at)
    assert "<p>" not in markup and "The new fighting, which erupted on September 27" in markup
    assert set(candidates(at)["source"]) == {"seed.html, 2020-10-05"}
