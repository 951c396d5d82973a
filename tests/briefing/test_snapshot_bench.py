"""The snapshot benchmark (bench/snapshots.py) runs and reports cold and warm side by side, in
a small mode (a few hundred synthetic events). Never asserts on wall-clock time."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # bench/ is a folder of the repo, not an installed package
    sys.path.insert(0, str(REPO))

from bench.dataset import Dataset  # noqa: E402
from bench.results import target_for  # noqa: E402
from bench.snapshots import measure_snapshot  # noqa: E402
from geo.briefing.chromium import SERVICE  # noqa: E402


@pytest.mark.browser
def test_snapshot_bench_reports_warm_beside_cold(tmp_path):
    data = Dataset(300, tmp_path / "n300", seed=2)
    data.folder.mkdir(parents=True)
    before = SERVICE.starts
    m = measure_snapshot(data, runs=2)
    assert (m.measure, m.events, m.unit) == ("snapshot", 300, "s")
    assert m.ours is not None and m.baseline is not None and m.ratio is not None
    assert m.extra["cold_s"] == round(m.baseline, 3) and len(m.extra["warm_s"]) == 2
    assert set(m.extra["warm_stages"]) == {"read_events_s", "page_s", "chromium_draw_s", "page_mb"}
    assert m.extra["events_in_view"] > 0 and m.extra["png_bytes"] > 0
    assert SERVICE.starts == before + 1  # cold started Chromium once; warm runs reused it
    assert target_for(m) is not None and target_for(m).text == "≤ 2 s"
    assert "cold" in m.note
