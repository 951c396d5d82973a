"""A plan in words and tables for the Upload page: the mapping table, the type picker, the
plan's cache key, its report, and the map's view of the imported events.

The page (app_pages/1_Upload.py) only reads widgets and draws; the decisions live here so they are
unit-tested without Streamlit. Nothing here writes to the store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import PurePath

import pandas as pd

from geo.errors import InputError
from geo.ingest.plan import ImportPlan, write_rejects
from geo.ingest.presets import column_mapping, detect_format
from geo.ingest.read import decode, read_records, sniff_delimiter
from geo.ingest.rules import RowIssue
from geo.region import fit_extent
from geo.schema import COLUMN_NAMES, EVENT_TYPES
from geo.text import escape_markdown  # noqa: F401  (pages call it from here)
from geo.view import View

FORMATS: dict[str, str] = {
    "native": "Native (this map's own columns)",
    "acled": "ACLED export",
    "ucdp": "UCDP GED export",
    "generic": "Generic (common headers: Date, Place, Lat, Lon, Killed…)",
}
IGNORE = "(ignore)"
UPLOAD_HELP = (
    "One file, up to 50 MB (larger files are refused). Native, ACLED or UCDP GED exports, or "
    "any CSV with a date column; comma, semicolon or tab separated; UTF-8 or another encoding."
)
DATE_FORMAT_HELP = (
    "How the file writes dates, in strftime codes: %d/%m/%Y reads 05/10/2020 as 5 October "
    "2020, %m/%d/%Y as 10 May 2020."
)
MAP_TO_CHOICES: tuple[str, ...] = (IGNORE, *COLUMN_NAMES)
# The type for a whole file without a type column: none (rows recorded as 'other', each with a
# warning), or one of the schema's types.
NO_TYPE = ""
TYPE_CHOICES: tuple[str, ...] = (NO_TYPE, *EVENT_TYPES)
TYPE_HELP = (
    "No column gives the event type. Pick the type of every row of this file, or leave it "
    "unset: each row is then recorded as 'Other', with a warning."
)
# The map's zoom for one point (about 60 km across: the place with the towns around it), and
# the widest zoom a set of events may ask for.
SOURCE_COLUMN = "Column in file"
TARGET_COLUMN = "Maps to"
ISSUE_COLUMNS = ("line", "column", "value", "reason")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
# plan_import's messages speak to the command line; the page offers widgets instead.
_CLI_WORDS = (
    ("--date-format", "a date format"),
    ("--map 'Your column=event_date'", "map one in the column table"),
    ("--map target", "the target"),
    ("--map", "the column table"),
    ("--strict", "strict mode"),
)
# Markdown's specials (and Streamlit's `$` maths and `:` directives): escaped, they show as text.
# A header name no real file uses: lets the preset mapping be read when no column gives the date.
_DATE_PLACEHOLDER = "\x00event_date"


def read_header(data: bytes) -> list[str]:
    """The file's header fields (stripped). InputError when the file cannot be read at all."""
    text, _ = decode(data)
    records = read_records(text, sniff_delimiter(text))
    first = next(iter(records), None)
    if first is None:
        raise InputError("the file is empty")
    header = [h.strip() for h in first[1]]
    if first[0] != 1 or not any(header):
        raise InputError("the first line must be a header row", line=1)
    return header


def default_format(header: Sequence[str]) -> str:
    """The format detected from the header (native, acled, ucdp or generic)."""
    return detect_format(list(header))


def mapping_rows(header: Sequence[str], fmt: str) -> pd.DataFrame:
    """The preset mapping of `fmt` as a table: one row per source column, target or IGNORE.

    Works for a file with no date column too (every target else is still shown), so the user
    can pick one in the table.
    """
    header = list(header)
    try:
        mapping, _ = column_mapping(header, fmt)
    except InputError:
        # No column gives the date: read the rest of the preset with a placeholder date column.
        mapping, _ = column_mapping(
            [*header, _DATE_PLACEHOLDER], fmt, {_DATE_PLACEHOLDER: "event_date"}
        )
    return pd.DataFrame(
        {SOURCE_COLUMN: header, TARGET_COLUMN: [mapping.get(h, IGNORE) for h in header]}
    )


def overrides_from(preset: pd.DataFrame, edited: pd.DataFrame) -> tuple[dict[str, str], list[str]]:
    """The user's changes to the mapping table as plan_import `overrides`, and notes on the
    changes that cannot take effect (said plainly, never dropped silently)."""
    overrides: dict[str, str] = {}
    notes: list[str] = []
    before = dict(zip(preset[SOURCE_COLUMN], preset[TARGET_COLUMN], strict=True))
    for src, dest in zip(edited[SOURCE_COLUMN], edited[TARGET_COLUMN], strict=True):
        dest = dest if isinstance(dest, str) and dest else IGNORE
        if dest == before.get(src):
            continue
        if dest == IGNORE:
            overrides[src] = ""  # plan_import drops a column mapped to ""
            continue
        if dest and dest in overrides.values():
            first = next(s for s, d in overrides.items() if d == dest)
            notes.append(f"{src!r} and {first!r} both map to {dest!r}: {src!r} is used")
            overrides = {s: d for s, d in overrides.items() if d != dest}
        overrides[src] = dest
    return overrides, notes


