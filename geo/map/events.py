"""Events on the map as a compact columnar payload, drawn on one canvas (geo/js/events.js).

Why not one GeoJSON feature per event: folium serialises each feature with its style and a
pre-built popup, and Leaflet makes an object per feature; at 100,000 events that is hundreds
of MB of page and seconds of drawing (bench/RESULTS.md has the numbers). Here every event is a
few typed-array entries (coordinates, first and last day, type, style) sent as base64, and
popup text is dictionary-coded per column, so repeated places, sources and claimants are sent
once. The browser filters by time itself, so the time control and the period change without
rebuilding the map.

Event text never becomes HTML: the browser fills popups and tooltips with textContent. The
JSON is also made safe to sit inside a <script> element.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import folium
import numpy as np
import pandas as pd
from branca.element import Element, MacroElement, Template

from geo.map import served
from geo.places.names import place_label
from geo.schema import EVENT_COLOR, EVENT_TYPES, GEO_PRECISION, POPUP_COLUMNS, TIME_PRECISION
from geo.settings import Settings
from geo.text import script_safe_json
from geo.view import Convention

POPUP_LABELS = {
    "event_date": "Date",
    "date_end": "Until",
    "event_type": "Type",
    "location": "Place",
    "fatalities": "Fatalities",
    "fatalities_low": "Fatalities (low)",
    "fatalities_high": "Fatalities (high)",
    "civilian_fatalities": "Civilians killed",
    "actor1": "Actor",
    "actor2": "Against / with",
    "source": "Source",
    "claimed_by": "Claimed by",
    "verification": "Verification",
    "geo_precision": "Location",
    "time_precision": "Date precision",
    "notes": "Notes",
}
# Popup text sent to the browser, in characters. Columns are taken in popup order until the
# budget is spent; a column that does not fit (in practice: free-text notes of 100,000+
# events) is left out and its popup row says where to read it.
TEXT_BUDGET = 12_000_000
# Above this many events in view, the canvas draws counts per screen cell instead of circles.
AGGREGATE_ABOVE = 150_000
_JS = Path(__file__).with_name("js") / "events.js"
_DAY = np.timedelta64(1, "D")


@cache
def _library() -> str:
    return _JS.read_text(encoding="utf-8")


@dataclass(frozen=True)
class EventPayload:
    """The events of a map, ready for the browser (picklable, so the app can cache it)."""

    json: str  # safe inside <script>: no "<", ">", "&", "`" or "$" characters
    count: int  # events with a map point
    types: tuple[str, ...]  # event types present, in schema order
    omitted: tuple[str, ...]  # popup columns left out for size
    # Names the payload's file. A field, so the app's cached copies carry it and a rerun
    # does not hash megabytes of JSON again.
    digest: str = field(init=False, default="")

    def __post_init__(self) -> None:
        digest = hashlib.sha256(self.json.encode("utf-8")).hexdigest()[:24] if self.json else ""
        object.__setattr__(self, "digest", digest)

    def published(self) -> EventPayload:
        """The payload without its JSON, once the browser fetches it from a file (`publish`):
        what the app keeps in its cache (kilobytes, not the megabytes of events)."""
        light = replace(self, json="")
        object.__setattr__(light, "digest", self.digest)
        return light


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def _days(values: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 of a datetime column (NaT -> a sentinel the caller replaces)."""
    as_days = values.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    return as_days.astype(np.int64)


def _radius(fatalities: pd.Series) -> np.ndarray:
    """Circle radius in quarter pixels: 5 px when unknown, growing with sqrt(fatalities)."""
    f = fatalities.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    px = np.where(np.isnan(f), 5.0, np.minimum(18.0, 4.0 + 2.0 * np.sqrt(np.clip(f, 0, None))))
    return np.rint(px * 4).astype(np.uint8)


def _display(name: str, value: object, convention: Convention) -> str:
    """A popup cell as plain text (the browser shows it as text, never as HTML)."""
    if name in ("geo_precision", "time_precision"):
        labels = GEO_PRECISION if name == "geo_precision" else TIME_PRECISION
        return labels.get(int(value), str(value))
    if name == "location":
        return place_label(str(value), convention)
    return str(value)


