"""Ingestion rules, each with a small fixture generated here."""

from __future__ import annotations

import csv
import io
import json

import pytest

from geo.errors import InputError, StoreError
from geo.ingest import apply_plan, decode, plan_import, write_rejects
from geo.schema import COLUMN_NAMES, FREE_TEXT_COLUMNS
from geo.store import open_store

NATIVE_HEADER = ",".join(COLUMN_NAMES)


def native_row(**values) -> str:
    base = {
        "event_id": "e1",
        "event_date": "2020-10-04",
        "event_type": "shelling",
        "location": "Ganja",
        "country": "AZE",
        "latitude": "40.6828",
        "longitude": "46.3606",
        "source": "Reuters, 2020-10-04",
    }
    base.update(values)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([base.get(c, "") for c in COLUMN_NAMES])
    return out.getvalue()


def native_file(*rows: str) -> bytes:
    return (NATIVE_HEADER + "\n" + "".join(rows)).encode()


@pytest.fixture
def store(store_target):
    """A new store: SQLite, then PostgreSQL (tests/ingest/conftest.py)."""
    return open_store(store_target)


def plan(data: bytes, store, **kw):
    return plan_import(data, store, source_name="test.csv", **kw)


def reasons(p) -> list[str]:
    return [str(r) for r in p.rejects]


# ------------------------------------------------------------------------ bytes and parsing


def test_utf8_with_bom_crlf_and_quoted_newline(store):
    data = (
        "\ufeff"
        + NATIVE_HEADER
        + "\r\n"
        + native_row(notes="line one\nline two").replace("\n", "\r\n")
        + native_row(event_id="e2", event_date="2020-10-05").replace("\n", "\r\n")
    ).encode("utf-8")
    p = plan(data, store)
    assert p.encoding == "utf-8-sig"
    assert len(p.inserts) == 2 and not p.rejects
    assert p.inserts[0].values["notes"] == "line one\r\nline two"


def test_semicolons_and_tabs_are_detected(store):
    for delim in (";", "\t"):
        text = NATIVE_HEADER.replace(",", delim) + "\n" + native_row().replace(",", delim)
        p = plan(text.encode(), store)
        assert p.delimiter == delim and len(p.inserts) == 1, delim


def test_latin1_after_the_first_2kb_is_decoded(store):
    rows = "".join(native_row(event_id=f"e{i}", notes="x" * 40) for i in range(60))
    late = native_row(
        event_id="late",
        notes="Réfugiés déplacés à Barda; église endommagée, hôpital évacué, élèves réfugiés",
    )
    data = (NATIVE_HEADER + "\n" + rows).encode() + late.encode("latin-1")
    assert len(data) > 2048 and data.index(b"\xe9") > 2048
    text, encoding = decode(data)
    assert "Réfugiés déplacés" in text and "utf" not in encoding
    p = plan(data, store)
    assert len(p.inserts) == 61


def test_the_text_NA_stays_text_and_blank_is_none(store):  # noqa: N802
    p = plan(native_file(native_row(actor1="NA", actor2="   ")), store)
    values = p.inserts[0].values
    assert values["actor1"] == "NA" and values["actor2"] is None


def test_header_and_row_with_different_field_counts_are_named(store):
    data = native_file(native_row(), "1,2,3\n")
    p = plan(data, store)
    assert reasons(p) == [f"line 3: the row has 3 fields, the header has {len(COLUMN_NAMES)}"]


def test_empty_and_headerless_files_are_refused(store):
    with pytest.raises(InputError, match="empty"):
        plan(b"", store)
    with pytest.raises(InputError, match="event date"):
        plan(b"foo,bar\n1,2\n", store)


# ------------------------------------------------------------------------ dates


def test_day_first_and_month_first_are_decided_per_file(store):
    dayfirst = (
        "Date,Place,Type,Source\n25/10/2020,Ganja,shelling,AFP\n05/10/2020,Barda,shelling,AFP\n"
    )
    p = plan(dayfirst.encode(), store)
    assert p.date_order == "day-first"
    assert {r.values["event_date"].isoformat() for r in p.inserts} == {"2020-10-25", "2020-10-05"}
    monthfirst = "Date,Place,Type,Source\n10/25/2020,Ganja,shelling,AFP\n"
    assert plan(monthfirst.encode(), store).date_order == "month-first"


