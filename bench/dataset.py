"""One benchmark size: its synthetic CSV, its store, its events frame and its map pages.

Everything is made lazily and kept for the run, so the parts (ingest, filter, map, browser,
app, snapshot) share one CSV and one store per size, whichever of them run.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bench import synth

Log = Callable[[str], None]
# The stores the app part can run on (`--backends`).
BACKENDS = ("sqlite", "postgresql")


def _quiet(_: str) -> None:
    pass


def offline_geocoder():
    """The offline geocoder (made once, outside any timing: synthetic rows need none)."""
    from geo.places.geocode import get_geocoder

    return get_geocoder("offline")


def import_csv(csv_path: Path, store_path: Path, geocoder=None) -> dict[str, object]:
    """Import `csv_path` into a fresh store at `store_path` (plan_import + apply_plan).

    The upload size limit is lifted for the benchmark: it measures speed, and 1,000,000
    synthetic rows are larger than an upload may be. Returns the plan's summary.
    """
    from geo.ingest import MAX_BYTES, apply_plan, plan_import
    from geo.store import SQLiteStore

    data = csv_path.read_bytes()
    store = SQLiteStore(store_path)
    plan = plan_import(
        data,
        store,
        source_name=csv_path.name,
        geocoder=geocoder or offline_geocoder(),
        max_bytes=max(MAX_BYTES, len(data) + 1),
    )
    apply_plan(plan, store, user="bench")
    return plan.summary()


@dataclass
class Dataset:
    """The synthetic data of one size, in `folder`."""

    n: int
    folder: Path
    seed: int = 1
    log: Log = _quiet
    store_path: Path | None = None
    _frame: pd.DataFrame | None = field(default=None, repr=False)
    _pages: dict[tuple[str, int], Path] = field(default_factory=dict, repr=False)

    @property
    def csv_path(self) -> Path:
        """The native CSV of the N events (written once, reused when already there)."""
        path = self.folder / f"events-{self.n}-seed{self.seed}.csv"
        if not path.exists():
            self.log(f"writing {self.n:,} synthetic events to {path}")
            synth.write_csv(path, self.n, self.seed)
        return path

    def store(self):
        """The store holding the N events (imported untimed if the ingest part did not run)."""
        from geo.store import SQLiteStore

        if self.store_path is None:
            path = self.folder / f"store-{self.n}.sqlite"
            if not path.exists():
                self.log(f"importing {self.n:,} events into {path}")
                import_csv(self.csv_path, path)
            self.store_path = path
        return SQLiteStore(self.store_path)

    def span(self) -> tuple[dt.date, dt.date]:
        span = self.store().date_span()
        if span is None:
            raise RuntimeError(f"the benchmark store {self.store_path} is empty")
        return span

    def frame(self) -> pd.DataFrame:
        """Every stored event (the frame the app would draw for a period covering the data)."""
        if self._frame is None:
            self._frame = self.store().events()
        return self._frame

    def sample(self, n: int) -> pd.DataFrame:
        """`n` of the events, spread over the whole set (deterministic), in date order."""
        frame = self.frame()
        if n >= len(frame):
            return frame
        return frame.sample(n=n, random_state=self.seed).sort_index()

    def page(self, kind: str, n: int, build: Callable[[pd.DataFrame], object]) -> Path:
        """A self-contained HTML page of map `kind` over `n` events (built once per run)."""
        from geo.map.assets import offline_html

        key = (kind, n)
        if key not in self._pages:
            t = time.perf_counter()
            html = offline_html(build(self.sample(n)))
            path = self.folder / f"{kind}-{n}.html"
            path.write_text(html, encoding="utf-8")
            self.log(
                f"wrote {path.name} ({len(html) / 1e6:.1f} MB, {time.perf_counter() - t:.1f} s)"
            )
            self._pages[key] = path
        return self._pages[key]

    def located(self, start: dt.date, end: dt.date) -> int:
        """How many events of [start, end] have coordinates (the points a map of it draws),
        counted over the store's batches (`store.frames`), never the whole frame at once."""
        from geo.view import View

        frames = self.store().frames(View(start=start, end=end))
        return sum(int(f[["latitude", "longitude"]].notna().all(axis=1).sum()) for f in frames)

    @contextmanager
    def backend(self, name: str) -> Iterator[str]:
        """NKMAP_DB for the N events on backend `name`: the SQLite store itself, or (for
        "postgresql") a throw-away PostgreSQL database it is copied into (`copy_store`),
        created like bench/load.py's and dropped at the end."""
        if name not in BACKENDS:
            raise ValueError(f"unknown backend {name!r}; choose from {BACKENDS}")
        store = self.store()
        if name == "sqlite":
            yield str(self.store_path)
            return
        from bench.load import throwaway_postgres
        from geo.store import copy_store, open_store

        with throwaway_postgres(log=self.log) as url:
            t = time.perf_counter()
            counts = copy_store(store, open_store(url))
            self.log(
                f"copied {counts.get('events', 0):,} events into PostgreSQL "
                f"({time.perf_counter() - t:.1f} s)"
            )
            yield url
