"""The extraction evaluation (bench/extract.py, bench/extract_eval/): its data, its scorer, and
what must hold for every candidate of every report. No wall-clock assertions."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # bench/ is a folder of the repo, not an installed package
    sys.path.insert(0, str(REPO))

from bench import extract as bench  # noqa: E402
from geo.extract import extract, to_csv  # noqa: E402
from geo.ingest import plan_import  # noqa: E402
from geo.schema import EVENT_TYPES  # noqa: E402
from geo.store import SQLiteStore  # noqa: E402

SETS = {name: folder for name, folder in bench.SETS.items() if (folder / "reports.csv").exists()}


def _all_reports() -> list[tuple[str, bench.Report]]:
    return [(name, r) for name, folder in SETS.items() for r in bench.load_reports(folder)]


# ------------------------------------------------------------------------------- the data
def test_the_evaluation_set_covers_what_the_issue_asks():
    reports = [r for _, r in _all_reports()]
    assert len(reports) >= 25
    assert {r.published.year for r in reports} >= {2016, 2020, 2022, 2023}
    assert {"wire", "ministry", "international"} <= {r.kind for r in reports}
    assert {"armenian", "azerbaijani"} <= {r.side for r in reports if r.kind == "ministry"}
    texts = " ".join(r.text for r in reports)
    for ambiguous in ("Martuni", "Vardenis", "Fuzuli"):
        assert ambiguous in texts
    assert "held-out" in SETS, "the held-out set is scored apart from the development set"


@pytest.mark.parametrize("name", sorted(SETS))
def test_every_report_has_an_address_and_valid_gold(name):
    folder = SETS[name]
    reports = {r.stem: r for r in bench.load_reports(folder)}
    assert {p.stem for p in (folder / "reports").glob("*.txt")} == set(reports)
    for r in reports.values():
        assert r.url.startswith(("http://", "https://")) and r.publisher
    with (folder / "gold.csv").open(encoding="utf-8", newline="") as fh:
        gold = list(csv.DictReader(fh))
    assert {g["report"] for g in gold} == set(reports)  # every report has gold events
    for g in gold:
        published = reports[g["report"]].published
        assert dt.date.fromisoformat(g["event_date"]) <= published, g
        assert not g["date_end"] or g["date_end"] >= g["event_date"], g
        assert g["event_type"] in EVENT_TYPES, g
        has_point = bool(g["latitude"]) and bool(g["longitude"])
        assert has_point == (g["geo_precision"] in ("1", "2")), g


# ------------------------------------------------------------------------------ the scorer
GOLD = {
    "event_date": "2020-10-04",
    "event_type": "shelling",
    "location": "Ganja",
    "latitude": "40.6828",
    "longitude": "46.3606",
    "geo_precision": "1",
    "claimed_by": "Azerbaijani Prosecutor General's Office",
    "fatalities": "1",
}


def _candidate(**changes) -> dict:
    c = {**GOLD, "latitude": 40.6828, "longitude": 46.3606, "fatalities": 1, **changes}
    return c


def test_agreement_field_by_field():
    assert all(bench.agreement(_candidate(), GOLD).values())
    near = bench.agreement(_candidate(latitude=40.76, longitude=46.36), GOLD)  # ~9 km
    far = bench.agreement(_candidate(latitude=40.90, longitude=46.36), GOLD)  # ~24 km
    assert near["place"] and not far["place"]
    assert not bench.agreement(_candidate(fatalities=None), GOLD)["fatalities"]
    assert not bench.agreement(_candidate(claimed_by=""), GOLD)["claimant"]
    region = {**GOLD, "location": "Nagorno-Karabakh", "latitude": "", "longitude": ""}
    region["geo_precision"] = "3"
    assert bench.agreement(_candidate(location="Nagorno-Karabakh", geo_precision=3), region)[
        "place"
    ]
    assert not bench.agreement(_candidate(), region)["place"]  # a town is not the region


def test_pairing_needs_two_of_date_place_and_type():
    gold = [GOLD]
    assert bench.score_report([_candidate(event_type="capture")], gold).paired == 1
    assert (
        bench.score_report([_candidate(event_type="capture", event_date="2020-10-01")], gold).paired
        == 0
    )
    two = bench.score_report([_candidate(), _candidate()], gold)  # a gold event pairs once
    assert (two.paired, two.candidates, two.gold) == (1, 2, 1)


# ---------------------------------------------------------------- every candidate of every report
def test_every_candidate_is_dated_placed_and_importable(tmp_path):
    store = SQLiteStore(tmp_path / "events.sqlite")
    centroids = bench._country_centroids()
    for _name, report in _all_reports():
        frame = extract(report.text, report.published, source=report.publisher, url=report.url)
        assert (frame.candidates["event_date"] <= report.published.isoformat()).all(), report.stem
        for row in frame.candidates.to_dict("records"):
            if row["latitude"] not in ("", None):
                for country, lat, lon in centroids:
                    km = bench._km(row["latitude"], row["longitude"], lat, lon)
                    assert km > bench.COUNTRY_CENTROID_KM, (report.stem, country, row)
        plan = plan_import(to_csv(frame.candidates).encode(), store, source_name=report.stem)
        # The only rows ingest refuses are those of a report that names no place at all, and
        # each of those says so to its reviewer.
        for issue in plan.rejects:
            assert issue.reason == "no coordinates and no place name", (report.stem, issue)
            row = frame.candidates.iloc[issue.line - 2]
            assert "add one before importing" in row["notes"], (report.stem, row)


def test_the_bench_meets_the_issue_targets_on_the_whole_set(capsys):
    status = bench.main(["--json"])
    results = json.loads(capsys.readouterr().out)
    whole = results["all"]["ours"]
    assert whole["late_dates"] == [] and whole["country_centroids"] == []
    assert whole["events"]["recall"] >= bench.TARGETS["recall"]
    assert whole["events"]["precision"] >= bench.TARGETS["precision"]
    # The baseline is scored on the same reports, side by side.
    assert results["all"]["baseline"]["gold"] == whole["gold"]
    assert status == 0
