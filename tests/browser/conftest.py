"""Browser-test harness: the real app under `streamlit run`, driven by Debian's Chromium.

Fixtures
- ``app_url`` (session): starts ``streamlit run app.py`` from the repo root on a free port,
  yields ``http://127.0.0.1:<port>``; stops the server's process group at the end.
- ``browser`` (session): headless /usr/bin/chromium (Playwright cannot download a browser here).
- ``page_log`` (function): a :class:`PageLog` of requests, blocked off-site requests, console
  errors and page errors for the current ``page``.
- ``page`` (function): a fresh 1440x900 page whose requests to any host other than
  127.0.0.1/localhost are aborted and recorded (``page_log.offsite_requests``, also available as
  ``page.offsite_requests`` and the ``offsite_requests`` fixture).

Helpers (import with ``from .conftest import ...``)
- ``start_streamlit(script, env=None)``: context manager yielding the base URL of a server.
- ``wait_for_map(page, timeout=60_000)``: the frame in which Leaflet has drawn the map.
- ``save_screenshot(page, name)``: PNG in ``test-artifacts/``; returns its path.
"""

from __future__ import annotations

import os
import signal
import socket
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
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Error, Frame, Page, Request, Route, sync_playwright

from geo.briefing.render import CHROMIUM
from geo.briefing.render import CHROMIUM_ARGS as _SNAPSHOT_ARGS

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
# The same Chromium and flags as the briefing renderer.
CHROMIUM_ARGS = list(_SNAPSHOT_ARGS)
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
# Schemes that never leave the machine.
LOCAL_SCHEMES = {"data", "blob", "about", "file", "chrome", "chrome-extension", "devtools"}
SERVER_TIMEOUT_S = 60
# Drawn map content: vector paths/canvas, tile layers, or markers.
MAP_DRAWN = (
    ".leaflet-overlay-pane path, .leaflet-overlay-pane canvas, .leaflet-layer, "
    ".leaflet-marker-pane > *"
)


def _python() -> str:
    venv = REPO_ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _health_ok(url: str) -> bool:
    # No proxies: a proxy from the environment must not see (or break) loopback requests.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # the group we created: streamlit and its children
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


@contextmanager
def start_streamlit(script: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``streamlit run <script>`` (cwd = the script's folder) until the block ends.

    Yields ``http://127.0.0.1:<port>`` once ``/_stcore/health`` answers ``ok``; fails the test
    with the server's stderr if that takes longer than 60 s or the server exits.
    """
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    run_env = {**os.environ, **(env or {})}  # NKMAP_* and the rest pass through
    run_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), run_env.get("PYTHONPATH", "")) if p
    )
    cmd = [
        _python(),
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            cmd, cwd=script.parent, env=run_env, stdout=out, stderr=err, start_new_session=True
        )
        try:
            deadline = time.monotonic() + SERVER_TIMEOUT_S
            while not _health_ok(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    err.seek(0)
                    out.seek(0)
                    why = "exited" if proc.poll() is not None else "not healthy after 60 s"
                    pytest.fail(
                        f"streamlit {why}: {' '.join(cmd)}\n"
                        f"--- stderr ---\n{err.read().decode(errors='replace')[-5000:]}\n"
                        f"--- stdout ---\n{out.read().decode(errors='replace')[-2000:]}"
                    )
                time.sleep(0.25)
            yield url
        finally:
            _stop(proc)


EDITOR = ("edith", "browser tests password")
XSS_NOTE = '<img src=x onerror="window.__xss=1">'
XSS_PLACE = "</script><script>window.__xss=2</script>"
XSS_SOURCE = "${window.__xss=3}`"
HOSTILE_CSV = (
    "event_id,event_date,event_type,location,latitude,longitude,source,notes\n"
    "xss-1,2020-10-03,shelling,"
    + ",".join(
        '"' + v.replace('"', '""') + '"' for v in (XSS_PLACE, "40.2", "46.0", XSS_SOURCE, XSS_NOTE)
    )
    + "\n"
)


@pytest.fixture(scope="session")
def app_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An event store of the session's own, seeded with the curated events."""
    from geo.cli import main

    folder = tmp_path_factory.mktemp("store")
    db = folder / "events.sqlite"
    assert main(["seed", "--db", str(db)]) == 0
    # One hostile event, as an uploaded CSV could carry: it must stay inert text on the map.
    hostile = folder / "hostile.csv"
    hostile.write_text(HOSTILE_CSV, encoding="utf-8")
    assert main(["ingest", str(hostile), "--db", str(db)]) == 0
    # The editor the browser tests sign in as, through the dashboard's form.
    from geo import auth
    from geo.store import open_store

    auth.add_user(open_store(db), EDITOR[0], "editor", EDITOR[1], created_by="browser tests")
    return db


@pytest.fixture(scope="session")
def app_url(app_db: Path) -> Iterator[str]:
    """Base URL of the real dashboard (``app.py`` at the repo root) on the session's store."""
    with start_streamlit(REPO_ROOT / "app.py", env={"NKMAP_DB": str(app_db)}) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium, shared by the session."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make browser-deps`")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@dataclass
class PageLog:
    """What a page did: requests, blocked off-site requests, console/page errors, HTTP >= 400."""

    requests: list[str] = field(default_factory=list)
    offsite_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)  # "404 http://..."


