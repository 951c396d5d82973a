"""The columnar import path: geo.ingest's rules applied to whole columns at once.

A million-row file cannot afford a Python dict per row. Here the CSV is parsed by pyarrow into
string columns and the common, clean rows are checked column-wise. Only the rows that fail a
fast check or need something special (a non-ISO date, a place to geocode, coordinates outside
Armenia/Azerbaijan/Georgia, a country outside the region, a date outside 1988..tomorrow, a
count over the limit, an unusual URL, a blank id, stray whitespace, a formula prefix...) go
through geo.ingest's row-wise converter, which stays the definition of every rule, reject and
warning.
So a fast check may only ever say "plainly valid, and converted exactly as the converter would"
or "ask the converter"; tests compare both paths on random files.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from geo.schema import BY_NAME, COLUMN_NAMES, VERIFICATION, Kind

# Every character str.strip() removes (str.isspace); a test checks the list is complete.
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_ISO_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_WHOLE = r"^[0-9]{1,15}$"
_DECIMAL = r"^-?[0-9]{1,17}(\.[0-9]{1,40})?$"
# A plainly valid source_url: http(s), a plain host name, no port, printable ASCII but for
# " < > \ (the converter decides everything else: ports, IPv6, non-ASCII, refusals).
_PLAIN_URL = r"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+([/?#][!#-;=?-\[\]-~]*)?$"
# Armenia, Azerbaijan and Georgia (geo.ingest.CORE): a point inside needs no second look.
_CORE_LON = (43.0, 51.0)
_CORE_LAT = (38.2, 43.7)
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


@dataclass
class Body:
    """The file's records as string columns, with where each came from."""

    header: list[str]
    # One per header field, rows with the header's field count; cells stripped as str.strip()
    # does (geo.ingest._clean strips first, so the row-wise rules see the same values).
    columns: list[pa.ChunkedArray]
    lines: np.ndarray  # the line each of those rows starts on (the header is line 1)
    positions: np.ndarray  # its place among all records read (blank records not counted)
    misfits: list[tuple[int, int, int]] = field(default_factory=list)  # (position, line, fields)
    misfit_fields: list[list[str]] = field(default_factory=list)  # their fields, for date order
    rows: int = 0  # records read, blank ones not counted


# ---------------------------------------------------------------------------------- parsing


def body_from_records(records: list[tuple[int, list[str]]]) -> Body:
    """A Body from csv-module records (the careful path: quoted newlines, odd quoting)."""
    header = records[0][1]
    width = len(header)
    good = [(n, line, f) for n, (line, f) in enumerate(records[1:]) if len(f) == width]
    misfits = [(n, line, len(f)) for n, (line, f) in enumerate(records[1:]) if len(f) != width]
    fields = list(zip(*(f for _, _, f in good), strict=True)) if good else [()] * width
    return Body(
        header=header,
        columns=[_strip(pa.chunked_array([pa.array(list(c), pa.string())])) for c in fields],
        lines=np.array([line for _, line, _ in good], dtype=np.int64),
        positions=np.array([n for n, _, _ in good], dtype=np.int64),
        misfits=misfits,
        misfit_fields=[f for _, f in records[1:] if len(f) != width],
        rows=len(records) - 1,
    )


