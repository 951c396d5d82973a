"""The ingest rules, each written once, applied to a chunk of rows column by column.

`check_rows` takes a chunk's mapped columns (pyarrow strings, stripped) and returns the valid
rows as a frame of schema values, and every reject and warning as a RowIssue with the CSV line,
column, value and reason. A row is rejected by the first rule it breaks, in the order the rules
are listed in `check_rows`; a warning stands when no earlier rule rejected its row.

Each rule decides per distinct value (a file has few distinct dates, counts or codes) or with a
vectorised test, then spreads the verdict over the column, so a million rows cost no Python
call per row. tests/test_ingest_reference.py states the same rules row by row, plainly; tests
compare the two on random files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo.errors import InputError
from geo.ingest.presets import (
    ACLED_TYPES,
    ADMIN1_NAMES,
    COUNTRY_ISO3,
    ISO3_TO_ISO2,
    REGION_COUNTRIES,
    SIDE_SYNONYMS,
    TYPE_SYNONYMS,
    UCDP_GEO_PRECISION,
    UCDP_TIME_PRECISION,
    UCDP_VIOLENCE,
    UNKNOWN_COUNT,
)
from geo.region import CORE_LONLAT_BOX, REGION_LONLAT_BOX
from geo.schema import (
    BY_NAME,
    COLUMN_NAMES,
    EVENT_TYPES,
    IDENTITY_COLUMNS,
    POINTLESS_TYPES,
    URL_COLUMNS,
    VERIFICATION,
    Kind,
)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Plausibility on the way in: the conflict's data starts in 1988 (dates up to tomorrow, time
# zones, are accepted); no single event has more dead than MAX_FATALITIES.
EARLIEST_DATE = dt.date(1988, 1, 1)
MAX_FATALITIES = 100_000
FATALITY_COLUMNS = ("fatalities", "fatalities_low", "fatalities_high", "civilian_fatalities")
# A point this far from the place its row names contradicts it; swapped, within SWAP_MATCH_KM
# of the place, the row has latitude and longitude the wrong way round.
PLACE_MISMATCH_KM = 50.0
SWAP_MATCH_KM = 10.0
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class RowIssue:
    """A rejected row or a warning: where (line, column), the value, and why."""

    line: int | None
    column: str | None
    value: str | None
    reason: str

    def __str__(self) -> str:
        where = [f"line {self.line}"] if self.line is not None else []
        if self.column:
            where.append(f"column {self.column!r}")
        if self.value is not None:
            where.append(f"value {self.value!r}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


# ---------------------------------------------------------------------------------- dates

_NUMERIC_DATE = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{2}|\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+)?$")
_TEXT_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%Y/%m/%d")


def decide_date_order(values: Iterable[str]) -> str:
    """'iso' when no numeric d/m/y dates appear, else 'day-first' or 'month-first'.

    Raises InputError for a file whose numeric dates fit both orders (every part <= 12) or
    neither consistently: the user must say which with --date-format.
    """
    first_big = second_big = False
    seen = False
    for v in values:
        m = _NUMERIC_DATE.match(v)
        if not m:
            continue
        seen = True
        a, b = int(m.group(1)), int(m.group(2))
        first_big |= a > 12
        second_big |= b > 12
    if not seen:
        return "iso"
    if first_big and second_big:
        raise InputError(
            "dates mix day-first and month-first order; give --date-format", column="event_date"
        )
    if first_big:
        return "day-first"
    if second_big:
        return "month-first"
    raise InputError(
        "dates like 05/10/2020 are ambiguous in this file (no day above 12); give "
        "--date-format, e.g. %d/%m/%Y or %m/%d/%Y",
        column="event_date",
    )


def parse_date(value: str, order: str, date_format: str | None = None) -> dt.date:
    """One date; ValueError with a reason when impossible or unreadable."""
    if date_format:
        return dt.datetime.strptime(value, date_format).date()
    m = _ISO_DATE.match(value)
    if m:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _NUMERIC_DATE.match(value)
    if m:
        a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if y < 100:
            y += 2000 if y < 70 else 1900
        day, month = (a, b) if order == "day-first" else (b, a)
        return dt.date(y, month, day)
    for fmt in _TEXT_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError("not a date (expected YYYY-MM-DD or e.g. 27 September 2020)")


# ---------------------------------------------------------------------------------- values


class _Bad(Exception):
    """A value a rule refuses, with the reason."""


RuleError = _Bad  # its public name, for a rule used one value at a time outside ingest


def whole_number(column: str, raw: str) -> int:
    """A count or code written as a whole number ("1,000" and "2.0" too), within the column's
    bounds; _Bad otherwise."""
    try:
        number = float(raw.replace(",", "")) if re.fullmatch(r"[\d,]+(\.0+)?", raw) else float(raw)
    except ValueError:
        raise _Bad("not a whole number") from None
    if not math.isfinite(number) or number != int(number):
        raise _Bad("not a whole number")
    if abs(number) > 2**53:  # beyond this a float has lost digits (and SQLite stops at 2**63)
        raise _Bad("too large to be a count")
    minimum = BY_NAME[column].minimum
    if minimum is not None and number < minimum:
        raise _Bad(f"must be {minimum:g} or more")
    maximum = BY_NAME[column].maximum
    if maximum is not None and number > maximum:
        raise _Bad(f"must be {maximum:g} or less")
    return int(number)


def fatality_count(column: str, raw: str) -> int | None:
    """A count of dead: a whole number up to MAX_FATALITIES; None for "unknown", "n/a", "?"..."""
    if raw.lower() in UNKNOWN_COUNT:
        return None
    number = whole_number(column, raw)
    if number > MAX_FATALITIES:
        raise _Bad(f"must be {MAX_FATALITIES:,} or less: not a plausible count for one event")
    return number


def country_code(raw: str) -> str | None:
    """The ISO 3166-1 alpha-3 code: a known name or code of the region mapped, any three
    letters A-Z upper-cased; None for anything else."""
    iso = COUNTRY_ISO3.get(raw.lower())
    if iso:
        return iso
    if re.fullmatch(r"[A-Za-z]{3}", raw):
        return raw.upper()
    return None


# A URL cannot hold these unencoded (RFC 3986); a browser would guess, so we refuse.
_URL_FORBIDDEN = re.compile(r'[\s"<>\\\x00-\x1f\x7f]')
# Plainly valid: http(s), a plain host name, no port, printable ASCII but for " < > \
_PLAIN_URL = r"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+([/?#][!#-;=?-\[\]-~]*)?$"


def source_url(raw: str) -> str:
    """An absolute http(s) URL as given; _Bad otherwise."""
    try:
        parts = urlsplit(raw)
        _ = parts.port  # raises ValueError for a port that is no port
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise _Bad("not an absolute http:// or https:// URL (e.g. https://example.org/a)")
    if _URL_FORBIDDEN.search(raw):
        raise _Bad(
            "a URL cannot contain spaces, quotes, <, >, \\ or control characters: percent-encode "
            "them (%20 for a space)"
        )
    return raw


def derived_id(values: Mapping[str, object]) -> str:
    """A stable id from the identifying content, for sources that give none."""
    key = "|".join(
        str(values.get(c).isoformat() if isinstance(values.get(c), dt.date) else values.get(c))
        .strip()
        .lower()
        for c in IDENTITY_COLUMNS
    )
    return "h-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def distance_km(lat1, lon1, lat2, lon2):
    """Great-circle distance (haversine), scalars or numpy arrays of degrees."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def split_place(location: str) -> tuple[str, str | None]:
    """'Martuni, AM' or 'Martuni, Armenia' -> ('Martuni', 'AM'); other names unchanged, None."""
    head, sep, tail = location.rpartition(",")
    iso2 = ISO3_TO_ISO2.get(COUNTRY_ISO3.get(tail.strip().lower(), "")) if sep else None
    return (head.strip(), iso2) if iso2 and head.strip() else (location, None)


