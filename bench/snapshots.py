"""A briefing snapshot (PNG) of a period, with and without the events layer."""

from __future__ import annotations

import dataclasses
import statistics
import time

from bench.dataset import Dataset
from bench.results import Measurement
from geo.settings import get_settings
from geo.view import DEFAULT_LAYERS, PRESETS, View

SNAPSHOT_PERIOD = PRESETS["2020 war"]


def _median_snapshot_s(view: View, settings, out, runs: int) -> float:
    from geo.briefing.render import snapshot

    times = []
    for _ in range(runs):
        t = time.perf_counter()
        snapshot(view, out, settings=settings)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def measure_snapshot(data: Dataset, runs: int = 3) -> Measurement:
    """Seconds of `snapshot(View(2020 war), out.png)` reading the N-event store, beside the
    same snapshot with the events layer off. Each call starts its own Chromium, as the CLI's
    does."""
    store = data.store()
    settings = dataclasses.replace(get_settings(), db_path=store.path)
    start, end = SNAPSHOT_PERIOD
    with_events = View(start=start, end=end, layers=DEFAULT_LAYERS)
    without = dataclasses.replace(
        with_events, layers=tuple(n for n in DEFAULT_LAYERS if n not in ("events", "heat"))
    )
    out = data.folder / f"snapshot-{data.n}.png"
    ours_s = _median_snapshot_s(with_events, settings, out, runs)
    size = out.stat().st_size
    base_s = _median_snapshot_s(without, settings, out, runs)
    return Measurement(
        "snapshot",
        data.n,
        ours_s,
        base_s,
        "s",
        note="baseline: the same snapshot without the events layer",
        extra={
            "period": [start.isoformat(), end.isoformat()],
            "events_in_view": len(store.events(start, end)),
            "png_bytes": size,
            "runs": runs,
        },
    )
