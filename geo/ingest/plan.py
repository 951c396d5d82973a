"""A file -> an ImportPlan (insert, update, duplicate, reject, warn) -> the store.

`plan_import` is pure apart from reading the store's content hashes and the geocoder: it decodes
the file, maps columns (native, ACLED, UCDP GED or common headers), checks the rows column-wise
and says what it would insert, update, skip as a duplicate and reject (with line, column, value and
reason). `apply_plan` hands the valid rows to the store, which writes them in one transaction.
Lines are CSV lines as a spreadsheet shows them: the header is line 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo.errors import InputError
from geo.ingest.presets import TYPE_SYNONYMS, column_mapping, detect_format
from geo.ingest.read import Body, decode, read_body, sniff_delimiter, unusual_dates
from geo.ingest.rules import (
    FORMULA_PREFIXES,
    Asked,
    RowIssue,
    Rules,
    check_rows,
    decide_date_order,
    empty_rows,
)
from geo.schema import EVENT_TYPES
from geo.store import ApplyResult, BatchInfo, EventStore, Record, RecordFrame, content_hashes

# A MAX_ROWS file of typical width (native export: ~240 bytes a row) fits under MAX_BYTES.
MAX_BYTES = 640 * 1024 * 1024
MAX_ROWS = 2_000_000

Progress = Callable[[int, int], None]

# ---------------------------------------------------------------------------------- results


@dataclass
class ImportPlan:
    source_name: str
    encoding: str
    delimiter: str
    format: str
    mapping: dict[str, str]
    ignored_columns: list[str]
    date_order: str
    rows: int = 0
    inserts: Sequence[Record] = field(default_factory=list)
    updates: Sequence[Record] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejects: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    geocoded: int = 0
    sha256: str = ""  # of the file's bytes: the batch records which file it imported

    @property
    def valid_rows(self) -> int:
        return len(self.inserts) + len(self.updates) + len(self.duplicates)

    def summary(self) -> dict[str, object]:
        return {
            "source": self.source_name,
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": {"\t": "tab"}.get(self.delimiter, self.delimiter),
            "date_order": self.date_order,
            "rows": self.rows,
            "inserted": len(self.inserts),
            "updated": len(self.updates),
            "duplicates": len(self.duplicates),
            "rejected": len(self.rejects),
            "geocoded": self.geocoded,
            "warnings": len(self.warnings),
        }


# ---------------------------------------------------------------------------------- plan


def _today() -> dt.date:
    """Today's date, read once per plan (tests replace it to pin the future's edge)."""
    return dt.date.today()


def event_type_code(value: str | None) -> str | None:
    """The schema code of a type given for a whole file (a code or its label, any case); None
    for none. InputError naming the allowed codes for anything else."""
    if value is None or not value.strip():
        return None
    code = TYPE_SYNONYMS.get(value.strip().lower())
    if code not in EVENT_TYPES:
        raise InputError(
            f"--type must be one of: {', '.join(EVENT_TYPES)}", column="event_type", value=value
        )
    return code


def plan_import(
    data: bytes,
    store: EventStore,
    *,
    source_name: str = "upload",
    fmt: str = "auto",
    overrides: Mapping[str, str] | None = None,
    date_format: str | None = None,
    event_type: str | None = None,
    geocoder=None,
    progress: Progress | None = None,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
) -> ImportPlan:
    """What importing `data` would do. Raises InputError for a file that cannot be read at all
    (encoding, header, ambiguous dates, too large); row problems become rejects.

    `event_type` (a code or label of geo.schema.EVENT_TYPES) is the type of every row that
    gives none: all rows of a file without a type column. Rows are checked a chunk at a time,
    column-wise (geo.ingest.rules); the plan's inserts and updates are RecordFrames.
    """
    if len(data) > max_bytes:
        raise InputError(
            f"the file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB: "
            "split it into smaller files (each with the header line) and import them one "
            "after another"
        )
    whole_type = event_type_code(event_type)
    if geocoder is None:
        from geo.places.geocode import get_geocoder

        geocoder = get_geocoder("offline")
    text, encoding = decode(data)
    delimiter = sniff_delimiter(text)
    body = read_body(data, encoding, text, delimiter)
    has_nul = "\x00" in text  # almost never: then no cell needs a look for one
    del text  # the columns hold the content now; a big file's text is hundreds of MB
    header = [h.strip() for h in body.header]
    if not any(header):
        raise InputError("the first line must be a header row", line=1)
    if any("\x00" in h for h in header):
        raise InputError(
            "the header has a NUL byte: is the file UTF-16 or not a CSV file? Save it as UTF-8",
            line=1,
        )
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError(f"the header repeats columns: {', '.join(dupes)}", line=1)
    if body.rows > max_rows:
        raise InputError(
            f"the file has {body.rows:,} rows; the limit is {max_rows:,}: split it into smaller "
            "files (each with the header line) and import them one after another"
        )
    detected = detect_format(header) if fmt == "auto" else fmt
    if detected not in ("native", "acled", "ucdp", "generic"):
        raise InputError("format must be auto, native, acled, ucdp or generic", value=fmt)
    mapping, ignored = column_mapping(header, detected, overrides)
    index = {dest: header.index(src) for src, dest in mapping.items()}

    date_cols = [index[c] for c in ("event_date", "date_end") if c in index]
    order = "given" if date_format else decide_date_order(_unusual_dates(body, date_cols))
    plan = ImportPlan(
        source_name=source_name,
        encoding=encoding,
        delimiter=delimiter,
        format=detected,
        mapping=mapping,
        ignored_columns=ignored,
        date_order=order,
        rows=body.rows,
        sha256=hashlib.sha256(data).hexdigest(),
    )
    if "source" not in mapping.values():
        plan.warnings.append(
            RowIssue(
                1,  # about the header
                "source",
                None,
                f"the file has no source column: recorded as 'User upload: {source_name}'",
            )
        )
    rules = Rules(
        fmt=detected,
        date_order=order,
        date_format=date_format,
        default_source=f"User upload: {source_name}",
        latest=_today() + dt.timedelta(days=1),  # tomorrow: a report from a time zone ahead
        geocoder=geocoder,
        gazetteer=_gazetteer(geocoder),
        event_type=whole_type,
    )
    names = list(header)  # what a NUL reject calls each field: its schema column, if mapped
    for dest, i in index.items():
        names[i] = dest
    _plan_rows(plan, body, index, names if has_nul else None, rules, store, progress)
    return plan


def _gazetteer(geocoder):
    """What checks a row's coordinates against its place name: the offline gazetteer, never
    the network (the plan's geocoder when it is offline: tests give their own)."""
    if getattr(geocoder, "name", "offline") != "nominatim":
        return geocoder
    from geo.places.geocode import get_geocoder

    return get_geocoder("offline")


def _unusual_dates(body: Body, date_cols: list[int]) -> list[str]:
    """The date cells that are not plain YYYY-MM-DD (cleaned): all decide_date_order needs."""
    values: list[str] = []
    for i in date_cols:
        values.extend(_clean(v) for v in unusual_dates(body.columns[i]))
        values.extend(_clean(f[i]) for f in body.misfit_fields if i < len(f))
    return values


def _clean(value: str) -> str:
    """A cell as the rules read it: stripped, our export's formula neutralising undone."""
    value = value.strip()
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_PREFIXES:
        return value[1:]
    return value


def _plan_rows(plan, body, index, names, rules, store, progress) -> None:
    """The rules on each chunk of rows, then ids repeated within the file, then the store's
    hashes: inserts, updates and duplicates. Issues come out in file order. `names` name the
    fields for NUL rejects; None when the file has no NUL byte at all."""
    rejects: list[tuple[int, RowIssue]] = [
        (
            pos,
            RowIssue(
                line, None, None, f"the row has {n} fields, the header has {len(body.header)}"
            ),
        )
        for pos, line, n in body.misfits
    ]
    warnings: list[tuple[int, int, RowIssue]] = []
    asked = Asked()
    n = len(body.lines)
    chunk = max(200, -(-n // 5))  # few chunks: each asks its distinct values once
    frames = []
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        columns = {dest: body.columns[i].slice(start, size) for dest, i in index.items()}
        cells = (
            [(names[i], c.slice(start, size)) for i, c in enumerate(body.columns)] if names else ()
        )
        checked = check_rows(columns, body.lines[start : start + size], rules, asked, cells)
        positions = body.positions[start : start + size]
        rejects.extend((int(positions[row]), issue) for row, issue in checked.rejects)
        for row, issue in checked.warnings:
            warnings.append((int(positions[row]), len(warnings), issue))
        frames.append(checked.frame.assign(_row=checked.frame["_row"] + start))
        if progress:
            progress(min(plan.rows, round((start + size) * plan.rows / n)), plan.rows)
    if progress and n == 0 and plan.rows:
        progress(plan.rows, plan.rows)
    plan.geocoded = asked.geocoded

    # The frames hold the values now: free the file's text columns (slices keep them alive).
    body.columns, columns = [], {}
    valid = _concat(frames)
    del frames
    valid["content_hash"] = content_hashes(valid)
    lines, positions = body.lines[valid["_row"]], body.positions[valid["_row"]]
    again = _repeated(valid["event_id"])
    if again.any():
        ids = valid["event_id"].tolist()
        hashes = valid["content_hash"].tolist()
        first: dict[str, tuple[int, str]] = {}
        for i in range(len(valid)):
            if not again[i]:
                first.setdefault(ids[i], (int(lines[i]), hashes[i]))
                continue
            line, event_id = int(lines[i]), ids[i]
            earlier = first[event_id]
            if earlier[1] == hashes[i]:
                plan.duplicates.append(event_id)
                issue = RowIssue(line, "event_id", event_id, f"repeats line {earlier[0]}")
                warnings.append((int(positions[i]), len(warnings), issue))
            else:
                reason = f"same event_id as line {earlier[0]} with different content"
                rejects.append((int(positions[i]), RowIssue(line, "event_id", event_id, reason)))
        valid = valid[~again]
    rejects.sort(key=lambda item: item[0])
    warnings.sort(key=lambda item: item[:2])
    plan.rejects.extend(issue for _, issue in rejects)
    plan.warnings.extend(issue for _, _, issue in warnings)

    valid = RecordFrame(valid.drop(columns="_row"))
    ids = valid.event_ids()
    stored = store.hashes(ids)
    if not stored:
        plan.inserts = valid
        return
    old = np.array([stored.get(i) for i in ids], dtype=object)
    new = np.equal(old, None)
    same = ~new & (old == np.asarray(valid.frame["content_hash"], dtype=object))
    plan.inserts = RecordFrame(valid.frame[new])
    plan.duplicates.extend(i for i, s in zip(ids, same, strict=True) if s)
    plan.updates = RecordFrame(valid.frame[~new & ~same])


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Chunk frames as one frame in file order."""
    frames = [f for f in frames if len(f)] or frames[:1] or [empty_rows()]
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return frame.reset_index(drop=True)


def _repeated(ids: pd.Series) -> np.ndarray:
    """True for each id seen earlier in the column (almost always none: checked first)."""
    arrow = pa.array(ids, from_pandas=True)
    if pc.count_distinct(arrow).as_py() == len(arrow):
        return np.zeros(len(arrow), dtype=bool)
    return ids.duplicated(keep="first").to_numpy()


def apply_plan(
    plan: ImportPlan, store: EventStore, *, strict: bool = False, user: str
) -> ApplyResult:
    """Write the plan's inserts and updates in one transaction, as one batch recording `user`
    (who imports: e.g. 'cli:alice'), the file's name, sha256, format and counts.

    Zero valid rows is an error, never a silent success; `strict` refuses the whole file when
    any row was rejected.
    """
    if plan.valid_rows == 0:
        first = f" First problem: {plan.rejects[0]}" if plan.rejects else ""
        raise InputError(f"no valid rows in {plan.source_name} ({plan.rows} rows read).{first}")
    if strict and plan.rejects:
        raise InputError(
            f"{len(plan.rejects)} of {plan.rows} rows rejected and --strict is on: nothing "
            f"imported. First problem: {plan.rejects[0]}"
        )
    batch = BatchInfo(
        user=user,
        file_name=plan.source_name,
        sha256=plan.sha256 or None,
        format=plan.format,
        rows=plan.rows,
        duplicates=len(plan.duplicates),
        rejected=len(plan.rejects),
    )
    return store.apply(plan.inserts, plan.updates, batch=batch)


def write_rejects(issues: Iterable[RowIssue], out: io.TextIOBase) -> None:
    """line, column, value, reason as CSV (values neutralised against spreadsheet formulas)."""
    from geo.export import neutralise

    writer = csv.writer(out)
    writer.writerow(["line", "column", "value", "reason"])
    for i in issues:
        writer.writerow([i.line, i.column or "", neutralise(i.value or ""), i.reason])
