"""The benchmark harness works (quick smoke tests). Never asserts on wall-clock time."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # bench/ is a folder of the repo, not an installed package
    sys.path.insert(0, str(REPO))

from bench import synth  # noqa: E402
from bench.first_use import DRY_RUN_PLACES, dry_run_csv, measure_first_use  # noqa: E402
from bench.memory import PeakSampler, tree  # noqa: E402
from bench.report import load_section, results_markdown  # noqa: E402
from bench.results import Measurement, target_for  # noqa: E402
from geo.ingest import REGION, plan_import  # noqa: E402
from geo.schema import COLUMN_NAMES, EVENT_TYPES, SIDES  # noqa: E402
from geo.store import SQLiteStore  # noqa: E402


@pytest.fixture(scope="module")
def synthetic_csv(tmp_path_factory) -> Path:
    return synth.write_csv(tmp_path_factory.mktemp("synth") / "events.csv", 500, seed=3)


def test_synthetic_events_pass_validation_with_zero_rejects(synthetic_csv, tmp_path):
    store = SQLiteStore(tmp_path / "events.sqlite")
    plan = plan_import(synthetic_csv.read_bytes(), store, source_name="synth")
    assert plan.format == "native"
    assert plan.rejects == []
    assert len(plan.inserts) == 500
    assert plan.geocoded == 0  # every row has its coordinates


def test_synthetic_events_look_like_the_region_and_say_they_are_synthetic(synthetic_csv):
    frame = pd.read_csv(synthetic_csv, keep_default_na=False)
    assert tuple(frame.columns) == COLUMN_NAMES
    assert frame["source"].str.startswith("Synthetic benchmark data").all()
    lon_min, lat_min, lon_max, lat_max = REGION
    assert frame["latitude"].between(lat_min, lat_max).all()
    assert frame["longitude"].between(lon_min, lon_max).all()
    years = frame["event_date"].str[:4].astype(int)
    assert years.between(2016, 2023).all()
    assert set(frame["side"]) <= set(SIDES)
    assert 0.25 < (frame["fatalities"] == "").mean() < 0.55  # unknown stays blank, not 0
    assert 0.03 < (frame["date_end"] != "").mean() < 0.2  # some multi-day events
    assert frame["notes"].str.contains('[<&"]').any()  # text that must stay text


def test_synthetic_data_is_seeded_and_covers_every_type_and_side():
    a = synth.events_frame(3000, seed=5)
    assert a.equals(synth.events_frame(3000, seed=5))
    assert not a.equals(synth.events_frame(3000, seed=6))
    assert set(a["event_type"]) == set(EVENT_TYPES)
    assert set(a["side"]) == set(SIDES)
    assert set(synth.TYPE_WEIGHTS) == set(EVENT_TYPES)


def test_synthetic_places_are_the_curated_places():
    places = synth.curated_places().frame
    curated = pd.read_csv(REPO / "data" / "events" / "events.csv")
    assert set(places["location"]) <= set(curated["location"])


def test_run_prints_json_with_every_measure_of_the_chosen_parts(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--events", "300"]
        + ["--only", "ingest,filter,map", "--json", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    doc = json.loads(out.stdout)
    assert doc["errors"] == []
    assert {"cpu_count", "cpu_model", "ram_gb", "chromium", "python", "pandas", "sqlite"} <= set(
        doc["machine"]
    )
    measures = {r["measure"] for r in doc["results"]}
    assert measures == {"ingest", "filter", "filter_2020_war", "map_build", "map_payload"}
    for r in doc["results"]:
        assert {"events", "ours", "baseline", "ratio", "unit", "target", "met", "note"} <= set(r)
        assert r["events"] == 300
        assert r["ours"] is not None and r["baseline"] is not None
    ingest = next(r for r in doc["results"] if r["measure"] == "ingest")
    assert ingest["extra"]["inserted"] == 300 and ingest["extra"]["rejected"] == 0
    for name in ("filter", "filter_2020_war"):
        filtered = next(r for r in doc["results"] if r["measure"] == name)
        assert "DIFFER" not in filtered["note"]  # the store and the full scan agree
    war = next(r for r in doc["results"] if r["measure"] == "filter_2020_war")
    assert war["extra"]["rows"] > 0


def test_targets_are_judged_at_their_size_only():
    fast = Measurement("ingest", 1_000_000, 12.0, 4.0, "s")
    slow = Measurement("ingest", 1_000_000, 12.0, 2.0, "s")  # 6x pandas
    small = Measurement("ingest", 10_000, 1.0, 0.1, "s")
    assert fast.ratio == 3.0
    assert fast.as_dict()["met"] is True
    assert slow.as_dict()["met"] is False
    assert target_for(small) is None
    unfinished = Measurement("draw", 100_000, None, None, "s", note="did not finish in 90 s")
    assert unfinished.ratio is None and unfinished.as_dict()["met"] is None
    memory = Measurement("browser_memory", 1_000_000, 900.0, None, "MB", extra={"mode": "points"})
    assert memory.as_dict()["met"] is False  # not aggregated at low zoom


def test_results_markdown_has_the_machine_and_the_table():
    text = results_markdown(
        {"cpu_count": 2, "cpu_model": "Test CPU", "chromium": "Chromium 1"},
        [Measurement("snapshot", 10_000, 1.5, 1.0, "s", note="baseline: no events")],
        "python bench/run.py --events 10000",
    )
    assert "| CPUs | 2 |" in text and "Test CPU" in text
    assert "| snapshot | 10,000 | 1.5 s | 1 s | 1.50 | ≤ 2 s | met |" in text


def test_a_new_results_file_keeps_the_notes_and_the_load_tests_section():
    """`bench/run.py --write` regenerates the table; the hand-written notes and the load
    test's own section (minutes per run, written by bench/load.py) survive it unchanged."""
    block = "\n".join(
        ["<!-- bench/load.py: begin -->", "## Load test", "", "| rows lost | 0 |"]
        + ["<!-- bench/load.py: end -->"]
    )
    old = f"# Benchmark results\n\nold table\n\n{block}\n\n### stray hand text\n"
    assert load_section(old) == block
    assert load_section("# Benchmark results\n") == ""
    assert load_section("<!-- bench/load.py: begin -->\nno end") == ""
    text = results_markdown(
        {"cpu_count": 2},
        [Measurement("snapshot", 10_000, 1.5, 1.0, "s")],
        "python bench/run.py --write",
        notes="## Why\n\nwritten by a person",
        load=load_section(old),
    )
    assert "old table" not in text and "## Why\n\nwritten by a person" in text
    assert text.rstrip().endswith(block) and text.count("## Load test") == 1
    assert text.index("## Why") < text.index("## Targets") < text.index("## Load test")


