"""Ingest (CSV → store) and the date-window filter, each beside a plain baseline."""

from __future__ import annotations

import datetime as dt
import sqlite3
import statistics
import time
from collections.abc import Callable

import pandas as pd

from bench.dataset import Dataset, import_csv, offline_geocoder
from bench.results import Measurement
from geo.schema import COLUMN_NAMES

# The windows of the filter measures, with shelling and clashes: one month (the target's
# "date-window filter": March 2023, in the Lachin blockade, a typical briefing query), and
# the whole 2020 war, which holds 42% of the synthetic events, so its time is mostly that of
# handing over a large frame.
FILTER_WINDOWS = {
    "filter": (dt.date(2023, 3, 1), dt.date(2023, 3, 31)),
    "filter_2020_war": (dt.date(2020, 9, 27), dt.date(2020, 11, 10)),
}
FILTER_TYPES = ("shelling", "armed_clash")


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def _median_time(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        seconds, out = _timed(fn)
        times.append(seconds)
    return statistics.median(times), out


def measure_ingest(data: Dataset) -> Measurement:
    """Seconds to import the CSV into a fresh store, beside pandas.read_csv of the same file."""
    csv_path = data.csv_path
    geocoder = offline_geocoder()
    store_path = data.folder / f"ingest-{data.n}.sqlite"
    for old in (store_path, *(store_path.with_name(store_path.name + s) for s in ("-wal", "-shm"))):
        old.unlink(missing_ok=True)  # a fresh store each run
    pandas_s, _ = _median_time(lambda: pd.read_csv(csv_path), 3)
    ours_s, summary = _timed(lambda: import_csv(csv_path, store_path, geocoder))
    data.store_path = store_path  # later parts read the store this run made
    return Measurement(
        "ingest",
        data.n,
        ours_s,
        pandas_s,
        "s",
        note="baseline: pandas.read_csv",
        extra={
            "rows_per_s": round(data.n / ours_s) if ours_s else None,
            "csv_mb": round(csv_path.stat().st_size / 1e6, 1),
            "inserted": summary.get("inserted"),
            "rejected": summary.get("rejected"),
        },
    )


def scan_query(path, start: dt.date, end: dt.date, types: tuple[str, ...]) -> pd.DataFrame:
    """The filter's SQL forced to scan the table (NOT INDEXED), read and typed like the store."""
    from geo.store import typed_frame

    marks = ",".join("?" * len(types))
    sql = (
        f"SELECT {', '.join(COLUMN_NAMES)} FROM events NOT INDEXED "  # noqa: S608 - fixed names
        f"WHERE event_date <= ? AND coalesce(date_end, event_date) >= ? "
        f"AND event_type IN ({marks}) ORDER BY event_date, event_id"
    )
    with sqlite3.connect(path) as conn:
        frame = pd.read_sql_query(sql, conn, params=[str(end), str(start), *types])
    return typed_frame(frame)


def measure_filters(data: Dataset, runs: int = 5) -> list[Measurement]:
    """Both filter windows (see FILTER_WINDOWS)."""
    return [measure_filter(data, name, runs) for name in FILTER_WINDOWS]


def measure_filter(data: Dataset, name: str = "filter", runs: int = 5) -> Measurement:
    """Median ms of `store.events(start, end, types)` beside the same query as a full scan."""
    store = data.store()
    start, end = FILTER_WINDOWS[name]

    def ours() -> pd.DataFrame:
        return store.events(start, end, types=list(FILTER_TYPES))

    def scan() -> pd.DataFrame:
        return scan_query(data.store_path, start, end, FILTER_TYPES)

    ours(), scan()  # warm-up: open the file, fill the page cache
    ours_s, frame = _median_time(ours, runs)
    scan_s, scanned = _median_time(scan, runs)
    note = (
        f"{len(frame):,} rows, {start:%d %b %Y} to {end:%d %b %Y}; "
        "baseline: same SQL, FROM events NOT INDEXED"
    )
    if len(frame) != len(scanned):
        note += f"; ROW COUNTS DIFFER ({len(frame)} vs {len(scanned)})"
    return Measurement(
        name,
        data.n,
        ours_s * 1000,
        scan_s * 1000,
        "ms",
        note=note,
        extra={
            "rows": len(frame),
            "window": [start.isoformat(), end.isoformat()],
            "types": list(FILTER_TYPES),
            "runs": runs,
        },
    )
