"""`nkmap`: the command line. Same library calls as the app."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

from geo.errors import InputError, NkMapError
from geo.layers import (
    BASEMAP_NAMES,
    LAYER_NAMES,
    LAYER_TITLES,
    layer_on,
    layer_path,
    load_layer,
    parse_date,
    to_geojson,
)
from geo.settings import get_settings


def _cmd_layer(args: argparse.Namespace) -> int:
    if args.list:
        # One line per layer: name, title, feature count ("missing" without its file), folder.
        settings = get_settings()
        for name in dict.fromkeys((*LAYER_NAMES, *BASEMAP_NAMES)):
            path = layer_path(name, settings)
            count = len(load_layer(name, settings)) if path.exists() else "missing"
            print(f"{name}\t{LAYER_TITLES[name]}\t{count}\t{path.parent}")
        return 0
    if not args.name:
        raise NkMapError("give a layer name or --list")
    day = parse_date(args.on) if args.on else None
    gdf = layer_on(args.name, day)
    text = to_geojson(gdf) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if day is not None:
        _print_area_summary(gdf, args.name, day)
    return 0


def _print_area_summary(gdf, name: str, day) -> None:
    """One line per kind on stderr: feature count and polygon area in km² (geo.region's
    METRIC_PROJ), so `nkmap layer control --on DAY` says how much was held that day."""
    from geo.region import METRIC_PROJ

    print(f"{name} on {day.isoformat()}: {len(gdf)} features", file=sys.stderr)
    if gdf.empty:
        return
    kinds = gdf["kind"].fillna("(none)") if "kind" in gdf else None
    areas = gdf.geometry.to_crs(METRIC_PROJ).area / 1e6
    for kind, group in areas.groupby(kinds if kinds is not None else [name] * len(gdf)):
        polygons = gdf.geometry.loc[group.index].geom_type.str.contains("Polygon")
        km2 = f"{group[polygons].sum():,.0f} km²" if polygons.any() else "no area"
        print(f"  {kind}\t{len(group)}\t{km2}", file=sys.stderr)


def _parse_maps(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        src, sep, dest = pair.rpartition("=")
        if not sep or not src or not dest:
            raise InputError("--map takes 'Source column=schema_column'", value=pair)
        out[src.strip()] = dest.strip()
    return out


def _print_plan(plan, file=sys.stderr) -> None:
    s = plan.summary()
    print(
        f"{plan.source_name}: {s['rows']} rows ({s['format']}, {s['encoding']}, "
        f"delimiter {s['delimiter']!r}, dates {s['date_order']}): {s['inserted']} new, "
        f"{s['updated']} updated, {s['duplicates']} duplicates, {s['rejected']} rejected, "
        f"{s['geocoded']} geocoded",
        file=file,
    )
    for issue in plan.rejects:
        print(f"  rejected {issue}", file=file)
    for issue in plan.warnings:
        print(f"  warning  {issue}", file=file)


def _os_user() -> str:
    """Who runs the CLI, as batches record it: 'cli:<OS user>'."""
    try:
        name = getpass.getuser()
    except Exception:  # no such user in the password database, no USER/LOGNAME variable
        name = os.environ.get("USER") or "unknown"
    return f"cli:{name}"


def _cmd_ingest(args: argparse.Namespace) -> int:
    from geo.ingest import apply_plan, event_type_code, plan_import, write_rejects
    from geo.places.geocode import get_geocoder
    from geo.store import open_store

    event_type = event_type_code(args.type)  # refused before any file is read
    store = open_store(args.db)
    user = _os_user()
    geocoder = get_geocoder(args.geocoder)
    overrides = _parse_maps(args.map)
    totals = dict.fromkeys(("rows", "inserted", "updated", "duplicates", "rejected", "geocoded"), 0)
    files, rejects, failed = [], [], False
    for path in args.paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc.strerror}", value=str(path)) from None
        try:
            plan = plan_import(
                data,
                store,
                source_name=Path(path).name,
                fmt=args.format,
                overrides=overrides,
                date_format=args.date_format,
                event_type=event_type,
                geocoder=geocoder,
            )
        except InputError as exc:
            print(f"nkmap: {path}: {exc}", file=sys.stderr)
            files.append({"file": str(path), "error": str(exc)})
            failed = True
            continue
        _print_plan(plan, file=sys.stderr)  # today's stderr, not the one at import
        rejects.extend(plan.rejects)
        summary = plan.summary()
        if not args.dry_run:
            try:
                result = apply_plan(plan, store, strict=args.strict, user=user)
                summary["batch"] = result.import_id
            except NkMapError as exc:
                print(f"nkmap: {path}: {exc}", file=sys.stderr)
                summary.update(inserted=0, updated=0, error=str(exc))
                failed = True
        files.append({"file": str(path), **summary})
        for key in totals:
            totals[key] += int(summary.get(key) or 0)
    if args.rejects:
        with open(args.rejects, "w", encoding="utf-8", newline="") as fh:
            write_rejects(rejects, fh)
    if args.json:
        print(json.dumps({**totals, "dry_run": args.dry_run, "files": files}))
    return 2 if failed else 0


def _cmd_seed(args: argparse.Namespace) -> int:
    from geo.ingest import apply_plan, plan_import
    from geo.settings import get_settings
    from geo.store import open_store

    store = open_store(args.db)
    user = _os_user()
    for path in sorted(get_settings().events_dir.glob("*.csv")):
        plan = plan_import(path.read_bytes(), store, source_name=path.name, fmt="native")
        if plan.inserts or plan.updates:
            apply_plan(plan, store, strict=True, user=user)
        _print_plan(plan)
    print(f"{store.path}: {store.count()} events", file=sys.stderr)
    return 0


def _cmd_copy(args: argparse.Namespace) -> int:
    from geo.store import copy_store, is_url, open_store

    if not is_url(args.source):
        path = Path(args.source.removeprefix("sqlite:///")).expanduser()
        if not path.is_file():
            raise InputError("no such store file to copy from", value=args.source)
    source, target = open_store(args.source), open_store(args.target)
    counts = copy_store(source, target)
    rows = ", ".join(f"{n} {table}" for table, n in counts.items())
    print(f"{source.path} -> {target.path}: {rows}", file=sys.stderr)
    return 0


_BATCH_COLUMNS = (
    ("id", "batch"),
    ("user", "user"),
    ("at", "at"),
    ("file", "file"),
    ("sha256", "sha256"),
    ("rows", "rows"),
    ("inserted", "inserted"),
    ("updated", "updated"),
    ("duplicates", "duplicates"),
    ("rejected", "rejected"),
)
_NUMERIC = {"id", "rows", "inserted", "updated", "duplicates", "rejected"}


def _events(n: int) -> str:
    return f"{n} event{'' if n == 1 else 's'}"


def _batch_cells(batch) -> dict[str, str]:
    cells = {
        key: "" if getattr(batch, key) is None else str(getattr(batch, key))
        for key, _ in _BATCH_COLUMNS
    }
    cells["sha256"] = cells["sha256"][:12]  # the table's; --json has all 64 digits
    status = f"undone {batch.undone_at} by {batch.undone_by}" if batch.undone_at else ""
    if batch.format == "undo":
        cells["file"] = f"(undo of batch {batch.undo_of})"
        restored = (batch.updated or 0) + (batch.inserted or 0)
        status = f"{_events(batch.removed)} removed, {restored} restored"
    return {**cells, "status": status}


def _table(rows: list[dict[str, str]], headers: dict[str, str], numeric: set[str]) -> str:
    """Plain text columns, padded to line up (numbers to the right)."""
    widths = {k: max([len(h)] + [len(r[k]) for r in rows]) for k, h in headers.items()}

    def line(cells: dict[str, str]) -> str:
        parts = [
            cells[k].rjust(widths[k]) if k in numeric else cells[k].ljust(widths[k])
            for k in headers
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def _cmd_imports(args: argparse.Namespace) -> int:
    from geo.store import open_store

    batches = open_store(args.db).imports()
    if args.json:
        print(json.dumps([b.as_dict() for b in batches], ensure_ascii=False))
        return 0
    if not batches:
        print("no imports yet", file=sys.stderr)
        return 0
    headers = {**dict(_BATCH_COLUMNS), "status": "status"}
    print(_table([_batch_cells(b) for b in batches], headers, _NUMERIC))
    return 0


def _cmd_undo(args: argparse.Namespace) -> int:
    from geo.store import open_store

    undo = open_store(args.db).undo(args.batch, user=_os_user(), force=args.force)
    restored = (undo.updated or 0) + (undo.inserted or 0)
    print(
        f"batch {args.batch} undone: {_events(undo.removed)} removed, {restored} restored "
        f"(undo recorded as batch {undo.id})"
    )
    return 0


def _history_changes(before: dict | None, after: dict | None) -> list[str]:
    """The lines under one version: every value of a first version, else what changed."""
    if after is None:
        return ["  (removed)"]
    if before is None:
        return [f"  {k} = {v!r}" for k, v in after.items() if v is not None]
    return [
        f"  {k}: {before.get(k)!r} -> {v!r}" for k, v in after.items() if before.get(k) != v
    ] or ["  (same values)"]


def _cmd_history(args: argparse.Namespace) -> int:
    from geo.store import open_store

    versions = open_store(args.db).history(args.event_id)
    if not versions:
        print(f"nkmap: no event {args.event_id!r} in this store", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(versions, ensure_ascii=False))
        return 0
    before = None
    for v in versions:
        file = f"undo of batch {v['undo_of']}" if v["format"] == "undo" else v["file"] or ""
        mark = "  (current)" if v["current"] else ""
        print(
            f"batch {v['batch']}  {v['at'] or ''}  {v['user'] or ''}  {file}  {v['action']}{mark}"
        )
        for line in _history_changes(before, v["values"]):
            print(line)
        before = v["values"]
    return 0


def _read_password(args: argparse.Namespace) -> str:
    """From --password-file (its first line), else asked twice at the terminal."""
    if args.password_file:
        try:
            with open(args.password_file, encoding="utf-8") as fh:
                return fh.readline().rstrip("\r\n")
        except OSError as exc:
            raise InputError(
                f"cannot read the password file: {exc.strerror}", value=args.password_file
            ) from None
    if not sys.stdin.isatty():
        raise InputError("no terminal to ask for the password: give --password-file FILE")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Same password again: ") != first:
        raise InputError("the two passwords differ; nothing was changed")
    return first


def _cmd_users(args: argparse.Namespace) -> int:
    from geo import auth
    from geo.store import open_store

    store = open_store(args.db)
    if args.action == "list":
        users = [
            {"name": u.name, "role": u.role, "created_at": u.created_at, "by": u.created_by}
            for u in store.users()
        ]
        if args.json:
            print(json.dumps(users, ensure_ascii=False))
        elif users:
            cells = [{k: str(v or "") for k, v in u.items()} for u in users]
            print(_table(cells, {k: k for k in users[0]}, set()))
        else:
            print("no accounts yet (make run creates an admin)", file=sys.stderr)
        return 0
    if args.action == "bootstrap":
        name, shown = auth.bootstrap_admin(store, os.environ.get("NKMAP_ADMIN_PASSWORD") or None)
        if shown is not None:
            print(f"Created the account {name!r} (admin). Its password, shown this once: {shown}")
            print(f"Change it with: nkmap users passwd {name}")
        return 0
    if not args.name:
        raise InputError(f"nkmap users {args.action} needs an account NAME")
    if args.action == "add":
        password = None if args.external else _read_password(args)
        auth.add_user(store, args.name, args.role, password, created_by=_os_user())
        print(f"account {args.name!r} added ({args.role})", file=sys.stderr)
    elif args.action == "passwd":
        auth.set_password(store, args.name, _read_password(args))
        store.clear_signin_failures(args.name)
        print(f"password of {args.name!r} changed", file=sys.stderr)
    elif args.action == "role":
        auth.check_role(args.role)
        if not store.set_role(args.name, args.role):
            raise InputError("no such account", value=args.name)
        print(f"{args.name!r} is now {args.role}", file=sys.stderr)
    elif args.action == "remove":
        if not store.remove_user(args.name):
            raise InputError("no such account", value=args.name)
        print(f"account {args.name!r} removed", file=sys.stderr)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from geo.export import export_events
    from geo.store import open_store

    start = parse_date(args.date_from) if args.date_from else None
    end = parse_date(args.date_to) if args.date_to else None
    events = open_store(args.db).events(start, end)
    n = export_events(events, args.out, args.format)
    print(f"{n} events -> {args.out}", file=sys.stderr)
    return 0


def _cmd_extract(args: argparse.Namespace) -> int:
    from geo.extract import extract_report, to_csv
    from geo.schema import POINTLESS_TYPES

    if args.path == "-":
        data, name = sys.stdin.buffer.read(), "stdin"
    else:
        try:
            data, name = Path(args.path).read_bytes(), Path(args.path).name
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc.strerror}", value=args.path) from None
    result = extract_report(data, args.published, source=args.source, url=args.url, name=name)
    frame = result.candidates
    if args.out:
        Path(args.out).write_text(to_csv(frame), encoding="utf-8")
        print(f"{len(frame)} candidate events written to {args.out}", file=sys.stderr)
    if args.json:
        records = [
            {k: (None if v == "" else v) for k, v in row.items()}
            for row in frame.astype(object).where(frame.notna(), None).to_dict("records")
        ]
        print(json.dumps({"published": result.published.isoformat(), "candidates": records},
                         ensure_ascii=False, default=str))  # fmt: skip
    elif not args.out:
        sys.stdout.write(to_csv(frame))
    if frame.empty:
        print("no candidate events found in this report", file=sys.stderr)
    unplaced = int((frame["location"].eq("") & ~frame["event_type"].isin(POINTLESS_TYPES)).sum())
    if unplaced:
        print(
            f"{unplaced} candidate(s) have no place (the report names none): add one before "
            "importing, or nkmap ingest will refuse them",
            file=sys.stderr,
        )
    return 0


def _cmd_geocode(args: argparse.Namespace) -> int:
    from geo.places.geocode import get_geocoder

    resolution = get_geocoder(args.geocoder).geocode(args.name, args.country)
    places = ([resolution.best] if resolution.best else []) + list(resolution.alternatives)
    if args.json:
        print(
            json.dumps(
                {
                    "query": args.name,
                    "ambiguous": resolution.ambiguous,
                    "geo_precision": resolution.geo_precision,
                    "candidates": [p.__dict__ for p in places],
                },
                ensure_ascii=False,
            )
        )
    else:
        if not places:
            print(f"no match for {args.name!r}", file=sys.stderr)
        for rank, p in enumerate(places, 1):
            print(
                f"{rank}. {p.name} ({p.country}) {p.latitude:.5f}, {p.longitude:.5f} "
                f"[{p.source}, {p.matched} name]"
            )
        if resolution.ambiguous:
            print("ambiguous: check the alternatives", file=sys.stderr)
    return 0 if places else 1


def _split(values: list[str]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _snapshot_view(args: argparse.Namespace):
    from geo.schema import EVENT_TYPES
    from geo.view import ALL_LAYERS, View

    default = View()
    start = parse_date(args.date_from or args.date_to or default.start)
    end = parse_date(args.date_to or args.date_from or default.end)
    if start > end:
        raise InputError("--from is after --to", value=f"{start} > {end}")
    types = _split(args.type)
    for t in types:
        if t not in EVENT_TYPES:
            raise InputError(f"--type must be among: {', '.join(EVENT_TYPES)}", value=t)
    layers = default.layers
    if args.layers is not None:
        layers = tuple(_split([args.layers]))
        for name in layers:
            if name not in ALL_LAYERS:
                raise InputError(f"--layers must be among: {', '.join(ALL_LAYERS)}", value=name)
    return View(start=start, end=end, types=tuple(dict.fromkeys(types)), layers=layers)


def _snapshot_options(args: argparse.Namespace):
    from geo.briefing import MAX_LABELS, WHOLE_REGION, SnapshotOptions

    bbox = None
    if args.bbox and args.bbox.strip().lower() == "whole":
        bbox = WHOLE_REGION
    elif args.bbox:
        try:
            bbox = tuple(float(v) for v in args.bbox.split(","))
        except ValueError:
            bbox = ()
        if len(bbox) != 4:
            raise InputError(
                "--bbox takes lon_min,lat_min,lon_max,lat_max or 'whole'", value=args.bbox
            )
    width, sep, height = (args.size or "").lower().partition("x")
    if not (sep and width.isdigit() and height.isdigit()):
        raise InputError("--size takes WIDTHxHEIGHT in pixels, e.g. 1600x1000", value=args.size)
    if not 0 <= args.label <= MAX_LABELS:
        raise InputError(f"--label takes 0 to {MAX_LABELS}", value=args.label)
    return SnapshotOptions(
        title=args.title,
        banner=args.banner,
        size=(int(width), int(height)),
        bbox=bbox,
        label=args.label,
    )


def _progress_bar(done: int, total: int, width: int = 30) -> None:
    filled = width * done // max(total, 1)
    end = "\n" if done >= total else ""
    print(f"\r[{'#' * filled}{' ' * (width - filled)}] {done}/{total}", end=end, file=sys.stderr)
    sys.stderr.flush()


def _cmd_snapshot(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from geo.briefing import FORMATS, series, snapshot
    from geo.settings import get_settings
    from geo.store import is_url

    settings = get_settings()
    if args.db:
        db = args.db if is_url(args.db) else Path(args.db).expanduser().resolve()
        settings = replace(settings, db_path=db)
    view = _snapshot_view(args)
    options = _snapshot_options(args)
    out = Path(args.out)
    if args.each:
        if out.suffix.lower().lstrip(".") in FORMATS or (out.exists() and not out.is_dir()):
            raise InputError("--each needs --out to be a directory (e.g. frames/)", value=args.out)
        paths = series(
            view,
            out,
            each=args.each,
            fmt=args.format or "png",
            options=options,
            settings=settings,
            progress=_progress_bar,
        )
        print(f"{len(paths)} files -> {out}", file=sys.stderr)
        return 0
    if args.format and out.suffix.lower().lstrip(".") != args.format:
        raise InputError(f"--format {args.format} does not match the file name", value=args.out)
    path = snapshot(view, out, options, settings=settings)
    print(f"{view.describe()} -> {path}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nkmap", description="Nagorno-Karabakh conflict map: data and exports."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    layer = sub.add_parser(
        "layer",
        help="print a reference layer as GeoJSON",
        description="Print a reference layer as a GeoJSON FeatureCollection on stdout (or "
        "write it with --out). With --on, the features valid that day, and their area per kind "
        "(km²) on stderr.",
    )
    layer.add_argument(
        "name",
        nargs="?",
        choices=tuple(dict.fromkeys((*LAYER_NAMES, *BASEMAP_NAMES))),
        metavar="NAME",
        help=f"one of: {', '.join(dict.fromkeys((*LAYER_NAMES, *BASEMAP_NAMES)))}",
    )
    layer.add_argument(
        "--on",
        metavar="YYYY-MM-DD",
        help="keep only features valid that day; prints the area per kind (km²) to stderr",
    )
    layer.add_argument("--out", metavar="FILE", help="write the GeoJSON to FILE, not stdout")
    layer.add_argument(
        "--list",
        action="store_true",
        help="list every layer (boundaries and basemap): name, title, feature count, folder",
    )
    layer.set_defaults(func=_cmd_layer)

    db_help = (
        "event store: a SQLite file or a postgresql://user@host/db URL; default: NKMAP_DB or "
        "var/events.sqlite"
    )
    ingest = sub.add_parser("ingest", help="import event CSVs (native, ACLED, UCDP GED, other)")
    ingest.add_argument("paths", nargs="+", metavar="PATH")
    ingest.add_argument("--db", help=db_help)
    ingest.add_argument(
        "--format", default="auto", choices=["auto", "native", "acled", "ucdp", "generic"]
    )
    ingest.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="SRC=DEST",
        help="map a source column onto a schema column (repeatable)",
    )
    ingest.add_argument("--date-format", metavar="FMT", help="strptime format, e.g. %%d/%%m/%%Y")
    ingest.add_argument(
        "--type",
        metavar="TYPE",
        help="the event type of rows that give none (a file without a type column: every row), "
        "e.g. shelling; see the README's data dictionary for the types",
    )
    ingest.add_argument("--dry-run", action="store_true", help="report, change nothing")
    ingest.add_argument("--strict", action="store_true", help="all rows or nothing")
    ingest.add_argument("--rejects", metavar="OUT.csv", help="write rejected rows' reasons")
    ingest.add_argument("--geocoder", default="offline", choices=["offline", "nominatim"])
    ingest.add_argument("--json", action="store_true", help="print one JSON summary")
    ingest.set_defaults(func=_cmd_ingest)

    seed = sub.add_parser("seed", help="load the curated events of data/events (idempotent)")
    seed.add_argument("--db", help=db_help)
    seed.set_defaults(func=_cmd_seed)

    copy = sub.add_parser(
        "copy",
        help="copy a whole store (events, batches, versions, accounts) into a new one",
        description="Copy every event, import batch, kept previous version and account from "
        "one store into another, empty one, as they are (batch numbers, users, times): SQLite "
        "to PostgreSQL/PostGIS and back. Each store is a SQLite file (or sqlite:///file) or a "
        "postgresql://user@host/db URL; the target is created when it does not exist (a "
        "PostgreSQL database must exist). One transaction: all or nothing.",
    )
    copy.add_argument("--from", dest="source", required=True, metavar="URL_OR_PATH")
    copy.add_argument("--to", dest="target", required=True, metavar="URL_OR_PATH")
    copy.set_defaults(func=_cmd_copy)

    imports = sub.add_parser(
        "imports",
        help="list the import batches (who, when, which file, counts, undone)",
        description="List every import batch, newest first: its number, who imported (the "
        "OS user for the CLI), when, the file and its sha256, the counts, and whether it was "
        "undone. An undo is a batch too.",
    )
    imports.add_argument("--db", help=db_help)
    imports.add_argument("--json", action="store_true", help="print a JSON list")
    imports.set_defaults(func=_cmd_imports)

    undo = sub.add_parser(
        "undo",
        help="undo one import batch (in one transaction)",
        description="Undo an import batch: remove the events it inserted, put back the "
        "previous version of those it updated. Refused when a later batch changed the same "
        "events (undo that one first), unless --force.",
    )
    undo.add_argument("batch", type=int, metavar="BATCH", help="the batch number (nkmap imports)")
    undo.add_argument("--db", help=db_help)
    undo.add_argument(
        "--force",
        action="store_true",
        help="undo even if later batches changed its events (their changes are lost)",
    )
    undo.set_defaults(func=_cmd_undo)

    history = sub.add_parser(
        "history",
        help="every version of one event, with the batch that wrote it",
        description="Every version of one event, oldest first: the batch, who, when, the "
        "file, and what changed.",
    )
    history.add_argument("event_id", metavar="EVENT_ID")
    history.add_argument("--db", help=db_help)
    history.add_argument("--json", action="store_true", help="print a JSON list")
    history.set_defaults(func=_cmd_history)

    users = sub.add_parser(
        "users",
        help="manage dashboard accounts (viewer, editor, admin)",
        description="Accounts that sign in on the dashboard. Editors may import and undo; "
        "admins manage accounts (here). Passwords are asked at the terminal (twice) or read "
        "from the first line of --password-file; they are stored as Argon2id hashes only. "
        "`bootstrap` creates the admin account if there is none and prints its password once "
        "(or takes NKMAP_ADMIN_PASSWORD).",
    )
    users.add_argument("action", choices=["add", "list", "remove", "passwd", "role", "bootstrap"])
    users.add_argument("name", nargs="?", metavar="NAME")
    users.add_argument("--role", default="viewer", choices=["viewer", "editor", "admin"])
    users.add_argument("--password-file", metavar="FILE", help="read the password from FILE")
    users.add_argument(
        "--external",
        action="store_true",
        help="no password: the account signs in through st.login (its name is the e-mail)",
    )
    users.add_argument("--db", help=db_help)
    users.add_argument("--json", action="store_true", help="list: print JSON")
    users.set_defaults(func=_cmd_users)

    export = sub.add_parser("export", help="export events as CSV, GeoJSON or GeoPackage")
    export.add_argument("--db", help=db_help)
    export.add_argument("--format", required=True, choices=["csv", "geojson", "gpkg"])
    export.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD")
    export.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD")
    export.add_argument("--out", required=True, metavar="PATH")
    export.set_defaults(func=_cmd_export)

    extract = sub.add_parser(
        "extract",
        help="candidate events from a news or ministry report (plain text or HTML), offline",
        description="Read a report and print its candidate events in the native schema (CSV), "
        "each dated against --published, placed with the offline gazetteer, typed, attributed "
        "and with the character offsets of the sentence it came from. Review them before "
        "importing: --out writes a CSV that `nkmap ingest` imports as it is.",
    )
    extract.add_argument("path", metavar="PATH|-", help="the report; - reads standard input")
    extract.add_argument(
        "--published",
        required=True,
        metavar="YYYY-MM-DD",
        help="the report's publication date: relative dates count from it",
    )
    extract.add_argument("--source", metavar="NAME", help="publisher, e.g. 'Reuters'")
    extract.add_argument("--url", metavar="URL", help="the report's address (http or https)")
    extract.add_argument("--out", metavar="FILE.csv", help="write the candidates to this CSV")
    extract.add_argument("--json", action="store_true", help="print the candidates as JSON")
    extract.set_defaults(func=_cmd_extract)

    geocode = sub.add_parser("geocode", help="ranked gazetteer candidates for a place name")
    geocode.add_argument("name")
    geocode.add_argument("--country", metavar="CC", help="ISO 3166-1 alpha-2 code, e.g. AZ")
    geocode.add_argument("--geocoder", default="offline", choices=["offline", "nominatim"])
    geocode.add_argument("--json", action="store_true")
    geocode.set_defaults(func=_cmd_geocode)

    snap = sub.add_parser(
        "snapshot",
        help="briefing export of a view: PNG, PDF, self-contained HTML or a data pack (.zip)",
        description="Render a view (period, event types, layers, extent) for a briefing, "
        "framed on the view's events unless --bbox says otherwise. The "
        "format comes from --out's suffix: .png, .pdf (A4 landscape), .html (offline, with "
        "the time control) or .zip (PNG, PDF, CSV, GeoJSON, README). With --each, one file per "
        "day or ISO week in the --out directory. The footer links the view under "
        "NKMAP_PUBLIC_URL (no link when it is not set).",
    )
    snap.add_argument("--db", help=db_help)
    snap.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD")
    snap.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD")
    snap.add_argument(
        "--type",
        action="append",
        default=[],
        metavar="TYPE[,TYPE]",
        help="event types to show (repeatable or comma list; default: all)",
    )
    snap.add_argument("--layers", metavar="NAME,...", help="layers to show (default: all)")
    snap.add_argument(
        "--bbox",
        metavar="LON_MIN,LAT_MIN,LON_MAX,LAT_MAX|whole",
        help="map extent; 'whole': Armenia and Azerbaijan (default: fit the view's events)",
    )
    snap.add_argument(
        "--label",
        type=int,
        default=0,
        metavar="N",
        help="label the N most important events (most fatalities, then captures, then by "
        "date) with their date and place",
    )
    snap.add_argument(
        "--title", help="title (default: what and where; the subtitle gives period and count)"
    )
    snap.add_argument("--size", default="1600x1000", metavar="WxH", help="PNG size in pixels")
    snap.add_argument("--banner", help="handling banner, e.g. 'UNCLASSIFIED // FOR BRIEFING'")
    snap.add_argument("--each", choices=["day", "week"], help="one file per day or ISO week")
    snap.add_argument(
        "--format", choices=["png", "pdf", "html", "zip"], help="series format (default png)"
    )
    snap.add_argument("--out", required=True, metavar="FILE|DIR/")
    snap.set_defaults(func=_cmd_snapshot)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except NkMapError as exc:
        print(f"nkmap: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
