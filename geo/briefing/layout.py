"""What a briefing page says and draws around its map, as pure functions of the view.

Title and subtitle, the event counts, the sources in words a reader recognises, the legend
beside the map, the north arrow, the locator inset (the South Caucasus with the frame drawn on
it) and the labels of the view's key events. Every data string is escaped here with
`geo.text.escape_text`; the HTML fragments are put into the page after branca has rendered it
(no template engine sees them), except the event labels, which are map markers (escaped too).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from geo.layers import LAYER_NAMES, LAYER_TITLES, layer_on
from geo.provenance import publisher, publishers_of
from geo.region import CONFLICT_LONLAT_BOX, LonLatBox
from geo.schema import EVENT_COLOR, EVENT_TYPES
from geo.settings import Settings
from geo.text import escape_text
from geo.view import PRESETS, View, preset_for

# ------------------------------------------------------------------------ title and counts


def _where(box: LonLatBox | None) -> str:
    c = CONFLICT_LONLAT_BOX
    inside = box is not None and (
        box.lon_min >= c.lon_min - 0.5
        and box.lon_max <= c.lon_max + 0.5
        and box.lat_min >= c.lat_min - 0.5
        and box.lat_max <= c.lat_max + 0.5
    )
    return "in and around Nagorno-Karabakh" if inside else "in Armenia, Azerbaijan and Karabakh"


def default_title(view: View, box: LonLatBox | None = None) -> str:
    """What and where (the subtitle says when): "Conflict events in and around
    Nagorno-Karabakh: 2020 war". `box`: the frame of the export, if known."""
    if view.types:
        labels = [EVENT_TYPES[t] for t in view.types]
        what = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    else:
        what = "Conflict events"
    title = f"{what} {_where(box)}"
    preset = preset_for(view.start, view.end)
    return f"{title}: {preset}" if preset in PRESETS else title


@dataclass(frozen=True)
class EventCounts:
    """How many events the view holds, how many the map draws, how many have no point."""

    total: int
    drawn: int
    unplaced: int
    shown: bool  # an event layer is on
    filtered: bool  # the view filters events beyond the period

    @classmethod
    def of(cls, events: pd.DataFrame, view: View) -> EventCounts:
        placed = int((events["latitude"].notna() & events["longitude"].notna()).sum())
        filtered = view.describe() != View(start=view.start, end=view.end).describe()
        shown = "events" in view.layers or "heat" in view.layers
        return cls(len(events), placed if shown else 0, len(events) - placed, shown, filtered)

    def __str__(self) -> str:
        noun = "event" if self.total == 1 else "events"
        scope = "match the filters" if self.filtered else "in the period"
        if not self.shown:
            return f"{self.total:,} {noun} {scope} (event layers hidden)"
        return (
            f"{self.total:,} {noun} {scope}; {self.drawn:,} drawn, "
            f"{self.unplaced:,} without a map point"
        )


def subtitle(view: View, counts: EventCounts) -> str:
    """When, which filters, how many: "27 Sep 2020 to 10 Nov 2020 — 144 events in the
    period; 139 drawn, 5 without a map point"."""
    return f"{view.describe()} — {counts}"


# -------------------------------------------------------------------------------- sources

# Source texts name packages and versions (they belong in the data pack's README); a reader
# recognises the dataset. Keyword (lower case) -> the name and licence a reader knows.
READER_NAMES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("natural earth", "ne 1:10m", "ne 10m"), "Natural Earth (public domain)"),
    (("geonames",), "GeoNames (CC BY 4.0)"),
    (("gshhg", "wdbii"), "GSHHG/WDBII (LGPL)"),
    (("openstreetmap",), "© OpenStreetMap contributors (ODbL)"),
)
_OWN_WORK = ("schematic", "derived from")
_FROM_DATE = re.compile(r",\s*(?=\d)")
_PARENS = re.compile(r"\([^()]*\)")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|‘[^’]*’|“[^”]*”")
_ISO_DATE = re.compile(r"\b\d{4}-\d{2}(-\d{2})?\b")


def _without_asides(text: str) -> str:
    """`text` without its parentheses (nested too), quoted titles and ISO dates."""
    before = None
    while before != text:
        before, text = text, _PARENS.sub(" ", text)
    return _ISO_DATE.sub(" ", _QUOTED.sub(" ", text))


