"""Reviewing a report's candidate events before they are imported (the Upload page's "From a
report" tab), without Streamlit: the table a reviewer edits, its CSV, the report's text with
each candidate's sentence highlighted, and the candidates the map preview draws.

The reviewed rows go in as a native CSV (`review_csv`) through the same dry run and import as
an uploaded file, so the ingest rules, rejects, batches and undo are the same.

The report's text is data: `highlight_html` escapes every piece of it and adds only fixed tags
(and row numbers it formats itself), for st.html, never for Markdown.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
from collections.abc import Iterable, Sequence

import pandas as pd

from geo.extract import EXTRA_COLUMNS, to_csv
from geo.schema import BY_NAME, COLUMN_NAMES, Kind
from geo.store.records import typed_frame

# What a reviewer checks first, in this order; the other native columns follow (all editable),
# the evidence columns stay in the data (offsets into the text) but are not shown.
FIRST_COLUMNS: tuple[str, ...] = (
    "event_date", "date_end", "event_type", "location", "latitude", "longitude",
    "geo_precision", "claimed_by", "fatalities", "actor1", "confidence", "notes",
)  # fmt: skip
SHOWN_COLUMNS: tuple[str, ...] = (
    *FIRST_COLUMNS,
    *(c for c in COLUMN_NAMES if c not in FIRST_COLUMNS),
)
EVIDENCE_COLUMNS: tuple[str, ...] = ("evidence_start", "evidence_end", "evidence")
# Not the reviewer's to change: the extractor's score and where the row came from.
READ_ONLY_COLUMNS: tuple[str, ...] = ("confidence", *EVIDENCE_COLUMNS)
INDEX_NAME = "#"  # the row number, shown in the table and on the highlighted sentence

# Fixed markup: a scrolling box that keeps the report's line breaks, and numbered marks that
# stay readable on a light or a dark theme (their colours are set, not inherited).
HIGHLIGHT_CSS = (
    "<style>"
    ".nk-report{white-space:pre-wrap;overflow-wrap:anywhere;font-size:0.9rem;"
    "line-height:1.6;max-height:40rem;overflow-y:auto;padding:0.75rem 0.9rem;"
    "border:1px solid rgba(128,128,128,0.35);border-radius:0.5rem}"
    ".nk-report mark{background:#ffe58a;color:#1a1a1a;padding:0.05rem 0.15rem;"
    "border-radius:0.2rem;box-decoration-break:clone;-webkit-box-decoration-break:clone}"
    ".nk-report .nk-n{display:inline-block;font-size:0.7rem;font-weight:700;line-height:1.2;"
    "background:#1f4e79;color:#ffffff;border-radius:0.6rem;padding:0 0.35rem;"
    "margin-right:0.25rem;vertical-align:0.1rem}"
    "</style>"
)


def report_key(
    data: bytes | str, published: dt.date | None, source: str | None, url: str | None
) -> str:
    """A short hash of a report and its details: the review's state (the edited table, the
    dry run) belongs to one report, and a new report starts fresh."""
    digest = hashlib.sha256()
    for part in (data, str(published or ""), source or "", url or ""):
        raw = part if isinstance(part, bytes) else part.encode("utf-8", "surrogatepass")
        digest.update(len(raw).to_bytes(8, "big") + raw)
    return digest.hexdigest()[:16]


def review_frame(candidates: pd.DataFrame) -> pd.DataFrame:
    """The candidates as the reviewer edits them: schema dtypes (dates, nullable numbers),
    the columns to check first, and rows numbered from 1 (the index, named "#")."""
    frame = typed_frame(candidates)
    for name in EXTRA_COLUMNS:
        frame[name] = candidates[name]
    frame = frame[[*SHOWN_COLUMNS, *EVIDENCE_COLUMNS]]
    frame["evidence_start"] = pd.to_numeric(frame["evidence_start"]).astype("Int64")
    frame["evidence_end"] = pd.to_numeric(frame["evidence_end"]).astype("Int64")
    frame["confidence"] = pd.to_numeric(frame["confidence"]).astype("Float64")
    frame["evidence"] = frame["evidence"].astype("string")
    frame.index = pd.RangeIndex(1, len(frame) + 1, name=INDEX_NAME)
    return frame


def _cell(kind: Kind, value: object) -> str:
    """One cell of the native CSV: dates as YYYY-MM-DD, whole numbers without ".0", text as it
    is (byte for byte), a missing value blank."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, str):
        return value
    if kind is Kind.DATE and isinstance(value, (dt.date, pd.Timestamp)):
        return value.strftime("%Y-%m-%d")
    if kind is Kind.INT and float(value).is_integer():
        return str(int(value))
    if kind is Kind.FLOAT:
        return repr(float(value))
    return str(value)


