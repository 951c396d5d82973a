"""Plausibility on the way in: dates, counts, URLs, NUL bytes, countries, warning lines, huge
fields and legacy encodings. Each rule runs through plan_import and the row-by-row reference
(tests/test_ingest_reference.py)."""

from __future__ import annotations

import csv
import datetime as dt
import sys

import pytest
from test_ingest import NATIVE_HEADER, native_file, native_row
from test_ingest_reference import reference_plan

import geo.ingest.plan as ingest_plan
from geo.cli import main
from geo.errors import InputError
from geo.ingest import decode, plan_import
from geo.store import open_store

LIMIT = 131_072  # csv.field_size_limit() by default


@pytest.fixture
def store(store_target):
    """A new store: SQLite, then PostgreSQL (tests/ingest/conftest.py)."""
    return open_store(store_target)


@pytest.fixture(params=["columnar", "reference"])
def planner(request):
    chosen = {"columnar": plan_import, "reference": reference_plan}[request.param]
    return lambda data, store, **kw: chosen(data, store, source_name="t.csv", **kw)


def reasons(p) -> list[str]:
    return [str(r) for r in p.rejects]


def inserted(p, column: str) -> list[object]:
    return [r.values[column] for r in p.inserts]


# ------------------------------------------------------------------------ 1. dates


def test_dates_before_1988_are_rejected(planner, store):
    p = planner(
        native_file(
            native_row(event_id="a", event_date="1987-12-31"),
            native_row(event_id="b", event_date="1988-01-01"),
            native_row(event_id="c", event_date="2020-10-04", date_end="1900-01-01"),
            native_row(event_id="d", event_date="27 September 1987"),
            native_row(event_id="e", event_date="0001-01-01"),
        ),
        store,
    )
    reason = "date before 1988-01-01: the conflict data starts in 1988"
    assert reasons(p) == [
        f"line 2, column 'event_date', value '1987-12-31': {reason}",
        f"line 4, column 'date_end', value '1900-01-01': {reason}",
        f"line 5, column 'event_date', value '27 September 1987': {reason}",
        f"line 6, column 'event_date', value '0001-01-01': {reason}",
    ]
    assert [d.isoformat() for d in inserted(p, "event_date")] == ["1988-01-01"]


def test_dates_after_tomorrow_are_rejected(planner, store, monkeypatch):
    monkeypatch.setattr(ingest_plan, "_today", lambda: dt.date(2024, 6, 30))
    p = planner(
        native_file(
            native_row(event_id="a", event_date="2024-06-30"),
            native_row(event_id="b", event_date="2024-07-01"),  # tomorrow: a time zone ahead
            native_row(event_id="c", event_date="2024-07-02"),
            native_row(event_id="d", event_date="2024-06-30", date_end="2024-07-02"),
            native_row(event_id="e", event_date="2099-01-01"),
        ),
        store,
    )
    reason = "date in the future (after 2024-07-01)"
    assert reasons(p) == [
        f"line 4, column 'event_date', value '2024-07-02': {reason}",
        f"line 5, column 'date_end', value '2024-07-02': {reason}",
        f"line 6, column 'event_date', value '2099-01-01': {reason}",
    ]
    assert inserted(p, "event_id") == ["a", "b"]


def test_today_is_read_when_planning(planner, store):
    today = dt.date.today()
    far = today + dt.timedelta(days=400)
    p = planner(
        native_file(
            native_row(event_id="now", event_date=today.isoformat()),
            native_row(event_id="later", event_date=far.isoformat()),
        ),
        store,
    )
    assert inserted(p, "event_id") == ["now"]
    assert [r.reason.startswith("date in the future (after ") for r in p.rejects] == [True]


# ------------------------------------------------------------------------ 2. counts


