"""The column-wise rules (geo.ingest.rules) give exactly the plan of the row-by-row reference
(tests/test_ingest_reference.py) on random files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from unittest import mock

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_ingest_reference import reference_plan

import geo.ingest.plan
from geo.errors import InputError
from geo.ingest import apply_plan, plan_import
from geo.ingest.read import PY_WHITESPACE
from geo.schema import COLUMN_NAMES
from geo.store import SQLiteStore, content_hash, content_hashes

GOOD = {
    "event_id": "e1",
    "event_date": "2020-10-04",
    "event_type": "shelling",
    "location": "Ganja",
    "country": "AZE",
    "latitude": "40.6828",
    "longitude": "46.3606",
    "source": "Reuters, 2020-10-04",
}
# Each column's values: plain ones the fast path takes, and every kind of trouble.
CHOICES = {
    "event_id": ["e1", "e2", "e3", "e4", "e5", "", " e2 ", "'=x"],
    "event_date": [
        "2020-10-04", "2016-01-31", "2020-02-29", "2020-02-30", "2019-02-29", "", "nope",
        " 2020-10-05 ", "27 September 2020", "2020/10/04", "0000-01-01", "2020-10-04T10:00",
        "2020-1-04", "1987-12-31", "1988-01-01", "1066-10-14", "2024-07-01", "2024-07-02",
        "9999-12-31", "2 July 2024", "1 January 1988",
    ],
    "date_end": [
        "", "", "2020-10-10", "2020-10-04", "2020-01-01", "2021-13-01", "2020-10-11 ",
        "1900-01-01", "2024-07-01", "2024-07-02", "3000-01-01",
    ],
    "time_precision": ["", "1", "3", "4", "0", "2.0", "x"],
    "event_type": [
        "shelling", "Shelling", "armed_clash", "statement", "ceasefire", "", "picnic",
        "Air strike", " other ", "ARTILLERY",
    ],
    "side": ["", "armenian", "Azerbaijan", "martian", "NKR"],
    "country": [
        "", "AZE", "Armenia", "xyz", "Narnia", "am", "USA", "usa", "XX1", "Karabakh", "GEO",
        "Russia (Soviet Union)", "A\x00Z",
    ],
    "location": ["Ganja", "Stepanakert", "Atlantis", "", "Goris", "Martuni", "Martuni, AM", "Baku"],
    "geo_precision": ["", "1", "2", "3", "9"],
    "fatalities": [
        "", "0", "3", "-1", "1,000", "2.0", "1e2", "many", " 7 ", "007", "9" * 20, "100000",
        "100001", "100,001", "999999999999999", "unknown", "N/A", "?", "–", "unk",
    ],
    "fatalities_low": ["", "1", "5", "100001"],
    "fatalities_high": ["", "2", "40", "100000", "250000"],
    "civilian_fatalities": ["", "0", "1", "100001"],
    "source": [
        "", "AFP", "=cmd()", "'=HYPERLINK(1)", "a\\b", "x\x1fy", "  Reuters  ", "'x", "AFP\x00",
    ],
    "source_url": [
        "", "https://example.org/a?b=1#c", "http://azatutyun.am/x", "HTTPS://EXAMPLE.ORG",
        "https://example.org:8443/", "https://example.org:99999/", "https://ru.wikipedia.org/Шуши",
        "javascript:alert(1)", "data:text/html,<b>", "ftp://example.org", "www.example.com",
        "/relative", "https://", "https://example.org/a b", 'https://e.org/"x', "https:\\\\x",
        " https://example.org/padded ", "'https://example.org/", "https://[::1]/",
    ],
    "verification": ["", "claimed", "CONFIRMED", "maybe"],
    "notes": [
        "", "line one\nline two", 'say "hi"', "é", "NA", "trailing ", "\u3000wide", "\\N",
        "a\r\nb", "tab\there", "nul\x00byte", "\x00", "bell\x07esc\x1b[0m", "x" * 131_073,
    ],
}  # fmt: skip
COORDINATES = [
    ("40.6828", "46.3606"),  # inside Azerbaijan
    ("39.8177", "46.7528"),
    ("46.3606", "40.6828"),  # swapped, both ways inside the region: repaired with a warning
    ("49.892", "40.3777"),  # outside the three countries, inside once swapped: a warning
    ("51.5", "-0.12"),  # far away
    ("95", "46"),  # out of range
    ("", ""),  # geocoded
    ("40.5", ""),
    ("abc", "46"),
    ("-0", "46"),
    ("40.", "46.1"),
    (" 40.1 ", "46.2"),
    ("4e1", "46"),
    ("40.68280000000000000001", "46.3606"),
]
# Lines written as they are, not through csv.writer: short rows, blank and odd lines.
RAW_LINES = ["1,2,3", "", "   ", ",,,", 'a"b,c', '"unclosed', "x," * 30]


def row_line(values: dict[str, str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([values.get(c, "") for c in COLUMN_NAMES])
    return out.getvalue()


@st.composite
def rows(draw) -> str:
    values = dict(GOOD)
    for column in draw(st.lists(st.sampled_from(sorted(CHOICES)), max_size=4, unique=True)):
        values[column] = draw(st.sampled_from(CHOICES[column]))
    if draw(st.integers(0, 4)) == 0:
        values["latitude"], values["longitude"] = draw(st.sampled_from(COORDINATES))
    if draw(st.integers(0, 4)) == 0:  # a random point in the core area, written any way
        lat = draw(st.floats(38.3, 43.6))
        lon = draw(st.floats(43.1, 50.9))
        digits = draw(st.integers(0, 18))
        values["latitude"], values["longitude"] = f"{lat:.{digits}f}", repr(lon)
    if draw(st.integers(0, 30)) == 0:
        return draw(st.sampled_from(RAW_LINES)) + "\n"
    return row_line(values)


def same_plan(fast, reference) -> None:
    assert fast.summary() == reference.summary()
    assert fast.mapping == reference.mapping and fast.date_order == reference.date_order
    assert [str(i) for i in fast.rejects] == [str(i) for i in reference.rejects]
    assert fast.rejects == reference.rejects
    assert fast.warnings == reference.warnings
    assert fast.duplicates == reference.duplicates
    for mine, theirs in ((fast.inserts, reference.inserts), (fast.updates, reference.updates)):
        assert [(dict(r.values), r.content_hash) for r in mine] == [
            (dict(r.values), r.content_hash) for r in theirs
        ]


# "Today" for the comparisons: 2024-07-01 (tomorrow) is the last day accepted.
TODAY = dt.date(2024, 6, 30)


def plans(data: bytes, store, **kw):
    outcomes = []
    with mock.patch.object(geo.ingest.plan, "_today", lambda: TODAY):
        for planner in (plan_import, reference_plan):
            try:
                outcomes.append(planner(data, store, source_name="mix.csv", **kw))
            except InputError as exc:
                outcomes.append(str(exc))
    return outcomes


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> SQLiteStore:
    """A store that already holds e1 and e3: the mixtures then have updates and duplicates."""
    store = SQLiteStore(tmp_path_factory.mktemp("db") / "events.sqlite")
    data = (",".join(COLUMN_NAMES) + "\n" + row_line(GOOD)).encode()
    data += row_line({**GOOD, "event_id": "e3", "fatalities": "3"}).encode()
    apply_plan(plan_import(data, store), store, user="test")
    return store


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.lists(rows(), min_size=1, max_size=12), crlf=st.booleans())
def test_the_columnar_plan_is_the_row_wise_plan(stored, body, crlf):
    text = ",".join(COLUMN_NAMES) + "\n" + "".join(body)
    if crlf:
        text = text.replace("\n", "\r\n")
    fast, reference = plans(text.encode(), stored)
    if isinstance(reference, str):
        assert fast == reference
    else:
        same_plan(fast, reference)


@settings(max_examples=40, deadline=None)
@given(
    body=st.lists(rows(), min_size=1, max_size=8),
    fmt=st.sampled_from(["generic", "acled", "ucdp"]),
    date_format=st.sampled_from([None, "%Y-%m-%d", "%d %B %Y"]),
)
def test_other_formats_and_date_formats_agree_too(tmp_path_factory, body, fmt, date_format):
    store = SQLiteStore(tmp_path_factory.mktemp("db") / "events.sqlite")
    data = (",".join(COLUMN_NAMES) + "\n" + "".join(body)).encode()
    fast, reference = plans(data, store, fmt=fmt, date_format=date_format)
    if isinstance(reference, str):
        assert fast == reference
    else:
        same_plan(fast, reference)


def test_every_choice_once_agrees(stored):
    """Each troublesome value in a row of its own (besides the random mixtures above): the
    plausibility rules (dates 1988..tomorrow, counts, URLs, NUL bytes, countries) included."""
    body = [
        row_line({**GOOD, "event_id": f"{column}-{i}", column: value})
        for column, values in CHOICES.items()
        for i, value in enumerate(values)
        if len(value) < 1000  # a field over the csv limit refuses the whole file (below)
    ]
    data = (",".join(COLUMN_NAMES) + "\n" + "".join(body)).encode()
    fast, reference = plans(data, stored)
    same_plan(fast, reference)
    reasons = {r.reason for r in reference.rejects}
    assert "date before 1988-01-01: the conflict data starts in 1988" in reasons
    assert "date in the future (after 2024-07-01)" in reasons
    assert "NUL byte in the text" in reasons
    assert any("100,000 or less" in r for r in reasons)
    assert any("http:// or https://" in r for r in reasons)
    assert any("ISO 3166-1 alpha-3" in r for r in reasons)
    assert any(w.column == "country" for w in reference.warnings)
    big = data + row_line({**GOOD, "event_id": "big", "notes": "x" * 131_073}).encode()
    fast, reference = plans(big, stored)
    assert isinstance(reference, str) and fast == reference


def test_day_first_files_latin1_and_semicolons_agree(stored):
    lines = ["Date;Place;Type;Source;Lat;Lon"]
    lines += [f"{d:02d}/10/2020;Bärdä;shelling;AFP;40.3;47.1" for d in range(1, 29)]
    lines += ["2020-10-30;Goris;shelling;AFP;39.5;46.3", "31/10/2020;Ganja;clash;AFP;;"]
    data = "\n".join(lines).encode("latin-1")
    fast, reference = plans(data, stored)
    assert fast.date_order == "day-first" and fast.encoding != "utf-8"
    same_plan(fast, reference)


def test_a_large_file_asks_the_gazetteer_once_per_distinct_place(stored):
    from geo.places.geocode import get_geocoder

    asked = []
    offline = get_geocoder("offline")

    class Counting:
        name = "offline"

        def geocode(self, name, country=None):
            asked.append((name, country))
            return offline.geocode(name, country)

    places = ["Ganja", "Goris", "Stepanakert"]
    body = "".join(
        row_line(
            {
                **GOOD,
                "event_id": f"n{i}",
                "event_date": f"2021-03-{i % 28 + 1:02d}",
                "country": "",
                "location": places[i % 3] if i % 2 else "Ganja",
                "latitude": "" if i % 2 else GOOD["latitude"],
                "longitude": "" if i % 2 else GOOD["longitude"],
            }
        )
        for i in range(3000)
    )
    p = plan_import((",".join(COLUMN_NAMES) + "\n" + body).encode(), stored, geocoder=Counting())
    assert len(p.inserts) == 3000 and not p.rejects
    assert sorted(asked) == sorted((place, None) for place in places)
    assert p.inserts[2999].values["event_id"] == "n2999"
    assert p.inserts[5].values["event_date"].isoformat() == "2021-03-06"
    assert p.geocoded == 1500


def test_python_whitespace_is_complete():
    every = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    assert every == PY_WHITESPACE


@pytest.mark.parametrize("block", [1, 3, 100_000])
def test_column_hashes_equal_row_hashes_for_awkward_values(monkeypatch, block):
    import geo.store.hashing

    monkeypatch.setattr(geo.store.hashing, "_HASH_BLOCK", block)  # frame slices hash alike
    rows = [
        {"event_id": "a\\b", "event_date": "2020-10-04", "event_type": "shelling", "source": "s"},
        {"event_id": "b", "event_date": "2020-10-04", "notes": "x\x1fy\\N", "source": "s"},
        {"event_id": "c", "event_date": "2020-10-04", "latitude": -0.0, "longitude": 46.0},
        {"event_id": "d", "event_date": "2020-10-04", "fatalities": 3, "notes": "é\u3000"},
    ]
    assert content_hashes(pd.DataFrame(rows)) == [content_hash(r) for r in rows]
    text = {"event_id": "string[pyarrow]", "notes": "string[pyarrow]"}  # sliced arrow arrays
    assert content_hashes(pd.DataFrame(rows).astype(text)) == [content_hash(r) for r in rows]
    # Text that merely looks like a separator or an empty marker does not collide.
    assert content_hash({"notes": "\\N"}) != content_hash({})
    assert content_hash({"event_id": "a\x1fb"}) != content_hash({"event_id": "a", "notes": "b"})
    assert content_hash({"latitude": -0.0}) == content_hash({"latitude": 0.0})


def test_columns_are_stripped_like_str_strip_and_clean_ones_are_not_copied():
    import pyarrow as pa

    from geo.ingest.read import _strip

    values = ["plain", "", "in side", "é", "x\u3000y"]
    for c in PY_WHITESPACE:
        values += [c + "a", "a" + c, c, "a" + c + "b", c + "é" + c]
    column = pa.chunked_array([pa.array(values[:7]), pa.array(values[7:]).slice(1)])
    expected = [v.strip() for v in values[:7] + values[8:]]
    assert _strip(column).to_pylist() == expected
    clean = pa.chunked_array([pa.array(["a", "", "b c", "é", "x\u3000y"]).slice(1)])
    assert _strip(clean) is clean
