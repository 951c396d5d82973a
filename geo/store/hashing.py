"""Content hashes: "this event's content changed" between imports, for a row or a column."""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo.schema import BY_NAME, COLUMN_NAMES, Kind

# ---------------------------------------------------------------------------------- hashes
# A content hash says "this event's content changed" between imports. It is the sha256 of the
# row's canonical text: every schema column in schema order, joined by the unit separator.
# The canonical text of a value does not depend on how the source wrote it (a float is its
# IEEE-754 bits, a date is ISO), so an exported file re-imports as duplicates, and it can be
# built for a whole column at once (`content_hashes`) or for one row (`content_hash`).
_SEP = "\x1f"
_NULL = "\\N"  # never the text of a value: escaped text has no lone backslash before N


def _text_key(value: str) -> str:
    return value.replace("\\", "\\\\").replace(_SEP, "\\s")


def _float_key(value: float) -> str:
    # + 0.0 turns -0.0 into 0.0: SQLite does not keep the sign of a zero REAL.
    return str(struct.unpack("<Q", struct.pack("<d", float(value) + 0.0))[0])


def _value_key(kind: Kind, value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return _NULL
    if kind is Kind.DATE:
        return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]
    if kind is Kind.INT:
        return str(int(value))
    if kind is Kind.FLOAT:
        return _float_key(value)
    return _text_key(str(value))


def content_hash(values: Mapping[str, object]) -> str:
    """sha256 of one event's canonical text (missing columns count as empty)."""
    text = _SEP.join(_value_key(BY_NAME[c].kind, values.get(c)) for c in COLUMN_NAMES)
    return hashlib.sha256(text.encode()).hexdigest()


def _column_keys(kind: Kind, col: pd.Series) -> pa.Array:
    """The canonical text of a whole column (the vectorised `_value_key`); nulls stay null."""
    if kind is Kind.FLOAT:
        numbers = pd.to_numeric(col).astype("float64").to_numpy(na_value=np.nan) + 0.0
        bits = pa.array(numbers.view(np.uint64), mask=np.isnan(numbers))
        return pc.cast(bits, pa.string())
    if kind is Kind.INT:
        ints = pd.array(pd.to_numeric(col), dtype="Int64")
        raw = ints.to_numpy(dtype="int64", na_value=0)
        return pc.cast(pa.array(raw, mask=np.asarray(ints.isna())), pa.string())
    if kind is Kind.DATE and col.dtype == object:
        col = col.map(lambda v: v.isoformat() if isinstance(v, dt.date) else v)
    values = pa.array(col, type=pa.string(), from_pandas=True)
    if kind is Kind.DATE:
        return pc.utf8_slice_codeunits(values, 0, 10)
    if _may_contain(values, b"\\"):
        values = pc.replace_substring(values, "\\", "\\\\")
    if _may_contain(values, _SEP.encode()):
        values = pc.replace_substring(values, _SEP, "\\s")
    return values


def _may_contain(values: pa.Array | pa.ChunkedArray, byte: bytes) -> bool:
    """False when no string in `values` contains `byte` (a scan of the bytes its strings use;
    bytes under a null may be scanned too, which can only make it say True)."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    for chunk in chunks:
        _, offsets, data = chunk.buffers()
        if data is None or len(chunk) == 0:
            continue
        text = np.frombuffer(data, dtype=np.uint8)
        if pa.types.is_string(chunk.type):  # a slice: only its own rows' bytes
            ends = np.frombuffer(offsets, np.int32, count=len(chunk) + 1, offset=chunk.offset * 4)
            text = text[ends[0] : ends[-1]]
        if (text == byte[0]).any():
            return True
    return False


# Rows hashed at a time: the canonical text of a million rows would be hundreds of MB at once.
_HASH_BLOCK = 100_000


def content_hashes(frame: pd.DataFrame) -> list[str]:
    """`content_hash` of every row of a frame of schema columns, in order.

    Dates may be ISO text or datetimes; missing values may be None, NaN or NA."""
    hashes: list[str] = []
    for start in range(0, len(frame), _HASH_BLOCK):
        hashes.extend(_block_hashes(frame.iloc[start : start + _HASH_BLOCK]))
    return hashes


def _block_hashes(frame: pd.DataFrame) -> list[str]:
    parts = []
    for name in COLUMN_NAMES:
        kind = BY_NAME[name].kind
        col = frame[name] if name in frame else pd.Series(None, index=frame.index, dtype=object)
        if kind is Kind.DATE and pd.api.types.is_datetime64_any_dtype(col):
            col = col.dt.strftime("%Y-%m-%d")
        parts.append(pc.fill_null(_column_keys(kind, col), _NULL))
    joined = pc.binary_join_element_wise(*parts, _SEP)
    del parts
    if isinstance(joined, pa.ChunkedArray):
        joined = joined.combine_chunks()
    # Hash slices of the joined buffer: no bytes object per row (nothing is null here).
    _, offsets, data = joined.buffers()
    width = np.dtype(np.int64 if pa.types.is_large_string(joined.type) else np.int32)
    start = joined.offset * width.itemsize
    bounds = np.frombuffer(offsets, dtype=width, count=len(joined) + 1, offset=start).tolist()
    text = memoryview(data) if data is not None else memoryview(b"")
    sha = hashlib.sha256
    return [sha(text[a:b]).hexdigest() for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
