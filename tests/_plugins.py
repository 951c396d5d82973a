"""Suite-wide guards, loaded by tests/conftest.py.

`browser` marker guard: a test that starts Chromium (through Playwright, directly or inside
the code it calls, e.g. a PNG snapshot) must carry ``@pytest.mark.browser``, so that
``pytest -m "not browser"`` really runs without a browser. Playwright's ``BrowserType.launch``
is wrapped for the whole session; a launch is charged to the test running at the time (a
session fixture that launches is charged to the first test that asks for it). An unmarked
test that launches fails with a message naming the marker. Why at run time and not by
grepping: the launch is usually several calls away from the test (snapshot(), AppTest).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import pytest

BROWSER_MARKER = "browser"

_current: pytest.Item | None = None
# nodeid -> how Chromium was started, for tests without the marker.
_unmarked_launches: dict[str, list[str]] = {}
_originals: list[tuple[type, str, Callable]] = []


def _record(how: str) -> None:
    item = _current
    if item is not None and item.get_closest_marker(BROWSER_MARKER) is None:
        _unmarked_launches.setdefault(item.nodeid, []).append(how)


def _wrap(cls: type, name: str) -> None:
    original = getattr(cls, name)

    @functools.wraps(original)
    def launch(self, *args, **kwargs):
        _record(f"{cls.__module__}.{cls.__name__}.{name}")
        return original(self, *args, **kwargs)

    _originals.append((cls, name, original))
    setattr(cls, name, launch)


def pytest_configure(config: pytest.Config) -> None:
    try:
        from playwright.async_api._generated import BrowserType as AsyncBrowserType
        from playwright.sync_api._generated import BrowserType as SyncBrowserType
    except ImportError:  # Playwright not installed: nothing can start Chromium through it
        return
    for cls in (SyncBrowserType, AsyncBrowserType):
        for name in ("launch", "launch_persistent_context"):
            _wrap(cls, name)


def pytest_unconfigure(config: pytest.Config) -> None:
    while _originals:
        cls, name, original = _originals.pop()
        setattr(cls, name, original)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    global _current
    _current = item
    try:
        yield
    finally:
        _current = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    # Setup and call have run by the "call" report: launches in either are counted there.
    if report.when != "call" or not report.passed:
        return
    launches = _unmarked_launches.get(item.nodeid)
    if launches:
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} started Chromium ({launches[0]}) without @pytest.mark.browser: "
            "mark it, so that `pytest -m 'not browser'` runs without a browser."
        )
