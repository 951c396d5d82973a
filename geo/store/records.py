"""Validated events and batches as the store takes and gives them: Record, RecordFrame, the
batch and account records, and frames with the schema's dtypes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo.schema import BY_NAME, COLUMN_NAMES, Kind


@dataclass(frozen=True)
class Record:
    """One validated event: values keyed by schema column, plus its content hash."""

    values: Mapping[str, object]
    content_hash: str

    @property
    def event_id(self) -> str:
        return str(self.values["event_id"])


class RecordFrame(Sequence[Record]):
    """Validated events held as columns: a Sequence of Record without a dict per row.

    `frame` has the schema columns and content_hash, one row per event: dates as ISO text,
    whole numbers as Int64, coordinates as float64 (NaN when missing), text with None or NA
    when missing. Indexing builds the Record of one row; the store reads the columns.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame.reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.frame)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return RecordFrame(self.frame.iloc[index])
        row = self.frame.iloc[index]
        values = {name: _python_value(BY_NAME[name].kind, row[name]) for name in COLUMN_NAMES}
        return Record(values, str(row["content_hash"]))

    def __setitem__(self, index: int, record: Record) -> None:
        """Replace one row (tests use it to corrupt a plan after validation)."""
        for name in COLUMN_NAMES:
            value = record.values.get(name)
            self.frame.loc[index, name] = value.isoformat() if isinstance(value, dt.date) else value
        self.frame.loc[index, "content_hash"] = record.content_hash

    def __iter__(self) -> Iterator[Record]:
        for i in range(len(self)):
            yield self[i]

    def event_ids(self) -> list[str]:
        return pa.array(self.frame["event_id"], from_pandas=True).to_pylist()

    def longest_event(self) -> int:
        """The longest date_end - event_date in days (0 without multi-day events)."""
        ends = self.frame["date_end"].dropna()
        if ends.empty:
            return 0
        starts = self.frame.loc[ends.index, "event_date"]
        days = pd.to_datetime(ends, format="%Y-%m-%d") - pd.to_datetime(starts, format="%Y-%m-%d")
        return int(days.max().days)

    def row_batches(
        self, import_id: int, size: int, *, skip_empty: bool = False
    ) -> Iterator[tuple[list[str], Iterable[tuple]]]:
        """(column names, rows) for executemany, `size` rows at a time and in the table's
        (date, id) order, so a large import appends to the table instead of splitting pages
        all over it. With `skip_empty`, a batch leaves out the columns that are empty in all
        its rows (an INSERT stores NULL for them; binding a million NULLs costs seconds)."""
        names = [*COLUMN_NAMES, "content_hash"]
        table = pa.table({n: pa.array(self.frame[n], from_pandas=True) for n in names})
        order = _key_order(table)
        for i in range(0, table.num_rows, size):
            part = table.take(order[i : i + size])  # a batch at a time: no sorted copy of all
            present = [
                n for n in names if not skip_empty or part.column(n).null_count < part.num_rows
            ]
            columns = [part.column(n).to_pylist() for n in present]
            columns.append([import_id] * part.num_rows)
            # A lazy zip: executemany builds each tuple as it goes, not 50,000 up front.
            yield [*present, "import_id"], zip(*columns, strict=True)