def is_local(url: str) -> bool:
    """True if fetching ``url`` stays on this machine."""
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return (parts.hostname or "") in LOCAL_HOSTS


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser: Browser, page_log: PageLog) -> Iterator[Page]:
    """A fresh 1440x900 page; off-site requests are aborted and recorded in ``page_log``."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, service_workers="block")

    def guard(route: Route) -> None:
        url = route.request.url
        if is_local(url):
            route.continue_()
        else:
            page_log.offsite_requests.append(url)
            route.abort("blockedbyclient")

    def on_request(request: Request) -> None:
        page_log.requests.append(request.url)

    context.route("**/*", guard)
    new_page = context.new_page()
    new_page.on("request", on_request)
    new_page.on(
        "console",
        lambda msg: page_log.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    new_page.on(
        "response",
        lambda r: (
            page_log.failed_responses.append(f"{r.status} {r.url}") if r.status >= 400 else None
        ),
    )
    new_page.on("pageerror", lambda exc: page_log.page_errors.append(str(exc)))
    new_page.offsite_requests = page_log.offsite_requests  # type: ignore[attr-defined]
    new_page.console_errors = page_log.console_errors  # type: ignore[attr-defined]
    new_page.page_errors = page_log.page_errors  # type: ignore[attr-defined]
    yield new_page
    context.close()


@pytest.fixture
def offsite_requests(page_log: PageLog) -> list[str]:
    """URLs the page tried to fetch from another machine (all were aborted)."""
    return page_log.offsite_requests


def sign_in(page: Page, name: str = EDITOR[0], password: str = EDITOR[1]) -> None:
    """Sign in through the form the page shows (the Upload page's, or the sidebar's)."""
    form = page.get_by_test_id("stForm").filter(has=page.get_by_label("Account name")).first
    form.get_by_label("Account name").fill(name)
    form.get_by_label("Password", exact=True).fill(password)
    form.get_by_role("button", name="Sign in").click()


def save_screenshot(page: Page, name: str) -> Path:
    """Full-page PNG at ``test-artifacts/<name>.png`` (folder created); returns the path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / (name if name.endswith(".png") else f"{name}.png")
    page.screenshot(path=str(path), full_page=True)
    return path


def _frame_with_drawn_map(page: Page) -> Frame | None:
    for frame in page.frames:
        try:
            if frame.is_detached():
                continue
            if frame.query_selector(".leaflet-container") and frame.query_selector(MAP_DRAWN):
                return frame
        except Error:  # frame navigated or detached while we looked (a map page replaced)
            continue
    return None


def wait_for_map(page: Page, timeout: float = 60_000) -> Frame:
    """The frame (the page, or the live map's same-origin page) in which Leaflet drew the map.

    The page's ``load`` event fires long before Leaflet draws, so this polls every frame for a
    ``.leaflet-container`` holding drawn content, then lets one animation frame pass.
    """
    deadline = time.monotonic() + timeout / 1000
    while time.monotonic() < deadline:
        frame = _frame_with_drawn_map(page)
        if frame is not None:
            try:
                frame.evaluate("() => new Promise(r => requestAnimationFrame(() => r(true)))")
                return frame
            except Error:
                pass
        page.wait_for_timeout(250)
    frames = ", ".join(f.url for f in page.frames)
    raise AssertionError(f"no drawn Leaflet map within {timeout / 1000:.0f} s (frames: {frames})")