def plan_key(data: bytes, **options: object) -> str:
    """A hash of the file's bytes and the options: the plan is recomputed only when it changes."""
    digest = hashlib.sha256(data)
    digest.update(json.dumps(options, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def file_key(data: bytes) -> str:
    """A short hash of the file's bytes: widget keys that must reset for a new file."""
    return hashlib.sha256(data).hexdigest()[:16]


def plain_message(exc: Exception) -> str:
    """An InputError's text for the page: the command-line flags named as the page's fields."""
    text = str(exc)
    for cli, page in _CLI_WORDS:
        text = text.replace(cli, page)
    return text


def is_date_order_problem(exc: InputError) -> bool:
    """True when plan_import refused the file because its dates need a format to be read."""
    return exc.column == "event_date" and "date" in exc.reason and "format" in exc.reason


def plan_metrics(plan: ImportPlan) -> dict[str, int]:
    """The dry run's numbers, labelled as the page shows them."""
    return {
        "New": len(plan.inserts),
        "Updated": len(plan.updates),
        "Duplicates": len(plan.duplicates),
        "Rejected": len(plan.rejects),
        "Geocoded": plan.geocoded,
    }


def plan_facts(plan: ImportPlan) -> str:
    """One plain-text line: rows read, encoding, delimiter, date order."""
    return (
        f"{plan.rows} rows read · encoding {plan.encoding} · delimiter "
        f"{DELIMITER_NAMES.get(plan.delimiter, repr(plan.delimiter))} · dates {plan.date_order}"
    )


def issues_frame(issues: Iterable[RowIssue]) -> pd.DataFrame:
    """Rejects or warnings as a table: line, column, value, reason (values kept as text)."""
    rows = [
        {"line": i.line, "column": i.column or "", "value": i.value or "", "reason": i.reason}
        for i in issues
    ]
    frame = pd.DataFrame(rows, columns=list(ISSUE_COLUMNS))
    frame["line"] = frame["line"].astype("Int64")
    return frame


def rejects_csv(issues: Iterable[RowIssue]) -> str:
    """The rejects as CSV text, formulas neutralised (geo.ingest.write_rejects)."""
    out = io.StringIO()
    write_rejects(issues, out)
    return out.getvalue()


def import_label(plan: ImportPlan) -> str:
    """The import button's label: how many events it writes."""
    n = len(plan.inserts) + len(plan.updates)
    return f"Import {n} event{'s' if n != 1 else ''}"


def nothing_to_import(plan: ImportPlan) -> str | None:
    """Why the import button is pointless for this plan, or None when it would write events."""
    if plan.valid_rows == 0:
        first = f" First problem: {plan.rejects[0]}" if plan.rejects else ""
        return f"No valid rows ({plan.rows} rows read): nothing can be imported.{first}"
    if not plan.inserts and not plan.updates:
        return "Every valid row is already in the store: nothing new to import."
    return None


def reject_file_name(source_name: str) -> str:
    """`<file stem>-rejects.csv`, safe as a download name."""
    stem = PurePath(source_name.replace("\\", "/")).stem
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)[:80] or "upload"
    return f"{safe}-rejects.csv"


def type_label(code: str) -> str:
    """The type picker's label of a code (NO_TYPE: none chosen)."""
    return EVENT_TYPES.get(code, "None chosen: each row 'Other', with a warning")


def maps_event_type(table: pd.DataFrame) -> bool:
    """Whether some column of the (edited) mapping table fills event_type."""
    return "event_type" in set(table[TARGET_COLUMN])


def imported_view(plan: ImportPlan) -> View | None:
    """The map view of the events a plan writes: their period (first event_date to the last
    date_end or event_date) and the extent of their points. None when it writes none."""
    rows = [_frame_of(r) for r in (plan.inserts, plan.updates) if len(r)]
    if not rows:
        return None
    frame = pd.concat(rows, ignore_index=True).astype(object)
    starts = [_iso_day(d) for d in frame["event_date"]]
    ends = [_iso_day(e) or s for s, e in zip(starts, frame["date_end"], strict=True)]
    view = View(start=dt.date.fromisoformat(min(starts)), end=dt.date.fromisoformat(max(ends)))
    points = frame[["latitude", "longitude"]].astype("float64").dropna()
    if points.empty:
        return view
    centre, zoom = fit_extent(points["latitude"].tolist(), points["longitude"].tolist())
    return View(start=view.start, end=view.end, center=centre, zoom=zoom)


def _frame_of(records) -> pd.DataFrame:
    if hasattr(records, "frame"):
        return records.frame[["event_date", "date_end", "latitude", "longitude"]]
    return pd.DataFrame(
        [r.values for r in records], columns=["event_date", "date_end", "latitude", "longitude"]
    )


def _iso_day(value) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None  # an ISO day string in a plan frame, a date in a Record
    return value.isoformat() if hasattr(value, "isoformat") else str(value)[:10]