def _key_order(table: pa.Table) -> pa.Array:
    """Row indexes in the events table's primary-key order (event_date, event_id)."""
    try:  # sorting days as numbers is twice as fast as comparing their text
        days = pc.cast(table.column("event_date"), pa.date32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        days = table.column("event_date")  # not ISO days: the store will refuse them anyway
    keys = pa.table({"day": days, "id": table.column("event_id")})
    return pc.sort_indices(keys, sort_keys=[("day", "ascending"), ("id", "ascending")])


def _python_value(kind: Kind, value: object) -> object:
    """A frame cell as the row-wise converter gives it: None, date, int, float or str."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if kind is Kind.DATE:
        return dt.date.fromisoformat(str(value))
    if kind is Kind.INT:
        return int(value)
    if kind is Kind.FLOAT:
        return float(value)
    return str(value)


@dataclass(frozen=True)
class ApplyResult:
    import_id: int
    inserted: int
    updated: int


@dataclass(frozen=True)
class BatchInfo:
    """What an import records about itself: who, which file (name, sha256 of its bytes, format)
    and the counts the store cannot know (rows read, duplicates, rejected)."""

    user: str
    file_name: str | None = None
    sha256: str | None = None
    format: str | None = None
    rows: int | None = None
    duplicates: int | None = None
    rejected: int | None = None


@dataclass(frozen=True)
class Batch:
    """One import (or undo) as the store recorded it. `at`, `undone_at`: ISO text, UTC.

    For an undo batch (format 'undo', undo_of = the batch it undid): `inserted` counts events
    it re-created, `updated` those it restored, `removed` those it deleted."""

    id: int
    user: str
    at: str
    file: str | None
    sha256: str | None
    format: str | None
    rows: int | None
    inserted: int | None
    updated: int | None
    duplicates: int | None
    rejected: int | None
    undone_at: str | None
    undone_by: str | None
    undo_of: int | None

    @property
    def removed(self) -> int:
        """Events this batch deleted (only an undo deletes)."""
        if self.format != "undo":
            return 0
        return (self.rows or 0) - (self.inserted or 0) - (self.updated or 0)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class UserRecord:
    """An account as stored. The password hash never shows in a repr (nor in logs)."""

    name: str
    role: str
    password_hash: str = field(repr=False)
    created_at: str
    created_by: str | None


_DATE_DTYPE = pd.to_datetime(pd.Series(["2000-01-01"]), format="%Y-%m-%d").dtype


_ARROW_TYPE = {Kind.TEXT: pa.string(), Kind.DATE: pa.string(), Kind.INT: pa.int64()}


def _rows_frame(rows: list[tuple]) -> pd.DataFrame:
    """SQLite rows of the schema columns as a frame with the schema's dtypes (as typed_frame).

    Each column goes through one typed Arrow array: DataFrame.from_records + typed_frame made
    pandas infer and convert a million Python objects per column (6-8 s for 1M events).
    """
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(COLUMN_NAMES)
    out = {}
    for name, values in zip(COLUMN_NAMES, columns, strict=True):
        kind = BY_NAME[name].kind
        if kind is Kind.FLOAT:
            arr = pa.array(values, type=pa.float64())
            out[name] = pd.arrays.FloatingArray(
                arr.fill_null(0.0).to_numpy(), arr.is_null().to_numpy(zero_copy_only=False)
            )
            continue
        arr = pa.array(values, type=_ARROW_TYPE[kind])
        if kind is Kind.DATE:
            days = pc.strptime(arr, format="%Y-%m-%d", unit="us", error_is_null=False)
            out[name] = days.to_numpy(zero_copy_only=False).astype(_DATE_DTYPE)
        elif kind is Kind.INT:
            out[name] = pd.arrays.IntegerArray(
                arr.fill_null(0).to_numpy(), arr.is_null().to_numpy(zero_copy_only=False)
            )
        else:
            out[name] = pd.array(arr, dtype=pd.StringDtype("pyarrow"))
    return pd.DataFrame(out)


def typed_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Cast a frame of schema columns to the schema's dtypes (dates as datetime64)."""
    out = pd.DataFrame(index=frame.index)
    for name in COLUMN_NAMES:
        col = frame[name] if name in frame else pd.Series(None, index=frame.index, dtype=object)
        kind = BY_NAME[name].kind
        if kind is Kind.DATE:
            # One unit whatever the rows: pandas picks seconds for an empty or all-null column.
            dates = pd.to_datetime(col, format="%Y-%m-%d", errors="raise")
            out[name] = dates.astype(_DATE_DTYPE)
        elif kind is Kind.INT:
            out[name] = pd.to_numeric(col).astype("Int64")
        elif kind is Kind.FLOAT:
            out[name] = pd.to_numeric(col).astype("Float64")
        else:
            out[name] = col.astype("string")
    return out
