"""The real dashboard (`streamlit run app.py`): time until a period change is on the map.

A user changes the sidebar's To date; Streamlit reruns app.py, st_folium sends the new map to
its iframe and the events layer draws it. The init script of bench.browser runs in every
frame (the iframe too) and timestamps each completed draw with `performance.timeOrigin +
performance.now()` (ms since 1970, one clock for the page and its iframe), so the latency is
measured in the browser, from the key press to the drawn map + one animation frame.
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
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.browser import VIEWPORT, WATCH_JS, chromium
from bench.dataset import Dataset
from bench.memory import MB, PeakSampler, chromium_pids, process_hwm, tree
from bench.results import Measurement

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVER_TIMEOUT_S = 90
CHANGE_LIMIT_S = 120.0
# To dates the user types, in turn (the last one restores the whole span).
TO_DATES = (dt.date(2020, 11, 10), dt.date(2022, 12, 31))


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
def streamlit_app(db_path: Path) -> Iterator[Server]:
    """`streamlit run app.py` (repo root) on a free port with NKMAP_DB=`db_path`, until exit."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "NKMAP_DB": str(db_path)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    cmd += ["--server.headless", "true", "--server.address", "127.0.0.1"]
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
    """Wait until no new draw happened for `quiet_s` (st_folium reruns once after rendering)."""
    deadline = time.monotonic() + limit_s
    count, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now = len(_records(page))
        if now != count:
            count, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        page.wait_for_timeout(200)


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
    fresh_loads_s: list[float] = field(default_factory=list)
    problem: str = ""

    def median_change_s(self) -> float | None:
        times = [c["ms"] / 1000 for c in self.changes if c["ms"] is not None]
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
        for day in targets:
            t0 = _type_to_date(page, day)
            hit = _wait_for_draw(page, t0, day, limit_s) or {}
            ms = hit["epoch"] - t0 if hit else None
            run.changes.append({"to": day.isoformat(), "ms": ms, "shown": hit.get("shown")})
            if ms is None:
                run.problem = "some changes were not drawn within the limit"
            _settle(page)
    finally:
        context.close()


def measure_app(data: Dataset, limit_s: float = CHANGE_LIMIT_S) -> list[Measurement]:
    """Period change through the real app, beside opening the new period's permalink."""
    lo, hi = data.span()
    targets = [d for d in (*TO_DATES, hi) if lo <= d <= hi]
    run = AppRun()
    with streamlit_app(data.store().path) as server, chromium() as browser:
        with (
            PeakSampler(chromium_pids) as browser_mem,
            PeakSampler(lambda: tree(server.pid)) as app_mem,
        ):
            _change_periods(browser, server.url, (lo, hi), targets, limit_s, run)
            if run.first_map_s is not None:
                for day in targets:
                    url = f"{server.url}/?from={lo}&to={day}"
                    fresh_s = _fresh_load(browser, url, day, limit_s)
                    if fresh_s is not None:
                        run.fresh_loads_s.append(fresh_s)
        hwm = sum(process_hwm(p) for p in tree(server.pid))
    fresh = run.fresh_loads_s
    return [
        Measurement(
            "app_period_change",
            data.n,
            run.median_change_s(),
            statistics.median(fresh) if fresh else None,
            "s",
            note=run.problem or "baseline: opening the new period's permalink in a fresh page",
            extra={"changes": run.changes, "fresh_loads_s": fresh, "first_map_s": run.first_map_s},
        ),
        Measurement(
            "app_memory",
            data.n,
            hwm / MB,
            None,
            "MB",
            note="VmHWM of the streamlit process tree",
            extra={"peak_pss_mb": round(app_mem.peak / MB, 1)},
        ),
        Measurement(
            "app_browser_memory",
            data.n,
            browser_mem.peak / MB,
            None,
            "MB",
            note="peak PSS of Chromium during the app measure",
        ),
    ]