def place_label(place: Any) -> str:
    """'Martuni, Gegharkunik (AM)': a gazetteer candidate's name, admin area and country."""
    admin = place.admin1 or ""
    admin = ADMIN1_NAMES.get((place.country, admin), "" if admin.isdigit() else admin)
    where = f", {admin}" if admin else ""
    return f"{place.name}{where} ({place.country})"


def ambiguity(location: str, resolution: Any) -> str:
    """The warning for an ambiguous place: where it was put, the others, how to pick one."""
    best = resolution.best
    same = [p for p in resolution.alternatives if p.matched == best.matched]
    labels: list[str] = []
    for p in same or resolution.alternatives:
        label = place_label(p)
        if label != place_label(best) and label not in labels:
            labels.append(label)
    other = next((p for p in same if p.country != best.country), None)
    name = split_place(location)[0]
    how = (
        f"add country {other.country} to the row, or write '{name}, {other.country}', to pick "
        f"{place_label(other)}"
        if other is not None
        else "give coordinates to place it elsewhere"
    )
    also = f", also {'; '.join(labels[:3])}" if labels else ""
    return f"ambiguous place: {location} → {place_label(best)}{also}: {how}"


# ---------------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class Rules:
    """What the rules need to know about one file."""

    fmt: str  # native, acled, ucdp or generic
    date_order: str  # iso, day-first, month-first or given
    date_format: str | None
    default_source: str  # for rows without a source
    latest: dt.date  # the last plausible day
    geocoder: Any  # places rows without coordinates
    gazetteer: Any  # checks rows whose coordinates and place name may disagree
    event_type: str | None = None  # the whole file's type, for rows that give none


