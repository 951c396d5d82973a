"""`python bench/run.py`: run the chosen parts at each size and report them side by side."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.dataset import BACKENDS, Dataset
from bench.machine import machine_info
from bench.report import load_section, results_markdown
from bench.results import Measurement, table

PARTS = ("ingest", "filter", "map", "browser", "app", "snapshot", "gazetteer", "load")
# Parts run only when named in --only (the load test takes minutes per size: bench/load.py).
OPT_IN = ("load",)
# Parts that do not depend on the number of events: run once, at the first size.
ONCE = ("gazetteer",)
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
RESULTS_MD = Path(__file__).resolve().parent / "RESULTS.md"
# Hand-written: why targets are not met, and separate runs (each names the run it was
# written for). `--write` puts it after the table.
RESULTS_NOTES = RESULTS_MD.with_name("RESULTS-notes.md")


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _parts(value: str) -> list[str]:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown part(s) {unknown}; choose from {PARTS}")
    return parts


def _backends(value: str) -> list[str]:
    backends = [b.strip() for b in value.split(",") if b.strip()]
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown or not backends:
        raise argparse.ArgumentTypeError(f"unknown backend(s) {unknown}; choose from {BACKENDS}")
    return backends


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python bench/run.py",
        description="Benchmarks of the conflict map, each beside a baseline. Progress goes "
        "to stderr; the table (or --json) to stdout.",
    )
    p.add_argument(
        "--events",
        type=int,
        nargs="+",
        default=list(DEFAULT_SIZES),
        metavar="N",
        help="sizes to run (default: 10000 100000 1000000)",
    )
    p.add_argument(
        "--only",
        type=_parts,
        default=[p for p in PARTS if p not in OPT_IN],
        help=f"comma-separated parts (default: all but {','.join(OPT_IN)}): {','.join(PARTS)}",
    )
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--write", action="store_true", help=f"regenerate {RESULTS_MD.name}")
    p.add_argument(
        "--from-json",
        type=Path,
        metavar="FILE",
        help="run nothing: with --write, regenerate RESULTS.md from FILE, the --json output of "
        "an earlier run (after editing RESULTS-notes.md for it)",
    )
    p.add_argument("--seed", type=int, default=1, help="synthetic data seed (default 1)")
    p.add_argument(
        "--workdir",
        type=Path,
        help="keep CSVs, stores and pages here (reused when present); default: a temp dir",
    )
    p.add_argument("--naive-map-cap", type=int, default=100_000, help="default 100000")
    p.add_argument("--naive-browser-cap", type=int, default=10_000, help="default 10000")
    p.add_argument(
        "--time-limit", type=float, default=90.0, help="seconds per naive page (default 90)"
    )
    p.add_argument("--repeat", type=int, default=5, help="filter runs, median (default 5)")
    p.add_argument(
        "--backends",
        type=_backends,
        default=["sqlite"],
        help="stores the app part runs on, comma-separated: sqlite,postgresql (default sqlite; "
        "postgresql: a throw-away copy of the store, dropped afterwards)",
    )
    p.add_argument(
        "--peer-limit",
        type=int,
        default=None,
        metavar="N",
        help="app part: skip the st.pydeck_chart peer above N points (at 1000000 it never "
        "draws, and costs 4 x 120 s per backend); default: always run it",
    )
    return p


def _runners(args: argparse.Namespace) -> dict[str, Callable[[Dataset], list[Measurement]]]:
    # Imported here: the browser parts pull in Playwright only when they run.
    from bench.mapbuild import measure_map
    from bench.store_bench import measure_filters, measure_ingest

    def browser(data: Dataset) -> list[Measurement]:
        from bench.browser import measure_browser

        return measure_browser(data, args.naive_browser_cap, args.time_limit)

    def app(data: Dataset) -> list[Measurement]:
        from bench.dashboard import measure_app

        return measure_app(data, backends=args.backends, peer_limit=args.peer_limit)

    def snapshot(data: Dataset) -> list[Measurement]:
        from bench.snapshots import measure_snapshot

        return [measure_snapshot(data)]

    def gazetteer(data: Dataset) -> list[Measurement]:
        from bench.first_use import measure_first_use

        return measure_first_use(data.folder / "first-use")

    def load(data: Dataset) -> list[Measurement]:
        from bench.load import failed, measure_load, measurements

        runs = measure_load(data.n, data.csv_path, data.folder / "load", seed=args.seed, log=_log)
        if failed(runs):  # the numbers still reach the log; the part fails
            _log(table(measurements(data.n, runs)))
            errors = [e for doc in runs.values() for e in doc.get("error_list", [])]
            raise RuntimeError(f"load test: errors or lost rows: {errors[:5]}")
        return measurements(data.n, runs)

    return {
        "ingest": lambda d: [measure_ingest(d)],
        "filter": lambda d: measure_filters(d, args.repeat),
        "map": lambda d: measure_map(d, args.naive_map_cap),
        "browser": browser,
        "app": app,
        "snapshot": snapshot,
        "gazetteer": gazetteer,
        "load": load,
    }


def run(args: argparse.Namespace, workdir: Path) -> tuple[list[Measurement], list[str]]:
    """Every chosen part at every size, in order; a part that fails is reported, not fatal."""
    runners = _runners(args)
    measurements: list[Measurement] = []
    errors: list[str] = []
    for n in args.events:
        data = Dataset(n, workdir / f"n{n}", seed=args.seed, log=_log)
        data.folder.mkdir(parents=True, exist_ok=True)
        for part in (p for p in PARTS if p in args.only):
            if part in ONCE and n != args.events[0]:
                continue
            _log(f"{part} at {n:,} events")
            try:
                got = runners[part](data)
            except Exception as exc:  # noqa: BLE001 - one broken part must not lose the rest
                traceback.print_exc(file=sys.stderr)
                errors.append(f"{part} at {n:,} events: {type(exc).__name__}: {exc}")
                # What the part measured before it failed (e.g. the app on another backend).
                got = getattr(exc, "measurements", [])
            for m in got:
                _log(f"  {m.measure}: ours {m.ours} {m.unit}, baseline {m.baseline}")
            measurements += got
    return measurements, errors


def _write(machine, measurements, command: str, errors) -> None:
    notes = RESULTS_NOTES.read_text("utf-8") if RESULTS_NOTES.is_file() else ""
    load = load_section(RESULTS_MD.read_text("utf-8")) if RESULTS_MD.is_file() else ""
    text = results_markdown(machine, measurements, command, errors, notes, load)
    RESULTS_MD.write_text(text, "utf-8")
    _log(f"wrote {RESULTS_MD}")


def _from_json(args: argparse.Namespace) -> int:
    """RESULTS.md again from a saved run: its command, machine, measurements and errors."""
    if not args.write:
        raise SystemExit("--from-json only regenerates RESULTS.md: add --write")
    doc = json.loads(args.from_json.read_text("utf-8"))
    measurements = [Measurement.from_dict(m) for m in doc["results"]]
    _write(doc["machine"], measurements, doc["command"], doc["errors"])
    return 1 if doc["errors"] else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command = "python bench/run.py " + shlex.join(sys.argv[1:] if argv is None else list(argv))
    if args.from_json:
        return _from_json(args)
    machine = machine_info()
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        measurements, errors = run(args, args.workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="nkmap-bench-") as tmp:
            measurements, errors = run(args, Path(tmp))
    if args.write:
        _write(machine, measurements, command, errors)
    if args.json:
        doc = {
            "command": command,
            "machine": machine,
            "results": [m.as_dict() for m in measurements],
            "errors": errors,
        }
        print(json.dumps(doc, indent=2, default=str))
    else:
        print(table(measurements))
        for e in errors:
            print(f"FAILED: {e}")
    return 1 if errors else 0
