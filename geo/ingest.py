"""Ingestion: bytes of a CSV -> an import plan -> applied to the store in one transaction.

`plan_import` is pure apart from reading the store's content hashes and the geocoder: it decodes
the file, maps columns (native, ACLED, UCDP GED or common headers), validates row by row and
says what it would insert, update, skip as a duplicate and reject (with line, column, value and
reason). `apply_plan` hands the valid rows to the store, which writes them in one transaction.
Lines are CSV lines as a spreadsheet shows them: the header is line 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import numpy as np

from geo.errors import InputError
from geo.schema import (
    BY_NAME,
    COLUMN_NAMES,
    EVENT_TYPES,
    IDENTITY_COLUMNS,
    POINTLESS_TYPES,
    SIDES,
    VERIFICATION,
    Kind,
)
from geo.store import (
    ApplyResult,
    BatchInfo,
    EventStore,
    Record,
    RecordFrame,
    content_hash,
    content_hashes,
)

# Coordinates outside this box (lon/lat) are "far outside the region": the South Caucasus with
# the pipelines' ends (Ceyhan, Novorossiysk) and a margin.
REGION = (34.0, 35.0, 53.0, 47.5)
# Armenia, Azerbaijan and Georgia: a point outside it whose swap lands inside "looks swapped".
CORE = (43.0, 38.2, 51.0, 43.7)
# A MAX_ROWS file of typical width (native export: ~240 bytes a row) fits under MAX_BYTES.
MAX_BYTES = 640 * 1024 * 1024
MAX_ROWS = 2_000_000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Plausibility on the way in: the conflict's data starts in 1988 (dates up to tomorrow, time
# zones, are accepted); no single event has more dead than MAX_FATALITIES.
EARLIEST_DATE = dt.date(1988, 1, 1)
MAX_FATALITIES = 100_000
FATALITY_COLUMNS = ("fatalities", "fatalities_low", "fatalities_high", "civilian_fatalities")
DELIMITERS = (",", ";", "\t")

Progress = Callable[[int, int], None]

# ---------------------------------------------------------------------------------- presets

ACLED_COLUMNS = {
    "event_id_cnty": "event_id",
    "event_date": "event_date",
    "time_precision": "time_precision",
    "event_type": "event_type",
    "sub_event_type": "sub_event_type",
    "actor1": "actor1",
    "actor2": "actor2",
    "country": "country",
    "admin1": "admin1",
    "location": "location",
    "latitude": "latitude",
    "longitude": "longitude",
    "geo_precision": "geo_precision",
    "source": "source",
    "notes": "notes",
    "fatalities": "fatalities",
}
UCDP_COLUMNS = {
    "id": "event_id",
    "date_start": "event_date",
    "date_end": "date_end",
    "date_prec": "time_precision",
    "type_of_violence": "event_type",
    "side_a": "actor1",
    "side_b": "actor2",
    "country": "country",
    "adm_1": "admin1",
    "where_description": "location",
    "latitude": "latitude",
    "longitude": "longitude",
    "where_prec": "geo_precision",
    "best": "fatalities",
    "low": "fatalities_low",
    "high": "fatalities_high",
    "deaths_civilians": "civilian_fatalities",
    "source_office": "source",
    "source_headline": "notes",
}
# Common headers of hand-made files (compared lower-case, spaces and dashes as underscores).
COMMON_HEADERS = {
    "id": "event_id",
    "date": "event_date",
    "day": "event_date",
    "start_date": "event_date",
    "end_date": "date_end",
    "type": "event_type",
    "event": "event_type",
    "place": "location",
    "town": "location",
    "village": "location",
    "location": "location",
    "lat": "latitude",
    "latitude": "latitude",
    "y": "latitude",
    "lon": "longitude",
    "lng": "longitude",
    "long": "longitude",
    "longitude": "longitude",
    "x": "longitude",
    "killed": "fatalities",
    "deaths": "fatalities",
    "dead": "fatalities",
    "fatalities": "fatalities",
    "casualties": "fatalities",
    "civilians_killed": "civilian_fatalities",
    "source": "source",
    "publisher": "source",
    "url": "source_url",
    "link": "source_url",
    "description": "notes",
    "notes": "notes",
    "note": "notes",
    "summary": "notes",
    "region": "admin1",
    "province": "admin1",
    "district": "admin1",
    "actor": "actor1",
    "claimed_by": "claimed_by",
    "claim": "claimed_by",
}

ACLED_TYPES = {
    # (event_type, sub_event_type) lower-case -> our code; sub-type first, then type.
    "shelling/artillery/missile attack": "shelling",
    "air/drone strike": "air_drone_strike",
    "remote explosive/landmine/ied": "other",
    "grenade": "other",
    "suicide bomb": "other",
    "government regains territory": "capture",
    "non-state actor overtakes territory": "capture",
    "non-violent transfer of territory": "capture",
    "agreement": "ceasefire",
    "armed clash": "armed_clash",
    "battles": "armed_clash",
    "explosions/remote violence": "shelling",
    "violence against civilians": "other",
    "protests": "protest",
    "riots": "protest",
    "strategic developments": "other",
}
UCDP_VIOLENCE = {"1": "armed_clash", "2": "armed_clash", "3": "other"}
# UCDP date_prec: 1 day, 2 2-6 days, 3 week, 4 8-30 days, 5 more -> ACLED-style 1..3.
UCDP_TIME_PRECISION = {"1": 1, "2": 2, "3": 2, "4": 3, "5": 3}
# UCDP where_prec: 1 exact, 2 within 25 km, 3 admin-2, 4 admin-1, 5 linear, 6 country, 7 sea.
UCDP_GEO_PRECISION = {"1": 1, "2": 2, "3": 2, "4": 3, "5": 2, "6": 3, "7": 3}

TYPE_SYNONYMS = {
    **{code: code for code in EVENT_TYPES},
    **{label.lower(): code for code, label in EVENT_TYPES.items()},
    "shelling/artillery": "shelling",
    "artillery": "shelling",
    "air strike": "air_drone_strike",
    "airstrike": "air_drone_strike",
    "drone strike": "air_drone_strike",
    "air/drone strike": "air_drone_strike",
    "missile": "missile_strike",
    "clash": "armed_clash",
    "battle": "armed_clash",
    "fighting": "armed_clash",
    "capture/control change": "capture",
    "control change": "capture",
    "ceasefire/agreement": "ceasefire",
    "agreement": "ceasefire",
    "truce": "ceasefire",
    "violation": "violation_report",
    "ceasefire violation": "violation_report",
    "demonstration": "protest",
}
SIDE_SYNONYMS = {
    **{code: code for code in SIDES},
    "armenia": "armenian",
    "nkr": "armenian",
    "artsakh": "armenian",
    "azerbaijan": "azerbaijani",
    "russia": "russian",
    "civilians": "civilian",
}
COUNTRY_ISO3 = {
    "armenia": "ARM",
    "am": "ARM",
    "azerbaijan": "AZE",
    "az": "AZE",
    "georgia": "GEO",
    "ge": "GEO",
    "russia": "RUS",
    "russian federation": "RUS",
    "ru": "RUS",
    "turkey": "TUR",
    "türkiye": "TUR",
    "turkiye": "TUR",
    "tr": "TUR",
    "iran": "IRN",
    "iran (islamic republic of)": "IRN",
    "ir": "IRN",
    "russia (soviet union)": "RUS",  # UCDP GED's name for the USSR and Russia
}
ISO3_TO_ISO2 = {"ARM": "AM", "AZE": "AZ", "GEO": "GE", "RUS": "RU", "TUR": "TR", "IRN": "IR"}
# Another well-formed ISO3 code (USA for talks in Washington) is merely unusual: a warning.
REGION_COUNTRIES = frozenset(ISO3_TO_ISO2)

# ---------------------------------------------------------------------------------- results


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


# ---------------------------------------------------------------------------------- bytes


def decode(data: bytes) -> tuple[str, str]:
    """Text and the encoding used, always read from the whole payload (a sample misreads files
    whose non-ASCII comes late):

    1. UTF-8 (with or without BOM), strictly;
    2. else Windows-1252 (a superset of Latin-1's printable characters) when the bytes decode
       strictly and the text reads as Latin-script text (`_looks_latin`), or Windows-1254 when
       that text has Ð ð Ý ý Þ þ: Icelandic letters are implausible here, the same bytes are
       Turkish and Azerbaijani Ğ ğ İ ı Ş ş in Windows-1254;
    3. else charset_normalizer's best guess (Cyrillic, Greek, UTF-16...).

    Step 2 comes before the detector because the detector misjudges Western files: measured
    with charset_normalizer 3.5, a two-line Latin-1 file came out as cp1250 ("Agência" read
    as "Agęncia"), and French or Portuguese files as cp1250 whatever their length. A cp1250
    (Czech, Polish) file whose letters all exist in Windows-1252 is read as Windows-1252: such
    files must be saved as UTF-8.
    """
    try:
        return data.decode("utf-8-sig"), "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else (
            "utf-8"
        )
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = None  # bytes 81, 8D, 8F, 90 and 9D mean nothing in Windows-1252
    controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if text is not None and controls * 100 <= len(data) and _looks_latin(text):
        if _CP1254_ONLY.search(text):
            return data.decode("cp1254"), "cp1254"
        return text, "cp1252"
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise InputError("cannot tell the file's text encoding; save it as UTF-8")
    return str(best), best.encoding


# C0 control characters but tab, LF and CR: UTF-16 text is half NULs, Latin text has next to none.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r") + b"\x7f"
_CP1254_ONLY = re.compile("[\u00d0\u00dd\u00de\u00f0\u00fd\u00fe]")  # Ð Ý Þ ð ý þ
# A word with a non-ASCII character: letters, digits and non-ASCII characters around it.
_NON_ASCII_WORD = re.compile(r"[\w\u0080-\uffff]*[\u0080-\uffff][\w\u0080-\uffff]*")
_LETTERS = re.compile(r"[^\W\d_]+")
# Non-letters that may stand inside a word: apostrophe, middle dot (l·l), soft hyphen.
_IN_WORD = frozenset("\u2019\u00b7\u00ad")


def _looks_latin(text: str) -> bool:
    """Whether text decoded as Windows-1252 reads as Latin-script text.

    Cyrillic, Greek, Hebrew or Arabic single-byte text read as Windows-1252 gives words made of
    accented letters only ("Степанакерт" in cp1251 reads "Ñòåïàíàêåðò"); Polish or DOS text
    gives symbols inside words ("by³o", "R‚fugi‚s"). Latin words mix ASCII letters in.
    """
    for word in set(_NON_ASCII_WORD.findall(text)):
        for i, ch in enumerate(word):
            if (
                ch > "\x7f"
                and not ch.isalpha()
                and ch not in _IN_WORD
                and 0 < i < len(word) - 1
                and word[i - 1].isalpha()
                and word[i + 1].isalpha()
            ):
                return False
        if any(
            len(run) >= 3 and not any(c.isascii() for c in run) for run in _LETTERS.findall(word)
        ):
            return False
    return True


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: the one that splits the header line into the most fields."""
    end = text.find("\n")
    line = text if end < 0 else text[:end]  # not split(): that copies the whole text

    def fields(d: str) -> int:
        try:
            return len(next(csv.reader(io.StringIO(line), delimiter=d), []))
        except csv.Error:  # a field over the size limit: read_records says so
            return 0

    counts = {d: fields(d) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: (counts[d], d == ","))


# The csv module's default field size limit. Files are held to it whatever the process-wide
# csv.field_size_limit() is now (reverse_geocoder raises that when imported), so the verdict on
# a file does not depend on whether the gazetteer was loaded first.
CSV_FIELD_LIMIT = 131_072


def field_limit() -> int:
    """The most characters a field may have: CSV_FIELD_LIMIT, or the csv module's process-wide
    limit if something lowered it below (the csv module could not read more)."""
    return min(CSV_FIELD_LIMIT, csv.field_size_limit())


def read_records(text: str, delimiter: str) -> Iterable[tuple[int, list[str]]]:
    """(first line number, fields) per CSV record; blank lines are skipped.

    A field longer than field_limit() (131,072 characters, the csv module's default limit)
    refuses the whole file with an InputError naming the line, the column when it can tell and
    the limit, rather than rejecting one row: no event needs such a field, it is nearly always
    a quote left open that swallowed the rest of the file, or no CSV at all. An over-long
    header field refuses the file too. The columnar path (pyarrow has no such limit) hands files
    with such a field to this function, so both paths refuse them alike.
    """
    limit = field_limit()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    previous_end = 0
    header: list[str] | None = None
    try:
        for fields in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if fields and max(map(len, fields)) > limit:
                index = next(i for i, f in enumerate(fields) if len(f) > limit)
                raise _field_too_long(start, header, index, limit)
            if fields and any(f.strip() for f in fields):
                header = fields if header is None else header
                yield start, fields
    except csv.Error as exc:
        # "field larger than field limit", or, when the process-wide limit is raised, a quote
        # left open that reached the end of the file: the same verdict for both.
        line = previous_end + 1
        lines = io.StringIO(text, newline="")  # the line breaks the csv module counts
        offset = sum(len(lines.readline()) for _ in range(line - 1))
        index = _long_field(text, offset, delimiter, limit)
        if index is None and "field larger than field limit" not in str(exc):
            raise InputError(f"the file is not valid CSV: {exc}", line=line) from None
        raise _field_too_long(line, header, index, limit) from None


def _field_too_long(
    line: int, header: list[str] | None, index: int | None, limit: int
) -> InputError:
    """The error for a record starting on `line` whose field `index` is over the limit."""
    if header is None:
        which = "a field" if index is None else f"field {index + 1}"
        return InputError(
            f"the header line is not a CSV header: {which} is longer than {limit:,} characters "
            "(the CSV field size limit)",
            line=line,
        )
    column = header[index].strip() if index is not None and index < len(header) else None
    return InputError(
        f"a field is longer than {limit:,} characters (the CSV field size limit): a quote left "
        "open? Nothing was imported",
        line=line,
        column=column,
    )


def _long_field(text: str, start: int, delimiter: str, limit: int) -> int | None:
    """Which field of the record at `start` grows past `limit` characters (None: not found)."""
    index = size = 0
    quoted, at_start = False, True
    i, end = start, len(text)
    while i < end:
        ch = text[i]
        if quoted:
            if ch == '"' and text[i + 1 : i + 2] == '"':
                i += 1
                size += 1
            elif ch == '"':
                quoted = False
            else:
                size += 1
        elif ch == '"' and at_start:
            quoted = True
        elif ch == delimiter:
            index, size, at_start = index + 1, 0, True
            i += 1
            continue
        elif ch in "\r\n":
            return None
        else:
            size += 1
        at_start = False
        if size > limit:
            return index
        i += 1
    return None


# ---------------------------------------------------------------------------------- columns


def _norm_header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def detect_format(header: list[str]) -> str:
    names = {_norm_header(h) for h in header}
    if {"event_id_cnty", "event_date", "event_type"} <= names:
        return "acled"
    if {"date_start", "where_prec"} <= names or {"side_a", "best", "where_description"} <= names:
        return "ucdp"
    if {"event_date", "event_type", "source"} <= names:
        return "native"
    return "generic"


def column_mapping(
    header: list[str], fmt: str, overrides: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[str]]:
    """Source header -> schema column, and the ignored source columns."""
    preset = {
        "native": {c: c for c in COLUMN_NAMES},
        "acled": ACLED_COLUMNS,
        "ucdp": UCDP_COLUMNS,
        "generic": {**{c: c for c in COLUMN_NAMES}, **COMMON_HEADERS},
    }[fmt]
    mapping: dict[str, str] = {}
    for h in header:
        dest = preset.get(_norm_header(h))
        if dest is None and fmt == "native":
            dest = COMMON_HEADERS.get(_norm_header(h))
        if dest is not None and dest not in mapping.values():
            mapping[h] = dest
    for src, dest in (overrides or {}).items():
        if src not in header:
            raise InputError(
                f"--map names a column the file does not have; columns: {', '.join(header)}",
                column=src,
            )
        if not dest:  # an empty target drops the column, even one a preset would map
            mapping.pop(src, None)
            continue
        if dest not in COLUMN_NAMES:
            raise InputError(
                f"--map target must be one of: {', '.join(COLUMN_NAMES)}", column=src, value=dest
            )
        mapping = {h: d for h, d in mapping.items() if d != dest and h != src}
        mapping[src] = dest
    if "event_date" not in mapping.values():
        raise InputError(
            "no column gives the event date; name it event_date or map one with "
            "--map 'Your column=event_date'",
            line=1,
        )
    ignored = [h for h in header if h not in mapping]
    return mapping, ignored


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


# ---------------------------------------------------------------------------------- rows


class _Reject(Exception):
    def __init__(self, column: str | None, value: str | None, reason: str) -> None:
        self.column, self.value, self.reason = column, value, reason


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    # Undo the formula neutralising of our own CSV export ('=... -> =...), so exports round-trip.
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_PREFIXES:
        return value[1:]
    return value


def _int(column: str, raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        number = float(raw.replace(",", "")) if re.fullmatch(r"[\d,]+(\.0+)?", raw) else float(raw)
    except ValueError:
        raise _Reject(column, raw, "not a whole number") from None
    if not math.isfinite(number) or number != int(number):
        raise _Reject(column, raw, "not a whole number")
    if abs(number) > 2**53:  # beyond this a float has lost digits (and SQLite stops at 2**63)
        raise _Reject(column, raw, "too large to be a count")
    minimum = BY_NAME[column].minimum
    if minimum is not None and number < minimum:
        raise _Reject(column, raw, f"must be {minimum:g} or more")
    maximum = BY_NAME[column].maximum
    if maximum is not None and number > maximum:
        raise _Reject(column, raw, f"must be {maximum:g} or less")
    return int(number)


def _float(column: str, raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        number = float(raw)
    except ValueError:
        raise _Reject(column, raw, "not a number") from None
    spec = BY_NAME[column]
    if not (spec.minimum <= number <= spec.maximum):
        raise _Reject(column, raw, f"out of range ({spec.minimum:g} to {spec.maximum:g})")
    return number


def _in_box(box: tuple[float, float, float, float], lat: float, lon: float) -> bool:
    return box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


def derived_id(values: Mapping[str, object]) -> str:
    """A stable id from the identifying content, for sources that give none."""
    key = "|".join(
        str(values.get(c).isoformat() if isinstance(values.get(c), dt.date) else values.get(c))
        .strip()
        .lower()
        for c in IDENTITY_COLUMNS
    )
    return "h-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def _today() -> dt.date:
    """Today's date, read once per plan (tests replace it to pin the future's edge)."""
    return dt.date.today()


def nul_reject(names: Sequence[str], fields: Sequence[str | None]) -> _Reject | None:
    """The reject for a row with a NUL byte in any cell (imported or ignored column), or None.

    `names` are the schema columns of mapped fields, the file's header elsewhere. Other control
    characters are kept as they are: they are harmless in the store and always shown escaped.
    """
    for name, value in zip(names, fields, strict=True):
        if value and "\x00" in value:
            return _Reject(name, _clean(value), "NUL byte in the text")
    return None


# A URL cannot hold these unencoded (RFC 3986); a browser would guess, so we refuse.
_URL_FORBIDDEN = re.compile(r'[\s"<>\\\x00-\x1f\x7f]')


def _source_url(raw: str | None) -> str | None:
    """An absolute http(s) URL as given, or _Reject; blank stays None."""
    if raw is None:
        return None
    try:
        parts = urlsplit(raw)
        _ = parts.port  # raises ValueError for a port that is no port
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise _Reject(
            "source_url",
            raw,
            "not an absolute http:// or https:// URL (e.g. https://example.org/a)",
        )
    if _URL_FORBIDDEN.search(raw):
        raise _Reject(
            "source_url",
            raw,
            "a URL cannot contain spaces, quotes, <, >, \\ or control characters: percent-encode "
            "them (%20 for a space)",
        )
    return raw


class _RowConverter:
    """Turns one mapped row into schema values, or raises _Reject."""

    def __init__(self, fmt, order, date_format, geocoder, default_source, warn, today=None) -> None:
        self.fmt = fmt
        self.order = order
        self.date_format = date_format
        self.geocoder = geocoder
        self.default_source = default_source
        self.warn = warn
        # The last date accepted: tomorrow, so that a report from a time zone ahead still fits.
        self.latest = (today or _today()) + dt.timedelta(days=1)
        self.geocoded = 0
        self._geocache: dict[tuple[str, str | None], object] = {}

    def _date(self, column: str, raw: str | None) -> dt.date | None:
        if raw is None:
            return None
        try:
            day = parse_date(raw, self.order, self.date_format)
        except ValueError as exc:
            reason = str(exc)
            if "day is out of range" in reason or "month must be" in reason:
                reason = "impossible date"
            raise _Reject(column, raw, reason) from None
        if day < EARLIEST_DATE:
            raise _Reject(
                column,
                raw,
                f"date before {EARLIEST_DATE.isoformat()}: the conflict data starts in "
                f"{EARLIEST_DATE.year}",
            )
        if day > self.latest:
            raise _Reject(column, raw, f"date in the future (after {self.latest.isoformat()})")
        return day

    def _event_type(self, line: int, raw: str | None, sub: str | None) -> str:
        if raw is None:
            self.warn(line, "event_type", None, "no event type: recorded as 'other'")
            return "other"
        if self.fmt == "ucdp":
            code = UCDP_VIOLENCE.get(raw)
        elif self.fmt == "acled":
            code = ACLED_TYPES.get((sub or "").lower()) or ACLED_TYPES.get(raw.lower())
        else:
            code = TYPE_SYNONYMS.get(raw.lower())
        if code is None:
            raise _Reject(
                "event_type", raw, f"unknown event type; allowed: {', '.join(EVENT_TYPES)}"
            )
        return code

    def _vocab(self, column: str, raw: str | None, synonyms: Mapping[str, str]) -> str | None:
        if raw is None:
            return None
        code = synonyms.get(raw.lower())
        if code is None:
            allowed = ", ".join(BY_NAME[column].allowed or ())
            raise _Reject(column, raw, f"not an allowed value; allowed: {allowed}")
        return code

    def _country(self, raw: str) -> str | None:
        """The ISO 3166-1 alpha-3 code: a known name or code of the region mapped, any three
        letters A-Z upper-cased; None for anything else (convert rejects it)."""
        iso = COUNTRY_ISO3.get(raw.lower())
        if iso:
            return iso
        if re.fullmatch(r"[A-Za-z]{3}", raw):
            return raw.upper()
        return None

    def region_country(self, raw: str) -> str | None:
        """The code when it is a country of the region (the fast path's "plainly valid")."""
        iso = self._country(raw)
        return iso if iso in REGION_COUNTRIES else None

    def convert(self, line: int, raw: Mapping[str, str | None]) -> dict[str, object]:
        v: dict[str, object] = {}
        fmt = self.fmt
        for name in COLUMN_NAMES:
            if BY_NAME[name].kind is Kind.TEXT:
                v[name] = raw.get(name)
        v["event_type"] = self._event_type(line, raw.get("event_type"), raw.get("sub_event_type"))
        if fmt == "ucdp":
            v["sub_event_type"] = (
                raw.get("event_type") and f"UCDP type_of_violence {raw['event_type']}"
            )
        v["side"] = self._vocab("side", raw.get("side"), SIDE_SYNONYMS)
        v["verification"] = self._vocab(
            "verification", raw.get("verification"), {k: k for k in VERIFICATION}
        )
        country = raw.get("country")
        v["country"] = None if country is None else self._country(country)
        if country is not None and v["country"] is None:
            raise _Reject(
                "country",
                country,
                "not an ISO 3166-1 alpha-3 country code (e.g. ARM, AZE, GEO) or a country name "
                "of the region",
            )

        v["event_date"] = self._date("event_date", raw.get("event_date"))
        if v["event_date"] is None:
            raise _Reject("event_date", None, "no date")
        v["date_end"] = self._date("date_end", raw.get("date_end"))
        if v["date_end"] is not None and v["date_end"] < v["event_date"]:
            raise _Reject("date_end", raw.get("date_end"), "ends before event_date")
        if v["date_end"] == v["event_date"]:
            v["date_end"] = None

        for name in FATALITY_COLUMNS:
            v[name] = _int(name, raw.get(name))
            if v[name] is not None and v[name] > MAX_FATALITIES:
                raise _Reject(
                    name,
                    raw.get(name),
                    f"must be {MAX_FATALITIES:,} or less: not a plausible count for one event",
                )
        if fmt == "ucdp":
            tp, gp = raw.get("time_precision"), raw.get("geo_precision")
            v["time_precision"] = UCDP_TIME_PRECISION.get(tp) if tp else None
            v["geo_precision"] = UCDP_GEO_PRECISION.get(gp) if gp else None
            if tp and v["time_precision"] is None:
                raise _Reject("date_prec", tp, "unknown UCDP date precision (1-5)")
            if gp and v["geo_precision"] is None:
                raise _Reject("where_prec", gp, "unknown UCDP location precision (1-7)")
            if v["event_id"]:
                v["event_id"] = f"ucdp-{v['event_id']}"
        else:
            v["time_precision"] = _int("time_precision", raw.get("time_precision"))
            v["geo_precision"] = _int("geo_precision", raw.get("geo_precision"))
        low, best, high = v["fatalities_low"], v["fatalities"], v["fatalities_high"]
        if low is not None and high is not None and low > high:
            raise _Reject("fatalities_low", raw.get("fatalities_low"), "low estimate above high")
        if best is not None and (
            (low is not None and best < low) or (high is not None and best > high)
        ):
            raise _Reject("fatalities", raw.get("fatalities"), "outside the low-high range")
        v["source_url"] = _source_url(raw.get("source_url"))

        if not v["source"]:
            v["source"] = self.default_source
        elif fmt == "acled":
            v["source"] = f"{v['source']} (via ACLED)"
        elif fmt == "ucdp":
            v["source"] = f"{v['source']} (via UCDP GED)"

        self._place(line, v, raw)
        v["event_id"] = v["event_id"] or derived_id(v)
        # Talks in Washington are no surprise (a statement or agreement needs no place here).
        if v["country"] not in (None, *REGION_COUNTRIES) and v["event_type"] not in POINTLESS_TYPES:
            self.warn(
                line,
                "country",
                country,
                f"{v['country']} is not a country of the region "
                f"({', '.join(sorted(REGION_COUNTRIES))}): check it",
            )
        return v

    def _place(self, line: int, v: dict[str, object], raw: Mapping[str, str | None]) -> None:
        lat = _float("latitude", raw.get("latitude"))
        lon = _float("longitude", raw.get("longitude"))
        if (lat is None) != (lon is None):
            missing = "longitude" if lon is None else "latitude"
            raise _Reject(missing, None, "one coordinate given without the other")
        if lat is not None and lon is not None:
            given = f"{raw.get('latitude')}, {raw.get('longitude')}"
            if (
                _in_box(REGION, lat, lon)
                and not _in_box(CORE, lat, lon)
                and _in_box(CORE, lon, lat)
                and v["event_type"] not in POINTLESS_TYPES
            ):
                # Plausible both ways (e.g. Sochi vs a point in Armenia): say so, change nothing.
                self.warn(
                    line,
                    "latitude",
                    given,
                    "outside Armenia, Azerbaijan and Georgia; swapped, the coordinates would "
                    "fall inside: check the order of latitude and longitude",
                )
            if not _in_box(REGION, lat, lon):
                if _in_box(REGION, lon, lat) and -90 <= lon <= 90:
                    self.warn(
                        line,
                        "latitude",
                        f"{raw.get('latitude')}, {raw.get('longitude')}",
                        "latitude and longitude look swapped; swapped them",
                    )
                    lat, lon = lon, lat
                elif v["event_type"] not in POINTLESS_TYPES:
                    raise _Reject(
                        "latitude",
                        f"{raw.get('latitude')}, {raw.get('longitude')}",
                        "coordinates far outside the region (South Caucasus)",
                    )
            v["latitude"], v["longitude"] = lat, lon
            return
        place = v.get("location")
        if not place:
            if v["event_type"] in POINTLESS_TYPES:
                v["latitude"] = v["longitude"] = None
                return
            raise _Reject("location", None, "no coordinates and no place name")
        country = ISO3_TO_ISO2.get(str(v.get("country") or ""))
        key = (str(place), country)
        if key not in self._geocache:
            self._geocache[key] = self.geocoder.geocode(str(place), country)
        resolution = self._geocache[key]
        best = resolution.best
        if best is None:
            raise _Reject(
                "location", str(place), "no coordinates and no gazetteer knows this place"
            )
        v["latitude"], v["longitude"] = round(best.latitude, 5), round(best.longitude, 5)
        if v.get("geo_precision") is None:
            v["geo_precision"] = resolution.geo_precision
        self.geocoded += 1
        if resolution.ambiguous:
            others = "; ".join(
                f"{p.name} ({p.country}, {p.latitude:.3f}, {p.longitude:.3f})"
                for p in resolution.alternatives[:3]
            )
            self.warn(
                line,
                "location",
                str(place),
                f"ambiguous place: placed at {best.name} ({best.country}); also {others}",
            )


# ---------------------------------------------------------------------------------- plan


def plan_import(
    data: bytes,
    store: EventStore,
    *,
    source_name: str = "upload",
    fmt: str = "auto",
    overrides: Mapping[str, str] | None = None,
    date_format: str | None = None,
    geocoder=None,
    progress: Progress | None = None,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
) -> ImportPlan:
    """What importing `data` would do. Raises InputError for a file that cannot be read at all
    (encoding, header, ambiguous dates, too large); row problems become rejects.

    Rows are checked column-wise (geo.ingest_fast); any row a fast check cannot vouch for goes
    through the row-wise rules, so the plan is the one `plan_import_rowwise` makes. The plan's
    inserts and updates are RecordFrames (columns, not a dict per row).
    """
    return _plan(
        data,
        store,
        columnar=True,
        source_name=source_name,
        fmt=fmt,
        overrides=overrides,
        date_format=date_format,
        geocoder=geocoder,
        progress=progress,
        max_bytes=max_bytes,
        max_rows=max_rows,
    )


def plan_import_rowwise(data: bytes, store: EventStore, **options) -> ImportPlan:
    """The reference for `plan_import` (same options and result): csv module, one row at a
    time, a Record per valid row. Slow on big files; it defines the rules tests compare to."""
    options.setdefault("source_name", "upload")
    for key, default in (("fmt", "auto"), ("max_bytes", MAX_BYTES), ("max_rows", MAX_ROWS)):
        options.setdefault(key, default)
    for key in ("overrides", "date_format", "geocoder", "progress"):
        options.setdefault(key, None)
    return _plan(data, store, columnar=False, **options)


def _plan(
    data: bytes,
    store: EventStore,
    *,
    columnar: bool,
    source_name: str,
    fmt: str,
    overrides: Mapping[str, str] | None,
    date_format: str | None,
    geocoder,
    progress: Progress | None,
    max_bytes: int,
    max_rows: int,
) -> ImportPlan:
    if len(data) > max_bytes:
        raise InputError(
            f"the file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB: "
            "split it into smaller files (each with the header line) and import them one "
            "after another"
        )
    if geocoder is None:
        from geo.geocode import get_geocoder

        geocoder = get_geocoder("offline")
    from geo import ingest_fast

    text, encoding = decode(data)
    delimiter = sniff_delimiter(text)
    body = ingest_fast.fast_body(data, encoding, text, delimiter) if columnar else None
    if body is None:
        records = list(read_records(text, delimiter))
        if not records:
            raise InputError("the file is empty")
        header_line, header = records[0]
        n_rows = len(records) - 1
    else:
        records, header_line, header, n_rows = [], 1, body.header, body.rows
    has_nul = "\x00" in text  # almost never: then no cell needs a look for one
    del text  # the columns hold the content now; a big file's text is hundreds of MB
    header = [h.strip() for h in header]
    if header_line != 1 or not any(header):
        raise InputError("the first line must be a header row", line=1)
    if any("\x00" in h for h in header):
        raise InputError(
            "the header has a NUL byte: is the file UTF-16 or not a CSV file? Save it as UTF-8",
            line=1,
        )
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError(f"the header repeats columns: {', '.join(dupes)}", line=1)
    if n_rows > max_rows:
        raise InputError(
            f"the file has {n_rows:,} rows; the limit is {max_rows:,}: split it into smaller "
            "files (each with the header line) and import them one after another"
        )
    detected = detect_format(header) if fmt == "auto" else fmt
    if detected not in ("native", "acled", "ucdp", "generic"):
        raise InputError("format must be auto, native, acled, ucdp or generic", value=fmt)
    mapping, ignored = column_mapping(header, detected, overrides)
    index = {dest: header.index(src) for src, dest in mapping.items()}
    if columnar and body is None:
        body = ingest_fast.body_from_records(records)
        records = []

    date_cols = [index[c] for c in ("event_date", "date_end") if c in index]
    if date_format:
        order = "given"
    elif body is not None:
        order = decide_date_order(_unusual_dates(body, date_cols))
    else:
        order = decide_date_order(
            _clean(fields[i]) or ""
            for _, fields in records[1:]
            for i in date_cols
            if i < len(fields)
        )
    plan = ImportPlan(
        source_name=source_name,
        encoding=encoding,
        delimiter=delimiter,
        format=detected,
        mapping=mapping,
        ignored_columns=ignored,
        date_order=order,
        rows=n_rows,
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
    converter = _RowConverter(
        detected, order, date_format, geocoder, f"User upload: {source_name}", None, _today()
    )
    names = list(header)  # what a NUL reject calls each field: its schema column, if mapped
    for dest, i in index.items():
        names[i] = dest
    if body is not None:
        _plan_columns(plan, body, index, names if has_nul else None, converter, store, progress)
    else:
        _plan_rows(plan, records[1:], names, index, converter, store, progress)
    plan.geocoded = converter.geocoded
    return plan


def _unusual_dates(body, date_cols: list[int]) -> list[str]:
    """The cleaned date cells that are not plain YYYY-MM-DD: all decide_date_order needs."""
    from geo import ingest_fast

    values: list[str] = []
    for i in date_cols:
        values.extend(_clean(v) or "" for v in ingest_fast.unusual_dates(body.columns[i]))
        values.extend(_clean(f[i]) or "" for f in body.misfit_fields if i < len(f))
    return values


def _plan_columns(plan, body, index, names, converter, store, progress) -> None:
    """The columnar path: fast rows checked column-wise, the rest by the row-wise converter;
    issues come out in the order the row-wise reference gives them. `names` name the fields
    for NUL rejects; None when the file has no NUL byte at all."""
    from geo import ingest_fast

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
    where = {"pos": 0}

    def warn(line, column, value, reason):
        warnings.append((where["pos"], len(warnings), RowIssue(line, column, value, reason)))

    converter.warn = warn
    n = len(body.lines)
    chunk = max(200, -(-n // 10))
    frames = []
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        columns = {dest: body.columns[i].slice(start, size) for dest, i in index.items()}
        checked = ingest_fast.check_chunk(
            columns,
            size,
            fmt=converter.fmt,
            date_format=converter.date_format,
            default_source=converter.default_source,
            country=converter.region_country,
            type_code=lambda v: TYPE_SYNONYMS.get(v.lower()),
            side_code=lambda v: SIDE_SYNONYMS.get(v.lower()),
            date_range=(EARLIEST_DATE, converter.latest),
            max_fatalities=MAX_FATALITIES,
        )
        # A NUL byte in any cell, imported or not, rejects the row before any other rule.
        cells = [c.slice(start, size) for c in body.columns] if names else []
        refused = ingest_fast.nul_rows(cells, size)
        if refused.any():
            checked = ingest_fast.without_rows(checked, refused)
            for row in np.flatnonzero(refused):
                r = nul_reject(names, [c[int(row)].as_py() for c in cells])
                line, pos = int(body.lines[start + row]), int(body.positions[start + row])
                rejects.append((pos, RowIssue(line, r.column, r.value, r.reason)))
        frames.append(checked.frame.assign(_row=checked.frame["_row"] + start))
        converted, rows = [], []
        for row, raw in zip(
            checked.slow + start,
            ingest_fast.rows_as_dicts(columns, checked.slow, _clean),
            strict=True,
        ):
            line, where["pos"] = int(body.lines[row]), int(body.positions[row])
            try:
                converted.append(converter.convert(line, raw))
                rows.append(row)
            except _Reject as r:
                rejects.append((where["pos"], RowIssue(line, r.column, r.value, r.reason)))
        if converted:
            frames.append(ingest_fast.frame_from_values(converted).assign(_row=rows))
        if progress:
            progress(min(plan.rows, round((start + size) * plan.rows / n)), plan.rows)
    if progress and n == 0 and plan.rows:
        progress(plan.rows, plan.rows)

    # The frames hold the values now: free the file's text columns (slices keep them alive).
    body.columns, columns = [], {}
    valid = ingest_fast.concat_rows(frames)
    del frames
    valid["content_hash"] = content_hashes(valid)
    lines, positions = body.lines[valid["_row"]], body.positions[valid["_row"]]
    again = ingest_fast.repeated(valid["event_id"])
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


def _plan_rows(plan, body, names, index, converter, store, progress) -> None:
    """The row-wise reference: one dict and one Record per row."""
    width = len(names)

    def warn(line, column, value, reason):
        plan.warnings.append(RowIssue(line, column, value, reason))

    converter.warn = warn
    seen: dict[str, tuple[int, str]] = {}
    valid: list[Record] = []
    total = len(body)
    for n, (line, fields) in enumerate(body, start=1):
        if len(fields) != width:
            plan.rejects.append(
                RowIssue(
                    line, None, None, f"the row has {len(fields)} fields, the header has {width}"
                )
            )
        elif (nul := nul_reject(names, fields)) is not None:
            plan.rejects.append(RowIssue(line, nul.column, nul.value, nul.reason))
        else:
            raw = {dest: _clean(fields[i]) for dest, i in index.items()}
            try:
                values = converter.convert(line, raw)
            except _Reject as r:
                plan.rejects.append(RowIssue(line, r.column, r.value, r.reason))
            else:
                record = Record(values, content_hash(values))
                earlier = seen.get(record.event_id)
                if earlier is None:
                    seen[record.event_id] = (line, record.content_hash)
                    valid.append(record)
                elif earlier[1] == record.content_hash:
                    plan.duplicates.append(record.event_id)
                    warn(line, "event_id", record.event_id, f"repeats line {earlier[0]}")
                else:
                    plan.rejects.append(
                        RowIssue(
                            line,
                            "event_id",
                            record.event_id,
                            f"same event_id as line {earlier[0]} with different content",
                        )
                    )
        if progress and (n % 200 == 0 or n == total):
            progress(n, total)

    stored = store.hashes(r.event_id for r in valid)
    for record in valid:
        old = stored.get(record.event_id)
        if old is None:
            plan.inserts.append(record)
        elif old == record.content_hash:
            plan.duplicates.append(record.event_id)
        else:
            plan.updates.append(record)


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
