"""One measurement, the targets it is judged by, and the RESULTS.md table.

A `Measurement` holds our value and the baseline's, measured side by side in one run; the
ratio is ours / baseline (below 1 = we are faster or smaller). A baseline that could not
finish within its limit has `baseline = None` and says so in `note`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields

GB = 1024**3


@dataclass
class Measurement:
    measure: str  # key, e.g. "ingest" (see MEASURES)
    events: int  # the size our value was measured at
    ours: float | None
    baseline: float | None
    unit: str  # "s", "ms", "MB", "bytes"
    baseline_events: int | None = None  # when the baseline ran on fewer events (capped)
    note: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.baseline:
            return None
        return self.ours / self.baseline

    @classmethod
    def from_dict(cls, doc: dict[str, object]) -> Measurement:
        """The measurement of an as_dict() (its derived ratio, target and met left out)."""
        return cls(**{f.name: doc[f.name] for f in fields(cls) if f.name in doc})

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["ratio"] = self.ratio
        target = target_for(self)
        out["target"] = target.text if target else None
        out["met"] = target.check(self) if target else None
        return out


@dataclass(frozen=True)
class Target:
    measure: str
    events: int | None  # None: holds at every size
    text: str
    check: Callable[[Measurement], bool | None]


def _within(limit: float) -> Callable[[Measurement], bool | None]:
    return lambda m: None if m.ours is None else m.ours <= limit


def _ingest_ok(m: Measurement) -> bool | None:
    if m.ours is None or m.ratio is None:
        return None
    return m.ours <= 20 and m.ratio <= 4


def _browser_ok(m: Measurement) -> bool | None:
    if m.ours is None:
        return None
    return m.ours < 2 * 1024 and m.extra.get("mode") == "cells"


# The targets, on this machine.
TARGETS: tuple[Target, ...] = (
    Target("ingest", 1_000_000, "≤ 20 s and ≤ 4× pandas", _ingest_ok),
    Target("filter", 1_000_000, "≤ 100 ms", _within(100)),
    Target("draw", 100_000, "≤ 2 s", _within(2)),
    Target("time_control_change", None, "≤ 0.5 s", _within(0.5)),
    Target("app_period_change", None, "≤ 0.5 s", _within(0.5)),
    Target("app_page_open", 100_000, "≤ 3 s", _within(3)),
    Target("app_memory", 1_000_000, "≤ 1 GB", _within(1024)),
    Target("browser_memory", 1_000_000, "< 2 GB, aggregated at low zoom", _browser_ok),
    Target("snapshot", None, "≤ 2 s", _within(2)),
    Target("geocode_warm", None, "≤ 1 s", _within(1)),
    Target("dry_run_warm", None, "≤ 3 s", _within(3)),
)

# What each measure is, in the words RESULTS.md uses.
MEASURES: dict[str, str] = {
    "ingest": "CSV → store: `plan_import` + `apply_plan` into a fresh SQLite store "
    "(one run; the offline geocoder is made beforehand). Baseline: `pandas.read_csv` of the "
    "same file (median of 3).",
    "filter": "`store.events(start, end, types=[shelling, armed_clash])` over one month "
    "(March 2023; median of the runs, after one warm-up); `rows` in the JSON says how many "
    "it returns. Baseline: the same SQL with `FROM events NOT INDEXED` (a full scan), read "
    "with `pandas.read_sql_query` and typed by `geo.store.typed_frame`, so both return the "
    "same frame.",
    "filter_2020_war": "The same over the whole 2020 war (27 Sep-10 Nov 2020), which holds "
    "42% of the synthetic events: its time is mostly that of returning a frame of hundreds of "
    "thousands of rows. No target.",
    "map_build": "Python time of `build_map(day, start=…, events=frame)` + rendering the "
    "page (`m.get_root().render()`), all the period's events. Baseline: a plain folium map "
    "with one `folium.Marker` (escaped popup) per event, capped at 100,000 events; when "
    "capped ours is measured at the capped size too.",
    "map_payload": "Bytes of the rendered page (`len(m.get_root().render())`), same maps as "
    "map_build.",
    "draw": "Self-contained HTML (`offline_html`) opened from disk in headless Chromium: "
    "time from navigation start until `window.nkEvents.draws > 0` and one "
    "`requestAnimationFrame` has passed (measured in the page, not the load event). "
    "Baseline: the plain folium marker map, capped at 10,000 events and a time limit.",
    "time_control_change": "In the same page: `nkTime.setPeriod(a, b)` (the map's own time "
    "control, no server) until the next completed draw + one rAF; median over several "
    "periods. Baseline: drawing the page afresh (the `draw` time of the same map), a lower "
    "bound of a server round trip.",
    "app_period_change": "The real app (`streamlit run app.py`) on a store of the N events: "
    "change the sidebar's To date (type it, press Enter) until the live map's page (geo.map.live) "
    "has drawn the new period + one rAF (timestamps taken in the pages); median of 8 changes, "
    "each made on an idle app (draws settled, no script running). Baseline: opening the new "
    "period's permalink in a fresh page (navigation start to drawn).",
    "app_period_change_busy": "As app_period_change, but each of 5 changes typed as soon as "
    "the previous one is drawn, while the app's rerun still counts that period's timeline and "
    "proximity in the store (seconds at 1,000,000 events); median. No target, no baseline.",
    "snapshot": "`geo.briefing.snapshot(View(2020 war), out.png)` at the default size, reading "
    "the store, framing the events and drawing the page in Chromium: median of 5 warm exports "
    "(the process's Chromium already running, as on the briefing page, in a series, or the "
    "second export of a process). Baseline: the cold first export of the process, which starts "
    "Chromium (a one-off `nkmap snapshot`). `warm_stages` in the JSON splits one warm export "
    "into reading the events, building the page and drawing it.",
    "browser_memory": "Peak PSS of Chromium's process tree, sampled every 100 ms while the "
    "map draws and its period changes. `mode` is the events layer's mode at the opening "
    "zoom (cells = aggregated). Baseline: the plain marker map (capped).",
    "app_page_open": "On a warm server (the page opened once, untimed): the whole span's map "
    "page opened in a new browser context, navigation start to the events layer's first "
    "completed draw + one rAF; median of 3, with no memory sampling during them (the untimed "
    "open is sampled). Baseline: `bench/peer_app.py` (`st.pydeck_chart`, "
    "one ScatterplotLayer, no basemap, the same store and points), navigation start to the "
    "first instanced WebGL draw covering every point + one rAF; median of 3 after one warm-up.",
    "app_memory": "Peak resident memory (VmHWM) of the streamlit process tree after the app "
    "measure. No baseline.",
    "app_browser_memory": "Peak PSS of Chromium's process tree during the app measure's period "
    "changes, permalink opens and untimed page open (every 100 ms). No baseline.",
    "geocode_warm": "Wall-clock time of a fresh `nkmap geocode Martuni` process, start to exit, "
    "with the gazetteer's index file already built (median of 3). `events` is the number of "
    "names. Baseline: the same with no cache file (the index built in the process, as before "
    "the cache). Measured once per run, whatever the sizes.",
    "geocode_cold": "The same, for the first process, which builds the index file. Baseline: "
    "no cache.",
    "dry_run_warm": "Wall-clock time of `nkmap ingest FILE --dry-run` of a 15-row file whose "
    "places have no coordinates (`bench/first_use.py`), index file already built (median of "
    "3). `events` is the number of rows. Baseline: no cache.",
    "dry_run_cold": "The same, for the first process, which builds the index file. Baseline: "
    "no cache.",
}


def target_for(m: Measurement) -> Target | None:
    for t in TARGETS:
        if t.measure == m.measure and (t.events is None or t.events == m.events):
            return t
    return None


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "bytes":
        return f"{value / 1024 / 1024:,.1f} MB"
    if unit == "ms":
        return f"{value:,.1f} ms"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if value >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:,.3g} {unit}"


def _met(flag: bool | None, has_target: bool) -> str:
    if not has_target:
        return ""
    return {True: "met", False: "**not met**", None: "no value"}[flag]


def table(measurements: Iterable[Measurement]) -> str:
    """Markdown table: measure, events, ours, baseline, ratio, target, met, note."""
    lines = [
        "| measure | events | ours | baseline | ours / baseline | target | met | note |",
        "|---|---:|---:|---:|---:|---|---|---|",
    ]
    for m in measurements:
        target = target_for(m)
        base = _fmt(m.baseline, m.unit)
        if m.baseline is not None and m.baseline_events and m.baseline_events != m.events:
            base += f" (at {m.baseline_events:,})"
        ratio = "—" if m.ratio is None else f"{m.ratio:.2f}"
        lines.append(
            f"| {m.measure} | {m.events:,} | {_fmt(m.ours, m.unit)} | {base} | {ratio} | "
            f"{target.text if target else ''} | "
            f"{_met(target.check(m) if target else None, target is not None)} | "
            f"{m.note.replace('|', '/')} |"
        )
    return "\n".join(lines)
