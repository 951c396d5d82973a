"""Headless Chromium for PNG and PDF exports: one browser per process, kept between exports.

Starting Chromium costs about a second, as much as drawing a page, so the first export starts
one and later exports reuse it. Playwright's sync objects belong to the thread that made them,
so the browser lives in one worker thread that owns it; callers from any thread (Streamlit
sessions, the CLI, a running asyncio loop) hand it jobs through a queue and wait for the
answer, one job at a time. A browser that crashed or disconnected is started again before the
next job (and a job that failed because it died is tried once more). `shutdown()` closes it;
it is also called at interpreter exit.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TypeVar

from geo.errors import NkMapError

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
# A4 landscape in CSS pixels (96 per inch): 297 x 210 mm. The PDF page is laid out at this
# size and drawn at twice the resolution, so the map's canvas prints at about 190 dpi.
A4_LANDSCAPE_PX = (1123, 794)
PDF_DEVICE_SCALE = 2
RENDER_TIMEOUT_MS = 30_000
# Drawn map content (Leaflet's `load` fires before anything is drawn).
_MAP_DRAWN = ".leaflet-overlay-pane canvas, .leaflet-overlay-pane path, .leaflet-marker-pane > *"
_LOCAL_SCHEMES = ("data:", "about:", "blob:")

T = TypeVar("T")


class RenderError(NkMapError, RuntimeError):
    """Chromium is missing or could not draw the page."""


class _Renderer:
    """One headless Chromium (network blocked) that draws briefing pages as PNG or PDF.
    Used only by the thread that started it."""

    def __init__(self) -> None:
        self._playwright = None
        self._browser = None
        # A fresh page made ahead of the next render (viewport, scale) -> (context, page).
        self._spare: tuple[tuple, object, object] | None = None

    def start(self) -> _Renderer:
        if not Path(CHROMIUM).exists():
            raise RenderError(
                f"Chromium not found at {CHROMIUM} (install it, or set CHROMIUM): "
                "PNG and PDF exports need it; HTML exports do not"
            )
        from playwright.sync_api import Error, sync_playwright

        try:
            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
            )
        except Error as exc:
            self.close()
            raise RenderError(f"cannot start Chromium: {exc}") from None
        return self

    def alive(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    def close(self) -> None:
        from playwright.sync_api import Error

        self._spare = None
        if self._browser is not None:
            with contextlib.suppress(Error):
                self._browser.close()
            self._browser = None
        if self._playwright is not None:
            with contextlib.suppress(Error):
                self._playwright.stop()
            self._playwright = None

    @staticmethod
    def _layout(fmt: str, size: tuple[int, int]) -> tuple[tuple[int, int], int]:
        return (A4_LANDSCAPE_PX, PDF_DEVICE_SCALE) if fmt == "pdf" else (tuple(size), 1)

    def _new_page(self, viewport: tuple[int, int], scale: int):
        """A page in a new browser context (nothing shared with earlier pages) whose every
        request but data:/about:/blob: is refused."""
        from playwright.sync_api import Route

        context = self._browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]},
            device_scale_factor=scale,
            service_workers="block",
            java_script_enabled=True,
        )

        def guard(route: Route) -> None:
            if route.request.url.startswith(_LOCAL_SCHEMES):
                route.continue_()
            else:
                route.abort("blockedbyclient")

        context.route("**/*", guard)
        return context, context.new_page()

    def prepare(self, fmt: str, size: tuple[int, int]) -> None:
        """Make the page of the next render now (between exports, while the caller builds
        its next HTML): a new context costs about 0.2 s."""
        from playwright.sync_api import Error

        key = self._layout(fmt, size)
        if self._browser is None or (self._spare is not None and self._spare[0] == key):
            return
        self._drop_spare()
        with contextlib.suppress(Error):
            self._spare = (key, *self._new_page(*key))

    def _drop_spare(self) -> None:
        from playwright.sync_api import Error

        if self._spare is not None:
            with contextlib.suppress(Error):
                self._spare[1].close()
            self._spare = None

    def render(self, html: str, fmt: str, size: tuple[int, int]) -> bytes:
        from playwright.sync_api import Error

        assert self._browser is not None, "start() the renderer first"
        key = self._layout(fmt, size)
        try:
            if self._spare is not None and self._spare[0] == key:
                _, context, page = self._spare
                self._spare = None
            else:
                self._drop_spare()
                context, page = self._new_page(*key)
        except Error as exc:
            raise RenderError(f"Chromium could not open a page: {exc}") from None
        try:
            if fmt == "pdf":
                page.emulate_media(media="print")
            page.set_content(html, wait_until="load", timeout=RENDER_TIMEOUT_MS)
            page.wait_for_selector(
                ".leaflet-container", state="attached", timeout=RENDER_TIMEOUT_MS
            )
            if page.query_selector(".leaflet-overlay-pane, .leaflet-marker-pane") is not None:
                # Nothing drawn after 10 s: no layer shown; the empty map is the picture.
                with contextlib.suppress(Error):
                    page.wait_for_selector(_MAP_DRAWN, state="attached", timeout=10_000)
            # The events canvas draws on an animation frame once its data is decoded.
            page.wait_for_function(
                "() => !window.nkEvents || window.nkEvents.draws > 0 || window.nkEvents.error",
                timeout=RENDER_TIMEOUT_MS,
            )
            # The canvas renderer draws on the next animation frame: let two pass.
            page.evaluate(
                "() => document.fonts.ready.then(() => new Promise(r => "
                "requestAnimationFrame(() => requestAnimationFrame(() => r(true)))))"
            )
            if fmt == "pdf":
                return page.pdf(
                    format="A4",
                    landscape=True,
                    print_background=True,
                    prefer_css_page_size=True,
                    margin={"top": "0", "right": "0", "bottom": "0", "left": "0"},
                )
            return page.screenshot(type="png", full_page=False)
        except Error as exc:
            raise RenderError(f"Chromium could not draw the briefing page: {exc}") from None
        finally:
            with contextlib.suppress(Error):
                context.close()


class ChromiumService:
    """The process's Chromium, owned by one worker thread; `render()` from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards the thread's creation
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._renderer: _Renderer | None = None
        self.starts = 0  # browsers started (a restart after a crash counts)

    # ---- the worker thread
    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, args, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                future.set_exception(exc)

    def submit(self, fn: Callable[..., T], *args: object) -> Future:
        """Queue `fn(*args)` for the browser's thread; its Future."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="nkmap-chromium", daemon=True
                )
                self._thread.start()
        future: Future = Future()
        self._jobs.put((fn, args, future))
        return future

    def run(self, fn: Callable[..., T], *args: object, timeout: float | None = None) -> T:
        """`fn(*args)` in the browser's thread (here, if this is that thread); `timeout`:
        seconds to wait for the answer (TimeoutError after)."""
        if threading.current_thread() is self._thread:
            return fn(*args)
        return self.submit(fn, *args).result(timeout=timeout)

    # ---- jobs (run in the worker thread)
    def _browser(self) -> _Renderer:
        r = self._renderer
        if r is None or not r.alive():
            if r is not None:
                r.close()
            self._renderer = None
            r = _Renderer().start()
            self._renderer = r
            self.starts += 1
        return r

    def _render(self, html: str, fmt: str, size: tuple[int, int]) -> bytes:
        r = self._browser()
        try:
            data = r.render(html, fmt, size)
        except RenderError:
            if r.alive():
                raise
            data = self._browser().render(html, fmt, size)  # it died during the job: again
        # The next export most likely has the same size: its page is made while the caller
        # builds its HTML (a job of its own, after this answer is handed back).
        self._jobs.put((self._prepare, (fmt, size), Future()))
        return data

    def _prepare(self, fmt: str, size: tuple[int, int]) -> None:
        if self._renderer is not None and self._renderer.alive():
            self._renderer.prepare(fmt, size)

    def _close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    # ---- API
    def render(self, html: str, fmt: str, size: tuple[int, int]) -> bytes:
        """The page `html` as PNG (`size` CSS pixels) or PDF (one A4 landscape page)."""
        return self.run(self._render, html, fmt, size)

    def start_soon(self) -> None:
        """Start the browser in its thread without waiting: a first export starts Chromium
        while it reads its events and builds its page. A failure to start is reported by
        the render that needs the browser."""
        self.submit(self._start_quietly)

    def _start_quietly(self) -> None:
        with contextlib.suppress(RenderError):
            self._browser()

    def running(self) -> bool:
        """A browser is up (without starting one)."""
        if self._thread is None or not self._thread.is_alive():
            return False
        return self.run(lambda: self._renderer is not None and self._renderer.alive())

    def shutdown(self, timeout: float = 30) -> None:
        """Close the browser (the next render starts a new one)."""
        if self._thread is not None and self._thread.is_alive():
            self.run(self._close, timeout=timeout)


SERVICE = ChromiumService()
atexit.register(SERVICE.shutdown)
