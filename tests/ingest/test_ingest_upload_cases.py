"""Upload cases a new user meets (issue 13, item 4), through plan_import and `nkmap ingest`:
free-text headers, a file without a type column, unknown counts, an ambiguous place and
coordinates that contradict their place. Every warning names its CSV line."""

from __future__ import annotations

import json

import pytest

from geo.cli import main
from geo.errors import InputError
from geo.ingest import plan_import
from geo.store import open_store

HAND_MADE = (
    "Date,Place,Killed,What happened,Lat,Lon,Source\n"
    "2020-10-04,Ganja,unknown,Shelling hit the old town,40.6828,46.3606,AP\n"
    "2020-10-05,Ganja,3,A second strike,40.6828,46.3606,AP\n"
)


@pytest.fixture
def store(store_target):
    """A new store: SQLite, then PostgreSQL (tests/ingest/conftest.py)."""
    return open_store(store_target)


def plan(data: str, store, **kw):
    return plan_import(data.encode(), store, source_name="mine.csv", **kw)


def values(p, column: str) -> list[object]:
    return [r.values[column] for r in p.inserts]


# ------------------------------------------------------------------ a. free text is notes


@pytest.mark.parametrize(
    "header",
    [
        "What happened",
        "what  happened",
        "Description",
        "DETAILS",
        "Summary",
        "Comment",
        "Comments",
        "Comment(s)",
        "Narrative",
        "Event description",
        "event-description",
    ],
)
def test_free_text_headers_map_to_notes(store, header):
    p = plan(f"Date,Place,{header},Lat,Lon,Source\n2020-10-04,Ganja,hit,40.68,46.36,AP\n", store)
    assert p.mapping[header] == "notes"
    assert values(p, "notes") == ["hit"]


# ------------------------------------------------------------------ b. one type for the file


def test_without_a_type_column_every_row_is_other_with_a_warning_on_its_line(store):
    p = plan(HAND_MADE, store)
    assert values(p, "event_type") == ["other", "other"]
    typed = [w for w in p.warnings if w.column == "event_type"]
    assert [(w.line, w.reason) for w in typed] == [
        (2, "no event type: recorded as 'other'"),
        (3, "no event type: recorded as 'other'"),
    ]


@pytest.mark.parametrize("given", ["shelling", "Shelling / artillery", "ARTILLERY"])
def test_a_type_for_the_whole_file(store, given):
    p = plan(HAND_MADE, store, event_type=given)
    assert values(p, "event_type") == ["shelling", "shelling"]
    assert not [w for w in p.warnings if w.column == "event_type"]


def test_the_file_type_fills_only_rows_without_one(store):
    data = "Date,Type,Lat,Lon,Source\n2020-10-04,clash,40.68,46.36,AP\n2020-10-05,,40.68,46.36,AP\n"
    p = plan(data, store, event_type="protest")
    assert values(p, "event_type") == ["armed_clash", "protest"]


def test_a_type_outside_the_vocabulary_is_refused(store):
    with pytest.raises(InputError, match="--type must be one of: shelling, ") as err:
        plan(HAND_MADE, store, event_type="picnic")
    assert err.value.value == "picnic"