def _publisher_of(part: str) -> str:
    """ "Trend and Report.az", "Armenian Roads Directorate, 2022-08-15: M-2 road" -> the
    publisher; "towns on the way: a Wikipedia mirror" -> "Wikipedia mirror"."""
    part = _FROM_DATE.split(part, maxsplit=1)[0]
    if ":" in part:
        left, right = part.split(":", 1)
        part = right if left.strip()[:1].islower() else left
    part = " ".join(part.split()).strip(" ,.:")
    part = re.sub(r"^(a|an|the) ", "", part)
    return " ".join(publisher(part))


def reader_sources(texts: list[str]) -> list[str]:
    """The datasets and documents that `texts` (layer `source` cells) rest on, in words a
    reader recognises, each once, in order of first mention. Package names, versions, dates,
    article titles and remarks in parentheses are dropped; the project's own schematic
    drawing is said in the accuracy notes instead."""
    out: dict[str, None] = {}
    for text in texts:
        for part in (p.strip() for p in _without_asides(str(text)).split(";")):
            low = part.lower()
            named = [name for keys, name in READER_NAMES if any(k in low for k in keys)]
            if named:
                out.update(dict.fromkeys(named))
            elif part and not low.startswith(_OWN_WORK) and (name := _publisher_of(part)):
                out[name] = None
    return list(out)


def layer_notes(view: View, settings: Settings) -> list[tuple[str, list[str], list[str]]]:
    """(layer title, source texts, accuracy texts) of each reference layer shown, as on
    `view.end`; texts as recorded in the layer, each once."""
    notes = []
    for name in (n for n in LAYER_NAMES if n in view.layers):
        gdf = layer_on(name, view.end, settings)
        if gdf.empty:
            continue
        sources = list(dict.fromkeys(str(s) for s in gdf.get("source", []) if s))
        accuracy = list(dict.fromkeys(str(a) for a in gdf.get("accuracy", []) if a))
        notes.append((LAYER_TITLES[name], sources, accuracy))
    return notes


_DISTANCE = re.compile(
    r"(?:about|within)\s+(\d+(?:\.\d+)?)(?:\s*-\s*(\d+(?:\.\d+)?))?\s*(km|m)\b"
    r"|(several|a few|tens of)\s+km",
    re.IGNORECASE,
)
_WORDS_M = {"a few": 3000, "several": 5000, "tens of": 30000}


def accuracy_in_words(texts: list[str]) -> str:
    """A layer's accuracy notes in a few words: "schematic in parts; error up to about 10 km".
    The largest error any note gives; the first clause of the first note when none does."""
    if not texts:
        return ""
    worst, phrase = -1.0, ""
    for text in texts:
        for m in _DISTANCE.finditer(text):
            if m.group(4):
                metres, said = _WORDS_M[m.group(4).lower()], f"{m.group(4).lower()} km"
            else:
                top = float(m.group(2) or m.group(1))
                metres = top * (1000 if m.group(3).lower() == "km" else 1)
                said = f"about {m.group(2) or m.group(1)} {m.group(3)}"
            if metres > worst:
                worst, phrase = metres, said
    schematic = sum("schematic" in t.lower() for t in texts)
    parts = []
    if schematic:
        parts.append("schematic" if schematic == len(texts) else "schematic in parts")
    if phrase:
        parts.append(f"error up to {phrase}" if parts or len(texts) > 1 else phrase)
    if not parts:
        first = re.split(r"[.;:]\s", texts[0], maxsplit=1)[0]
        parts.append(first if len(first) <= 60 else first[:59] + "…")
    return "; ".join(parts)


def event_publishers(events: pd.DataFrame, top: int = 8) -> str:
    """ "Reuters (40), BBC (12) and 5 more publishers" (events per publisher, most first)."""
    if events.empty:
        return "none in the view"
    every = publishers_of(events["source"].value_counts(), top=10_000)
    shown = [
        f"{p} ({n:,})" for p, n in zip(every["publisher"][:top], every["events"][:top], strict=True)
    ]
    rest = len(every) - len(shown)
    return ", ".join(shown) + (f" and {rest} more publishers" if rest > 0 else "")


def event_accuracy(events: pd.DataFrame) -> str:
    """What an event's point and numbers are worth, in words."""
    placed = (events["latitude"].notna() & events["longitude"].notna()).to_numpy(bool)
    approx = int((events["geo_precision"][placed].fillna(1) >= 2).sum())
    return (
        f"{approx:,} placed approximately (hollow dashed rings); one-sided claims say "
        "whose claim they are; fatalities are the parties' claims unless marked otherwise"
    )


# ------------------------------------------------------------------------- legend and arrow