@dataclass
class Asked:
    """What one plan has worked out already, so each chunk reuses it: geocoder answers (each
    (name, country) asked once of each geocoder), dates read, and the rows geocoded."""

    answers: dict[tuple[int, str, str | None], Any] = field(default_factory=dict)
    geocoded: int = 0
    days: dict[str, object] = field(default_factory=dict)  # date text -> ISO day or _Bad

    def ask(self, geocoder: Any, keys: Iterable[tuple[str, str | None]]) -> list[Any]:
        """The answers to `keys`, in order."""
        found = []
        for name, country in keys:
            key = (id(geocoder), name, country)
            if key not in self.answers:
                self.answers[key] = geocoder.geocode(name, country)
            found.append(self.answers[key])
        return found


@dataclass
class CheckedRows:
    """One chunk's verdicts: valid rows as a frame, issues by row index within the chunk."""

    frame: pd.DataFrame  # schema columns of the valid rows, plus "_row" (index in the chunk)
    rejects: list[tuple[int, RowIssue]]
    warnings: list[tuple[int, RowIssue]]  # in the order the rules give them


class _Verdicts:
    """Rejects (the first rule a row breaks) and warnings, as rules report whole columns."""

    def __init__(self, lines: np.ndarray) -> None:
        self.lines = lines
        self.rejected = np.zeros(len(lines), dtype=bool)
        self.rejects: list[tuple[int, RowIssue]] = []
        self.warnings: list[tuple[int, RowIssue]] = []

    @property
    def alive(self) -> np.ndarray:
        return ~self.rejected

    def _issues(self, rows, column, value, reason) -> Iterable[tuple[int, RowIssue]]:
        for i in np.flatnonzero(rows):
            yield (
                int(i),
                RowIssue(
                    int(self.lines[i]),
                    _at(column, i),
                    _at(value, i),
                    _at(reason, i),
                ),
            )

    def reject(self, mask: np.ndarray, column, value, reason) -> None:
        rows = mask & ~self.rejected
        if rows.any():
            self.rejects.extend(self._issues(rows, column, value, reason))
            self.rejected |= rows

    def warn(self, mask: np.ndarray, column, value, reason) -> None:
        rows = mask & ~self.rejected
        if rows.any():
            self.warnings.extend(self._issues(rows, column, value, reason))


def _at(x, i: int):
    """A constant, or the i-th item of a per-row array, or x(i)."""
    if isinstance(x, np.ndarray):
        item = x[i]
        return item.item() if isinstance(item, np.generic) else item
    if callable(x):
        return x(i)
    return x


@dataclass
class _Cells:
    """A rule's verdict on each cell of a column: value (None when blank) or reason."""

    values: np.ndarray  # object: the converted value, None when blank or refused
    reasons: np.ndarray  # object: why refused, None when fine
    bad: np.ndarray  # bool: refused
    present: np.ndarray  # bool: a value


