"""A briefing snapshot (PNG) of a period: the first export of a process (cold: it starts
Chromium) beside the next ones (warm: the same Chromium, kept by geo.briefing.chromium)."""

from __future__ import annotations

import dataclasses
import statistics
import time

from bench.dataset import Dataset
from bench.results import Measurement
from geo.settings import get_settings
from geo.view import DEFAULT_LAYERS, PRESETS, View

SNAPSHOT_PERIOD = PRESETS["2020 war"]


def _stages(view: View, settings, out) -> dict[str, float]:
    """Seconds of each stage of one warm export, for RESULTS.md's notes."""
    from geo.briefing.chromium import SERVICE
    from geo.briefing.render import SnapshotOptions, _load_events, _page

    t0 = time.perf_counter()
    events = _load_events(view, settings)
    t1 = time.perf_counter()
    html = _page(view, SnapshotOptions(), settings, events, True)
    t2 = time.perf_counter()
    out.write_bytes(SERVICE.render(html, "png", SnapshotOptions().size))
    t3 = time.perf_counter()
    return {
        "read_events_s": round(t1 - t0, 3),
        "page_s": round(t2 - t1, 3),
        "chromium_draw_s": round(t3 - t2, 3),
        "page_mb": round(len(html) / 1e6, 2),
    }


def measure_snapshot(data: Dataset, runs: int = 5) -> Measurement:
    """Seconds of `snapshot(View(2020 war), out.png)` reading the N-event store: the median
    of `runs` warm exports (Chromium already running, as on the briefing page and in a
    series), beside the cold first export of the process (starts Chromium, as a one-off
    `nkmap snapshot` does)."""
    from geo.briefing.chromium import SERVICE
    from geo.briefing.render import snapshot

    store = data.store()
    settings = dataclasses.replace(get_settings(), db_path=store.path, public_url="")
    start, end = SNAPSHOT_PERIOD
    view = View(start=start, end=end, layers=DEFAULT_LAYERS)
    out = data.folder / f"snapshot-{data.n}.png"

    SERVICE.shutdown()  # cold: no Chromium in this process
    t = time.perf_counter()
    snapshot(view, out, settings=settings)
    cold_s = time.perf_counter() - t
    warm = []
    for _ in range(runs):
        t = time.perf_counter()
        snapshot(view, out, settings=settings)
        warm.append(time.perf_counter() - t)
    stages = _stages(view, settings, out)
    return Measurement(
        "snapshot",
        data.n,
        statistics.median(warm),
        cold_s,
        "s",
        note="warm (Chromium kept running); baseline: cold, the process's first export",
        extra={
            "period": [start.isoformat(), end.isoformat()],
            "events_in_view": len(store.events(start, end)),
            "png_bytes": out.stat().st_size,
            "cold_s": round(cold_s, 3),
            "warm_s": [round(w, 3) for w in warm],
            "warm_stages": stages,
            "runs": runs,
        },
    )
