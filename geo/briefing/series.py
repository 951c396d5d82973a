"""A series of briefing snapshots: one file per day or ISO week of a view's period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pandas as pd

from geo.briefing.chromium import SERVICE, ChromiumService
from geo.briefing.render import (
    FORMATS,
    SnapshotOptions,
    _check_options,
    _load_events,
    _make,
    _renderer,
    frame_of,
)
from geo.errors import InputError
from geo.settings import Settings, get_settings
from geo.view import View

SERIES_STEPS = ("day", "week")


def periods(view: View, each: str = "day") -> list[tuple[str, dt.date, dt.date]]:
    """(file stem, first day, last day) of each day or ISO week of the view's period."""
    if each not in SERIES_STEPS:
        raise InputError(f"each must be one of {', '.join(SERIES_STEPS)}", value=each)
    out: dict[str, tuple[dt.date, dt.date]] = {}
    day = view.start
    while day <= view.end:
        if each == "day":
            key = day.isoformat()
        else:
            iso = day.isocalendar()
            key = f"{iso.year}-W{iso.week:02d}"
        first, _ = out.get(key, (day, day))
        out[key] = (first, day)
        day += dt.timedelta(days=1)
    return [(key, first, last) for key, (first, last) in out.items()]


def series(
    view: View,
    out_dir: Path | str,
    each: str = "day",
    fmt: str = "png",
    options: SnapshotOptions | None = None,
    settings: Settings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """One snapshot per day (or ISO week) of the view's period, in `out_dir`.

    Files are named ``2020-10-05.png`` (day) or ``2020-W41.png`` (week; the first and last
    weeks are cut to the view's period). Each file is **per period, not cumulative**: it shows
    the events of that day or week only (filtered by the view) and the reference layers as on
    the period's last day. Every file has the same frame: `options.bbox`, else that of the
    whole view's events, so the series reads as one sequence. One Chromium serves the whole
    series. `progress(done, total)` is called after each file. Returns the files in order.
    """
    options = options or SnapshotOptions()
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InputError(f"format must be one of {', '.join(FORMATS)}", value=fmt)
    _check_options(options)
    settings = settings or get_settings()
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError("the series output must be a directory", value=str(out_dir))
    steps = periods(view, each)
    if fmt != "html":
        SERVICE.start_soon()  # Chromium starts while the events are read
    events = _load_events(view, settings)
    box = frame_of(view, options, events)
    if box is not None:
        options = replace(options, bbox=tuple(box))
    first = events["event_date"]
    last = events["date_end"].fillna(first)
    written: list[Path] = []

    def run(renderer: ChromiumService | None) -> None:
        for i, (stem, start, end) in enumerate(steps, 1):
            part = events[(first <= pd.Timestamp(end)) & (last >= pd.Timestamp(start))]
            sub = replace(view, start=start, end=end)
            path = _make(sub, out_dir / f"{stem}.{fmt}", fmt, options, settings, part, renderer)
            written.append(path)
            if progress is not None:
                progress(i, len(steps))

    if fmt == "html":
        run(None)
    else:
        with _renderer() as r:
            run(r)
    return written
