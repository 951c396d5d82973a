"""bench/load.py works (a small run) and can fail (lost rows, errors). Never asserts on time."""

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

from bench import load, synth  # noqa: E402


@pytest.mark.browser
def test_a_small_load_run_on_two_postgres_servers_loses_no_row(tmp_path):
    """2 sessions on 2 app servers of a throw-away PostGIS database, 2,000 events, two
    editors importing 200 rows each and a data-pack export at the same time."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if os.environ.get("NKMAP_TEST_PG"):  # the server the store tests use
        env["NKMAP_LOAD_PG"] = os.environ["NKMAP_TEST_PG"]
    argv = [sys.executable, str(REPO / "bench" / "load.py"), "--events", "2000"]
    argv += ["--sessions", "2", "--steps", "2", "--import-rows", "200"]
    argv += ["--backends", "postgres", "--json", "--workdir", str(tmp_path)]
    # Longer than load.py's own limit on a first map (OPEN_LIMIT_S, 240 s): a map that never
    # draws is then reported by the run, by session, and its servers are stopped, instead of
    # the run being killed at the same moment with its servers left running.
    limit = load.OPEN_LIMIT_S + 180
    out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=limit, check=False)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    run = json.loads(out.stdout)["runs"]["postgres"]
    assert run["errors"] == 0 and run["error_list"] == []
    assert run["servers"] == 2 and run["sessions"] == 2
    assert (run["rows_lost"], run["rows_expected"], run["rows_counted"]) == (0, 2400, 2400)
    assert run["period_changes"] == 2 and run["filter_changes"] == 2  # every change was drawn
    assert sorted(e["user"] for e in run["editors"]) == ["editor-a", "editor-b"]
    assert all(e["inserted"] == 200 and e["rejected"] == 0 for e in run["editors"])
    assert {"events.csv", "events.geojson", "README.md"} <= set(run["export"]["files"])


def test_a_row_missing_from_the_store_is_a_lost_row(tmp_path):
    whole = synth.write_csv(tmp_path / "whole.csv", 30, seed=7)
    part = tmp_path / "part.csv"
    pd.read_csv(whole, dtype=str, keep_default_na=False).head(29).to_csv(part, index=False)
    db = str(tmp_path / "events.sqlite")
    assert load.import_file(db, part, "editor-a")["inserted"] == 29
    check = load.check_rows(db, 0, [("editor-a", whole, 30)])
    assert (check.expected, check.counted, check.missing_ids, check.lost) == (30, 29, 1, 1)
    assert check.batch_problems  # editor-a's batches inserted 29, not 30
    assert load.check_rows(db, 0, [("editor-a", part, 29)]).lost == 0


def test_errors_or_lost_rows_fail_the_run():
    ok = {"errors": 0, "rows_lost": 0}
    assert not load.failed({"postgres": ok, "sqlite": ok})
    assert load.failed({"postgres": ok, "sqlite": {"errors": 1, "rows_lost": 0}})
    assert load.failed({"postgres": {"errors": 0, "rows_lost": 3}})
    assert load.failed({"postgres": {"errors": 1, "rows_lost": None}})  # never checked


def test_percentiles_and_the_results_section_is_replaced_not_appended(tmp_path):
    assert load.percentile([], 50) is None
    assert load.percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert load.percentile([1.0, 2.0], 95) == pytest.approx(1.95)
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\ntable\n", "utf-8")
    for n in (1, 2):
        load.write_section(f"{load.LOAD_BEGIN}\nrun {n}\n{load.LOAD_END}", results)
    text = results.read_text("utf-8")
    assert text.startswith("# Benchmark results\n\ntable\n")
    assert "run 2" in text and "run 1" not in text and text.count(load.LOAD_BEGIN) == 1