def legend_html(
    rows: list[tuple], events: pd.DataFrame, counts: EventCounts, labels: int, day: int
) -> str:
    """The legend beside the map: `rows` as the map builder lists them (swatch HTML made
    from our constants, label text, optional event type code or day intervals); event type
    rows get the number of events drawn. A row with day intervals is left out unless one
    holds `day` (days since 1970-01-01): the picture shows the layers as on that day."""
    placed = (events["latitude"].notna() & events["longitude"].notna()).to_numpy(bool)
    per_type = events["event_type"][placed].value_counts()
    parts = []
    for swatch, label, *when in rows:
        if when and not isinstance(when[0], str) and not any(a <= day <= b for a, b in when[0]):
            continue
        text = escape_text(str(label))
        if when and isinstance(when[0], str) and when[0] in EVENT_TYPES:
            text += f' <span class="nk-n">{int(per_type.get(when[0], 0)):,}</span>'
        parts.append(f'<li><span class="nk-sw">{swatch}</span>{text}</li>')
    if counts.shown and counts.drawn:
        parts.append(
            '<li><span class="nk-sw"><span class="nk-size"></span></span>'
            "Larger circle: more fatalities claimed</li>"
        )
    if labels:
        parts.append(
            '<li><span class="nk-sw"><span class="nk-ring"></span></span>'
            f"Labelled: the {labels} most important events (fatalities, then captures, then "
            "date)</li>"
        )
    return f'<h2>Legend</h2><ul class="nk-legend-list">{"".join(parts)}</ul>'


def fallback_legend_rows(view: View, events: pd.DataFrame) -> list[tuple]:
    """Legend rows when the map builder does not list its own: the event types drawn."""
    rows: list[tuple] = []
    if "events" in view.layers:
        for code in EVENT_TYPES:
            if (events["event_type"] == code).any():
                dot = (
                    '<span style="display:inline-block;width:9px;height:9px;'
                    f'border-radius:50%;background:{EVENT_COLOR[code]}"></span>'
                )
                rows.append((dot, EVENT_TYPES[code], code))
    return rows + [("", LAYER_TITLES[n]) for n in LAYER_NAMES if n in view.layers]


NORTH_ARROW_SVG = (
    '<svg class="nk-north" width="26" height="40" viewBox="0 0 30 44" role="img" '
    'aria-label="North"><polygon points="15,3 25,30 15,24 5,30" fill="#222" stroke="#fff" '
    'stroke-width="1.2"/><polygon points="15,3 15,24 5,30" fill="#888"/>'
    '<text x="15" y="42" text-anchor="middle" font-family="system-ui,sans-serif" '
    'font-size="12" font-weight="700" fill="#222">N</text></svg>'
)

# ---------------------------------------------------------------------------- locator inset

# The South Caucasus and its neighbours' edges: the inset's extent.
INSET_BOX = LonLatBox(40.0, 37.6, 51.0, 43.9)
INSET_WIDTH = 230
_INSET_LABELS = {"ARM": (40.35, 44.55), "AZE": (40.45, 48.4), "GEO": (42.15, 43.5)}


def _mercator_y(lat: float) -> float:
    lat = max(-85.0, min(85.0, lat))
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


@dataclass(frozen=True)
class InsetProjection:
    """Longitude/latitude -> SVG pixels of the inset (Web Mercator, as the map)."""

    box: LonLatBox = INSET_BOX
    width: int = INSET_WIDTH

    @property
    def scale(self) -> float:
        return self.width / math.radians(self.box.lon_max - self.box.lon_min)

    @property
    def height(self) -> int:
        top, bottom = _mercator_y(self.box.lat_max), _mercator_y(self.box.lat_min)
        return round((top - bottom) * self.scale)

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        x = math.radians(lon - self.box.lon_min) * self.scale
        y = (_mercator_y(self.box.lat_max) - _mercator_y(lat)) * self.scale
        return round(x, 1), round(y, 1)


def _path(geom, proj: InsetProjection) -> str:
    parts = []
    for poly in getattr(geom, "geoms", [geom]):
        for ring in [poly.exterior, *poly.interiors]:
            pts = [proj.xy(x, y) for x, y in ring.coords]
            parts.append("M" + "L".join(f"{x:g},{y:g}" for x, y in pts) + "Z")
    return "".join(parts)


