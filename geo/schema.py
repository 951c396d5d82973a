"""The native event schema, defined once.

It drives validation (geo.ingest), the store's columns (geo.store), export column order
(geo.export), popup fields (geo.map.build) and the README's data dictionary. Modelled on ACLED and
UCDP GED so their exports map cleanly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    TEXT = "text"
    DATE = "date"
    INT = "int"
    FLOAT = "float"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    meaning: str
    required: bool = False
    allowed: tuple[str, ...] | None = None  # controlled vocabulary (codes)
    minimum: float | None = None
    maximum: float | None = None


EVENT_TYPES: dict[str, str] = {
    "shelling": "Shelling / artillery",
    "air_drone_strike": "Air / drone strike",
    "missile_strike": "Missile strike",
    "armed_clash": "Armed clash",
    "capture": "Capture / control change",
    "ceasefire": "Ceasefire / agreement",
    "statement": "Statement",
    "violation_report": "Ceasefire violation report",
    "protest": "Protest / demonstration",
    "humanitarian": "Humanitarian / displacement",
    "other": "Other",
}
# One colour per type, everywhere: map, legend, timeline, briefing images.
EVENT_COLOR = {
    "shelling": "#d62728",
    "air_drone_strike": "#9467bd",
    "missile_strike": "#8c564b",
    "armed_clash": "#ff7f0e",
    "capture": "#2ca02c",
    "ceasefire": "#17becf",
    "statement": "#1f77b4",
    "violation_report": "#e377c2",
    "protest": "#bcbd22",
    "humanitarian": "#7f7f7f",
    "other": "#555555",
}
# Types that may have no map point: a statement or agreement is not a place on the ground.
POINTLESS_TYPES = frozenset({"statement", "ceasefire"})
# The columns the dashboard's text filter looks in (geo.view.filter_events, the stores' SQL).
TEXT_SEARCH_COLUMNS = ("location", "notes", "actor1", "actor2", "source", "claimed_by", "admin1")

SIDES: dict[str, str] = {
    "armenian": "Armenian forces / Armenia / Nagorno-Karabakh authorities",
    "azerbaijani": "Azerbaijani forces / Azerbaijan",
    "russian": "Russia / Russian peacekeepers",
    "international": "International (OSCE, UN, third states)",
    "civilian": "Civilians",
    "unknown": "Unknown / unattributed",
}
VERIFICATION: dict[str, str] = {
    "claimed": "one side's claim, not independently checked",
    "corroborated": "reported by more than one independent source",
    "confirmed": "confirmed by both sides or an independent observer",
}
TIME_PRECISION: dict[int, str] = {1: "exact day", 2: "within the week", 3: "within the month"}
GEO_PRECISION: dict[int, str] = {
    1: "exact place",
    2: "near the place / part of a region",
    3: "region or province centroid",
}

COLUMNS: tuple[Column, ...] = (
    Column("event_id", Kind.TEXT, "stable id: given, or a hash of date+place+type+source"),
    Column("event_date", Kind.DATE, "ISO date the event happened (first day)", required=True),
    Column("date_end", Kind.DATE, "last day of a multi-day event (blank = one day)"),
    Column(
        "time_precision",
        Kind.INT,
        "1 exact day, 2 within the week, 3 within the month",
        minimum=1,
        maximum=3,
    ),
    Column(
        "event_type", Kind.TEXT, "controlled vocabulary", required=True, allowed=tuple(EVENT_TYPES)
    ),
    Column("sub_event_type", Kind.TEXT, "finer type, free text"),
    Column("actor1", Kind.TEXT, "who acted"),
    Column("actor2", Kind.TEXT, "against or with whom"),
    Column("side", Kind.TEXT, "the side actor1 belongs to", allowed=tuple(SIDES)),
    Column("location", Kind.TEXT, "place name as reported"),
    Column("admin1", Kind.TEXT, "first-level admin area (marz, rayon, region)"),
    Column("country", Kind.TEXT, "ISO 3166-1 alpha-3 code of the country the place is in"),
    Column("latitude", Kind.FLOAT, "WGS84 latitude", minimum=-90, maximum=90),
    Column("longitude", Kind.FLOAT, "WGS84 longitude", minimum=-180, maximum=180),
    Column(
        "geo_precision",
        Kind.INT,
        "1 exact place, 2 near / part of region, 3 region centroid",
        minimum=1,
        maximum=3,
    ),
    Column("fatalities", Kind.INT, "best estimate; blank = unknown (not 0)", minimum=0),
    Column("fatalities_low", Kind.INT, "low estimate", minimum=0),
    Column("fatalities_high", Kind.INT, "high estimate", minimum=0),
    Column("civilian_fatalities", Kind.INT, "civilians among the fatalities", minimum=0),
    Column("source", Kind.TEXT, "publisher and date of the report", required=True),
    Column("source_url", Kind.TEXT, "URL of the report, only when real"),
    Column(
        "source_url_2",
        Kind.TEXT,
        "URL of a second report (e.g. the other side's figures), only when real",
    ),
    Column("claimed_by", Kind.TEXT, "whose claim this is (blank = not a one-sided claim)"),
    Column(
        "verification", Kind.TEXT, "claimed / corroborated / confirmed", allowed=tuple(VERIFICATION)
    ),
    Column("notes", Kind.TEXT, "free text; always rendered escaped"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
# Columns whose content identifies an event when the source gives no id.
IDENTITY_COLUMNS: tuple[str, ...] = ("event_date", "location", "event_type", "source")
# Text in the source's own words (no vocabulary, no format): what hostile-text checks cover.
FREE_TEXT_COLUMNS: tuple[str, ...] = tuple(
    c.name
    for c in COLUMNS
    if c.kind is Kind.TEXT
    and c.allowed is None
    and c.name not in ("event_id", "country", "source_url", "source_url_2")
)
# Where an event's reports are: absolute http(s) URLs (geo.ingest.rules), drawn as links.
URL_COLUMNS: tuple[str, ...] = ("source_url", "source_url_2")
# Shown in popups and tables, in this order.
POPUP_COLUMNS: tuple[str, ...] = (
    "event_date", "date_end", "event_type", "location", "fatalities", "fatalities_low",
    "fatalities_high", "civilian_fatalities", "actor1", "actor2", "source", "claimed_by",
    "verification", "geo_precision", "time_precision", "notes",
)  # fmt: skip


def data_dictionary_markdown() -> str:
    """The schema as a Markdown table (the README's data dictionary is generated from this)."""
    lines = ["| column | type | meaning |", "|---|---|---|"]
    for c in COLUMNS:
        meaning = c.meaning + (" (required)" if c.required else "")
        if c.allowed:
            meaning += ": " + ", ".join(f"`{a}`" for a in c.allowed)
        lines.append(f"| `{c.name}` | {c.kind.value} | {meaning} |")
    return "\n".join(lines)