@pytest.mark.parametrize(
    "column", ["fatalities", "fatalities_low", "fatalities_high", "civilian_fatalities"]
)
def test_counts_above_100000_are_rejected(planner, store, column):
    p = planner(
        native_file(
            native_row(event_id="a", **{column: "100000"}),
            native_row(event_id="b", **{column: "100001"}),
            native_row(event_id="c", **{column: "2,500,000"}),
        ),
        store,
    )
    reason = "must be 100,000 or less: not a plausible count for one event"
    assert reasons(p) == [
        f"line 3, column '{column}', value '100001': {reason}",
        f"line 4, column '{column}', value '2,500,000': {reason}",
    ]
    assert inserted(p, column) == [100000]


# ------------------------------------------------------------------------ 3. source_url

NOT_HTTP = "not an absolute http:// or https:// URL (e.g. https://example.org/a)"
BAD_CHARACTERS = (
    "a URL cannot contain spaces, quotes, <, >, \\ or control characters: percent-encode them "
    "(%20 for a space)"
)


def test_source_url_must_be_http_or_https(planner, store):
    good = [
        "",
        "https://example.org/report?id=1&x=2#part",
        "http://azatutyun.am/a/31234.html",
        "HTTPS://EXAMPLE.ORG",
        "https://example.org:8443/x",
        "https://ru.wikipedia.org/wiki/Степанакерт",
        "https://[2001:db8::1]/x",
    ]
    bad = {
        "javascript:alert(1)": NOT_HTTP,
        "JavaScript://example.org/%0Aalert(1)": NOT_HTTP,
        "data:text/html,<script>alert(1)</script>": NOT_HTTP,
        "ftp://example.org/file": NOT_HTTP,
        "www.example.com": NOT_HTTP,
        "example.org/a": NOT_HTTP,
        "/relative/path": NOT_HTTP,
        "../up": NOT_HTTP,
        "https://": NOT_HTTP,
        "https:///path": NOT_HTTP,
        "https://example.org:99999/": NOT_HTTP,
        "https://[::1/": NOT_HTTP,
        "https:\\\\evil.example": NOT_HTTP,
        "https://example.org/a b": BAD_CHARACTERS,
        'https://example.org/"onmouseover=x': BAD_CHARACTERS,
        "https://example.org/<svg>": BAD_CHARACTERS,
        "https://example.org\\@evil.example": BAD_CHARACTERS,
    }
    rows = [native_row(event_id=f"g{i}", source_url=u) for i, u in enumerate(good)]
    rows += [native_row(event_id=f"b{i}", source_url=u) for i, u in enumerate(bad)]
    p = planner(native_file(*rows), store)
    assert [(r.column, r.value, r.reason) for r in p.rejects] == [
        ("source_url", url, reason) for url, reason in bad.items()
    ]
    assert [r.line for r in p.rejects] == list(range(2 + len(good), 2 + len(good) + len(bad)))
    assert inserted(p, "source_url") == [None, *good[1:]]  # blank is no URL, not a reject


@pytest.mark.parametrize("column", ["source_url", "source_url_2"])
def test_both_report_urls_follow_the_same_rule(planner, store, column):
    rows = [
        native_row(event_id="ok", **{column: "https://mod.gov.az/en/news/1"}),
        native_row(event_id="bad", **{column: "javascript:alert(1)"}),
    ]
    p = planner(native_file(*rows), store)
    assert [(r.line, r.column, r.reason) for r in p.rejects] == [(3, column, NOT_HTTP)]
    assert inserted(p, column) == ["https://mod.gov.az/en/news/1"]


# ------------------------------------------------------------------------ 4. NUL and controls