def test_an_ambiguous_file_is_refused_unless_a_format_is_given(store):
    data = b"Date,Place,Type,Source\n05/10/2020,Ganja,shelling,AFP\n"
    with pytest.raises(InputError, match="ambiguous.*--date-format"):
        plan(data, store)
    p = plan(data, store, date_format="%d/%m/%Y")
    assert p.inserts[0].values["event_date"].isoformat() == "2020-10-05"


def test_impossible_and_missing_dates_are_rejected(store):
    p = plan(
        native_file(native_row(event_date="2020-02-30"), native_row(event_id="e2", event_date="")),
        store,
    )
    assert reasons(p) == [
        "line 2, column 'event_date', value '2020-02-30': impossible date",
        "line 3, column 'event_date': no date",
    ]


# ------------------------------------------------------------------------ values


def test_coordinates_out_of_range_far_away_and_swapped(store):
    p = plan(
        native_file(
            native_row(event_id="a", latitude="95", longitude="46"),
            native_row(event_id="b", latitude="51.5", longitude="-0.12"),
            # No place name: the region alone tells (a named place is checked first, in
            # test_ingest_upload_cases).
            native_row(event_id="c", location="", latitude="49.892", longitude="40.3777"),
            native_row(event_id="d", location="", latitude="46.3606", longitude="40.6828"),
        ),
        store,
    )
    assert reasons(p)[0] == "line 2, column 'latitude', value '95': out of range (-90 to 90)"
    assert "far outside the region" in reasons(p)[1]
    assert len(p.inserts) == 2
    # Outside the region, and inside once swapped: repaired with a warning.
    assert p.inserts[0].values["latitude"] == pytest.approx(40.3777)
    assert any("look swapped; swapped them" in str(w) and w.line == 4 for w in p.warnings)
    # Inside the region but outside the three countries: only a warning, nothing changed.
    assert p.inserts[1].values["latitude"] == pytest.approx(46.3606)
    assert any("check the order" in str(w) and w.line == 5 for w in p.warnings)


def test_fatalities_must_be_whole_non_negative_numbers(store):
    p = plan(
        native_file(
            native_row(event_id="a", fatalities="-1"),
            native_row(event_id="b", fatalities="many"),
            native_row(event_id="c", fatalities="12"),
        ),
        store,
    )
    assert reasons(p) == [
        "line 2, column 'fatalities', value '-1': must be 0 or more",
        "line 3, column 'fatalities', value 'many': not a whole number",
    ]
    assert p.inserts[0].values["fatalities"] == 12


def test_unknown_vocabulary_lists_the_allowed_values(store):
    p = plan(native_file(native_row(event_type="picnic")), store)
    assert "unknown event type; allowed: shelling" in reasons(p)[0]


def test_places_without_coordinates_are_geocoded_or_rejected(store):
    p = plan(
        native_file(
            native_row(event_id="a", latitude="", longitude="", location="Stepanakert"),
            native_row(event_id="b", latitude="", longitude="", location="Atlantis"),
            native_row(event_id="c", latitude="", longitude="", location=""),
            native_row(
                event_id="d", latitude="", longitude="", location="", event_type="statement"
            ),
        ),
        store,
    )
    assert p.geocoded == 1
    stepanakert = p.inserts[0].values
    assert stepanakert["latitude"] == pytest.approx(39.8177, abs=0.01)
    assert reasons(p) == [
        "line 3, column 'location', value 'Atlantis': no coordinates and no gazetteer knows "
        "this place",
        "line 4, column 'location': no coordinates and no place name",
    ]
    assert p.inserts[1].values["latitude"] is None  # a statement needs no point