def test_cli_type_and_its_refusal(tmp_path, capsys, store_target):
    src = tmp_path / "mine.csv"
    src.write_text(HAND_MADE)
    db = store_target
    assert main(["ingest", str(src), "--db", db, "--type", "picnic"]) == 2
    assert "--type must be one of: shelling" in capsys.readouterr().err
    assert open_store(db).count() == 0
    assert main(["ingest", str(src), "--db", db, "--type", "shelling", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["inserted"] == 2 and "no event type" not in err
    assert set(open_store(db).events()["event_type"]) == {"shelling"}


# ------------------------------------------------------------------ c. unknown counts


@pytest.mark.parametrize("unknown", ["unknown", "UNKNOWN", "n/a", "N/A", "na", "NA", "?", "-"])
@pytest.mark.parametrize(
    "column", ["fatalities", "fatalities_low", "fatalities_high", "civilian_fatalities"]
)
def test_unknown_counts_are_blank_not_rejects(store, unknown, column):
    data = f"event_date,event_type,latitude,longitude,source,{column}\n"
    data += f"2020-10-04,shelling,40.68,46.36,AP,{unknown}\n"
    p = plan(data, store)
    assert not p.rejects and values(p, column) == [None]


def test_dashes_and_unk_are_unknown_too_but_words_are_not(store):
    rows = ["–", "—", "unk", "many", "NA"]
    data = "event_id,event_date,event_type,latitude,longitude,source,country,fatalities\n"
    data += "".join(f"e{i},2020-10-04,shelling,40.68,46.36,AP,,{v}\n" for i, v in enumerate(rows))
    data += "na-country,2020-10-04,shelling,40.68,46.36,AP,NA,\n"
    p = plan(data, store)
    assert values(p, "fatalities") == [None, None, None, None]
    # "many" is no count; "NA" in the country column is not "unknown" (nor an ISO3 code).
    assert [(r.line, r.column, r.value) for r in p.rejects] == [
        (5, "fatalities", "many"),
        (7, "country", "NA"),
    ]


def test_cli_unknown_counts(tmp_path, capsys, store_target):
    src = tmp_path / "mine.csv"
    src.write_text(HAND_MADE)
    db = store_target
    assert main(["ingest", str(src), "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rejected"] == 0
    assert open_store(db).events()["fatalities"].isna().sum() == 1


# ------------------------------------------------------------------ d. ambiguous places

MARTUNI = (
    "Date,Type,Place,Country,Source\n"
    "2020-10-04,shelling,Martuni,,AP\n"
    '2020-10-05,shelling,"Martuni, AM",,AP\n'
    "2020-10-06,shelling,Martuni,ARM,AP\n"
    '2020-10-07,shelling,"Martuni, Armenia",,AP\n'
)
AMBIGUOUS = (
    "ambiguous place: Martuni → Khojavend (AZ), also Martuni, Gegharkunik (AM): add country "
    "AM to the row, or write 'Martuni, AM', to pick Martuni, Gegharkunik (AM)"
)


def test_an_ambiguous_place_is_placed_and_its_alternatives_named(store):
    p = plan(MARTUNI, store)
    assert not p.rejects
    assert [(w.line, w.column, w.value, w.reason) for w in p.warnings] == [
        (2, "location", "Martuni", AMBIGUOUS)
    ]
    # Line 2 is Khojavend (AZ); the others picked the Armenian Martuni by country.
    lats = [round(v, 2) for v in values(p, "latitude")]
    assert lats == [39.79, 40.14, 40.14, 40.14]
    assert p.geocoded == 4


def test_cli_names_the_ambiguity_with_its_line(tmp_path, capsys):
    src = tmp_path / "martuni.csv"
    src.write_text(MARTUNI)
    assert main(["ingest", str(src), "--db", str(tmp_path / "e.sqlite"), "--dry-run"]) == 0
    err = capsys.readouterr().err
    assert f"warning  line 2, column 'location', value 'Martuni': {AMBIGUOUS}" in err


# ------------------------------------------------------------------ e. point vs place


def test_coordinates_swapped_against_a_known_place_are_swapped_back(store):
    data = (
        "event_id,event_date,event_type,location,latitude,longitude,source\n"
        "a,2020-10-04,shelling,Ganja,46.3606,40.6828,AP\n"  # swapped: inside the region both ways
        "b,2020-10-04,shelling,Baku,49.892,40.3777,AP\n"  # swapped: outside the region as given
    )
    p = plan(data, store)
    assert not p.rejects
    assert values(p, "latitude") == [pytest.approx(40.6828), pytest.approx(40.3777)]
    assert [(w.line, w.column, w.value) for w in p.warnings] == [
        (2, "latitude", "46.3606, 40.6828"),
        (3, "latitude", "49.892, 40.3777"),
    ]
    assert all("latitude and longitude were swapped" in w.reason for w in p.warnings)
    assert "km from Ganja" in p.warnings[0].reason


def test_a_point_far_from_its_place_is_a_warning(store):
    data = (
        "event_id,event_date,event_type,location,latitude,longitude,source\n"
        "a,2020-10-04,shelling,Ganja,39.8177,46.7528,AP\n"  # Stepanakert's point
        "b,2020-10-04,shelling,Ganja,40.70,46.40,AP\n"  # 4 km away: fine
        "c,2020-10-04,shelling,Atlantis,39.8177,46.7528,AP\n"  # unknown place: no opinion
        "d,2020-10-04,shelling,Martuni,40.14,45.30,AP\n"  # ambiguous place: no opinion
        "e,2020-10-04,statement,Ganja,39.8177,46.7528,AP\n"  # a statement is no place
    )
    p = plan(data, store)
    assert not p.rejects and len(p.inserts) == 5
    assert values(p, "latitude")[0] == pytest.approx(39.8177)  # nothing changed
    assert [(w.line, w.value, w.reason) for w in p.warnings] == [
        (
            2,
            "39.8177, 46.7528",
            "the point is 102 km from Ganja: check the coordinates or the place",
        )
    ]


def test_the_place_check_asks_each_place_once_and_skips_files_without_places(store):
    asked = []

    class Counting:
        name = "offline"

        def geocode(self, name, country=None):
            from geo.places.geocode import get_geocoder

            asked.append(name)
            return get_geocoder("offline").geocode(name, country)

    rows = "".join(f"e{i},2020-10-04,shelling,Ganja,40.68,46.36,AP\n" for i in range(500))
    header = "event_id,event_date,event_type,location,latitude,longitude,source\n"
    plan(header + rows, store, geocoder=Counting())
    assert asked == ["Ganja"]
    asked.clear()
    plan(HAND_MADE.replace("Place", "Where"), store, geocoder=Counting())
    assert asked == []


def test_cli_swaps_with_a_warning(tmp_path, capsys, store_target):
    src = tmp_path / "swapped.csv"
    src.write_text(
        "event_id,event_date,event_type,location,latitude,longitude,source\n"
        "a,2020-10-04,shelling,Ganja,46.3606,40.6828,AP\n"
    )
    db = store_target
    assert main(["ingest", str(src), "--db", db]) == 0
    assert "line 2, column 'latitude', value '46.3606, 40.6828': latitude and longitude were " \
        "swapped" in capsys.readouterr().err  # fmt: skip
    assert open_store(db).events()["latitude"].iloc[0] == pytest.approx(40.6828)


# ------------------------------------------------------------------ g. every warning's line


def test_every_warning_of_a_troubled_file_has_its_line(store):
    data = (
        "Date,Place,Killed,Notes,Lat,Lon,Country\n"
        "2020-10-04,Martuni,unknown,a,,,\n"
        "2020-10-05,Ganja,1,b,46.3606,40.6828,\n"
        "2020-10-06,Ganja,2,c,39.8177,46.7528,USA\n"
        "2020-10-07,Ganja,2,c,39.8177,46.7528,USA\n"
    )
    p = plan(data, store)
    assert len(p.warnings) >= 8
    assert all(isinstance(w.line, int) and w.line >= 1 for w in p.warnings)
    assert {w.line for w in p.warnings} == {1, 2, 3, 4, 5}
