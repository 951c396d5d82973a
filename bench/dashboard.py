"""The real dashboard (`streamlit run app.py`): time until a period change is on the map.

A user changes the sidebar's To date; Streamlit reruns app.py, the live map's component hands
the new period to the map's page it already shows (geo.map.live) and the events layer draws it.
The init script of bench.browser runs in every frame (the iframes too) and timestamps each
completed draw with `performance.timeOrigin + performance.now()` (ms since 1970, one clock for
the page and its iframes), so the latency is measured in the browser, from the key press to
the drawn map + one animation frame.

`app_page_open` opens the map page afresh on a warm server (the same page opened once before,
untimed, so Streamlit's caches hold the period), navigation start to the events layer's first
completed draw. The timed opens run with no memory sampling, as the peer's do. Its baseline is
a peer, bench/peer_app.py: a minimal Streamlit page drawing the same store's points with
st.pydeck_chart (deck.gl, no basemap), timed from navigation start to the first instanced
WebGL draw call that covers every point (PEER_JS) + one animation frame.

Each measure runs on every backend asked for (SQLite, and PostgreSQL on a copy of the store);
the backend leads the measurement's note, and a measure's rows are kept together.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.browser import VIEWPORT, WATCH_JS, chromium
from bench.dataset import BACKENDS, Dataset
from bench.memory import MB, PeakSampler, chromium_pids, process_hwm, tree
from bench.results import Measurement

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVER_TIMEOUT_S = 90
CHANGE_LIMIT_S = 120.0
# To dates of the fresh permalink opens (the baseline of a period change), then the span's end.
TO_DATES = (dt.date(2020, 11, 10), dt.date(2022, 12, 31))
# To dates the user types, in turn, then the span's end: eight changes, each on an idle app
# (the draws settled and no script running), so that the median is not decided by one.
CHANGE_TO_DATES = (
    dt.date(2020, 11, 10),
    dt.date(2022, 12, 31),
    dt.date(2020, 10, 15),
    dt.date(2023, 9, 30),
    dt.date(2016, 4, 30),
    dt.date(2021, 6, 30),
    dt.date(2020, 11, 10),
)
# Then changes typed as soon as the previous one is drawn, while the app still counts that
# period's numbers under the map in the store (seconds at 1,000,000 events): reported beside
# the idle changes, without a target.
BUSY_TO_DATES = (
    dt.date(2020, 10, 15),
    dt.date(2022, 12, 31),
    dt.date(2020, 11, 10),
    dt.date(2023, 9, 30),
    dt.date(2021, 6, 30),
)
# Timed opens of the whole span's page (median), after one untimed warm-up open.
OPENS = 3
PEER_SCRIPT = Path("bench") / "peer_app.py"

# Records every instanced WebGL draw call (deck.gl draws a ScatterplotLayer as instances, one
# per point) as {instances, epoch: ms since 1970 at the call, frame: the same one animation
# frame later}. WebGL2 and WebGL1's ANGLE_instanced_arrays; the instance count is the last
# argument of each of these calls.
PEER_JS = """
(() => {
  const calls = (window.__nkInstanced = []);
  function wrap(proto, name) {
    const draw = proto && proto[name];
    if (!draw || draw.__nkWrapped) { return; }
    const wrapped = function (...args) {
      const out = draw.apply(this, args);
      if (calls.length < 10000) {
        const rec = { instances: args[args.length - 1],
                      epoch: performance.timeOrigin + performance.now(), frame: null };
        calls.push(rec);
        requestAnimationFrame(() => { rec.frame = performance.timeOrigin + performance.now(); });
      }
      return out;
    };
    wrapped.__nkWrapped = true;
    proto[name] = wrapped;
  }
  if (window.WebGL2RenderingContext) {
    wrap(WebGL2RenderingContext.prototype, "drawArraysInstanced");
    wrap(WebGL2RenderingContext.prototype, "drawElementsInstanced");
  }
  if (window.WebGLRenderingContext) {
    const getExtension = WebGLRenderingContext.prototype.getExtension;
    WebGLRenderingContext.prototype.getExtension = function (name) {
      const ext = getExtension.call(this, name);
      if (ext && name === "ANGLE_instanced_arrays") {
        wrap(Object.getPrototypeOf(ext), "drawArraysInstancedANGLE");
        wrap(Object.getPrototypeOf(ext), "drawElementsInstancedANGLE");
      }
      return ext;
    };
  }
})();
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/_stcore/health", timeout=2) as response:  # noqa: S310 - loopback
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Server:
    url: str
    pid: int


