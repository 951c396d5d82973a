"""Headless Chromium: time until the events are drawn, period changes, browser memory.

Times are taken inside the page (`performance.now()`, whose zero is the navigation start),
not from Playwright's polling: an init script watches `window.nkEvents` (the events layer's
contract: `draws`, `shown`, `drawn`, `mode`, `total`) on every animation frame and, when a
draw has completed, records the time after one more `requestAnimationFrame` — when the
drawn canvas has reached the screen. The page's `load` event is not used: it fires long
before the events are drawn.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.dataset import Dataset
from bench.mapbuild import naive_map, our_map
from bench.memory import MB, PeakSampler, chromium_pids
from bench.results import Measurement
from geo.briefing.render import CHROMIUM, CHROMIUM_ARGS
from geo.map.timecontrol import EPOCH
from geo.view import PRESETS

NAIVE_BROWSER_CAP = 10_000
TIME_LIMIT_S = 90.0
VIEWPORT = {"width": 1440, "height": 900}
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")

# Records every completed draw of the events layer (in any frame it is injected into) as
# {t: ms since navigation start, epoch: ms since 1970, draws, shown, drawn, mode, total, day}.
# With `expect` > 0 it instead waits for that many Leaflet marker icons (the naive baseline).
WATCH_JS = """
(() => {
  const expect = %(expect)d;
  const records = (window.__nkDraws = []);
  let last = null, lastDraws = -1, naiveDone = false, loop = 0, lastTick = 0;
  addEventListener("load", () => { window.__nkLoadAt = performance.now(); });
  function record(snap) {
    requestAnimationFrame(() => {
      snap.t = performance.now();
      snap.epoch = performance.timeOrigin + snap.t;
      records.push(snap);
    });
  }
  function check() {
    const ev = window.nkEvents;
    if (ev && ev.draws > 0 && (ev !== last || ev.draws !== lastDraws)) {
      last = ev; lastDraws = ev.draws;
      const tc = document.querySelector(".nk-time");
      record({ draws: ev.draws, shown: ev.shown, drawn: ev.drawn, mode: ev.mode,
               total: ev.total, day: tc ? tc.getAttribute("data-day") : null });
    }
    if (expect > 0 && !naiveDone &&
        document.querySelectorAll(".leaflet-marker-icon").length >= expect) {
      naiveDone = true;
      record({ draws: 1, shown: expect, drawn: expect, mode: "markers", total: expect });
    }
  }
  function start() {
    const mine = ++loop;
    function tick() {
      if (mine !== loop) { return; }
      lastTick = performance.now();
      check();
      requestAnimationFrame(tick);
    }
    lastTick = performance.now();
    requestAnimationFrame(tick);
  }
  start();
  // A document.open() in the frame (streamlit-folium writes its maps that way) drops pending
  // animation-frame callbacks: restart the loop when it has stalled.
  setInterval(() => { if (performance.now() - lastTick > 250) { start(); } }, 100);
})();
"""

# Drawn, or clearly never going to be: the page loaded 5 s ago and has no events layer.
DONE_JS = """
() => (window.__nkDraws && window.__nkDraws.length > 0) ||
      (window.__nkLoadAt !== undefined && !window.nkEvents && %(naive)s === false &&
       performance.now() - window.__nkLoadAt > 5000)
"""

# Change the period with the map's own time control; resolve after the next completed draw
# and one animation frame. Falls back to setDay / the slider if setPeriod is missing.
CHANGE_JS = """
async ([a, b, limitMs]) => {
  const ev = window.nkEvents, before = ev.draws, t0 = performance.now();
  let how = "setPeriod";
  if (window.nkTime && window.nkTime.setPeriod) { window.nkTime.setPeriod(a, b); }
  else if (window.nkTime && window.nkTime.setDay) { how = "setDay"; window.nkTime.setDay(b); }
  else {
    how = "slider";
    const s = document.querySelector(".nk-slider");
    s.value = b; s.dispatchEvent(new Event("input"));
  }
  return await new Promise(resolve => {
    function check() {
      const now = window.nkEvents;
      if (now.draws > before) {
        requestAnimationFrame(() => resolve({ ms: performance.now() - t0, how: how,
          shown: now.shown, drawn: now.drawn, mode: now.mode }));
      } else if (performance.now() - t0 > limitMs) { resolve({ ms: null, how: how }); }
      else { requestAnimationFrame(check); }
    }
    check();
  });
}
"""


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def change_periods(span: tuple[dt.date, dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Periods a user would pick, inside the data's span, ending with the whole span again."""
    lo, hi = span
    picks = [
        PRESETS["2020 war"],
        PRESETS["April 2016 war"],
        PRESETS["Lachin corridor blockade"],
        (dt.date(2020, 10, 5), dt.date(2020, 10, 5)),
        (lo, hi),
    ]
    out = []
    for a, b in picks:
        a, b = max(a, lo), min(b, hi)
        if a <= b and (a, b) not in out:
            out.append((a, b))
    return out


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium (Debian's, with the snapshot renderer's flags)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield browser
        finally:
            browser.close()


