"""From a report to events (geo.extract, `nkmap extract`): real gazetteer, real store, offline."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from hostile import EVALUATED, PAYLOADS

from geo.cli import main
from geo.errors import InputError
from geo.extract import extract, extract_report, report_text, to_csv
from geo.extract.dates import read_dates
from geo.extract.places import find_places
from geo.extract.text import sentences
from geo.ingest import apply_plan, plan_import
from geo.schema import COLUMN_NAMES
from geo.store import SQLiteStore

REPO = Path(__file__).resolve().parents[2]
# The seed article's facts in the project's own words (the article itself is not ours to
# copy): the same dates, speakers, background and pipelines.
SEED = Path(__file__).with_name("seed_report.txt")
SEED_DAY = dt.date(2020, 10, 5)  # a Monday


def _rows(text: str, published: dt.date, **kw) -> list[dict]:
    frame = extract(text, published, **kw).candidates
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


# ----------------------------------------------------------------------------- the seed article
@pytest.fixture(scope="module")
def seed_rows() -> list[dict]:
    return _rows(SEED.read_text(encoding="utf-8"), SEED_DAY, source="Seed Wire")


def test_the_seed_article_gives_the_ministers_statement(seed_rows):
    statements = [r for r in seed_rows if r["event_type"] == "statement"]
    monday = [r for r in statements if r["event_date"] == "2020-10-05"]
    assert len(monday) == 1
    for name in ("Lavrov", "Le Drian", "Pompeo"):
        assert name in monday[0]["actor1"]
    assert monday[0]["side"] == "international"
    assert monday[0]["claimed_by"] == ""  # third states: nobody's one-sided claim
    assert monday[0]["latitude"] in ("", None)  # a statement is not a place on the ground
    assert monday[0]["source"] == "Seed Wire, 2020-10-05"


def test_the_seed_article_gives_the_fighting_since_27_september(seed_rows):
    fighting = [r for r in seed_rows if r["event_date"] == "2020-09-27"]
    assert len(fighting) == 1
    assert fighting[0]["event_type"] == "armed_clash"
    assert fighting[0]["date_end"] == "2020-10-05"
    # No place in the sentence: the report's region, and the row says it is approximate.
    assert fighting[0]["location"] == "Nagorno-Karabakh"
    assert fighting[0]["geo_precision"] == 3
    assert "region's centre" in fighting[0]["notes"]


def test_no_pipeline_base_or_history_becomes_an_event(seed_rows):
    text = SEED.read_text(encoding="utf-8")
    for r in seed_rows:
        sentence = text[r["evidence_start"] : r["evidence_end"]]
        assert sentence.strip() and sentence.strip()[:20] in r["evidence"]
        for word in ("pipeline", "military base", "1988", "1994", "fighters"):
            assert word not in sentence, (word, sentence)
    assert all(r["event_date"] <= "2020-10-05" for r in seed_rows)


# ---------------------------------------------------------------------------------- dates
@pytest.mark.parametrize(
    ("sentence", "start", "end"),
    [
        ("Azerbaijani forces shelled Tartar on Sunday.", "2020-10-04", None),
        ("Lavrov called for a ceasefire on Monday.", "2020-10-05", None),  # publication day
        ("The town was shelled overnight.", "2020-10-04", "2020-10-05"),
        ("Clashes resumed early on Saturday.", "2020-10-03", None),
        ("Fighting has gone on since 27 September.", "2020-09-27", "2020-10-05"),
        ("The fighting erupted on September 27.", "2020-09-27", "2020-10-05"),
        ("Drones struck the bridge last week.", "2020-09-28", "2020-10-04"),
        ("Shelling was reported yesterday.", "2020-10-04", None),
        ("Shelling hit the town on 2 October 2020.", "2020-10-02", None),
        ("Attacks on Jermuk on 13-14 September.", "2020-09-13", "2020-09-14"),
    ],
)
def test_dates_resolve_against_the_publication_date(sentence, start, end):
    span = read_dates(sentence, SEED_DAY, None).span
    assert span is not None
    assert span.start.isoformat() == start
    assert (span.end.isoformat() if span.end else None) == end
    assert span.start <= SEED_DAY


def test_a_calendar_date_is_never_after_publication():
    assert read_dates("Shelled on October 28.", dt.date(2020, 11, 2), None).span.start == (
        dt.date(2020, 10, 28)
    )
    # In a 5 October report, "October 28" can only be last year's: background, not the story.
    found = read_dates("Shelled on October 28.", SEED_DAY, None)
    assert found.span is None and found.background


def test_a_day_after_counts_from_the_last_date_given():
    rows = _rows(
        "Armenian forces shelled Tartar on 1 October. A day after, artillery hit Barda.",
        SEED_DAY,
    )
    assert {(r["location"], r["event_date"]) for r in rows} == {
        ("Tartar", "2020-10-01"),
        ("Barda", "2020-10-02"),
    }


def test_a_bare_year_or_an_old_month_is_background():
    assert read_dates("The two sides fought a war in 1992.", SEED_DAY, None).background
    assert read_dates("Clashes took place on the border in July.", SEED_DAY, None).background
    assert not _rows("Clashes took place near Tovuz in July.", SEED_DAY)


# --------------------------------------------------------------------------------- places
def test_martuni_follows_the_reports_region():
    armenia = _rows(
        "Azerbaijani forces shelled Vardenis and Martuni in Gegharkunik overnight.",
        dt.date(2022, 9, 13),
    )
    karabakh = _rows(
        "Azerbaijani forces shelled Stepanakert and Martuni overnight.", dt.date(2020, 10, 5)
    )
    martuni_am = next(r for r in armenia if r["location"] == "Martuni")
    martuni_az = next(r for r in karabakh if r["location"] == "Martuni")
    assert martuni_am["country"] == "ARM" and 40.0 < martuni_am["latitude"] < 40.3
    assert martuni_az["country"] == "AZE" and 39.6 < martuni_az["latitude"] < 39.9
    assert "ambiguous" in martuni_am["notes"] and "ambiguous" in martuni_az["notes"]


def test_countries_capitals_as_speakers_and_datelines_are_not_places():
    names = [m.name for m in find_places("BAKU, Oct. 26. Baku said Armenia and Azerbaijan met.")]
    assert names == []
    mentions = find_places("Armenian forces shelled the Fuzuli district and villages near Shusha.")
    got = {m.name: m.precision for m in mentions}
    assert got == {"Fuzuli": 2, "Shusha": 2}


def test_a_region_alone_is_precision_3():
    (m,) = find_places("Shelling was reported across Syunik.")
    assert (m.name, m.precision, m.country) == ("Syunik province", 3, "AM")
    assert 39.0 < m.latitude < 40.0 and 45.5 < m.longitude < 46.6


# ------------------------------------------------------------------- type, claimant, dead
def test_claimant_type_and_the_dead_as_stated():
    rows = _rows(
        "Azerbaijan's defence ministry said Armenian forces shelled Tartar on Sunday, and at "
        "least 21 civilians were killed. Armenia denied it.",
        SEED_DAY,
    )
    (row,) = rows
    assert row["event_type"] == "shelling"
    assert row["claimed_by"] == "Azerbaijani Ministry of Defence"
    assert row["verification"] == "claimed"
    assert row["actor1"] == "Armed Forces of Armenia"
    assert (row["fatalities"], row["civilian_fatalities"]) == (21, 21)
    assert "Armenia denied it." in row["notes"]


def test_a_range_of_dead_and_no_number_at_all():
    (ranged,) = _rows("Between 12 to 15 soldiers were killed in clashes near Talish.", SEED_DAY)
    assert (ranged["fatalities_low"], ranged["fatalities_high"], ranged["fatalities"]) == (
        12,
        15,
        12,
    )
    (unknown,) = _rows("Several people were killed when a rocket hit Ganja.", SEED_DAY)
    assert unknown["fatalities"] in ("", None)  # unknown, not 0
    (wounded,) = _rows("Drones struck Barda and 13 people were wounded.", SEED_DAY)
    assert wounded["fatalities"] in ("", None) and wounded["event_type"] == "air_drone_strike"


def test_several_places_hit_are_several_events_and_the_source_claims_its_own():
    rows = _rows(
        "The enemy shelled Tartar, Barda and Beylagan with artillery overnight.",
        SEED_DAY,
        source="Azerbaijani Ministry of Defence",
    )
    assert [r["location"] for r in rows] == ["Tartar", "Barda", "Beylagan"]
    assert {r["claimed_by"] for r in rows} == {"Azerbaijani Ministry of Defence"}
    assert {(r["event_date"], r["date_end"]) for r in rows} == {("2020-10-04", "2020-10-05")}


# ---------------------------------------------------------------------- text, files, errors
def test_html_reports_are_read_as_text_and_offsets_index_the_text():
    page = (
        b"<html><head><script>var x = 'Stepanakert shelled';</script></head><body>"
        b"<nav>Home</nav><article><p>Azerbaijani forces shelled Stepanakert &amp; Shushi "
        b"overnight.</p><p>Lavrov urged both sides to stop.</p></article></body></html>"
    )
    result = extract_report(page, "2020-10-05", source="Test")
    assert "var x" not in result.text and "Home" not in result.text
    for r in result.candidates.to_dict("records"):
        assert result.text[r["evidence_start"] : r["evidence_end"]] == r["evidence"]
    assert set(result.candidates["location"]) >= {"Stepanakert", "Shushi"}


def test_sentences_keep_offsets_and_join_hard_wrapped_lines():
    text = (
        "BAKU, Sept. 29\nArmenian forces shelled the\ntown of Tartar on Oct. 1.\n\nNext paragraph."
    )
    found = sentences(text)
    assert [s.paragraph for s in found] == [0, 0, 1]
    assert found[1].text == "Armenian forces shelled the town of Tartar on Oct. 1."
    assert [text[s.start : s.end].replace("\n", " ") for s in found] == [s.text for s in found]


@pytest.mark.parametrize(
    ("call", "column", "value"),
    [
        (lambda: extract_report("text", "5/10/2020"), "published", "5/10/2020"),
        (lambda: extract_report("text", "2999-01-01"), "published", "2999-01-01"),
        (lambda: extract_report("t", "2020-10-05", url="javascript:x"), "url", "javascript:x"),
        (lambda: extract_report(b"\x00\x01PK", "2020-10-05", name="a.zip"), "file", "a.zip"),
        (lambda: extract_report("  \n ", "2020-10-05", name="empty.txt"), "file", "empty.txt"),
    ],
)
def test_bad_input_names_the_column_and_value(call, column, value):
    with pytest.raises(InputError) as info:
        call()
    assert info.value.column == column and info.value.value == value


def test_a_report_too_long_to_be_one_is_refused():
    with pytest.raises(InputError, match="at most"):
        report_text("x" * 300_000, "huge.txt")


# ------------------------------------------------------------------------- hostile text
@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_hostile_text_is_data_from_report_to_store(tmp_path, name):
    payload = PAYLOADS[name]
    text = f"Azerbaijani forces shelled Tartar on Sunday.\n\n{payload}"
    result = extract_report(text, "2020-10-05", source=f"Wire {payload}")
    assert payload.replace("\x00", "") in result.text
    (row,) = result.candidates.to_dict("records")
    assert row["source"] == f"Wire {payload}, 2020-10-05"
    data = to_csv(result.candidates).encode("utf-8")
    store = SQLiteStore(tmp_path / "events.sqlite")
    plan = plan_import(data, store, source_name="report.csv")
    assert not plan.rejects, plan.rejects
    apply_plan(plan, store, user="tester")
    stored = store.events()
    assert list(stored["source"]) == [f"Wire {payload}, 2020-10-05"]
    for evaluated in EVALUATED:
        assert evaluated not in data.decode("utf-8")


# ------------------------------------------------------------------------------- the CLI
def test_cli_out_is_a_csv_that_ingest_imports_unchanged(tmp_path, capsys):
    out, db = tmp_path / "candidates.csv", str(tmp_path / "events.sqlite")
    args = ["extract", str(SEED), "--published", "2020-10-05", "--source", "Seed Wire"]
    assert main([*args, "--out", str(out)]) == 0
    header = next(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert header[: len(COLUMN_NAMES)] == list(COLUMN_NAMES)
    assert main(["ingest", str(out), "--db", db, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["rejected"] == 0 and summary["inserted"] >= 2
    assert main(["ingest", str(out), "--db", db, "--json"]) == 0  # again: nothing new
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["inserted"] == 0


def test_cli_json_and_stdin(monkeypatch, capsys):
    monkeypatch.setattr(
        "sys.stdin", io.TextIOWrapper(io.BytesIO(SEED.read_bytes()), encoding="utf-8")
    )
    assert main(["extract", "-", "--published", "2020-10-05", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["published"] == "2020-10-05"
    assert {c["event_date"] for c in got["candidates"]} >= {"2020-10-05", "2020-09-27"}
    assert all(c["source"] == "stdin, 2020-10-05" for c in got["candidates"])


def test_cli_refuses_a_bad_date_with_exit_2(capsys):
    assert main(["extract", str(SEED), "--published", "05.10.2020"]) == 2
    assert "'05.10.2020'" in capsys.readouterr().err


def test_the_csv_is_safe_in_a_spreadsheet_and_imports_back_byte_for_byte(tmp_path):
    formula = '=HYPERLINK("http://203.0.113.9","x")'
    result = extract_report("Azerbaijani forces shelled Tartar on Sunday.", "2020-10-05",
                            source=formula)  # fmt: skip
    data = to_csv(result.candidates)
    assert f"'{formula}" in data.replace('""', '"')  # no cell starts with =
    store = SQLiteStore(tmp_path / "events.sqlite")
    apply_plan(plan_import(data.encode(), store, source_name="x.csv"), store, user="tester")
    assert list(store.events()["source"]) == [f"{formula}, 2020-10-05"]


def test_report_bytes_are_decoded_as_uploads_are():
    text = "Ağdam ve Şuşa bombalandı: Azerbaijani forces shelled Tartar on Sunday."
    assert report_text(text.encode("cp1254"), "az.txt").startswith("Ağdam ve Şuşa")
    assert report_text("Agência: shelling on Sunday.".encode("latin-1")).startswith("Agência")


def test_the_url_follows_the_importers_rule():
    with pytest.raises(InputError) as info:
        extract_report("text", "2020-10-05", url='https://example.org/a"b')
    assert info.value.column == "url" and "quotes" in info.value.reason
