"""The benchmarks' baseline pages open in Chromium as they should (bench/mapbuild.py)."""

import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # bench/ is a folder of the repo, not an installed package
    sys.path.insert(0, str(REPO))

from bench import synth  # noqa: E402
from bench.browser import offline_page, wait_drawn  # noqa: E402
from bench.mapbuild import naive_map  # noqa: E402
from geo.map.assets import offline_html  # noqa: E402

pytestmark = pytest.mark.browser


def test_the_naive_baseline_page_draws_every_marker_offline(browser, tmp_path):
    """The baseline of `draw` (one folium.Marker with a popup per event) opens with Leaflet
    alone: every marker is drawn, no page error, a popup opens with its text."""
    csv = synth.write_csv(tmp_path / "events.csv", 40, seed=3)
    frame = pd.read_csv(csv, parse_dates=["event_date"])
    page_path = tmp_path / "naive.html"
    page_path.write_text(offline_html(naive_map(frame)), "utf-8")  # as Dataset.page does
    page = offline_page(browser, expect_markers=40)  # (the session's Chromium)
    try:
        page.goto(page_path.as_uri(), wait_until="commit")
        drawn_s, first, problem = wait_drawn(page, 60, naive=True)
        assert problem == "" and drawn_s is not None and first["drawn"] == 40
        page.locator(".leaflet-marker-icon").first.click(force=True)
        text = page.locator(".leaflet-popup-content").inner_text()
        assert any(f" at {place}: " in text for place in frame["location"]), text
        assert page.errors == []
    finally:
        page.context.close()