class _TextColumn:
    """One popup column dictionary-coded as batches come in: each distinct value once, one
    small int per event (0 = blank). A column whose distinct text outgrows the whole budget
    stops collecting: it would be left out anyway."""

    def __init__(self, name: str, budget: int) -> None:
        self.name = name
        self.budget = budget
        self.codes: dict[object, int] = {}
        self.parts: list[np.ndarray] = []
        self.chars = 0
        self.over = False

    def add(self, column: pd.Series) -> None:
        if self.over:
            return
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        known = self.codes
        lookup = np.empty(len(uniques) + 1, dtype=np.uint32)
        lookup[-1] = 0  # the NA sentinel (-1) indexes the last slot
        for i, value in enumerate(uniques):
            code = known.get(value)
            if code is None:
                code = known[value] = len(known) + 1
                self.chars += len(str(value))
            lookup[i] = code
        if self.chars > self.budget:
            self.over, self.codes, self.parts = True, {}, []
            return
        self.parts.append(lookup[codes])

    def field(self, convention: Convention) -> tuple[dict, int]:
        values = [""] + [_display(self.name, u, convention) for u in self.codes]
        width = 1 if len(values) <= 1 << 8 else 2 if len(values) <= 1 << 16 else 4
        dtype = {1: np.uint8, 2: np.uint16, 4: np.uint32}[width]
        codes = np.concatenate(self.parts) if self.parts else np.empty(0, dtype=np.uint32)
        spec = {
            "name": self.name,
            "label": POPUP_LABELS[self.name],
            "kind": "text",
            "values": values,
            "codes": _b64(codes.astype(dtype)),
            "width": width,
        }
        return spec, sum(len(v) for v in values)


class PayloadBuilder:
    """The browser payload of events that come in batches (store frames, in any number): the
    store never hands over a whole period at once, and only the payload's arrays grow."""

    _NUMERIC = ("lat", "lon", "d0", "d1", "type", "flags", "radius", "weight")

    def __init__(
        self, convention: Convention | str = Convention.BOTH, text_budget: int = TEXT_BUDGET
    ):
        self.convention = Convention(convention)
        self.text_budget = text_budget
        self.arrays: dict[str, list[np.ndarray]] = {k: [] for k in self._NUMERIC}
        self.text = {
            name: _TextColumn(name, text_budget)
            for name in POPUP_COLUMNS
            if name not in ("event_date", "date_end", "event_type")
        }
        self.present: set[str] = set()
        self.n = 0

    def add(self, events: pd.DataFrame) -> PayloadBuilder:
        """One batch of events (geo.schema columns); those without a map point are left out."""
        self.present.update(pd.unique(events["event_type"].dropna()))
        placed = events[events["latitude"].notna() & events["longitude"].notna()]
        if not len(placed):
            return self
        self.n += len(placed)
        d0 = _days(placed["event_date"])
        ends = placed["date_end"]
        d1 = np.where(ends.notna().to_numpy(), _days(ends.fillna(placed["event_date"])), d0)
        # Categorical straight from the (Arrow) strings: .astype(str) would make 1M Python strings.
        type_codes = pd.Categorical(placed["event_type"], categories=list(EVENT_TYPES))
        approximate = placed["geo_precision"].astype("Float64").fillna(1).to_numpy(float) >= 2
        weight = 1 + placed["fatalities"].astype("Float64").fillna(0).clip(0, 50).to_numpy(float)
        a = self.arrays
        a["lat"].append(placed["latitude"].to_numpy(dtype=np.float32, na_value=np.nan))
        a["lon"].append(placed["longitude"].to_numpy(dtype=np.float32, na_value=np.nan))
        a["d0"].append(d0.astype(np.int32))
        a["d1"].append(np.asarray(d1).astype(np.int32))
        a["type"].append(np.asarray(type_codes.codes).astype(np.uint8))
        a["flags"].append(approximate.astype(np.uint8))
        a["radius"].append(_radius(placed["fatalities"]))
        a["weight"].append(np.rint(weight).astype(np.uint16))
        for name, column in self.text.items():
            column.add(placed[name])
        return self

    def finish(self) -> EventPayload:
        n = self.n
        fields: list[dict] = []
        omitted: list[str] = []
        spent = 0
        for name in POPUP_COLUMNS:
            if name in ("event_date", "date_end", "event_type"):
                kind = {"event_date": "d0", "date_end": "d1", "event_type": "type"}[name]
                fields.append({"name": name, "label": POPUP_LABELS[name], "kind": kind})
                continue
            column = self.text[name]
            spec, size = (
                (None, self.text_budget + 1) if column.over else column.field(self.convention)
            )
            if spent + size > self.text_budget:
                omitted.append(name)
                fields.append(
                    {
                        "name": name,
                        "label": POPUP_LABELS[name],
                        "kind": "omitted",
                        "note": f"not sent to the map for {n:,} events: see the events table "
                        "or an export",
                    }
                )
                continue
            spent += size
            fields.append(spec)
        joined = {
            k: np.concatenate(v) if v else np.empty(0, dtype=np.uint8)
            for k, v in self.arrays.items()
        }
        payload = {
            "n": n,
            **{k: _b64(joined[k]) for k in self._NUMERIC},
            "types": [{"label": lbl, "color": EVENT_COLOR[c]} for c, lbl in EVENT_TYPES.items()],
            "fields": fields,
        }
        return EventPayload(
            json=script_safe_json(payload),
            count=n,
            types=tuple(t for t in EVENT_TYPES if t in self.present),
            omitted=tuple(omitted),
        )