def test_a_nul_byte_in_any_cell_rejects_the_row(planner, store):
    header = NATIVE_HEADER + ",extra"
    rows = [
        native_row(event_id="a", notes="before\x00after").rstrip("\n") + ",x\n",
        native_row(event_id="b").rstrip("\n") + ",ignored\x00column\n",
        # The NUL is named before the row's other problems (a bad date here).
        native_row(event_id="c", event_date="nope", source="AFP\x00").rstrip("\n") + ",\n",
        native_row(event_id="d").rstrip("\n") + ",fine\n",
    ]
    p = planner((header + "\n" + "".join(rows)).encode(), store)
    assert [(r.line, r.column, r.value, r.reason) for r in p.rejects] == [
        (2, "notes", "before\x00after", "NUL byte in the text"),
        (3, "extra", "ignored\x00column", "NUL byte in the text"),
        (4, "source", "AFP\x00", "NUL byte in the text"),
    ]
    assert inserted(p, "event_id") == ["d"]
    assert "\\x00" in str(p.rejects[0])  # shown escaped, never as a raw NUL


def test_other_control_characters_are_kept_verbatim_without_a_warning(planner, store):
    text = "bell\x07 escape\x1b[31m vertical\x0btab form\x0cfeed unit\x1fsep del\x7f"
    p = planner(native_file(native_row(notes=text, actor1="tab\there")), store)
    assert not p.rejects and not p.warnings
    assert inserted(p, "notes") == [text]
    assert inserted(p, "actor1") == ["tab\there"]


def test_a_nul_in_the_header_refuses_the_file(planner, store):
    with pytest.raises(InputError, match="line 1: the header has a NUL byte"):
        planner(("event_date,notes\x00x\n" + "2020-10-04,a\n").encode(), store)
    # UTF-16 without a BOM is valid UTF-8 (ASCII with NULs between): refused, not imported.
    utf16 = (NATIVE_HEADER + "\n" + native_row()).encode("utf-16-le")
    with pytest.raises(InputError, match="UTF-16"):
        planner(utf16, store)


# ------------------------------------------------------------------------ 5. countries


def test_countries_are_iso3_codes(planner, store):
    p = planner(
        native_file(
            native_row(event_id="a", country="Armenia"),
            native_row(event_id="b", country="am"),
            native_row(event_id="c", country="aze"),
            native_row(event_id="d", country="Russia (Soviet Union)"),
            native_row(event_id="e", country="XX1"),
            native_row(event_id="f", country="Karabakh"),
            native_row(event_id="g", country="us"),
            native_row(event_id="h", country="ARME"),
            native_row(event_id="i", country=""),
        ),
        store,
    )
    reason = (
        "not an ISO 3166-1 alpha-3 country code (e.g. ARM, AZE, GEO) or a country name of the "
        "region"
    )
    assert [(r.line, r.value, r.reason) for r in p.rejects] == [
        (6, "XX1", reason),
        (7, "Karabakh", reason),
        (8, "us", reason),
        (9, "ARME", reason),
    ]
    assert {r.column for r in p.rejects} == {"country"}
    assert inserted(p, "country") == ["ARM", "ARM", "AZE", "RUS", None]
    assert not p.warnings


def test_a_country_outside_the_region_is_a_warning_unless_it_is_talks(planner, store):
    p = planner(
        native_file(
            native_row(event_id="a", country="USA"),
            native_row(
                event_id="b",
                event_type="statement",
                country="usa",
                location="Washington",
                latitude="38.8951",
                longitude="-77.0364",
            ),
            native_row(event_id="c", country="geo"),
        ),
        store,
    )
    assert not p.rejects
    assert inserted(p, "country") == ["USA", "USA", "GEO"]
    assert [str(w) for w in p.warnings] == [
        "line 2, column 'country', value 'USA': USA is not a country of the region "
        "(ARM, AZE, GEO, IRN, RUS, TUR): check it"
    ]


# ------------------------------------------------------------------------ 6. warning lines


def test_every_warning_names_its_line(planner, store):
    data = (
        b"Date,Place,Type,Country,Lat,Lon,id\n"
        b"2020-10-04,Ganja,,AZE,40.68,46.36,a\n"
        b"2020-10-05,Barda,shelling,USA,40.37,47.12,b\n"
        b"2020-10-06,Ganja,shelling,AZE,46.36,40.68,c\n"
        b"2020-10-06,Ganja,shelling,AZE,46.36,40.68,c\n"
    )
    p = planner(data, store)
    assert not p.rejects
    assert [(w.line, w.column) for w in p.warnings] == [
        (1, "source"),  # the file has no source column: about the header
        (2, "event_type"),
        (3, "country"),
        (4, "latitude"),
        (5, "latitude"),
        (5, "event_id"),
    ]