def test_results_can_be_regenerated_from_a_saved_runs_json(tmp_path, monkeypatch):
    """After a person rewrites the notes for a run, `--from-json FILE --write` regenerates
    RESULTS.md from that run's --json output, without running it again (1M takes an hour)."""
    from bench import cli

    monkeypatch.setattr(cli, "RESULTS_MD", tmp_path / "RESULTS.md")
    monkeypatch.setattr(cli, "RESULTS_NOTES", tmp_path / "RESULTS-notes.md")
    (tmp_path / "RESULTS-notes.md").write_text("## Why\n\nthe notes, rewritten\n", "utf-8")
    m = Measurement("filter", 1_000_000, 54.2, 241.6, "ms", note="6,363 rows", extra={"n": 1})
    saved = {
        "command": "python bench/run.py --only filter --json",
        "machine": {"cpu_count": 2, "date": "2026-12-01T10:51:45+00:00"},
        "results": [m.as_dict()],
        "errors": [],
    }
    (tmp_path / "run.json").write_text(json.dumps(saved), "utf-8")
    assert cli.main(["--from-json", str(tmp_path / "run.json"), "--write"]) == 0
    text = (tmp_path / "RESULTS.md").read_text("utf-8")
    assert "Made by `python bench/run.py --only filter --json`" in text
    row = "| filter | 1,000,000 | 54.2 ms | 241.6 ms | 0.22 | ≤ 100 ms | met | 6,363 rows |"
    assert row in text
    assert "| Date (UTC) | 2026-12-01T10:51:45+00:00 |" in text
    assert "the notes, rewritten" in text
    with pytest.raises(SystemExit, match="add --write"):
        cli.main(["--from-json", str(tmp_path / "run.json")])