@lru_cache(maxsize=4)
def _inset_base(boundaries: Path, mtime_ns: int, settings: Settings) -> str:
    """The inset's countries (and the NKAO outline) as SVG, made once per boundaries file."""
    from shapely.geometry import box as shapely_box

    proj = InsetProjection()
    clip = shapely_box(*proj.box)
    countries = layer_on("countries", None, settings)
    out = []
    for _, row in countries.iterrows():
        geom = row.geometry.intersection(clip).simplify(0.02, preserve_topology=True)
        if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        core = row["iso_a3"] in _INSET_LABELS
        fill = "#ece6d6" if core else "#f7f4ec"
        out.append(
            f'<path d="{_path(geom, proj)}" fill="{fill}" stroke="#8c8c8c" stroke-width="0.6">'
            f"<title>{escape_text(str(row['name']))}</title></path>"
        )
    nkao = layer_on("nkao", None, settings) if "nkao" in LAYER_NAMES else None
    if nkao is not None and len(nkao):
        geom = nkao.geometry.union_all().simplify(0.01)
        out.append(
            f'<path d="{_path(geom, proj)}" fill="none" stroke="#3f007d" '
            'stroke-width="0.8" stroke-dasharray="1.5 1.5"/>'
        )
    for iso, (lat, lon) in _INSET_LABELS.items():
        name = countries.loc[countries["iso_a3"] == iso, "name"]
        if len(name):
            x, y = proj.xy(lon, lat)
            out.append(
                f'<text x="{x}" y="{y}" text-anchor="middle" class="nk-inset-label">'
                f"{escape_text(str(name.iloc[0]).upper())}</text>"
            )
    return "".join(out)


def locator_svg(frame: LonLatBox | None, settings: Settings) -> str:
    """A small map of the South Caucasus with a rectangle where the export's frame sits.

    The rectangle has the id `nk-inset-frame`: the page's script moves it to the map's real
    bounds once Leaflet has drawn (and as the HTML export is panned)."""
    proj = InsetProjection()
    countries = settings.boundaries_dir / "countries.geojson"
    mtime = countries.stat().st_mtime_ns if countries.exists() else 0
    base = _inset_base(settings.boundaries_dir, mtime, settings)
    rect = ""
    if frame is not None:
        x0, y0 = proj.xy(frame.lon_min, frame.lat_max)
        x1, y1 = proj.xy(frame.lon_max, frame.lat_min)
        w, h = max(x1 - x0, 3.0), max(y1 - y0, 3.0)
        rect = (
            f'<rect id="nk-inset-frame" x="{x0}" y="{y0}" width="{w:.1f}" height="{h:.1f}" '
            'fill="rgba(200,0,0,.12)" stroke="#c00" stroke-width="1.6"/>'
        )
    return (
        f'<svg class="nk-inset" width="{proj.width}" height="{proj.height}" '
        f'viewBox="0 0 {proj.width} {proj.height}" role="img" '
        'aria-label="Where the map lies in the South Caucasus">'
        f'<rect width="{proj.width}" height="{proj.height}" fill="#d4e4ef"/>{base}{rect}</svg>'
    )


def page_script(map_name: str) -> str:
    """The page's script, after the map's: Leaflet's attribution prefix (its flag) off, and
    the inset's rectangle moved to the map's bounds (`map_name`: folium's variable, a name
    folium made: letters, digits and `_` only)."""
    if not map_name.replace("_", "").isalnum():
        raise ValueError(f"unexpected map variable name {map_name!r}")
    p = InsetProjection()
    top = _mercator_y(p.box.lat_max)
    return (
        "<script>(function () {"
        f"var m = window[{map_name!r}], r = document.getElementById('nk-inset-frame');"
        "if (!m) return;"
        "if (m.attributionControl) m.attributionControl.setPrefix(false);"
        "if (!r) return;"
        f"var s = {p.scale:.6f}, w0 = {p.box.lon_min}, top = {top:.8f};"
        "function x(lon) { return (lon - w0) * Math.PI / 180 * s; }"
        "function y(lat) { var f = lat * Math.PI / 180;"
        "  return (top - Math.log(Math.tan(Math.PI / 4 + f / 2))) * s; }"
        "function update() { var b = m.getBounds();"
        "  var x0 = x(b.getWest()), x1 = x(b.getEast());"
        "  var y0 = y(b.getNorth()), y1 = y(b.getSouth());"
        "  r.setAttribute('x', x0); r.setAttribute('y', y0);"
        "  r.setAttribute('width', Math.max(x1 - x0, 3));"
        "  r.setAttribute('height', Math.max(y1 - y0, 3)); }"
        "m.on('moveend zoomend resize', update); update();"
        "var l = document.querySelector('.nk-legend-list');"  # a long legend: smaller type
        "if (l && l.scrollHeight > l.parentNode.clientHeight - 18)"
        "  document.body.classList.add('nk-dense');"
        "})();</script>"
    )


# --------------------------------------------------------------------------- event labels