def _each(col: pa.Array, fn: Callable[[str], object]) -> _Cells:
    """fn on each distinct non-blank cell (raising _Bad to refuse it), spread over the column."""
    encoded = col.dictionary_encode()
    distinct = encoded.dictionary.to_pylist()
    values = np.empty(len(distinct), dtype=object)
    reasons = np.empty(len(distinct), dtype=object)
    for k, text in enumerate(distinct):
        if not text:
            continue
        try:
            values[k] = fn(text)
        except _Bad as exc:
            reasons[k] = str(exc)
    index = encoded.indices.to_numpy(zero_copy_only=False)
    bad = np.not_equal(reasons, None)
    present = np.not_equal(values, None)
    return _Cells(values[index], reasons[index], bad[index], present[index])


def _np(array) -> np.ndarray:
    if pa.types.is_boolean(array.type):
        array = pc.fill_null(array, False)
    return np.asarray(array.to_numpy(zero_copy_only=False))


def _cleaned(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The column as one array with our export's formula neutralising undone ('=x -> =x), so
    exports round-trip. Blank cells stay "" (the columns are stripped already)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if pc.any(pc.starts_with(col, "'")).as_py():
        col = pc.replace_substring_regex(col, r"^'([=+\-@\t\r])", r"\1", max_replacements=1)
    return col


_DECIMAL = r"^-?[0-9]{1,17}(\.[0-9]{1,40})?$"