@contextmanager
def streamlit_app(db: Path | str, script: Path | str = "app.py") -> Iterator[Server]:
    """`streamlit run SCRIPT` (a path from the repo root) on a free port with NKMAP_DB=`db`
    (a SQLite path or a postgresql:// URL), until exit."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "NKMAP_DB": str(db)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port)]
    cmd += ["--server.headless", "true", "--server.address", "127.0.0.1"]
    cmd += ["--server.fileWatcherType", "none"]  # an edit during a run must not reload modules
    cmd += ["--browser.gatherUsageStats", "false"]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=log, start_new_session=True
        )
        try:
            deadline = time.monotonic() + SERVER_TIMEOUT_S
            while not _healthy(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    tail = log.read().decode(errors="replace")[-3000:]
                    raise RuntimeError(f"streamlit did not start: {' '.join(cmd)}\n{tail}")
                time.sleep(0.25)
            yield Server(url, proc.pid)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)  # the session we started, nothing else
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=15)


def _records(page) -> list[dict]:
    """Every draw recorded in any frame of `page` (frames may come and go during reruns)."""
    out = []
    for frame in page.frames:
        try:
            out += frame.evaluate("() => window.__nkDraws || []")
        except Exception:  # noqa: BLE001, S112 - a frame detached while we looked
            continue
    return out


def _wait_for_draw(page, after_epoch: float, day: dt.date, limit_s: float) -> dict | None:
    """The first draw after `after_epoch` (ms since 1970) whose time control shows `day`."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        hits = [
            r
            for r in _records(page)
            if r["epoch"] > after_epoch and r.get("day") in (day.isoformat(), None)
        ]
        if hits:
            return min(hits, key=lambda r: r["epoch"])
        page.wait_for_timeout(100)
    return None


def _settle(page, quiet_s: float = 3.0, limit_s: float = 60.0) -> None:
    """Wait until no new draw happened for `quiet_s` (the map reports its framed view to the
    app, which reruns once more)."""
    deadline = time.monotonic() + limit_s
    count, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now = len(_records(page))
        if now != count:
            count, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        page.wait_for_timeout(200)


def _idle(page, quiet_s: float = 1.0, limit_s: float = 60.0) -> None:
    """Wait until the app has not been running a script for `quiet_s`: Streamlit's "Running"
    status is gone (at 1,000,000 events the rerun after a draw counts the period's timeline
    and proximity in the store for 3-7 s, long after the draws have settled)."""
    deadline = time.monotonic() + limit_s
    since = time.monotonic()
    while time.monotonic() < deadline:
        if page.get_by_test_id("stStatusWidget").count():
            since = time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        page.wait_for_timeout(100)


def _type_to_date(page, day: dt.date) -> float:
    """Type `day` into the sidebar's To field and commit it as a user does (Enter, then a
    click outside the field); returns the time of the commit (ms since 1970, in the page)."""
    heading = page.get_by_role("heading", level=1).bounding_box()
    for part, value in (("year", f"{day.year}"), ("month", f"{day.month:02d}")):
        page.get_by_role("spinbutton", name=f"{part}, To").click()
        page.keyboard.type(value)
    page.get_by_role("spinbutton", name="day, To").click()
    page.keyboard.type(f"{day.day:02d}")
    page.keyboard.press("Enter")
    t0 = page.evaluate("() => performance.timeOrigin + performance.now()")
    page.mouse.click(heading["x"] + 5, heading["y"] + heading["height"] / 2)
    return t0


def _fresh_load(browser, url: str, day: dt.date, limit_s: float) -> float | None:
    """Seconds from navigation start to the drawn map of a permalink (a fresh page)."""
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")
    context.add_init_script(WATCH_JS % {"expect": 0})
    try:
        page = context.new_page()
        page.goto(url, wait_until="commit")
        start = page.evaluate("() => performance.timeOrigin")
        hit = _wait_for_draw(page, start, day, limit_s)
        return None if hit is None else (hit["epoch"] - start) / 1000
    finally:
        context.close()


@dataclass
class AppRun:
    """What one session in the app measured (times in seconds)."""

    first_map_s: float | None = None
    changes: list[dict] = field(default_factory=list)
    busy_changes: list[dict] = field(default_factory=list)
    fresh_loads_s: list[float] = field(default_factory=list)
    problem: str = ""

    def median_change_s(self, busy: bool = False) -> float | None:
        changes = self.busy_changes if busy else self.changes
        times = [c["ms"] / 1000 for c in changes if c["ms"] is not None]
        return statistics.median(times) if times else None