# ------------------------------------------------------------------------ 7. huge fields


@pytest.fixture(params=["default", "raised"])
def csv_limit(request):
    """The csv module's process-wide limit as it is at start, or raised as reverse_geocoder
    (the gazetteer) raises it when imported: the verdict on a file must not change."""
    before = csv.field_size_limit()
    csv.field_size_limit(LIMIT if request.param == "default" else sys.maxsize)
    yield
    csv.field_size_limit(before)


@pytest.mark.usefixtures("csv_limit")
def test_a_field_over_the_csv_limit_refuses_the_file(planner, store):
    exact = native_row(event_id="a", notes="x" * LIMIT)
    p = planner(native_file(exact), store)  # at the limit: fine
    assert len(inserted(p, "notes")[0]) == LIMIT
    over = native_row(event_id="b", notes="y" * (LIMIT + 1))
    with pytest.raises(InputError) as err:
        planner(native_file(exact, over), store)
    assert str(err.value).startswith(
        "line 3, column 'notes': a field is longer than 131,072 characters (the CSV field size "
        "limit)"
    )
    quoted = native_row(event_id="c", actor1='say ""' + "z" * LIMIT + '"" twice')
    assert quoted.count('"') > 4  # csv.writer quoted it and doubled the quotes
    with pytest.raises(InputError, match="line 2, column 'actor1': a field is longer"):
        planner(native_file(quoted), store)


@pytest.mark.usefixtures("csv_limit")
def test_a_quote_left_open_is_named_not_a_traceback(planner, store):
    rows = [native_row(event_id=f"e{i}", notes="n" * 60, source="AFP") for i in range(2500)]
    rows[1] = native_row(event_id="open", source="AFP").replace("Ganja", '"Ganja')  # not closed
    assert native_file(*rows).count(b'"') == 1
    with pytest.raises(InputError, match="line 3, column 'location'.*a quote left open"):
        planner(native_file(*rows), store)


@pytest.mark.usefixtures("csv_limit")
def test_an_over_long_header_refuses_the_file(planner, store):
    data = ("event_date,event_type," + "h" * (LIMIT + 5) + "\n2020-10-04,shelling,x\n").encode()
    with pytest.raises(InputError) as err:
        planner(data, store)
    assert str(err.value) == (
        "line 1: the header line is not a CSV header: field 3 is longer than 131,072 characters "
        "(the CSV field size limit)"
    )


def test_a_lowered_csv_limit_is_the_limit(planner, store, monkeypatch):
    monkeypatch.setattr(csv, "field_size_limit", lambda *new: 1000)  # the module's own is global
    p = planner(native_file(native_row(notes="x" * 1000)), store)
    assert len(p.inserts) == 1
    with pytest.raises(InputError, match="line 2, column 'notes': a field is longer than 1,000"):
        planner(native_file(native_row(notes="x" * 1001)), store)


@pytest.mark.usefixtures("csv_limit")
def test_the_cli_exits_2_with_the_line_column_and_limit(tmp_path, capsys, store_target):
    body = "".join(native_row(event_id=f"e{i}") for i in range(3))
    big = tmp_path / "big.csv"
    big.write_text(NATIVE_HEADER + "\n" + body + native_row(event_id="x", notes="q" * 200_000))
    head = tmp_path / "head.csv"
    head.write_text("event_date," + "h" * 200_000 + "\n2020-10-04,x\n")
    db = store_target
    for path, expected in (
        (big, "line 5, column 'notes': a field is longer than 131,072 characters"),
        (head, "line 1: the header line is not a CSV header: field 2 is longer than 131,072"),
    ):
        assert main(["ingest", str(path), "--db", db]) == 2
        err = capsys.readouterr().err
        assert expected in err and "Traceback" not in err
    assert open_store(db).count() == 0