def native_rows(edited: pd.DataFrame) -> pd.DataFrame:
    """The reviewed rows as text cells of the native schema (missing columns blank)."""
    out = pd.DataFrame(index=edited.index)
    for name in COLUMN_NAMES:
        kind = BY_NAME[name].kind
        column = edited[name] if name in edited else pd.Series("", index=edited.index)
        out[name] = [_cell(kind, v) for v in column.astype(object)]
    return out


def review_csv(edited: pd.DataFrame) -> bytes:
    """The reviewed rows as the native CSV an uploaded file would be (UTF-8 bytes)."""
    return to_csv(native_rows(edited), extra=False).encode("utf-8")


def evidence_spans(frame: pd.DataFrame) -> list[tuple[str, int, int]]:
    """(row label, start, end) of each row's sentence, from the evidence offsets (rows without
    offsets, or with offsets that make no span, are left out)."""
    spans = []
    for label, start, end in zip(
        frame.index, frame["evidence_start"], frame["evidence_end"], strict=True
    ):
        if pd.isna(start) or pd.isna(end) or int(end) <= int(start):
            continue
        spans.append((str(label), int(start), int(end)))
    return spans


def _merged(spans: Iterable[tuple[str, int, int]], size: int) -> list[tuple[list[str], int, int]]:
    """Spans clipped to the text, in order; overlapping ones (rows of one sentence) as one
    span with all their labels."""
    clipped = sorted(
        (max(0, s), min(size, e), label) for label, s, e in spans if min(size, e) > max(0, s)
    )
    merged: list[tuple[list[str], int, int]] = []
    for start, end, label in clipped:
        if merged and start < merged[-1][2]:
            labels, first, last = merged[-1]
            if label not in labels:
                labels.append(label)
            merged[-1] = (labels, first, max(last, end))
        else:
            merged.append(([label], start, end))
    return merged


def highlight_html(text: str, spans: Sequence[tuple[str, int, int]]) -> str:
    """The report's text as HTML with each span in a numbered <mark>.

    Every piece of the text (and every label) goes through html.escape; the only tags are the
    fixed ones written here. For st.html (no Markdown is involved)."""
    pieces = [HIGHLIGHT_CSS, '<div class="nk-report">']
    at = 0
    for labels, start, end in _merged(spans, len(text)):
        pieces.append(html.escape(text[at:start]))
        number = html.escape(", ".join(labels))
        pieces += ['<mark data-rows="', number, '"><span class="nk-n">', number, "</span>"]
        pieces += [html.escape(text[start:end]), "</mark>"]
        at = end
    pieces.append(html.escape(text[at:]))
    pieces.append("</div>")
    return "".join(pieces)


def preview_events(edited: pd.DataFrame) -> pd.DataFrame:
    """The reviewed rows the map preview can draw, as a store frame (geo.schema dtypes): those
    with a valid date, a known type and coordinates in range. Bad cells (a reviewer's typo)
    leave a row out of the preview; the dry run reports them."""
    rows = native_rows(edited)
    dates = pd.to_datetime(rows["event_date"], format="%Y-%m-%d", errors="coerce")
    ends = pd.to_datetime(rows["date_end"].replace("", None), format="%Y-%m-%d", errors="coerce")
    lat = pd.to_numeric(rows["latitude"].replace("", None), errors="coerce")
    lon = pd.to_numeric(rows["longitude"].replace("", None), errors="coerce")
    ok = dates.notna() & lat.between(-90, 90) & lon.between(-180, 180)
    ok &= rows["event_type"].isin(BY_NAME["event_type"].allowed or ())
    ok &= ends.isna() == (rows["date_end"] == "")
    for name in ("time_precision", "geo_precision", "fatalities", "fatalities_low",
                 "fatalities_high", "civilian_fatalities"):  # fmt: skip
        number = pd.to_numeric(rows[name].replace("", None), errors="coerce")
        ok &= (rows[name] == "") | (number.notna() & (number % 1 == 0))
    return typed_frame(rows[ok].replace("", None)).reset_index(drop=True)