def test_peak_sampler_reads_this_process():
    with PeakSampler(lambda: tree(os.getpid()), interval=0.01) as memory:
        bytearray(1024 * 1024)
    assert memory.samples >= 2 and memory.peak > 0


def test_first_use_dry_run_file_needs_the_gazetteer_for_every_row(tmp_path):
    upload = dry_run_csv(tmp_path / "15.csv")
    store = SQLiteStore(tmp_path / "events.sqlite")
    plan = plan_import(upload.read_bytes(), store, source_name="15.csv")
    assert len(DRY_RUN_PLACES) == 15
    assert plan.rejects == [] and len(plan.inserts) == 15 and plan.geocoded == 15


def test_first_use_times_no_cache_cold_and_warm_processes(tmp_path):
    runs: list[list[str]] = []

    def fake_run(argv, env):  # no cache: 10 s; the first run with a cache builds it: 12 s
        runs.append(list(argv))
        cache = Path(env["NKMAP_GAZETTEER_CACHE"])
        if cache.parent.is_file():  # the cache cannot be written
            return 10.0
        if not cache.exists():
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_bytes(b"index")
            return 12.0
        return 0.5

    got = {m.measure: m for m in measure_first_use(tmp_path, repeat=3, run=fake_run)}
    assert set(got) == {"geocode_warm", "geocode_cold", "dry_run_warm", "dry_run_cold"}
    warm, cold = got["geocode_warm"], got["geocode_cold"]
    assert (warm.ours, warm.baseline, warm.ratio) == (0.5, 10.0, 0.05)
    assert (cold.ours, cold.baseline, cold.ratio) == (12.0, 10.0, 1.2)
    assert warm.as_dict()["met"] is True and cold.as_dict()["target"] is None
    assert got["dry_run_warm"].events == 15 and got["dry_run_warm"].as_dict()["met"] is True
    assert len(runs) == 2 * (1 + 1 + 3)  # per command: no cache, cold, 3 warm
    assert sum("--dry-run" in argv for argv in runs) == 5


def test_app_part_takes_the_backends_to_run_on():
    from bench.cli import parser

    assert parser().parse_args([]).backends == ["sqlite"]
    assert parser().parse_args(["--backends", "sqlite,postgresql"]).backends == [
        "sqlite",
        "postgresql",
    ]
    with pytest.raises(SystemExit):
        parser().parse_args(["--backends", "oracle"])


@pytest.mark.browser
def test_peer_page_draws_every_point_of_the_store(tmp_path):
    """bench/peer_app.py in Streamlit + headless Chromium: the instanced WebGL draw of every
    point is seen, and a count it never draws is never reported as drawn."""
    from concurrent.futures import ThreadPoolExecutor

    from bench.browser import chromium
    from bench.dashboard import PEER_SCRIPT, peer_open, streamlit_app
    from bench.dataset import Dataset

    data = Dataset(300, tmp_path)
    lo, hi = data.span()
    points = data.located(lo, hi)
    assert points == 300

    def run() -> tuple[float | None, float | None]:
        with chromium() as browser, streamlit_app(data.store_path, PEER_SCRIPT) as server:
            url = f"{server.url}/?from={lo}&to={hi}"
            return peer_open(browser, url, points, 60), peer_open(browser, url, points + 1, 5)

    # In a thread of its own: the browser tests' Playwright runs an event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        drawn_s, never = pool.submit(run).result()
    assert drawn_s is not None and drawn_s > 0
    assert never is None
