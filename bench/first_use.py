"""First use of the offline gazetteer, as a user meets it: a fresh process running
`nkmap geocode Martuni`, and `nkmap ingest FILE --dry-run` of a 15-row file whose places have
no coordinates. Each is timed with a cold cache (the process builds the index file), a warm
cache (the file is there) and no cache (the index built in the process, as every process did
before the cache), in one run. Wall-clock time of the whole process, start included.
"""

from __future__ import annotations

import csv
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from bench.results import Measurement

# 15 places without coordinates, contested names in both spellings among them.
DRY_RUN_PLACES = (
    "Stepanakert", "Shusha", "Martuni", "Hadrut", "Fuzuli", "Lachin", "Tovuz", "Ganja",
    "Goris", "Khankendi", "Berdzor", "Shushi", "Martakert", "Jabrayil", "Agdam",
)  # fmt: skip
GEOCODE_NAME = "Martuni"

# argv, environment -> seconds
Runner = Callable[[Sequence[str], Mapping[str, str]], float]


def dry_run_csv(path: Path) -> Path:
    """A 15-row upload whose rows all need the gazetteer (a place, no coordinates)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["event_date", "event_type", "location", "country", "source", "notes"])
        for day, place in enumerate(DRY_RUN_PLACES, 1):
            country = "ARM" if place == "Goris" else "AZE"
            out.writerow([f"2020-10-{day:02d}", "shelling", place, country, "Benchmark", place])
    return path


def nkmap_command() -> list[str]:
    """The `nkmap` console script of this interpreter's environment (`-m geo.cli` if none)."""
    script = Path(sys.executable).with_name("nkmap")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "geo.cli"]


def time_process(argv: Sequence[str], env: Mapping[str, str]) -> float:
    """Wall-clock seconds of one process, start to exit; a failure raises with its stderr."""
    t = time.perf_counter()
    out = subprocess.run(list(argv), env=dict(env), capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {out.returncode}: {out.stderr[-2000:]}")
    return seconds


def measure_first_use(
    folder: Path, repeat: int = 3, run: Runner = time_process
) -> list[Measurement]:
    """`geocode_*` and `dry_run_*`, cold and warm, each beside the no-cache time."""
    folder.mkdir(parents=True, exist_ok=True)
    nkmap = nkmap_command()
    upload = dry_run_csv(folder / "first-use-15.csv")
    commands = {
        "geocode": (1, [*nkmap, "geocode", GEOCODE_NAME], f"`nkmap geocode {GEOCODE_NAME}`"),
        "dry_run": (
            len(DRY_RUN_PLACES),
            [*nkmap, "ingest", str(upload), "--dry-run", "--db", str(folder / "store.sqlite")],
            f"`nkmap ingest` of {len(DRY_RUN_PLACES)} rows `--dry-run`",
        ),
    }
    # A file where the cache folder should be: the cache cannot be written, so the process
    # builds the index in memory.
    blocked = folder / "no-cache"
    blocked.write_text("not a folder\n")
    measurements = []
    for name, (rows, argv, what) in commands.items():
        cache = folder / f"cache-{name}" / "gazetteer.sqlite"
        shutil.rmtree(cache.parent, ignore_errors=True)

        def env(path: Path) -> dict[str, str]:
            return {**os.environ, "NKMAP_VAR_DIR": str(folder), "NKMAP_GAZETTEER_CACHE": str(path)}

        no_cache = run(argv, env(blocked / "gazetteer.sqlite"))
        cold = run(argv, env(cache))
        warm = statistics.median(run(argv, env(cache)) for _ in range(repeat))
        size = cache.stat().st_size if cache.exists() else None
        extra = {"no_cache_s": no_cache, "cold_s": cold, "warm_s": warm, "cache_bytes": size}
        measurements += [
            Measurement(
                f"{name}_warm",
                rows,
                warm,
                no_cache,
                "s",
                note=f"{what}, median of {repeat}; baseline: no cache",
                extra=extra,
            ),
            Measurement(
                f"{name}_cold",
                rows,
                cold,
                no_cache,
                "s",
                note=f"{what}, building the cache; baseline: no cache",
                extra=extra,
            ),
        ]
    return measurements