LABEL_MAX_CHARS = 42
_CHAR_PX, _LABEL_H, _GAP = 6.4, 16, 8


def key_events(events: pd.DataFrame, n: int, box: LonLatBox | None = None) -> pd.DataFrame:
    """The `n` most important events with a map point (inside `box` when given): most
    fatalities first, then captures, then the rest by date (earliest first)."""
    if n <= 0 or events.empty:
        return events.iloc[0:0]
    # Columns, not the frame: filtering every column of 100,000 events costs more than this.
    lat, lon = events["latitude"], events["longitude"]
    keep = (lat.notna() & lon.notna()).fillna(False)
    if box is not None:
        keep &= pd.Series(box.contains(lon, lat), index=events.index).fillna(False)
    keep = keep.to_numpy(bool)
    fat = events["fatalities"].astype("Float64").fillna(0)[keep]
    capture = (events["event_type"] == "capture").fillna(False)[keep]
    tier = (fat <= 0).astype(int) + ((fat <= 0) & ~capture).astype(int)
    order = pd.DataFrame(
        {
            "tier": tier.to_numpy(),
            "fat": (-fat).to_numpy(float),
            "date": events["event_date"][keep],
        },
        index=fat.index,
    )
    order = order.sort_values(["tier", "fat", "date"], kind="stable")
    return events.loc[order.index[:n]]


def label_text(row: pd.Series, with_year: bool) -> str:
    """ "04 Oct · Stepanakert": the date and the place as recorded (not relabelled)."""
    day = pd.Timestamp(row["event_date"])
    when = f"{day.day} {day:%b %Y}" if with_year else f"{day.day} {day:%b}"
    place = row.get("location")
    if place is None or pd.isna(place) or not str(place).strip():
        place = row.get("admin1") if pd.notna(row.get("admin1")) else "place not recorded"
    place = " ".join(str(place).split())
    if len(place) > LABEL_MAX_CHARS:
        place = place[: LABEL_MAX_CHARS - 1] + "…"
    return f"{when} · {place}"


def _world_px(lat: float, lon: float, zoom: int) -> tuple[float, float]:
    size = 256 * 2**zoom
    return (lon + 180) / 360 * size, (1 - _mercator_y(lat) / math.pi) / 2 * size


# Where a label sits around its point, tried in this order: (class suffix, dx, dy) of the
# label box's top-left corner from the point, in px (w: the label's width).
_SPOTS = (
    ("r", lambda w: (_GAP, -_LABEL_H / 2)),
    ("l", lambda w: (-_GAP - w, -_LABEL_H / 2)),
    ("t", lambda w: (-w / 2, -_GAP - _LABEL_H)),
    ("b", lambda w: (-w / 2, _GAP)),
)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def place_labels(
    events: pd.DataFrame,
    zoom: int,
    with_year: bool,
    avoid: list[tuple[float, float, str]] | tuple = (),
) -> list[tuple[float, float, str, str]]:
    """(lat, lon, text, side) for each event: a side ("r", "l", "t", "b") where its label
    overlaps no label placed before it, no other labelled point and none of the map's own
    labels in `avoid` ((lat, lon, text) drawn right of their point, as the sites' are), at
    `zoom`; the side least covered when every side is taken."""
    points = [
        _world_px(lat, lon, zoom)
        for lat, lon in zip(events["latitude"], events["longitude"], strict=True)
    ]
    placed: list[tuple[float, float, float, float]] = []
    for lat, lon, text in avoid:
        x, y = _world_px(lat, lon, zoom)
        placed.append((x - 6, y - 8, x + 10 + len(text) * 7.0, y + 8))
    dots = [(x - 6, y - 6, x + 6, y + 6) for x, y in points]
    out = []
    for (x, y), (_, row) in zip(points, events.iterrows(), strict=True):
        text = label_text(row, with_year)
        w = len(text) * _CHAR_PX + 8
        others = placed + [d for d in dots if not (d[0] < x < d[2] and d[1] < y < d[3])]
        best: tuple[float, str, tuple[float, float, float, float]] | None = None
        for side, offset in _SPOTS:  # the first side free of overlaps, else the least covered
            dx, dy = offset(w)
            b = (x + dx, y + dy, x + dx + w, y + dy + _LABEL_H)
            covered = sum(_overlap(b, o) for o in others)
            if best is None or covered < best[0]:
                best = (covered, side, b)
            if covered == 0:
                break
        _, chosen, b = best
        placed.append(b)
        out.append((float(row["latitude"]), float(row["longitude"]), text, chosen))
    return out
