"""nkmap ingest | seed | export | geocode | imports | undo | history, as a user runs them."""

from __future__ import annotations

import csv
import json

import pytest
from store_backends import pg_database, pg_url, store_target  # noqa: F401 (fixtures)

from geo.cli import main
from geo.schema import COLUMN_NAMES
from geo.settings import get_settings
from geo.store import open_store

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
def db(store_target):  # noqa: F811 (the imported fixture)
    """The store the commands write: a SQLite file, then a PostgreSQL URL."""
    return store_target


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
    assert open_store(db).count() == 0
    assert main(["ingest", str(src), "--db", db, "--strict"]) == 2
    assert "--strict" in capsys.readouterr().err
    assert open_store(db).count() == 0


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
    store = open_store(db)
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
    assert summary["rejected"] == 0 and summary["inserted"] == open_store(fresh).count() > 100


def test_geocode_prints_ranked_candidates(capsys):
    assert main(["geocode", "Martuni", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ambiguous"] is True
    countries = [c["country"] for c in out["candidates"]]
    assert countries[0] == "AZ" and "AM" in countries
    assert main(["geocode", "Qwzxplace"]) == 1


# ------------------------------------------------------------------------ batches


BATCH_KEYS = {
    "id",
    "user",
    "at",
    "file",
    "sha256",
    "rows",
    "inserted",
    "updated",
    "duplicates",
    "rejected",
    "format",
    "undone_at",
    "undone_by",
    "undo_of",
}


@pytest.fixture
def two_files(tmp_path, db, capsys, monkeypatch):
    """one.csv inserts a1, a2; two.csv revises a2 and inserts b1; both ingested by alice."""
    import getpass

    monkeypatch.setattr(getpass, "getuser", lambda: "alice")
    one = tmp_path / "one.csv"
    one.write_text(HEADER + "\n" + row(event_id="a1") + row(event_id="a2", event_date="2020-10-05"))
    two = tmp_path / "two.csv"
    two.write_text(
        HEADER
        + "\n"
        + row(event_id="a2", event_date="2020-10-05", fatalities="4")
        + row(event_id="b1", event_date="2020-10-06", event_type="airstrike")
    )
    assert main(["ingest", str(one), str(two), "--db", db]) == 0
    capsys.readouterr()
    return one, two


def exported(tmp_path, db, capsys) -> dict[str, dict]:
    out = tmp_path / "export.csv"
    assert main(["export", "--db", db, "--format", "csv", "--out", str(out)]) == 0
    capsys.readouterr()
    return {r["event_id"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}


def test_imports_lists_every_batch_with_who_and_which_file(two_files, db, capsys):
    import hashlib

    one, two = two_files
    assert main(["imports", "--db", db, "--json"]) == 0
    batches = json.loads(capsys.readouterr().out)
    assert [set(b) for b in batches] == [BATCH_KEYS, BATCH_KEYS]
    assert [(b["id"], b["file"], b["user"]) for b in batches] == [
        (2, "two.csv", "cli:alice"),
        (1, "one.csv", "cli:alice"),
    ]
    assert batches[1]["sha256"] == hashlib.sha256(one.read_bytes()).hexdigest()
    assert [(b["inserted"], b["updated"], b["rows"]) for b in batches] == [(1, 1, 2), (2, 0, 2)]
    assert main(["imports", "--db", db]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "batch",
        "user",
        "at",
        "file",
        "sha256",
        "rows",
        "inserted",
        "updated",
        "duplicates",
        "rejected",
        "status",
    ]
    assert len(lines) == 3
    # An aligned table: each column starts at the same place on every line.
    assert {line.index("cli:alice") for line in lines[1:]} == {lines[0].index("user")}
    assert {line.index(".csv") for line in lines[1:]} == {lines[0].index("file") + 3}


def test_undo_refuses_a_batch_a_later_one_changed_then_force_undoes_it(
    two_files, tmp_path, db, capsys
):
    before = exported(tmp_path, db, capsys)
    assert main(["undo", "1", "--db", db]) == 2
    err = capsys.readouterr().err
    assert "batch 1 cannot be undone" in err and "batch 2" in err and "a2" in err
    assert exported(tmp_path, db, capsys) == before  # refused: nothing changed
    assert main(["undo", "1", "--db", db, "--force"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == "batch 1 undone: 2 events removed, 0 restored (undo recorded as batch 3)"
    after = exported(tmp_path, db, capsys)
    assert after == {"b1": before["b1"]}  # a2 goes although batch 2 revised it; b1 untouched
    assert main(["imports", "--db", db, "--json"]) == 0
    batches = {b["id"]: b for b in json.loads(capsys.readouterr().out)}
    assert batches[1]["undone_by"] == "cli:alice" and batches[1]["undone_at"]
    assert (batches[3]["format"], batches[3]["undo_of"]) == ("undo", 1)
    assert main(["undo", "1", "--db", db]) == 2
    assert "already undone" in capsys.readouterr().err
    assert main(["undo", "3", "--db", db]) == 2
    assert "cannot be undone" in capsys.readouterr().err
    assert main(["undo", "42", "--db", db]) == 2
    assert "no batch 42" in capsys.readouterr().err


def test_undo_of_the_latest_batch_restores_what_it_revised(two_files, tmp_path, db, capsys):
    before = exported(tmp_path, db, capsys)
    assert main(["undo", "2", "--db", db]) == 0
    assert "1 event removed, 1 restored (undo recorded as batch 3)" in capsys.readouterr().out
    after = exported(tmp_path, db, capsys)
    assert set(after) == {"a1", "a2"}
    assert after["a1"] == before["a1"]  # untouched rows: the same exported text
    assert before["a2"]["fatalities"] == "4" and after["a2"]["fatalities"] == ""
    assert {k: v for k, v in after["a2"].items() if k != "fatalities"} == {
        k: v for k, v in before["a2"].items() if k != "fatalities"
    }
    assert main(["undo", "1", "--db", db]) == 0  # batch 2 is undone: no longer in the way
    assert exported(tmp_path, db, capsys) == {}


def test_history_shows_every_version_of_an_event(two_files, db, capsys):
    assert main(["history", "a2", "--db", db, "--json"]) == 0
    versions = json.loads(capsys.readouterr().out)
    assert [(v["batch"], v["action"], v["file"], v["current"]) for v in versions] == [
        (1, "insert", "one.csv", False),
        (2, "update", "two.csv", True),
    ]
    assert versions[0]["values"]["fatalities"] is None and versions[1]["values"]["fatalities"] == 4
    assert main(["history", "a2", "--db", db]) == 0
    text = capsys.readouterr().out
    assert "batch 1" in text and "one.csv  insert" in text
    assert "two.csv  update  (current)" in text and "fatalities: None -> 4" in text
    assert main(["undo", "2", "--db", db]) == 0
    capsys.readouterr()
    assert main(["history", "b1", "--db", db]) == 0
    assert "undo of batch 2  delete" in capsys.readouterr().out
    assert main(["history", "nope", "--db", db]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "no event 'nope'" in captured.err


def test_the_cli_user_falls_back_when_the_os_cannot_say(monkeypatch):
    import getpass

    from geo.cli import _os_user

    def no_user():
        raise KeyError("uid not found")

    monkeypatch.setattr(getpass, "getuser", no_user)
    monkeypatch.setenv("USER", "zed")
    assert _os_user() == "cli:zed"
    monkeypatch.delenv("USER")
    assert _os_user() == "cli:unknown"
