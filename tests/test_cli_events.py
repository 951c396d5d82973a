"""nkmap ingest | seed | export | geocode, as a user runs them."""

from __future__ import annotations

import csv
import json

import pytest

from geo.cli import main
from geo.schema import COLUMN_NAMES
from geo.settings import get_settings
from geo.store import SQLiteStore

HEADER = ",".join(COLUMN_NAMES)


def row(**v) -> str:
    base = {
        "event_id": "c1",
        "event_date": "2020-10-04",
        "event_type": "shelling",
        "location": "Ganja",
        "latitude": "40.68",
        "longitude": "46.36",
        "source": "AP",
    }
    base.update(v)
    return ",".join(base.get(c, "") for c in COLUMN_NAMES) + "\n"


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "events.sqlite")


def test_ingest_json_summary_and_rejects_file(tmp_path, db, capsys):
    src = tmp_path / "mine.csv"
    src.write_text(HEADER + "\n" + row() + row(event_id="c2", fatalities="-1"))
    rejects = tmp_path / "rejects.csv"
    assert main(["ingest", str(src), "--db", db, "--json", "--rejects", str(rejects)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {
        k: out[k] for k in ("rows", "inserted", "updated", "duplicates", "rejected", "geocoded")
    } == {"rows": 2, "inserted": 1, "updated": 0, "duplicates": 0, "rejected": 1, "geocoded": 0}
    lines = list(csv.reader(rejects.open()))
    assert lines == [
        ["line", "column", "value", "reason"],
        ["3", "fatalities", "'-1", "must be 0 or more"],
    ]
    assert main(["ingest", str(src), "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["inserted"] == 0


def test_dry_run_changes_nothing_and_strict_refuses(tmp_path, db, capsys):
    src = tmp_path / "mine.csv"
    src.write_text(HEADER + "\n" + row() + row(event_id="c2", fatalities="x"))
    assert main(["ingest", str(src), "--db", db, "--dry-run"]) == 0
    assert SQLiteStore(db).count() == 0
    assert main(["ingest", str(src), "--db", db, "--strict"]) == 2
    assert "--strict" in capsys.readouterr().err
    assert SQLiteStore(db).count() == 0


def test_zero_valid_rows_exits_2(tmp_path, db, capsys):
    src = tmp_path / "bad.csv"
    src.write_text(HEADER + "\n" + row(event_date="someday"))
    assert main(["ingest", str(src), "--db", db, "--json"]) == 2
    assert "no valid rows" in capsys.readouterr().err


def test_map_option_and_ambiguous_dates(tmp_path, db, capsys):
    src = tmp_path / "notes.csv"
    src.write_text("When,Town,What happened,Source\n05/10/2020,Ganja,Shelling,AP\n")
    assert main(["ingest", str(src), "--db", db, "--map", "When=event_date"]) == 2
    assert "--date-format" in capsys.readouterr().err
    assert (
        main(
            [
                "ingest",
                str(src),
                "--db",
                db,
                "--map",
                "When=event_date",
                "--map",
                "What happened=notes",
                "--date-format",
                "%d/%m/%Y",
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["geocoded"] == 1


def test_seed_loads_the_curated_set_once(db, capsys):
    assert main(["seed", "--db", db]) == 0
    store = SQLiteStore(db)
    n = store.count()
    assert n >= 150
    assert main(["seed", "--db", db]) == 0
    assert store.count() == n
    curated = len(list(csv.DictReader((get_settings().events_dir / "events.csv").open())))
    assert n == curated


def test_export_then_reimport_round_trips(tmp_path, db, capsys):
    main(["seed", "--db", db])
    out = tmp_path / "war.csv"
    assert (
        main(
            [
                "export",
                "--db",
                db,
                "--format",
                "csv",
                "--from",
                "2020-09-27",
                "--to",
                "2020-11-10",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    fresh = str(tmp_path / "fresh.sqlite")
    assert main(["ingest", str(out), "--db", fresh, "--json", "--strict"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rejected"] == 0 and summary["inserted"] == SQLiteStore(fresh).count() > 100


def test_geocode_prints_ranked_candidates(capsys):
    assert main(["geocode", "Martuni", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ambiguous"] is True
    countries = [c["country"] for c in out["candidates"]]
    assert countries[0] == "AZ" and "AM" in countries
    assert main(["geocode", "Qwzxplace"]) == 1
