"""What the user is looking at (period, filters, layers, map view), its URL form, and the filter.

`View` is the one description of a view: the dashboard builds it from widgets, a permalink
carries it in the query string, and the briefing export will render it. Parsing a URL never
fails: a value that does not parse falls back to the default, so an old or hand-edited link
still opens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from geo.layers import LAYER_NAMES
from geo.region import LonLatBox, events_box
from geo.schema import EVENT_TYPES, POINTLESS_TYPES, SIDES, TEXT_SEARCH_COLUMNS

if TYPE_CHECKING:  # pandas loads with filter_events: the geocoders import View's Convention
    import pandas as pd


class Convention(StrEnum):
    """How a contested place is labelled."""

    BOTH = "both"  # "Stepanakert / Khankendi" (Armenian / Azerbaijani, as in DESIGN.md)
    ARMENIAN = "armenian"
    AZERBAIJANI = "azerbaijani"


EXTRA_LAYERS = ("events", "heat")
ALL_LAYERS = (*LAYER_NAMES, *EXTRA_LAYERS)
DEFAULT_LAYERS = (*LAYER_NAMES, "events")
FIRST_DAY = dt.date(1994, 5, 12)  # the 1994 ceasefire
LAST_DAY = dt.date(2024, 12, 31)

PRESETS: dict[str, tuple[dt.date, dt.date]] = {
    "April 2016 war": (dt.date(2016, 4, 1), dt.date(2016, 4, 5)),
    "July 2020 Tovuz clashes": (dt.date(2020, 7, 12), dt.date(2020, 7, 16)),
    "2020 war": (dt.date(2020, 9, 27), dt.date(2020, 11, 10)),
    "Lachin corridor blockade": (dt.date(2022, 12, 12), dt.date(2023, 9, 18)),
    "2023 offensive and exodus": (dt.date(2023, 9, 19), dt.date(2023, 10, 1)),
}
CUSTOM, SINGLE_DAY = "Custom", "Single day (the To date)"


def preset_for(start: dt.date, end: dt.date) -> str:
    """The preset whose period is exactly [start, end] (a permalink to the 2020 war says
    "2020 war", not "Custom"); SINGLE_DAY for one day; else CUSTOM."""
    for name, period in PRESETS.items():
        if period == (start, end):
            return name
    return SINGLE_DAY if start == end else CUSTOM


def slider_bounds(
    start: dt.date, end: dt.date, data_span: tuple[dt.date, dt.date]
) -> tuple[dt.date, dt.date]:
    """The period slider's range: the calendar years of the period (a six-week war is not a
    dot on a 30-year line), or the stored events' span for a period of three years or more.
    Always holds the period, and is never a single day."""
    if end.year - start.year >= 2:
        lo, hi = min(data_span[0], start), max(data_span[1], end)
    else:
        lo, hi = dt.date(start.year, 1, 1), dt.date(end.year, 12, 31)
    lo, hi = max(lo, FIRST_DAY), min(hi, LAST_DAY)
    lo, hi = min(lo, start), max(hi, end)
    if lo == hi:
        lo, hi = lo - dt.timedelta(days=1), hi + dt.timedelta(days=1)
    return lo, hi


@dataclass(frozen=True)
class View:
    start: dt.date = dt.date(2020, 9, 27)
    end: dt.date = dt.date(2020, 10, 5)  # the seed article: the co-chairs' ceasefire call
    types: tuple[str, ...] = ()  # empty = every type
    sides: tuple[str, ...] = ()
    claimed_by: tuple[str, ...] = ()
    fatalities_min: int | None = None
    fatalities_max: int | None = None
    precise_only: bool = False
    text: str = ""
    layers: tuple[str, ...] = DEFAULT_LAYERS
    convention: str = Convention.BOTH.value
    center: tuple[float, float] | None = None
    zoom: int | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    # ---------------------------------------------------------------- URL form

    def to_query(self) -> dict[str, str]:
        """The view as query-string parameters (defaults left out, so links stay short)."""
        d = View()
        q: dict[str, str] = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.types:
            q["types"] = ",".join(self.types)
        if self.sides:
            q["sides"] = ",".join(self.sides)
        if self.claimed_by:
            q["claimed"] = "|".join(self.claimed_by)
        if self.fatalities_min is not None:
            q["fmin"] = str(self.fatalities_min)
        if self.fatalities_max is not None:
            q["fmax"] = str(self.fatalities_max)
        if self.precise_only:
            q["precise"] = "1"
        if self.text:
            q["q"] = self.text
        if self.layers != d.layers:
            q["layers"] = ",".join(self.layers)
        if self.convention != d.convention:
            q["names"] = self.convention
        if self.center is not None:
            q["lat"], q["lon"] = f"{self.center[0]:.4f}", f"{self.center[1]:.4f}"
        if self.zoom is not None:
            q["z"] = str(self.zoom)
        return q

    @classmethod
    def from_query(cls, query: Mapping[str, str | list[str]]) -> View:
        """A view from query-string parameters; anything unreadable keeps its default."""

        def get(key: str) -> str | None:
            value = query.get(key)
            if isinstance(value, list):
                value = value[-1] if value else None
            return value.strip() if isinstance(value, str) and value.strip() else None

        def day(key: str, default: dt.date) -> dt.date:
            try:
                return min(max(dt.date.fromisoformat(get(key) or ""), FIRST_DAY), LAST_DAY)
            except ValueError:
                return default

        def whole(key: str) -> int | None:
            try:
                return max(0, int(get(key) or ""))
            except ValueError:
                return None

        def codes(key: str, allowed) -> tuple[str, ...]:
            return tuple(c for c in (get(key) or "").split(",") if c in allowed)

        d = cls()
        start, end = day("from", d.start), day("to", d.end)
        if start > end:
            start, end = end, start
        center = None
        try:
            lat, lon = float(get("lat") or ""), float(get("lon") or "")
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                center = (lat, lon)
        except ValueError:
            pass
        zoom = whole("z")
        layers = codes("layers", ALL_LAYERS) if get("layers") else d.layers
        names = get("names")
        return cls(
            start=start,
            end=end,
            types=codes("types", EVENT_TYPES),
            sides=codes("sides", SIDES),
            claimed_by=tuple(c for c in (get("claimed") or "").split("|") if c),
            fatalities_min=whole("fmin"),
            fatalities_max=whole("fmax"),
            precise_only=get("precise") == "1",
            text=(get("q") or "")[:200],
            layers=layers,
            convention=names if names in {c.value for c in Convention} else d.convention,
            center=center,
            zoom=zoom if zoom is not None and 3 <= zoom <= 18 else None,
        )

    def with_period(self, start: dt.date, end: dt.date) -> View:
        return replace(self, start=start, end=end)

    def describe(self) -> str:
        """The active filters in words (for captions and briefing subtitles)."""
        parts = [f"{self.start:%d %b %Y} to {self.end:%d %b %Y}"]
        if self.types:
            parts.append("types: " + ", ".join(EVENT_TYPES[t] for t in self.types))
        if self.sides:
            parts.append("sides: " + "; ".join(SIDES.get(s, s) for s in self.sides))
        if self.claimed_by:
            parts.append("claimed by: " + ", ".join(self.claimed_by))
        if self.fatalities_min is not None or self.fatalities_max is not None:
            low = self.fatalities_min if self.fatalities_min is not None else 0
            high = self.fatalities_max if self.fatalities_max is not None else "any"
            parts.append(f"fatalities {low}-{high}")
        if self.precise_only:
            parts.append("precise locations only")
        if self.text:
            parts.append(f'text "{self.text}"')
        return "; ".join(parts)


def filter_events(events: pd.DataFrame, view: View) -> pd.DataFrame:
    """The events of `events` that pass the view's filters (the period is the store's job).

    Fatalities: a range filter keeps events whose known count is in range; events with unknown
    fatalities stay only while the range starts at 0 (unknown is not zero, but not excluded
    from an "any" range either).
    """
    import pandas as pd

    keep = pd.Series(True, index=events.index)
    if view.types:
        keep &= events["event_type"].isin(view.types)
    if view.sides:
        keep &= events["side"].isin(view.sides)
    if view.claimed_by:
        keep &= events["claimed_by"].isin(view.claimed_by)
    fat = events["fatalities"]
    if view.fatalities_min:
        keep &= fat.notna() & (fat >= view.fatalities_min)
    if view.fatalities_max is not None:
        keep &= fat.isna() | (fat <= view.fatalities_max)
    if view.precise_only:
        keep &= events["geo_precision"].fillna(1) <= 1
        keep &= events["latitude"].notna()
    if view.text:
        needle = view.text.lower()
        hit = pd.Series(False, index=events.index)
        for col in TEXT_SEARCH_COLUMNS:
            hit |= events[col].fillna("").str.lower().str.contains(needle, regex=False)
        keep &= hit
    return events[keep.fillna(False).astype(bool)]


def frame_box(events: pd.DataFrame) -> LonLatBox | None:
    """The box that frames a view's events: where things happened on the ground.

    Statements and agreements (POINTLESS_TYPES, placed at capitals or where talks were held) do
    not widen the frame unless the view has nothing else. None when no event has a point in the
    region.
    """
    if events.empty or "latitude" not in events:
        return None
    lat, lon = events["latitude"], events["longitude"]
    # The two columns only: a row mask over the whole frame copied every column (0.7 s of a
    # briefing export of 424,000 events, profiled).
    grounded = ~events["event_type"].isin(POINTLESS_TYPES).to_numpy()
    for keep in (grounded, None):
        box = events_box(lat, lon) if keep is None else events_box(lat[keep], lon[keep])
        if box is not None:
            return box
    return None