def _change_periods(browser, url: str, span, targets, limit_s: float, run: AppRun) -> None:
    """Open the whole span, then type each To date in turn and time until it is drawn."""
    lo, hi = span
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")
    context.add_init_script(WATCH_JS % {"expect": 0})
    try:
        page = context.new_page()
        page.goto(f"{url}/?from={lo}&to={hi}", wait_until="commit")
        start = page.evaluate("() => performance.timeOrigin")
        first = _wait_for_draw(page, start, hi, limit_s)
        if first is None:
            run.problem = f"the map never drew its events within {limit_s:.0f} s"
            return
        run.first_map_s = (first["epoch"] - start) / 1000
        _settle(page)
        _idle(page)
        for day in targets:  # each on an idle app
            run.changes.append(_change(page, day, limit_s, run))
            _settle(page)
            _idle(page)
        for day in BUSY_TO_DATES:  # each as soon as the last is drawn: the store still counts
            if lo <= day <= hi:
                run.busy_changes.append(_change(page, day, limit_s, run))
    finally:
        context.close()


def _change(page, day: dt.date, limit_s: float, run: AppRun) -> dict:
    """Type `day` as the To date; the time until the map has drawn it."""
    t0 = _type_to_date(page, day)
    hit = _wait_for_draw(page, t0, day, limit_s) or {}
    ms = hit["epoch"] - t0 if hit else None
    if ms is None:
        run.problem = "some changes were not drawn within the limit"
    return {"to": day.isoformat(), "ms": ms, "shown": hit.get("shown")}


def _page_opens(browser, url: str, day: dt.date, limit_s: float, repeat: int) -> list[float]:
    """Seconds to the drawn map of `repeat` fresh opens of `url` (after an untimed open, which
    filled the server's caches); an open that never drew is left out."""
    opens = (_fresh_load(browser, url, day, limit_s) for _ in range(repeat))
    return [s for s in opens if s is not None]


def _peer_drawn(page, points: int) -> dict | None:
    """The first instanced draw call (in any frame) covering `points`, once a frame later."""
    for frame in page.frames:
        try:
            calls = frame.evaluate("() => window.__nkInstanced || []")
        except Exception:  # noqa: BLE001, S112 - a frame detached while we looked
            continue
        for call in calls:
            if call["instances"] >= points:
                return call if call["frame"] is not None else None
    return None


def peer_open(browser, url: str, points: int, limit_s: float) -> float | None:
    """Seconds from navigation start until the peer page has drawn `points` points + one
    animation frame (None if it did not within `limit_s`)."""
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")
    context.add_init_script(PEER_JS)
    try:
        page = context.new_page()
        page.goto(url, wait_until="commit")
        start = page.evaluate("() => performance.timeOrigin")
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            hit = _peer_drawn(page, max(points, 1))
            if hit is not None:
                return (hit["frame"] - start) / 1000
            page.wait_for_timeout(100)
        return None
    finally:
        context.close()


@dataclass
class PeerRun:
    """The peer page's opens (seconds) and its server's peak memory (bytes)."""

    opens_s: list[float] = field(default_factory=list)
    hwm: int = 0


def measure_peer(
    browser, db: str, span, points: int, limit_s: float, repeat: int = OPENS
) -> PeerRun:
    """bench/peer_app.py on the store `db`: one untimed open of the span, then `repeat`."""
    lo, hi = span
    run = PeerRun()
    with streamlit_app(db, PEER_SCRIPT) as server:
        url = f"{server.url}/?from={lo}&to={hi}"
        peer_open(browser, url, points, limit_s)
        opens = (peer_open(browser, url, points, limit_s) for _ in range(repeat))
        run.opens_s = [s for s in opens if s is not None]
        run.hwm = sum(process_hwm(p) for p in tree(server.pid))
    return run


class PartialResults(RuntimeError):
    """The app part failed part-way; `measurements` holds what it did measure."""

    def __init__(self, message: str, measurements: list[Measurement]) -> None:
        super().__init__(message)
        self.measurements = measurements


