"""Reading an upload: bytes -> text (encoding decided from the whole payload) -> string columns.

`decode` and `sniff_delimiter` read the text; `read_body` gives a `Body`: the header and one
pyarrow string column per header field, stripped as str.strip() does, with the CSV line each
row starts on. Plain RFC 4180 files are parsed by pyarrow; anything odd (quoted line breaks,
bare CRs, stray quotes) by the csv module, which also refuses over-long fields with the line.
Rows whose field count differs from the header's are kept aside as misfits.
Nothing here knows the event schema: geo.ingest.rules checks the columns.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from geo.errors import InputError

DELIMITERS = (",", ";", "\t")
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_ISO_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


# ---------------------------------------------------------------------------------- text


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
    header field refuses the file too. fast_body (pyarrow has no such limit) hands files with
    such a field to this function, so both parsers refuse them alike.
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


@dataclass
class Body:
    """The file's records as string columns, with where each came from."""

    header: list[str]
    # One per header field, rows with the header's field count; cells stripped as str.strip()
    # does.
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
    So does a field longer than field_limit(), which pyarrow would read: read_records then
    refuses the file.
    """
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


def _np(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean or numeric arrow array as numpy (nulls as False / 0)."""
    if pa.types.is_boolean(array.type):
        array = pc.fill_null(array, False)
    return np.asarray(array.to_numpy(zero_copy_only=False) if hasattr(array, "chunks") else array)


def unusual_dates(col: pa.ChunkedArray) -> list[str]:
    """The non-blank cells not written YYYY-MM-DD (only they can tell day-first dates)."""
    plain = _np(pc.match_substring_regex(col, _ISO_DAY)) | _np(pc.equal(col, ""))
    return col.filter(pa.array(~plain)).to_pylist()


def read_body(data: bytes, encoding: str, text: str, delimiter: str) -> Body:
    """The file's records as a Body: pyarrow for plain files, the csv module otherwise.

    InputError for an empty file, an over-long field, or invalid CSV (with the line)."""
    body = fast_body(data, encoding, text, delimiter)
    if body is not None:
        return body
    records = list(read_records(text, delimiter))
    if not records:
        raise InputError("the file is empty")
    if records[0][0] != 1:
        raise InputError("the first line must be a header row", line=1)
    return body_from_records(records)
