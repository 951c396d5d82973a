"""Memory of process trees: peak proportional set size (PSS) sampled in a background thread.

PSS splits shared pages between the processes sharing them, so summing it over Chromium's
many processes does not count the shared browser binary once per renderer (as RSS would).
It comes from /proc/PID/smaps_rollup (Linux); where that cannot be read, RSS stands in.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

MB = 1024 * 1024


def _psutil():
    try:
        import psutil
    except ImportError as exc:  # pragma: no cover - dev extra
        raise ImportError(
            "bench needs psutil: .venv/bin/pip install -e '.[dev]' (or pip install psutil)"
        ) from exc
    return psutil


def _kib_field(path: Path, name: str) -> int | None:
    """The value of a `Name:  123 kB` line of a /proc file, in bytes (None if unreadable)."""
    try:
        with path.open() as fh:
            for line in fh:
                if line.startswith(name + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def process_pss(pid: int) -> int:
    """PSS of one process in bytes (RSS where smaps_rollup is unreadable; 0 if it is gone)."""
    pss = _kib_field(Path(f"/proc/{pid}/smaps_rollup"), "Pss")
    if pss is not None:
        return pss
    psutil = _psutil()
    try:
        return int(psutil.Process(pid).memory_info().rss)
    except psutil.Error:
        return 0


def process_hwm(pid: int) -> int:
    """Peak resident set size (VmHWM) of one process in bytes (0 if unreadable)."""
    return _kib_field(Path(f"/proc/{pid}/status"), "VmHWM") or 0


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants that are alive now."""
    psutil = _psutil()
    try:
        root = psutil.Process(pid)
        return [root.pid, *(c.pid for c in root.children(recursive=True))]
    except psutil.Error:
        return []


def chromium_pids(root: int | None = None) -> list[int]:
    """Chromium processes started (through Playwright's driver) by this process (or `root`)."""
    psutil = _psutil()
    out = []
    for pid in tree(root or os.getpid()):
        with contextlib.suppress(psutil.Error):
            name = psutil.Process(pid).name().lower()
            if "chrom" in name or "headless_shell" in name:
                out.append(pid)
    return out


def total_pss(pids: Iterable[int]) -> int:
    return sum(process_pss(p) for p in pids)


class PeakSampler:
    """Samples the summed PSS of `pids()` every `interval` seconds; `.peak` is the maximum.

    Use as a context manager around the work to watch::

        with PeakSampler(chromium_pids) as mem:
            ...
        mem.peak  # bytes
    """

    def __init__(self, pids: Callable[[], Iterable[int]], interval: float = 0.1) -> None:
        self._pids = pids
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.peak = 0
        self.samples = 0

    def sample(self) -> int:
        value = total_pss(self._pids())
        self.peak = max(self.peak, value)
        self.samples += 1
        return value

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self._interval)

    def __enter__(self) -> PeakSampler:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="bench-memory", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()