def measure_backend(
    n: int,
    backend: str,
    db: str,
    span: tuple[dt.date, dt.date],
    points: int,
    limit_s: float = CHANGE_LIMIT_S,
    repeat: int = OPENS,
    peer_limit: int | None = None,
) -> list[Measurement]:
    """The app measures on one backend (`db` is its NKMAP_DB), then the peer's opens (not
    above `peer_limit` points: at 1,000,000 the peer never draws, and waits 4 x `limit_s`)."""
    lo, hi = span
    targets = [d for d in (*TO_DATES, hi) if lo <= d <= hi]
    changes: list[dt.date] = []
    for day in (*CHANGE_TO_DATES, hi):  # (typing the day shown changes nothing)
        if lo <= day <= hi and day != (changes[-1] if changes else hi):
            changes.append(day)
    run = AppRun()
    whole = f"/?from={lo}&to={hi}"
    opens: list[float] = []
    failure = ""
    with chromium() as browser:
        with streamlit_app(db) as server:
            with (
                PeakSampler(chromium_pids) as browser_mem,
                PeakSampler(lambda: tree(server.pid)) as app_mem,
            ):
                try:
                    _change_periods(browser, server.url, (lo, hi), changes, limit_s, run)
                except Exception as exc:  # noqa: BLE001 - the page opens are still measured
                    traceback.print_exc(file=sys.stderr)
                    first_line = str(exc).splitlines()[0] if str(exc) else ""
                    failure = f"the period changes stopped: {type(exc).__name__}: {first_line}"
                    run.problem = failure
                if run.first_map_s is not None:
                    for day in targets:
                        url = f"{server.url}/?from={lo}&to={day}"
                        fresh_s = _fresh_load(browser, url, day, limit_s)
                        if fresh_s is not None:
                            run.fresh_loads_s.append(fresh_s)
                    _fresh_load(browser, server.url + whole, hi, limit_s)  # the warm-up open
            # The timed opens run unsampled, as the peer's do: reading smaps_rollup of every
            # Chromium process ten times a second slowed an open at 100,000 by ~0.15 s.
            if run.first_map_s is not None:
                opens = _page_opens(browser, server.url + whole, hi, limit_s, repeat)
            hwm = sum(process_hwm(p) for p in tree(server.pid))
        skip_peer = peer_limit is not None and points > peer_limit
        peer = PeerRun() if skip_peer else measure_peer(browser, db, span, points, limit_s, repeat)
    fresh = run.fresh_loads_s
    open_note = "baseline: bench/peer_app.py (st.pydeck_chart, no basemap), same points"
    if run.first_map_s is None:
        open_note = run.problem
    elif len(opens) < repeat:
        open_note = f"{repeat - len(opens)} of {repeat} opens not drawn within the limit"
    if skip_peer:
        open_note += f"; peer not run above {peer_limit:,} points (--peer-limit)"
    elif len(peer.opens_s) < repeat:
        open_note += f"; {repeat - len(peer.opens_s)} of {repeat} peer opens did not draw"
    out = [
        Measurement(
            "app_period_change",
            n,
            run.median_change_s(),
            statistics.median(fresh) if fresh else None,
            "s",
            note=f"{backend}: "
            + (run.problem or "baseline: opening the new period's permalink in a fresh page"),
            extra={
                "backend": backend,
                "changes": run.changes,
                "fresh_loads_s": fresh,
                "first_map_s": run.first_map_s,
            },
        ),
        Measurement(
            "app_period_change_busy",
            n,
            run.median_change_s(busy=True),
            None,
            "s",
            note=f"{backend}: each typed as soon as the last was drawn, while the store still "
            "counts it",
            extra={"backend": backend, "changes": run.busy_changes},
        ),
        Measurement(
            "app_page_open",
            n,
            statistics.median(opens) if opens else None,
            statistics.median(peer.opens_s) if peer.opens_s else None,
            "s",
            note=f"{backend}: {open_note}",
            extra={"backend": backend, "opens_s": opens, "peer_opens_s": peer.opens_s}
            | {"points": points},
        ),
        Measurement(
            "app_memory",
            n,
            hwm / MB,
            None,
            "MB",
            note=f"{backend}: VmHWM of the streamlit process tree",
            extra={
                "backend": backend,
                "peak_pss_mb": round(app_mem.peak / MB, 1),
                "peer_hwm_mb": round(peer.hwm / MB, 1),
            },
        ),
        Measurement(
            "app_browser_memory",
            n,
            browser_mem.peak / MB,
            None,
            "MB",
            note=f"{backend}: peak PSS of Chromium during the app measure",
            extra={"backend": backend},
        ),
    ]
    if failure:  # reported, and the part fails, with the rest measured
        raise PartialResults(failure, out)
    return out


def measure_app(
    data: Dataset,
    limit_s: float = CHANGE_LIMIT_S,
    backends: tuple[str, ...] | list[str] = ("sqlite",),
    repeat: int = OPENS,
    peer_limit: int | None = None,
) -> list[Measurement]:
    """The app's measures on each backend in turn, a measure's rows side by side. A backend
    that fails does not lose the others' rows (PartialResults carries them)."""
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown:
        raise ValueError(f"unknown backend(s) {unknown}; choose from {BACKENDS}")
    span = data.span()
    points = data.located(*span)
    got: list[Measurement] = []
    errors: list[str] = []
    for backend in backends:
        data.log(f"app on {backend}")
        try:
            with data.backend(backend) as db:
                got += measure_backend(
                    data.n, backend, db, span, points, limit_s, repeat, peer_limit
                )
        except Exception as exc:  # noqa: BLE001 - the other backends still run
            traceback.print_exc(file=sys.stderr)
            errors.append(f"{backend}: {type(exc).__name__}: {exc}")
            got += getattr(exc, "measurements", [])
    order = {name: i for i, name in enumerate(dict.fromkeys(m.measure for m in got))}
    got.sort(key=lambda m: order[m.measure])  # stable: the backends keep their order
    if errors:
        raise PartialResults("; ".join(errors), got)
    return got