def test_progress_callback_reaches_the_total(store):
    calls = []
    rows = [native_row(event_id=f"e{i}") for i in range(450)]
    plan(native_file(*rows), store, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (450, 450) and len(calls) >= 3


# ------------------------------------------------------------------------ formats


ACLED = (
    "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,"
    "actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,"
    "iso,region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,"
    "source_scale,notes,fatalities,tags,timestamp\n"
    "AZE1234,27 September 2020,2020,1,Political violence,Explosions/Remote violence,"
    "Shelling/artillery/missile attack,Military Forces of Armenia (2018-),,1,Civilians "
    "(Azerbaijan),,7,17,Civilian targeting,31,Caucasus,Azerbaijan,Tartar,,,Tartar,40.3408,"
    '46.9316,1,Azerbaijani Ministry of Defence,National,"On 27 September 2020, shelling hit '
    'Tartar.",2,,1600000000\n'
)


def test_acled_export_imports_without_manual_mapping(store):
    p = plan(ACLED.encode(), store)
    assert p.format == "acled" and not p.rejects
    v = p.inserts[0].values
    assert v["event_id"] == "AZE1234"
    assert v["event_type"] == "shelling" and v["event_date"].isoformat() == "2020-09-27"
    assert v["country"] == "AZE" and v["fatalities"] == 2
    assert v["source"].endswith("(via ACLED)")


UCDP = (
    "id,relid,year,active_year,code_status,type_of_violence,conflict_dset_id,conflict_new_id,"
    "conflict_name,dyad_dset_id,dyad_new_id,dyad_name,side_a_dset_id,side_a_new_id,side_a,"
    "side_b_dset_id,side_b_new_id,side_b,number_of_sources,source_article,source_office,"
    "source_date,source_headline,source_original,where_prec,where_coordinates,"
    "where_description,adm_1,adm_2,latitude,longitude,geom_wkt,priogrid_gid,country,"
    "country_id,region,event_clarity,date_prec,date_start,date_end,deaths_a,deaths_b,"
    "deaths_civilians,deaths_unknown,best,high,low,gwnoa,gwnob\n"
    '300001,AZE-2020-1-1,2020,TRUE,Clear,1,388,388,"Azerbaijan: Nagorno-Karabakh",1,1,'
    '"Government of Azerbaijan - Republic of Artsakh",1,1,Government of Azerbaijan,2,2,'
    'Republic of Artsakh,2,"Reuters 2020-10-04",Reuters,2020-10-04,"Shelling of '
    'Stepanakert",,1,Stepanakert town,Stepanakert town,"Nagorno-Karabakh",,39.8153,46.752,'
    "POINT (46.752 39.8153),,Azerbaijan,373,Europe,1,1,2020-10-04 00:00:00.000,"
    "2020-10-04 00:00:00.000,0,0,1,0,1,3,1,373,\n"
)


def test_ucdp_ged_imports_without_manual_mapping(store):
    p = plan(UCDP.encode(), store)
    assert p.format == "ucdp" and not p.rejects, reasons(p)
    v = p.inserts[0].values
    assert v["event_id"] == "ucdp-300001"
    assert v["event_type"] == "armed_clash"
    assert (v["fatalities"], v["fatalities_low"], v["fatalities_high"]) == (1, 1, 3)
    assert v["civilian_fatalities"] == 1 and v["time_precision"] == 1 and v["geo_precision"] == 1
    assert v["actor1"] == "Government of Azerbaijan"


def test_common_headers_map_and_map_overrides_the_rest(store):
    data = (
        b"Date,Place,Killed,What happened,Lat,Lng,Source\n"
        b"2020-10-04,Ganja,1,Shelling,40.68,46.36,AP\n"
    )
    p = plan(data, store, overrides={"What happened": "notes"})
    assert p.format == "generic"
    v = p.inserts[0].values
    assert v["fatalities"] == 1 and v["notes"] == "Shelling" and v["location"] == "Ganja"
    assert v["event_type"] == "other"
    with pytest.raises(InputError, match="Nope"):
        plan(data, store, overrides={"Nope": "notes"})
    with pytest.raises(InputError, match="--map target"):
        plan(data, store, overrides={"Place": "village"})


# ------------------------------------------------------------------------ ids and revisions


def test_reimporting_a_file_inserts_nothing(store):
    data = native_file(
        native_row(), native_row(event_id="", location="Barda", latitude="40.37", longitude="47.12")
    )
    first = plan(data, store)
    apply_plan(first, store, user="test")
    again = plan(data, store)
    assert (len(again.inserts), len(again.updates), len(again.duplicates)) == (0, 0, 2)
    assert store.count() == 2
    derived = [r.event_id for r in first.inserts if r.event_id != "e1"][0]
    assert derived.startswith("h-")


def test_a_revised_event_is_an_update(store):
    apply_plan(plan(native_file(native_row(fatalities="1")), store), store, user="test")
    revised = plan(native_file(native_row(fatalities="3")), store)
    assert len(revised.updates) == 1
    apply_plan(revised, store, user="test")
    assert int(store.events()["fatalities"].iloc[0]) == 3


def test_same_id_twice_in_a_file(store):
    p = plan(native_file(native_row(), native_row(), native_row(fatalities="2")), store)
    assert p.duplicates == ["e1"]
    assert reasons(p) == [
        "line 4, column 'event_id', value 'e1': same event_id as line 2 with different content"
    ]


# ------------------------------------------------------------------------ applying


def test_zero_valid_rows_is_an_error(store):
    p = plan(native_file(native_row(event_date="nope")), store)
    with pytest.raises(InputError, match="no valid rows"):
        apply_plan(p, store, user="test")
    assert store.count() == 0


def test_strict_imports_all_or_nothing(store):
    p = plan(native_file(native_row(), native_row(event_id="b", fatalities="-3")), store)
    with pytest.raises(InputError, match="--strict"):
        apply_plan(p, store, strict=True, user="test")
    assert store.count() == 0
    apply_plan(p, store, user="test")
    assert store.count() == 1


def test_a_failure_mid_import_leaves_the_store_as_it_was(store):
    apply_plan(plan(native_file(native_row(event_id="kept")), store), store, user="test")
    before = store.events()
    rows = [native_row(event_id=f"n{i}") for i in range(50)]
    p = plan(native_file(*rows), store)
    # Corrupt row 30 after validation: the database's own CHECK refuses it mid-transaction.
    bad = p.inserts[30]
    p.inserts[30] = type(bad)({**bad.values, "event_type": "bogus"}, bad.content_hash)
    with pytest.raises(StoreError, match="nothing was changed"):
        apply_plan(p, store, user="test")
    assert store.events().equals(before)


def test_rejects_report_is_csv_with_line_column_value_reason(store):
    p = plan(native_file(native_row(fatalities="=HYPERLINK(1)")), store)
    out = io.StringIO()
    write_rejects(p.rejects, out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["line", "column", "value", "reason"]
    assert rows[1][:3] == ["2", "fatalities", "'=HYPERLINK(1)"]


def test_summary_is_json_with_integer_counts(store):
    p = plan(native_file(native_row()), store)
    summary = json.loads(json.dumps(p.summary()))
    for key in ("rows", "inserted", "updated", "duplicates", "rejected", "geocoded"):
        assert isinstance(summary[key], int), key


def test_size_and_row_limits_give_clear_errors(store):
    data = native_file(*(native_row(event_id=f"e{i}") for i in range(5)))
    with pytest.raises(InputError, match="the limit is 0 MB"):
        plan(data, store, max_bytes=100)
    with pytest.raises(InputError, match="5 rows; the limit is 3"):
        plan(data, store, max_rows=3)


HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "${document.title=1}",
    "`backtick`",
    "back\\slash",
    "</script><script>alert(2)</script>",
    '"><svg onload=alert(3)>',
]


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_text_in_every_text_column_is_stored_verbatim(store, payload):
    # Not source_url: only an http(s) URL goes there (test_source_url_must_be_http_or_https).
    text_columns = FREE_TEXT_COLUMNS
    p = plan(native_file(native_row(**dict.fromkeys(text_columns, payload))), store)
    assert not p.rejects
    apply_plan(p, store, user="test")
    stored = store.events().iloc[0]
    for column in text_columns:
        assert stored[column] == payload, column