def fast_body(data: bytes, encoding: str, text: str, delimiter: str) -> Body | None:
    """The Body parsed by pyarrow, or None when the file needs the csv module's care.

    pyarrow and the csv module agree on plain RFC 4180 files. Anything else (a quoted line
    break, a quote inside an unquoted field, a bare CR, a blank or short line) returns None.
    So does a field longer than geo.ingest.field_limit(), which pyarrow would read:
    geo.ingest.read_records then refuses the file, as it does on the row-wise path.
    """
    from geo.ingest import field_limit

    limit = field_limit()
    raw = data if encoding.startswith("utf-8") else text.encode("utf-8")
    # [start, end): without a BOM and trailing line breaks; slices of a big file are views.
    start = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    end = len(raw)
    while end > start and raw[end - 1] in b"\r\n":
        end -= 1
    first_break = raw.find(b"\n", start, end)
    if first_break < 0:
        return None
    returns = raw.count(b"\r", start, end)
    if returns and returns != raw.count(b"\r\n", start, end):
        return None  # a bare CR ends a line for the csv module, not for pyarrow
    view = np.frombuffer(raw, dtype=np.uint8, count=end - start, offset=start)
    if not _plain_quoting(view, delimiter):
        return None
    first = raw[start:first_break].rstrip(b"\r").decode("utf-8")
    try:
        header = next(csv.reader([first], delimiter=delimiter))
    except csv.Error:  # a field over the csv module's limit
        return None
    if max(map(len, header)) > limit:
        return None
    names = [f"f{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(raw).slice(start, end - start)),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=8 << 20),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                double_quote=True,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    if table.num_rows != raw.count(b"\n", start, end):  # a record per line, else not plain
        return None
    if any(_longest(c, limit) > limit for c in table.columns):
        return None
    columns = [_strip(c) for c in table.columns]
    keep = ~_blank_rows(columns)
    lines = np.flatnonzero(keep) + 2
    if not keep.all():
        mask = pa.array(keep)
        columns = [c.filter(mask) for c in columns]
    return Body(
        header=header,
        columns=columns,
        lines=lines,
        positions=np.arange(len(lines)),
        rows=len(lines),
    )


def _longest(col: pa.ChunkedArray, limit: int) -> int:
    """The most characters in a cell (counted as the csv module does: the unquoted text), or
    the most bytes when that is within `limit` already."""
    most = pc.max(pc.binary_length(col)).as_py() or 0
    if most <= limit:
        return most  # bytes >= characters: no need to count characters
    return pc.max(pc.utf8_length(col)).as_py() or 0


def _plain_quoting(buf: np.ndarray, delimiter: str) -> bool:
    """True when every quote opens a field, closes one or is doubled inside one, and no line
    break sits inside quotes: then each physical line is one record and parsers agree."""
    quotes = np.flatnonzero(buf == ord('"'))
    if len(quotes) == 0:
        return True
    if len(quotes) % 2:
        return False
    bounds = np.array([ord(delimiter), ord("\n"), ord("\r"), ord('"')], dtype=np.uint8)
    opening, closing = quotes[0::2], quotes[1::2]
    before = np.where(opening > 0, buf[np.maximum(opening - 1, 0)], ord("\n"))
    after = np.where(closing + 1 < len(buf), buf[np.minimum(closing + 1, len(buf) - 1)], 10)
    if not (np.isin(before, bounds).all() and np.isin(after, bounds).all()):
        return False
    newlines = np.flatnonzero(buf == ord("\n"))
    inside = np.searchsorted(quotes, newlines) % 2 == 1  # an odd number of quotes before it
    return not inside.any()


def _strip(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """str.strip() for a whole column: the same set of whitespace characters."""
    if not any(_may_need_strip(chunk) for chunk in col.chunks):
        return col  # the usual case: no copy of a column that is already clean
    return pc.utf8_trim(col, PY_WHITESPACE)


# A whitespace character's UTF-8 bytes as a number, by length (1 to 3 bytes).
_WS_CODES = {
    size: np.array(
        [int.from_bytes(c.encode(), "big") for c in PY_WHITESPACE if len(c.encode()) == size]
    )
    for size in (1, 2, 3)
}
# The bytes such a character can start and end with: a cheap first look.
_WS_FIRST = np.zeros(256, dtype=bool)
_WS_FIRST[[c.encode()[0] for c in PY_WHITESPACE]] = True
_WS_LAST = np.zeros(256, dtype=bool)
_WS_LAST[[c.encode()[-1] for c in PY_WHITESPACE]] = True


def _may_need_strip(chunk: pa.Array) -> bool:
    """False when no string starts or ends with a whitespace character, read from the bytes
    at each end (valid UTF-8, as pyarrow checks). Unsure cases (bytes under a null) say True."""
    if not pa.types.is_string(chunk.type):
        return True
    _, offsets, data = chunk.buffers()
    if len(chunk) == 0 or data is None:
        return False
    bounds = np.frombuffer(offsets, dtype=np.int32, count=len(chunk) + 1, offset=chunk.offset * 4)
    starts, ends = bounds[:-1], bounds[1:]
    filled = ends > starts
    text = np.frombuffer(data, dtype=np.uint8)
    first, last = starts[filled], ends[filled] - 1
    first = first[_WS_FIRST[text[first]]]
    last = last[_WS_LAST[text[last]]]
    if not len(first) and not len(last):
        return False  # the usual case: plain ASCII ends, no second look
    top = len(text) - 1

    def code(at: np.ndarray, size: int) -> np.ndarray:  # `size` bytes from `at`, as a number
        out = np.zeros(len(at), dtype=np.int64)
        for k in range(size):
            out = out << 8 | text[np.clip(at + k, 0, top)]
        return out

    # Another character's bytes may be read too, but never complete a whitespace sequence.
    for size, codes in _WS_CODES.items():
        if (
            np.isin(code(first, size), codes).any()
            or np.isin(code(last - size + 1, size), codes).any()
        ):
            return True
    return False


def _blank_rows(columns: list[pa.ChunkedArray]) -> np.ndarray:
    """Records read_records skips: every (stripped) field empty."""
    n = len(columns[0]) if columns else 0
    blank = np.ones(n, dtype=bool)
    for col in columns:
        blank &= _np(pc.equal(col, ""))
        if not blank.any():
            break
    return blank


# ---------------------------------------------------------------------------------- columns


def _np(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean or numeric arrow array as numpy (nulls as False / 0)."""
    if pa.types.is_boolean(array.type):
        array = pc.fill_null(array, False)
    return np.asarray(array.to_numpy(zero_copy_only=False) if hasattr(array, "chunks") else array)


def _matches(col: pa.ChunkedArray, pattern: str) -> np.ndarray:
    return _np(pc.match_substring_regex(col, pattern))


def _map_values(col: pa.ChunkedArray, fn: Callable[[str], str | None]) -> pa.ChunkedArray:
    """fn applied to each distinct value in Python (exact), then spread over the column."""
    uniques = pc.unique(col)
    mapped = pa.array([fn(v) for v in uniques.to_pylist()], pa.string())
    return pc.take(mapped, pc.index_in(col, value_set=uniques))


def _days_in_month(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days = _MONTH_DAYS[np.clip(month, 0, 12)]
    return np.where((month == 2) & leap, 29, days)


def _iso_days(col: pa.ChunkedArray) -> np.ndarray:
    """True where the cell is a real date written YYYY-MM-DD."""
    ok = _matches(col, _ISO_DAY)
    safe = pc.if_else(pa.array(ok), col, "2000-01-01")
    year = _np(pc.cast(pc.utf8_slice_codeunits(safe, 0, 4), pa.int64()))
    month = _np(pc.cast(pc.utf8_slice_codeunits(safe, 5, 7), pa.int64()))
    day = _np(pc.cast(pc.utf8_slice_codeunits(safe, 8, 10), pa.int64()))
    valid = (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1)
    return ok & valid & (day <= _days_in_month(year, month))


def unusual_dates(col: pa.ChunkedArray) -> list[str]:
    """The non-blank cells not written YYYY-MM-DD (only they can tell day-first dates)."""
    plain = _matches(col, _ISO_DAY) | _np(pc.equal(col, ""))
    return col.filter(pa.array(~plain)).to_pylist()


def nul_rows(columns: list[pa.ChunkedArray], n: int) -> np.ndarray:
    """True for each of `n` rows with a NUL byte in any of `columns` (geo.ingest.nul_reject)."""
    found = np.zeros(n, dtype=bool)
    for col in columns:
        found |= _np(pc.match_substring(col, "\x00"))
    return found


def repeated(ids: pd.Series) -> np.ndarray:
    """True for each id seen earlier in the column (almost always none: checked first)."""
    arrow = pa.array(ids, from_pandas=True)
    if pc.count_distinct(arrow).as_py() == len(arrow):
        return np.zeros(len(arrow), dtype=bool)
    return ids.duplicated(keep="first").to_numpy()


def concat_rows(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Chunk frames (fast rows and converted rows) as one frame in file order."""
    frames = [f for f in frames if len(f)] or frames[:1] or [frame_from_values([])]
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if "_row" not in frame:
        frame = frame.assign(_row=np.arange(0))
    if not frame["_row"].is_monotonic_increasing:
        frame = frame.sort_values("_row", kind="stable")
    return frame.reset_index(drop=True)


def _numbers(col: pa.ChunkedArray, pattern: str, kind: pa.DataType) -> tuple[np.ndarray, pa.Array]:
    """(cells the fast path reads, their values as `kind`; null elsewhere)."""
    ok = _matches(col, pattern)
    values = pc.cast(pc.if_else(pa.array(ok), col, pa.scalar(None, pa.string())), kind)
    return ok, values


# ---------------------------------------------------------------------------------- rows


@dataclass
class Checked:
    """A chunk's rows split into those converted here (as a frame) and those to ask about."""

    frame: pd.DataFrame  # schema columns of the fast rows, plus "_row" (index in the chunk)
    slow: np.ndarray  # indexes in the chunk of the rows for the row-wise converter


def without_rows(checked: Checked, rows: np.ndarray) -> Checked:
    """`checked` less the chunk rows where `rows` (a boolean mask) is True: decided already."""
    keep = ~rows[checked.frame["_row"].to_numpy()]
    return Checked(checked.frame[keep], checked.slow[~rows[checked.slow]])


def check_chunk(
    columns: Mapping[str, pa.ChunkedArray],
    n: int,
    *,
    fmt: str,
    date_format: str | None,
    default_source: str,
    country: Callable[[str], str | None],
    type_code: Callable[[str], str | None],
    side_code: Callable[[str], str | None],
    date_range: tuple[dt.date, dt.date],
    max_fatalities: int,
) -> Checked:
    """Column-wise checks of `n` rows whose mapped columns are `columns` (raw strings).

    `country` gives the code of a country of the region (None: ask the converter), `date_range`
    the first and last plausible day, `max_fatalities` the most dead a count may say.
    """
    if fmt not in ("native", "generic") or date_format not in (None, "%Y-%m-%d"):
        return Checked(frame_from_values([]).assign(_row=np.arange(0)), np.arange(n))
    slow = np.zeros(n, dtype=bool)
    blank: dict[str, np.ndarray] = {}
    for name, col in columns.items():
        blank[name] = _np(pc.equal(col, ""))
        slow |= _np(pc.starts_with(col, "'"))  # maybe our export's formula neutralising
    none = np.ones(n, dtype=bool)

    def is_blank(name: str) -> np.ndarray:
        return blank.get(name, none)

    slow |= is_blank("event_id") | is_blank("event_type")  # derived id; "recorded as other"
    out: dict[str, object] = {}

    for name in COLUMN_NAMES:
        if BY_NAME[name].kind is Kind.TEXT:
            out[name] = columns.get(name)

    codes = {
        "event_type": type_code,
        "side": side_code,
        "verification": lambda v: v.lower() if v.lower() in VERIFICATION else None,
        "country": country,
    }
    for name, fn in codes.items():
        if name in columns:
            out[name] = _map_values(columns[name], fn)
            slow |= ~is_blank(name) & ~_np(pc.is_valid(out[name]))

    first, last = (d.isoformat() for d in date_range)
    dates = {}
    for name in ("event_date", "date_end"):
        if name in columns:
            slow |= ~is_blank(name) & ~_iso_days(columns[name])
            # YYYY-MM-DD strings sort as the days do.
            outside = _np(pc.less(columns[name], first)) | _np(pc.greater(columns[name], last))
            slow |= ~is_blank(name) & outside
            dates[name] = columns[name]
    slow |= is_blank("event_date")
    if "date_end" in dates:
        start, end = dates["event_date"], dates["date_end"]
        slow |= ~is_blank("date_end") & _np(pc.less(end, start))
        same = pa.array(_np(pc.equal(end, start)))
        out["date_end"] = pc.if_else(same, pa.scalar(None, pa.string()), end)
    out["event_date"] = dates.get("event_date")

    ints: dict[str, np.ndarray] = {}
    for name in (
        "time_precision",
        "geo_precision",
        "fatalities",
        "fatalities_low",
        "fatalities_high",
        "civilian_fatalities",
    ):
        if name not in columns:
            continue
        ok, values = _numbers(columns[name], _WHOLE, pa.int64())
        slow |= ~is_blank(name) & ~ok
        spec = BY_NAME[name]
        number = _np(pc.fill_null(values, 0))
        if spec.minimum is not None:
            slow |= ok & (number < spec.minimum)
        if spec.maximum is not None:
            slow |= ok & (number > spec.maximum)
        if name.startswith(("fatalities", "civilian_")):
            slow |= ok & (number > max_fatalities)
        out[name] = values
        ints[name] = np.where(ok, number.astype(float), np.nan)
    low, best, high = (
        ints.get(c, np.full(n, np.nan)) for c in ("fatalities_low", "fatalities", "fatalities_high")
    )
    slow |= (low > high) | (best < low) | (best > high)  # NaN compares False: absent is fine
    if "source_url" in columns:
        slow |= ~is_blank("source_url") & ~_matches(columns["source_url"], _PLAIN_URL)

    coords = {}
    for name in ("latitude", "longitude"):
        if name not in columns:
            slow |= True  # no coordinates: geocoding, or a point-less type
            continue
        ok, values = _numbers(columns[name], _DECIMAL, pa.float64())
        slow |= ~ok
        coords[name] = _np(pc.fill_null(values, math.nan))
        out[name] = values
    if len(coords) == 2:
        lat, lon = coords["latitude"], coords["longitude"]
        inside = (lon >= _CORE_LON[0]) & (lon <= _CORE_LON[1])
        inside &= (lat >= _CORE_LAT[0]) & (lat <= _CORE_LAT[1])
        slow |= ~inside  # the region, swap and far-away rules live in the converter

    fast = pa.array(~slow)
    frame = {"_row": np.flatnonzero(~slow)}
    for name in COLUMN_NAMES:
        values = out.get(name)
        kept = None if values is None else values.filter(fast)
        frame[name] = _frame_column(name, kept, len(frame["_row"]))
    result = pd.DataFrame(frame)
    if "source" in columns:
        result["source"] = result["source"].fillna(default_source)
    else:
        result["source"] = default_source
    return Checked(result, np.flatnonzero(slow))


# Text and date columns of plan frames: arrow strings (missing = NA), zero-copy both ways.
_TEXT_DTYPE = pd.ArrowDtype(pa.string())


def _frame_column(name: str, values: pa.ChunkedArray | None, n: int) -> object:
    kind = BY_NAME[name].kind
    if values is None:
        values = pa.nulls(n, pa.string())
    if kind is Kind.INT:
        return pd.array(pc.cast(values, pa.int64()).to_numpy(zero_copy_only=False), dtype="Int64")
    if kind is Kind.FLOAT:
        return pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False).astype("float64")
    cleaned = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
    if isinstance(cleaned, pa.ChunkedArray):
        cleaned = cleaned.combine_chunks() if cleaned.num_chunks != 1 else cleaned.chunk(0)
    return pd.arrays.ArrowExtensionArray(cleaned)


def frame_from_values(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Converter outputs (dicts) as a plan frame with the same dtypes as `check_chunk`'s."""
    frame = pd.DataFrame.from_records(rows, columns=list(COLUMN_NAMES))
    for name in COLUMN_NAMES:
        kind = BY_NAME[name].kind
        col = frame[name].astype(object).where(frame[name].notna(), None)
        if kind is Kind.DATE:
            frame[name] = pd.array(
                [None if v is None else v.isoformat() for v in col], dtype=_TEXT_DTYPE
            )
        elif kind is Kind.INT:
            frame[name] = pd.array(list(col), dtype="Int64")
        elif kind is Kind.FLOAT:
            frame[name] = pd.to_numeric(col).astype("float64")
        else:
            frame[name] = pd.array(list(col), dtype=_TEXT_DTYPE)
    return frame


def rows_as_dicts(
    columns: Mapping[str, pa.ChunkedArray], rows: np.ndarray, clean: Callable
) -> list[dict[str, str | None]]:
    """The raw (cleaned) mapped values of some rows, as the row-wise converter takes them."""
    if len(rows) == 0:
        return []
    index = pa.array(rows)
    picked = {name: pc.take(col, index).to_pylist() for name, col in columns.items()}
    return [{name: clean(values[i]) for name, values in picked.items()} for i in range(len(rows))]