def event_payload(
    events: pd.DataFrame | Iterable[pd.DataFrame],
    convention: Convention | str = Convention.BOTH,
    text_budget: int = TEXT_BUDGET,
) -> EventPayload:
    """The placed events of a store frame (geo.schema columns), or of the frames a store
    hands over in batches (`store.frames(view)`), as a browser payload."""
    builder = PayloadBuilder(convention, text_budget)
    for frame in [events] if isinstance(events, pd.DataFrame) else events:
        builder.add(frame)
    return builder.finish()


def publish(payload: EventPayload, settings: Settings | None = None) -> str:
    """Write the payload where the app's static serving finds it (geo.map.served); return its
    URL.

    The dashboard's map then carries a URL instead of the payload: re-rendering and hashing
    the map's script on every rerun cost 1.6 s per widget change at 100,000 events (11 MB of
    payload; measured with streamlit-folium).
    """
    return served.publish("events", payload.digest, ".json", payload.json, settings)


def is_published(payload: EventPayload, settings: Settings | None = None) -> bool:
    """True when `publish` wrote this payload's file and it is still there."""
    return served.is_published("events", payload.digest, ".json", settings)


class EventData(MacroElement):
    """One payload in the page, for the event layers that draw it: inline (self-contained
    exports) or fetched from `url` (the dashboard, see `publish`)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.library }}
        {%- if this.url %}
        var {{ this.get_name() }} = NKMap.fetchSource({{ this.url | tojson }});
        {%- else %}
        var {{ this.get_name() }} = NKMap.source(NKMap.decode({{ this.payload.json }}));
        {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(self, payload: EventPayload, url: str | None = None) -> None:
        super().__init__()
        self._name = "EventData"
        self.payload = payload
        self.url = url
        self.library = _library()

    def render(self, **kwargs) -> None:
        """With a URL, the page's head asks for the payload at once (a preload the script's
        fetch then takes), so it downloads while Leaflet and the map's script load. Only for a
        path on the page's own server (the dashboard's `publish`): a page never asks the
        browser to fetch from elsewhere before its script runs."""
        if self.url and self.url.startswith("/") and not self.url.startswith("//"):
            figure = self.get_root()
            link = (
                f'<link rel="preload" href="{html.escape(self.url, quote=True)}" as="fetch"'
                ' crossorigin="anonymous">'
            )
            figure.header.add_child(Element(link), name=f"preload_{self.get_name()}", index=0)
        super().render(**kwargs)


class EventsLayer(folium.map.Layer):
    """A Leaflet layer that draws an EventData on a canvas: circles, or cells at low zoom."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = NKMap.eventsLayer(
            {{ this.data.get_name() }}, {{ this.layer_options | tojson }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        data: EventData,
        name: str,
        *,
        mode: str = "points",
        p0: int | None = None,
        day: int | None = None,
        show: bool = True,
        aggregate_above: int = AGGREGATE_ABOVE,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "EventsLayer"
        self.data = data
        self.layer_options = {
            "mode": mode,
            "name": "heat" if mode == "heat" else "events",
            "aggregateAbove": aggregate_above,
        }
        if p0 is not None:
            self.layer_options["p0"] = p0
        if day is not None:
            self.layer_options["day"] = day