def offline_page(browser, expect_markers: int = 0):
    """A 1440x900 page that fetches nothing off the machine and records every draw."""
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")

    def guard(route) -> None:
        if route.request.url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            route.abort("blockedbyclient")

    context.route("**/*", guard)
    context.add_init_script(WATCH_JS % {"expect": expect_markers})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    return page


@dataclass
class PageRun:
    """What happened when one map page was opened (times in seconds)."""

    drawn_s: float | None = None
    first: dict = field(default_factory=dict)
    changes: list[dict] = field(default_factory=list)
    peak_mb: float | None = None
    problem: str = ""

    def median_change_s(self) -> float | None:
        times = [c["ms"] for c in self.changes if c.get("ms") is not None]
        return statistics.median(times) / 1000 if times else None


def wait_drawn(page, limit_s: float, naive: bool) -> tuple[float | None, dict, str]:
    """(seconds from navigation start to drawn + one rAF, the first draw's record, problem)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            DONE_JS % {"naive": "true" if naive else "false"},
            timeout=limit_s * 1000,
            polling=100,
        )
    except PlaywrightTimeout:
        return None, {}, f"did not finish in {limit_s:.0f} s"
    records = page.evaluate("() => window.__nkDraws")
    if not records:
        return None, {}, "no window.nkEvents on the page (events layer contract missing)"
    return records[0]["t"] / 1000, records[0], ""


def run_page(
    html_path: Path,
    *,
    limit_s: float = TIME_LIMIT_S,
    expect_markers: int = 0,
    periods: Sequence[tuple[dt.date, dt.date]] = (),
) -> PageRun:
    """Open `html_path` in a fresh Chromium, wait for the drawn events, change the period."""
    run = PageRun()
    with chromium() as browser, PeakSampler(chromium_pids) as memory:
        page = offline_page(browser, expect_markers)
        page.goto(html_path.resolve().as_uri(), wait_until="commit", timeout=limit_s * 1000)
        run.drawn_s, run.first, run.problem = wait_drawn(page, limit_s, expect_markers > 0)
        if run.drawn_s is not None:
            for a, b in periods:
                result = page.evaluate(CHANGE_JS, [day_number(a), day_number(b), limit_s * 1000])
                run.changes.append({"period": [a.isoformat(), b.isoformat()], **result})
        if page.errors:
            run.problem = (run.problem + "; " if run.problem else "") + (
                f"page errors: {page.errors[:2]}"
            )
    run.peak_mb = memory.peak / MB
    return run


def measure_browser(
    data: Dataset, cap: int = NAIVE_BROWSER_CAP, limit_s: float = TIME_LIMIT_S
) -> list[Measurement]:
    """Drawn time, period-change time and browser memory: ours at N (and at the cap), naive."""
    n = len(data.frame())
    size = min(cap, n)
    periods = change_periods(data.span())
    ours = run_page(
        data.page("ours", n, lambda f: our_map(f, data)), limit_s=4 * limit_s, periods=periods
    )
    capped = data.sample(size)
    placed = int(capped["latitude"].notna().sum())
    naive = run_page(data.page("naive", size, naive_map), limit_s=limit_s, expect_markers=placed)
    small = ours
    if size < n:
        small = run_page(data.page("ours", size, lambda f: our_map(f, data)), limit_s=limit_s)
    naive_note = "baseline: one folium.Marker per event" + (
        f"; {naive.problem}" if naive.problem else ""
    )
    extra = {"mode": ours.first.get("mode"), "drawn": ours.first.get("drawn")}
    extra |= {"shown": ours.first.get("shown"), "total": ours.first.get("total")}
    out = [
        Measurement(
            "draw",
            n,
            ours.drawn_s,
            naive.drawn_s if size == n else None,
            "s",
            baseline_events=size,
            note=ours.problem or (naive_note if size == n else f"baseline only at {size:,}"),
            extra=extra,
        ),
        Measurement(
            "time_control_change",
            n,
            ours.median_change_s(),
            ours.drawn_s,
            "s",
            note="baseline: drawing the page afresh",
            extra={"changes": ours.changes},
        ),
        Measurement(
            "browser_memory",
            n,
            ours.peak_mb,
            naive.peak_mb if size == n else None,
            "MB",
            baseline_events=size,
            note="peak PSS of Chromium" + ("" if size == n else f"; baseline only at {size:,}"),
            extra={"mode": ours.first.get("mode")},
        ),
    ]
    if size < n:
        out += [
            Measurement(
                "draw",
                size,
                small.drawn_s,
                naive.drawn_s,
                "s",
                note=small.problem or naive_note,
                extra={"mode": small.first.get("mode")},
            ),
            Measurement(
                "browser_memory",
                size,
                small.peak_mb,
                naive.peak_mb,
                "MB",
                note="peak PSS of Chromium; " + naive_note,
                extra={"mode": small.first.get("mode")},
            ),
        ]
    return out