# ------------------------------------------------------------------------ 8. encodings


def test_a_short_latin1_file_decodes_as_western(planner, store):
    text = (
        "event_date,event_type,location,latitude,longitude,source,notes\n"
        "2020-10-02,shelling,Füzuli,39.6,47.1,Agência,café\n"
    )
    data = text.encode("latin-1")
    assert decode(data) == (text, "cp1252")
    p = planner(data, store)
    assert p.encoding == "cp1252" and not p.rejects
    values = p.inserts[0].values
    assert (values["location"], values["source"], values["notes"]) == ("Füzuli", "Agência", "café")


def test_a_cp1252_file_with_smart_quotes_and_euro(planner, store):
    notes = "“Shelling” near the bridge – damage ‘about 5 000 €’… see Réfugiés"
    data = native_file(native_row(notes=notes, source="AFP — Barda"))
    legacy = data.decode().encode("cp1252")
    assert decode(legacy)[1] == "cp1252"
    p = planner(legacy, store)
    assert p.encoding == "cp1252"
    assert inserted(p, "notes") == [notes] and inserted(p, "source") == ["AFP — Barda"]


@pytest.mark.parametrize(
    "line",
    [
        "Größere Schäden an der Brücke, Flüchtlinge während der Nacht",
        "Réfugiés déplacés à Barda; église endommagée, hôpital évacué, élèves",
        "Agência de notícias: ação na região, população em atenção",
        "Ataque en Füzuli: año, niño, señal; ¿qué pasó? ¡Alerta!",
        "l’église, naïve façade, Œuvre cœur, Ÿ, ½ km, 3° N, © AFP",
    ],
)
def test_western_text_of_any_length_decodes_as_cp1252(line):
    for n in (1, 3, 100):
        text = "date,notes\n" + "".join(f"2020-10-{i % 28 + 1:02d},{line}\n" for i in range(n))
        assert decode(text.encode("cp1252")) == (text, "cp1252"), n


def test_turkish_and_azerbaijani_letters_decode_as_cp1254(planner, store):
    data = native_file(native_row(location="Şuşa", notes="Ağdam, Gəncə yolu, İsmayıllı"))
    legacy = data.decode().replace("ə", "e").encode("cp1254")
    assert decode(legacy)[1] == "cp1254"
    p = planner(legacy, store)
    assert inserted(p, "location") == ["Şuşa"]
    assert inserted(p, "notes") == ["Ağdam, Gence yolu, İsmayıllı"]


def test_cyrillic_and_utf16_are_left_to_the_detector():
    russian = (
        "date,location,notes\n2020-10-02,Степанакерт,обстрел города продолжался всю ночь\n"
        "2020-10-03,Шуши,повреждена церковь Казанчецоц\n"
    )
    text, encoding = decode(russian.encode("cp1251"))
    assert text == russian and encoding == "cp1251"
    text, encoding = decode(russian.encode("utf-16"))
    assert text == russian and encoding.startswith("utf_16")


def test_latin1_after_2kb_is_read_as_cp1252(store):
    rows = "".join(native_row(event_id=f"e{i}", notes="x" * 40) for i in range(60))
    late = native_row(event_id="late", notes="Réfugiés à Barda; église, hôpital évacué")
    data = (NATIVE_HEADER + "\n" + rows).encode() + late.encode("latin-1")
    assert data.index(b"\xe9") > 2048
    text, encoding = decode(data)
    assert encoding == "cp1252" and text == (NATIVE_HEADER + "\n" + rows + late)
    fast, reference = (planner(data, store) for planner in (plan_import, reference_plan))
    assert fast.encoding == reference.encoding == "cp1252"
    assert inserted(fast, "notes")[-1] == inserted(reference, "notes")[-1]
    assert inserted(fast, "notes")[-1] == "Réfugiés à Barda; église, hôpital évacué"