def _coordinates(col: pa.Array, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(degrees, NaN when blank or refused; refused; reasons) of a latitude or longitude column.
    Plain decimals are cast column-wise (arrow rounds as float() does); others through float()."""
    spec = BY_NAME[column]
    plain = _np(pc.match_substring_regex(col, _DECIMAL))
    degrees = _np(
        pc.cast(pc.if_else(pa.array(plain), col, pa.scalar(None, pa.string())), pa.float64())
    )
    degrees = np.where(plain, degrees, np.nan)
    blank = _np(pc.equal(col, ""))
    reasons = np.full(len(col), None, dtype=object)
    other = ~plain & ~blank
    if other.any():

        def number(text: str) -> float:
            try:
                return float(text)
            except ValueError:
                raise _Bad("not a number") from None

        cells = _each(col.filter(pa.array(other)), number)
        rows = np.flatnonzero(other)
        degrees[rows] = np.where(cells.bad, np.nan, cells.values).astype(float)
        reasons[rows] = cells.reasons
    given = ~blank & np.equal(reasons, None)
    inside = (spec.minimum <= degrees) & (degrees <= spec.maximum)
    reasons[given & ~inside] = f"out of range ({spec.minimum:g} to {spec.maximum:g})"
    bad = np.not_equal(reasons, None)
    return np.where(bad, np.nan, degrees), bad, reasons


# ---------------------------------------------------------------------------------- rows


def check_rows(
    columns: Mapping[str, pa.ChunkedArray],
    lines: np.ndarray,
    rules: Rules,
    asked: Asked,
    cells: Sequence[tuple[str, pa.ChunkedArray]] = (),
) -> CheckedRows:
    """The rules on a chunk of rows: `columns` maps schema columns to the chunk's (stripped)
    strings, `lines` gives each row's CSV line, `cells` every field of the row (imported or
    not, with its name) when the file has a NUL byte anywhere."""
    n = len(lines)
    out = _Verdicts(lines)
    raw = {name: _cleaned(col) for name, col in columns.items()}
    blank = {name: _np(pc.equal(col, "")) for name, col in raw.items()}
    everywhere = np.ones(n, dtype=bool)

    def is_blank(name: str) -> np.ndarray:
        return blank.get(name, everywhere)

    def given(name: str) -> Callable[[int], str | None]:
        return lambda i: raw[name][i].as_py() or None

    def each(name: str, fn: Callable[[str], object]) -> _Cells | None:
        return _each(raw[name], fn) if name in raw else None

    # A NUL byte in any cell, imported or not, rejects the row before any other rule.
    for name, col in cells:
        nul = _np(pc.match_substring(col, "\x00"))
        if nul.any():
            text = _cleaned(col)
            out.reject(nul, name, lambda i, t=text: t[i].as_py() or None, "NUL byte in the text")

    v: dict[str, object] = {}  # schema column -> arrow array or numpy array of the chunk
    for name in COLUMN_NAMES:
        if BY_NAME[name].kind is Kind.TEXT and name in raw:
            v[name] = raw[name]

    # Event type: the format's codes; a row without one takes the file's type, else 'other'.
    types = np.full(n, None, dtype=object)
    no_type = is_blank("event_type")
    if "event_type" in raw:
        if rules.fmt == "ucdp":
            code = each("event_type", UCDP_VIOLENCE.get).values
        elif rules.fmt == "acled":
            code = each("event_type", lambda t: ACLED_TYPES.get(t.lower())).values
            if "sub_event_type" in raw:
                sub = each("sub_event_type", lambda t: ACLED_TYPES.get(t.lower())).values
                code = np.where(np.not_equal(sub, None), sub, code)
        else:
            code = each("event_type", lambda t: TYPE_SYNONYMS.get(t.lower())).values
        unknown = ~no_type & np.equal(code, None)
        allowed = ", ".join(EVENT_TYPES)
        types = np.where(no_type, None, code)
    if rules.event_type:
        types[no_type] = rules.event_type
    else:
        out.warn(no_type, "event_type", None, "no event type: recorded as 'other'")
        types[no_type] = "other"
    if "event_type" in raw:
        reason = f"unknown event type; allowed: {allowed}"
        out.reject(unknown, "event_type", given("event_type"), reason)
        types[unknown] = None
    v["event_type"] = types
    if rules.fmt == "ucdp" and "event_type" in raw:
        text = raw["event_type"].to_pylist()
        v["sub_event_type"] = np.array(
            [f"UCDP type_of_violence {t}" if t else None for t in text], dtype=object
        )

    # Controlled vocabularies.
    for name, table in (("side", SIDE_SYNONYMS), ("verification", {k: k for k in VERIFICATION})):
        if name in raw:
            codes = each(name, lambda t, table=table: table.get(t.lower()))
            allowed = ", ".join(BY_NAME[name].allowed or ())
            refused = ~is_blank(name) & ~codes.present
            out.reject(refused, name, given(name), f"not an allowed value; allowed: {allowed}")
            v[name] = codes.values
    countries = np.full(n, None, dtype=object)
    if "country" in raw:
        codes = each("country", country_code)
        out.reject(
            ~is_blank("country") & ~codes.present,
            "country",
            given("country"),
            "not an ISO 3166-1 alpha-3 country code (e.g. ARM, AZE, GEO) or a country name "
            "of the region",
        )
        countries = codes.values
    v["country"] = countries

    # Dates: readable, 1988 to tomorrow; the end not before the start, the same day is no end.
    def day(text: str) -> str:  # a file's days repeat from chunk to chunk: each read once
        known = asked.days.get(text)
        if known is None:
            try:
                known = asked.days[text] = read_day(text)
            except _Bad as exc:
                known = asked.days[text] = exc
        if isinstance(known, _Bad):
            raise known
        return known

    def read_day(text: str) -> str:
        try:
            when = parse_date(text, rules.date_order, rules.date_format)
        except ValueError as exc:
            reason = str(exc)
            if "day is out of range" in reason or "month must be" in reason:
                reason = "impossible date"
            raise _Bad(reason) from None
        if when < EARLIEST_DATE:
            raise _Bad(
                f"date before {EARLIEST_DATE.isoformat()}: the conflict data starts in "
                f"{EARLIEST_DATE.year}"
            )
        if when > rules.latest:
            raise _Bad(f"date in the future (after {rules.latest.isoformat()})")
        return when.isoformat()

    dates: dict[str, np.ndarray] = {}
    for name in ("event_date", "date_end"):
        found = each(name, day)
        if found is not None:
            out.reject(found.bad, name, given(name), found.reasons)
            dates[name] = found.values
        if name == "event_date":
            out.reject(is_blank("event_date"), "event_date", None, "no date")
    start = dates.get("event_date", np.full(n, None, dtype=object))
    end = dates.get("date_end", np.full(n, None, dtype=object))
    if "date_end" in dates:
        both = np.not_equal(end, None) & np.not_equal(start, None)
        before = np.zeros(n, dtype=bool)
        before[both] = end[both] < start[both]  # ISO days sort as the days do
        out.reject(before, "date_end", given("date_end"), "ends before event_date")
        end = np.where(both & (end == start), None, end)
    v["event_date"], v["date_end"] = start, end

    # Counts: whole numbers, none above MAX_FATALITIES; "unknown", "n/a", "?"... are blank.
    counts: dict[str, np.ndarray] = {}
    for name in FATALITY_COLUMNS:
        found = each(name, lambda t, name=name: fatality_count(name, t))
        if found is not None:
            out.reject(found.bad, name, given(name), found.reasons)
            v[name] = counts[name] = found.values
    if rules.fmt == "ucdp":
        for name, source, table, what in (
            ("time_precision", "date_prec", UCDP_TIME_PRECISION, "date precision (1-5)"),
            ("geo_precision", "where_prec", UCDP_GEO_PRECISION, "location precision (1-7)"),
        ):
            if name in raw:
                found = each(name, table.get)
                refused = ~is_blank(name) & ~found.present
                out.reject(refused, source, given(name), f"unknown UCDP {what}")
                v[name] = found.values
        if "event_id" in raw:
            v["event_id"] = pc.if_else(
                pc.equal(raw["event_id"], ""),
                raw["event_id"],
                pc.binary_join_element_wise("ucdp-", raw["event_id"], ""),
            )
    else:
        for name in ("time_precision", "geo_precision"):
            found = each(name, lambda t, name=name: whole_number(name, t))
            if found is not None:
                out.reject(found.bad, name, given(name), found.reasons)
                v[name] = found.values
    low, best, high = (
        _as_float(counts.get(c), n) for c in ("fatalities_low", "fatalities", "fatalities_high")
    )
    if "fatalities_low" in counts:
        out.reject(low > high, "fatalities_low", given("fatalities_low"), "low estimate above high")
    if "fatalities" in counts:
        out.reject(
            (best < low) | (best > high), "fatalities", given("fatalities"),
            "outside the low-high range",
        )  # fmt: skip

    # source_url(_2): an absolute http(s) URL; a plain one is taken without a second look.
    for name in URL_COLUMNS:
        if name in raw:
            plain = _np(pc.match_substring_regex(raw[name], _PLAIN_URL))
            found = _each(pc.if_else(pa.array(plain), "", raw[name]), source_url)
            out.reject(found.bad, name, given(name), found.reasons)

    # Source: the file's, credited to ACLED or UCDP when it came through them.
    if "source" in raw:
        text = raw["source"]
        if rules.fmt in ("acled", "ucdp"):
            via = " (via ACLED)" if rules.fmt == "acled" else " (via UCDP GED)"
            text = pc.binary_join_element_wise(text, pa.scalar(via), "")
        v["source"] = pc.if_else(pc.equal(raw["source"], ""), rules.default_source, text)
    else:
        v["source"] = pa.array([rules.default_source] * n, pa.string())

    _place_rows(raw, v, out, rules, asked, is_blank)

    # A country outside the region is merely unusual (talks in Washington are no surprise).
    unusual = np.not_equal(countries, None) & ~_isin(countries, REGION_COUNTRIES)
    unusual &= ~_isin(v["event_type"], POINTLESS_TYPES)
    out.warn(
        unusual,
        "country",
        given("country") if "country" in raw else None,
        lambda i: (
            f"{countries[i]} is not a country of the region "
            f"({', '.join(sorted(REGION_COUNTRIES))}): check it"
        ),
    )
    return CheckedRows(_frame(v, out.alive, n), out.rejects, out.warnings)


def _isin(values: np.ndarray, allowed: Iterable[object]) -> np.ndarray:
    return pd.Series(values, dtype=object).isin(list(allowed)).to_numpy()


def _as_float(values: np.ndarray | None, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    return np.where(np.equal(values, None), np.nan, values).astype(float)


def _place_keys(
    location: pa.Array, countries: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, list[tuple[str, str | None]]]:
    """For the chosen rows: each row's index into the distinct (place name, ISO alpha-2 country)
    queries, and those queries. "Martuni, AM" asks for Martuni in Armenia; else the row's
    country (if of the region) is the one asked."""
    chosen = pa.array(rows)
    country = pa.array(countries[rows], pa.string()).fill_null("")
    joined = pc.binary_join_element_wise(location.filter(chosen), country, "\x1f")
    encoded = joined.dictionary_encode()
    keys = []
    for text in encoded.dictionary.to_pylist():
        place, _, iso3 = text.rpartition("\x1f")
        name, iso2 = split_place(place)
        keys.append((name, iso2 or ISO3_TO_ISO2.get(iso3)))
    return encoded.indices.to_numpy(zero_copy_only=False), keys


def _place_rows(raw, v, out: _Verdicts, rules: Rules, asked: Asked, is_blank) -> None:
    """Coordinates: numbers in range, both or neither; a point that contradicts its named place
    or lies outside the region is swapped when the swap explains it, else warned about or
    refused; rows without coordinates are placed by the geocoder from their place name."""
    n = len(out.lines)
    pointless = _isin(v["event_type"], POINTLESS_TYPES)
    points = {}
    for name in ("latitude", "longitude"):
        if name in raw:
            degrees, bad, reasons = _coordinates(raw[name], name)
            out.reject(bad, name, lambda i, name=name: raw[name][i].as_py(), reasons)
        else:
            degrees = np.full(n, np.nan)
        points[name] = degrees
    lat, lon = points["latitude"], points["longitude"]
    has_lat, has_lon = ~np.isnan(lat), ~np.isnan(lon)
    out.reject(
        has_lat != has_lon,
        np.where(has_lon, "latitude", "longitude"),
        None,
        "one coordinate given without the other",
    )
    both = has_lat & has_lon & out.alive

    def given(i: int) -> str:
        return f"{raw['latitude'][i].as_py()}, {raw['longitude'][i].as_py()}"

    def location(i: int) -> str:
        return raw["location"][i].as_py()

    # A place the gazetteer knows for sure: a point far from it is checked against it.
    to_place = np.zeros(n, dtype=bool)
    far_from = np.zeros(n, dtype=bool)
    km = np.full(n, np.nan)
    if "location" in raw and rules.gazetteer is not None:
        check = both & ~is_blank("location") & ~pointless
        if check.any():
            index, keys = _place_keys(raw["location"], v["country"], check)
            known = asked.ask(rules.gazetteer, keys)
            at = np.array(
                [
                    (r.best.latitude, r.best.longitude)
                    if r.best is not None and not r.ambiguous
                    else (np.nan, np.nan)
                    for r in known
                ],
                dtype=float,
            ).reshape(-1, 2)[index]
            rows = np.flatnonzero(check)
            km[rows] = distance_km(lat[rows], lon[rows], at[:, 0], at[:, 1])
            swapped_km = np.full(n, np.nan)
            swapped_km[rows] = distance_km(lon[rows], lat[rows], at[:, 0], at[:, 1])
            to_place = check & (km > PLACE_MISMATCH_KM) & (swapped_km <= SWAP_MATCH_KM)
            far_from = check & (km > PLACE_MISMATCH_KM) & ~to_place
            out.warn(
                to_place,
                "latitude",
                given,
                lambda i: (
                    f"latitude and longitude were swapped: the point given is "
                    f"{km[i]:,.0f} km from {location(i)}, swapped it is {swapped_km[i]:,.0f} km"
                ),
            )
            lat, lon = np.where(to_place, lon, lat), np.where(to_place, lat, lon)

    # The region: outside it, a swap that lands inside is taken; else the row is refused.
    in_region = REGION_LONLAT_BOX.contains(lon, lat)
    swapped_in_region = REGION_LONLAT_BOX.contains(lat, lon)
    out.warn(
        both
        & ~to_place
        & in_region
        & ~CORE_LONLAT_BOX.contains(lon, lat)
        & CORE_LONLAT_BOX.contains(lat, lon)
        & ~pointless,
        "latitude",
        given,
        "outside Armenia, Azerbaijan and Georgia; swapped, the coordinates would fall inside: "
        "check the order of latitude and longitude",
    )  # plausible both ways (e.g. Sochi vs a point in Armenia): said, nothing changed
    swap = both & ~to_place & ~in_region & swapped_in_region & (np.abs(lon) <= 90)
    out.warn(swap, "latitude", given, "latitude and longitude look swapped; swapped them")
    lat, lon = np.where(swap, lon, lat), np.where(swap, lat, lon)
    out.reject(
        both & ~in_region & ~swap & ~pointless,
        "latitude",
        given,
        "coordinates far outside the region (South Caucasus)",
    )
    out.warn(
        far_from,
        "latitude",
        given,
        lambda i: (
            f"the point is {km[i]:,.0f} km from {location(i)}: check the coordinates or the place"
        ),
    )

    # No coordinates: the place name, geocoded.
    need = out.alive & ~has_lat & ~has_lon
    out.reject(
        need & is_blank("location") & ~pointless,
        "location",
        None,
        "no coordinates and no place name",
    )
    ask = need & ~is_blank("location")
    if ask.any():
        index, keys = _place_keys(raw["location"], v["country"], ask)
        answers = asked.ask(rules.geocoder, keys)
        rows = np.flatnonzero(ask)
        found = np.array([r.best is not None for r in answers])[index]
        out.reject(
            np.isin(np.arange(n), rows[~found]),
            "location",
            location,
            "no coordinates and no gazetteer knows this place",
        )
        placed = rows[found]
        chosen = [answers[k] for k in index[found]]
        lat[placed] = [round(r.best.latitude, 5) for r in chosen]
        lon[placed] = [round(r.best.longitude, 5) for r in chosen]
        precision = v.get("geo_precision")
        precision = np.full(n, None, dtype=object) if precision is None else precision.copy()
        for row, r in zip(placed, chosen, strict=True):
            if precision[row] is None:
                precision[row] = r.geo_precision
        v["geo_precision"] = precision
        asked.geocoded += len(placed)
        ambiguous = np.zeros(n, dtype=bool)
        ambiguous[placed] = [r.ambiguous for r in chosen]
        by_row = dict(zip(placed.tolist(), chosen, strict=True))
        out.warn(ambiguous, "location", location, lambda i: ambiguity(location(i), by_row[i]))
    v["latitude"], v["longitude"] = lat, lon


# Text and date columns of plan frames: arrow strings (missing = NA), zero-copy both ways.
_TEXT_DTYPE = pd.ArrowDtype(pa.string())


def _frame(v: Mapping[str, object], keep: np.ndarray, n: int) -> pd.DataFrame:
    """The kept rows' schema values as a plan frame (the dtypes RecordFrame documents)."""
    rows = np.flatnonzero(keep)
    mask = pa.array(keep)
    frame: dict[str, object] = {"_row": rows}
    for name in COLUMN_NAMES:
        kind = BY_NAME[name].kind
        values = v.get(name)
        if values is None:
            values = pa.nulls(len(rows), pa.string())
        elif isinstance(values, pa.Array | pa.ChunkedArray):
            values = values.filter(mask)
        else:
            values = values[rows]
        if kind is Kind.INT:
            if not isinstance(values, np.ndarray):
                values = np.array(values.to_pylist(), dtype=object)
            missing = np.equal(values, None)
            numbers = np.where(missing, 0, values).astype(np.int64)
            frame[name] = pd.arrays.IntegerArray(numbers, missing)
        elif kind is Kind.FLOAT:
            frame[name] = np.asarray(values, dtype="float64")
        else:
            if isinstance(values, np.ndarray):
                values = pa.array(values, pa.string())
            values = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
            if isinstance(values, pa.ChunkedArray):
                values = values.combine_chunks()
            frame[name] = pd.arrays.ArrowExtensionArray(values)
    result = pd.DataFrame(frame)
    blank = result["event_id"].isna().to_numpy()
    if blank.any():
        ids = np.array(result["event_id"].astype(object).where(~blank, None), dtype=object)
        for i in np.flatnonzero(blank):
            row = {c: _python(result[c].iloc[i]) for c in IDENTITY_COLUMNS}
            ids[i] = derived_id(row)
        result["event_id"] = pd.arrays.ArrowExtensionArray(pa.array(ids, pa.string()))
    return result


def _python(value: object) -> object:
    return None if value is None or value is pd.NA else value


def empty_rows() -> pd.DataFrame:
    """A plan frame with no rows (the dtypes of check_rows' frames)."""
    return _frame({}, np.zeros(0, dtype=bool), 0)
