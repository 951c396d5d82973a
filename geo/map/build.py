"""Build the folium map: offline vector basemap plus the reference layers valid on a day.

Every string that reaches the map is escaped here (see `escape_text`): layer properties end up
in Leaflet tooltips through innerHTML, and later layers will carry uploaded event text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import folium
import geopandas as gpd
import jinja2
import pandas as pd
from branca.element import MacroElement, Template

from geo.layers import LAYER_NAMES, LAYER_TITLES, layer_on, layer_path, load_layer, parse_date
from geo.map import assets, basemap
from geo.map.events import EventData, EventPayload, EventsLayer, event_payload
from geo.map.timecontrol import OPEN_END, OPEN_START, TimeControl, day_number
from geo.places.names import place_label
from geo.region import DEFAULT_CENTER_LATLON
from geo.region import DEFAULT_ZOOM as REGION_DEFAULT_ZOOM
from geo.schema import EVENT_COLOR, EVENT_TYPES
from geo.settings import Settings, get_settings
from geo.text import escape_text
from geo.view import Convention


def reuse_compiled_templates(max_entries: int = 1024) -> None:
    """Compile each Jinja template source once per process (opt-in: the dashboard calls it).

    folium and branca build a `Template(source)` per element instance (every layer, tooltip,
    "add to map" call) and per render, and jinja2 compiles it anew each time: about 210
    compilations and 0.12 s of every dashboard rerun, more than half of st_folium's time
    (measured with cProfile). A compiled template is a pure function of its source, so code
    objects are reused, as jinja2's own bytecode cache does for templates it loads from files.

    This replaces `jinja2.Environment.compile` for the whole process, so it is not done on
    import: the dashboard (geo/ui.py), whose reruns rebuild the same map, asks for it; the CLI
    and the tests do not. The cache keeps the `max_entries` most recently used sources.
    """
    if getattr(jinja2.Environment.compile, "_nk_cached", False):
        return
    original = jinja2.Environment.compile
    cache: OrderedDict[tuple, object] = OrderedDict()
    lock = threading.Lock()

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        if not isinstance(source, str):
            return original(self, source, name, filename, raw, defer_init)
        key = (id(self), source, name, filename, raw, defer_init)
        with lock:
            hit = cache.get(key)
            if hit is not None:
                cache.move_to_end(key)
        if hit is None:
            hit = original(self, source, name, filename, raw, defer_init)
            with lock:
                cache[key] = hit
                while len(cache) > max_entries:
                    cache.popitem(last=False)
        return hit

    compile._nk_cached = True
    jinja2.Environment.compile = compile


# Centre and zoom that show Armenia, Azerbaijan and Nagorno-Karabakh together.
DEFAULT_CENTER, DEFAULT_ZOOM = DEFAULT_CENTER_LATLON, REGION_DEFAULT_ZOOM
MIN_ZOOM, MAX_ZOOM = 4, 14

CONTROL_STYLE = {
    "held_area": {"color": "#6a3d9a", "fillColor": "#b592d4", "fillOpacity": 0.35, "weight": 1},
    # The 2020 war's held area day by day, reconstructed from claimed captures: the same
    # colours, a dashed outline because the front between the captures is not known.
    "held_area_reconstructed": {
        "color": "#6a3d9a",
        "fillColor": "#b592d4",
        "fillOpacity": 0.3,
        "weight": 1.2,
        "dashArray": "5 3",
    },
    "corridor": {"color": "#1b7837", "fillColor": "#7fbf7b", "fillOpacity": 0.5, "weight": 1},
}
COMMODITY_COLOR = {"oil": "#7f3b08", "gas": "#2166ac"}
SITE_COLOR = {
    "terminal": "#7f3b08",
    "military_base": "#333333",
    "capital": "#000000",
    "regional_capital": "#6a3d9a",
}
CONTACT_LINE_COLOR = "#c51b7d"
# Country labels where the representative point falls badly (lat, lon); others are computed.
COUNTRY_LABEL_AT = {
    "RUS": (43.9, 44.2),
    "TUR": (39.6, 39.0),
    "IRN": (37.6, 47.3),
    "ARM": (40.55, 44.6),
    "AZE": (40.55, 48.0),
    "GEO": (42.0, 43.6),
}


def _for_map(gdf: gpd.GeoDataFrame, convention: Convention) -> gpd.GeoDataFrame:
    """A copy with dates as ISO text, labels in the chosen convention and every string escaped.

    Features with a validity get `d0` / `d1` (day numbers) for the time control.
    """
    out = gdf.copy()
    if "valid_from" in out:
        out["d0"] = [day_number(v, OPEN_START) for v in out["valid_from"]]
        out["d1"] = [day_number(v, OPEN_END) for v in out["valid_to"]]
    for col in out.columns:
        if col == out.geometry.name:
            continue
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d").fillna("open")
        elif out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].astype(object).where(out[col].notna(), "")
    if "label" in out and "gazetteer_name" in out:
        out["label"] = [place_label(str(n), convention) for n in out["name"]]
    for col in out.columns:
        if col != out.geometry.name:
            out[col] = out[col].map(escape_text)
    return out


def _overlapping(gdf: gpd.GeoDataFrame, start: dt.date, end: dt.date) -> gpd.GeoDataFrame:
    """Features valid at some time in [start, end] (the time control picks the day)."""
    ts, te = pd.Timestamp(start), pd.Timestamp(end)
    keep = (gdf["valid_from"].isna() | (gdf["valid_from"] <= te)) & (
        gdf["valid_to"].isna() | (gdf["valid_to"] >= ts)
    )
    return gdf[keep]


def _tooltip(gdf: gpd.GeoDataFrame, fields: Sequence[str], aliases: Sequence[str]):
    present = [(f, a) for f, a in zip(fields, aliases, strict=True) if f in gdf]
    return folium.GeoJsonTooltip(
        fields=[f for f, _ in present], aliases=[a for _, a in present], sticky=True
    )


# GeoJSON text of reference features, by what they were derived from (layer, period, naming):
# turning a GeoDataFrame into GeoJSON is most of the map's build time, and the dashboard
# rebuilds the same map on every widget change.
_GEOJSON_CACHE: dict[tuple, str] = {}
_GEOJSON_CACHE_SIZE = 256
_GEOJSON_LOCK = threading.Lock()


def _geo_data(gdf: gpd.GeoDataFrame, key: tuple | None) -> dict:
    if key is None:
        return gdf.__geo_interface__
    with _GEOJSON_LOCK:
        text = _GEOJSON_CACHE.get(key)
    if text is None:
        text = json.dumps(gdf.__geo_interface__)
        with _GEOJSON_LOCK:
            if len(_GEOJSON_CACHE) >= _GEOJSON_CACHE_SIZE:
                _GEOJSON_CACHE.pop(next(iter(_GEOJSON_CACHE)))
            _GEOJSON_CACHE[key] = text
    return json.loads(text)  # a fresh copy: folium may add to it


def _geojson(
    gdf: gpd.GeoDataFrame, name: str, style, fields, aliases, key: tuple | None = None, **kw
) -> folium.GeoJson:
    """A GeoJson layer of `gdf`; `key` names what `gdf` was derived from (cached GeoJSON)."""
    return folium.GeoJson(
        _geo_data(gdf, key),
        name=escape_text(name),
        style_function=style,
        tooltip=_tooltip(gdf, fields, aliases) if len(gdf) else None,
        **kw,
    )


class Legend(MacroElement):
    """The legend, a Leaflet control (js/legend.js): in the bottom-right corner (above the
    scale bar and the attribution; the time control has the bottom left), moved to another
    corner when it would hide events there. Its heading is a button that folds it: it
    starts open, folded on screens narrower than 600 px. Its HTML is built from escaped
    strings only; the script moves the rendered box into the control. The box is found by a
    token of its own, not the element's name: streamlit-folium renames the script's
    variables but not the HTML."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="nk-legend" data-nk-legend="{{ this.token }}">
          <details open><summary class="nk-legend-toggle"
            title="Show or hide the legend">{{ this.title }}</summary>
          {{ this.body }}
          </details>
        </div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        {{ this.library }}
        NKLegend({{ this._parent.get_name() }}, {{ this.token | tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, rows: Iterable[tuple], title: str) -> None:
        """`rows`: (swatch HTML, label), plus optionally an event type code (the row shows
        while the map shows events of that type) or a list of (first, last) day numbers
        (the row shows while the time control's day is in one of them)."""
        super().__init__()
        self._name = "Legend"
        self.title = f"<b>{escape_text(title)}</b>"
        codes = list(EVENT_TYPES)
        parts = []
        for swatch, label, *when in rows:
            attr = ""
            if when and isinstance(when[0], str):
                attr = f' data-nk-type="{codes.index(when[0])}"'
            elif when:  # (first day, last day) intervals: shown on those days only
                days = " ".join(f"{int(a)}:{int(b)}" for a, b in when[0])
                attr = f' data-nk-days="{days}"'
            parts.append(f"<div{attr}>{swatch} {escape_text(label)}</div>")
        self.body = "".join(parts)
        # Named by its content, not at random: the dashboard rebuilds the same map on every
        # rerun, and streamlit-folium redraws a map whose HTML changed.
        self.token = hashlib.sha256((self.title + self.body).encode()).hexdigest()[:16]
        self.library = _legend_library()


class ScaleBar(MacroElement):
    """Leaflet's scale control, metric only (the region's analysts read kilometres)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({ metric: true, imperial: false, position: "bottomright" })
          .addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "ScaleBar"


def _days(features: gpd.GeoDataFrame) -> list[tuple[int, int]]:
    """The (first, last) day numbers of features prepared by `_for_map`."""
    return [(int(a), int(b)) for a, b in zip(features["d0"], features["d1"], strict=True)]


def _swatch_line(color: str, dash: bool = False) -> str:
    style = "dashed" if dash else "solid"
    return (
        f'<span style="display:inline-block;width:22px;border-top:3px {style} {color};'
        'vertical-align:middle"></span>'
    )


def _swatch_fill(style: dict) -> str:
    return (
        f'<span style="display:inline-block;width:14px;height:10px;background:{style["fillColor"]};'
        f'border:1px solid {style["color"]};vertical-align:middle"></span>'
    )


def _swatch_dot(color: str) -> str:
    return (
        f'<span style="display:inline-block;width:9px;height:9px;border-radius:50%;'
        f'background:{color};border:1px solid #fff;vertical-align:middle"></span>'
    )


class BasemapStyle(MacroElement):
    """The map's own CSS (geo/css/map.css: water behind the vector basemap, labels, popups,
    the events canvas and the time control), in the page's head."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>{{ this.css }}</style>
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self.css = _map_css()


@cache
def _legend_library() -> str:
    return (Path(__file__).with_name("js") / "legend.js").read_text(encoding="utf-8")


@cache
def _map_css() -> str:
    return (Path(__file__).with_name("css") / "map.css").read_text(encoding="utf-8")


def _pipeline_style(feature: dict) -> dict:
    commodity = feature["properties"]["commodity"]
    if commodity == "gas":
        return {"color": COMMODITY_COLOR["gas"], "weight": 2.5, "dashArray": "7 7"}
    return {"color": COMMODITY_COLOR.get(commodity, "#555"), "weight": 3.5, "opacity": 0.9}


# Labels (countries, sites, basemap places) have a pane of their own: above area fills and
# lines (overlayPane, 400), under the events (js/events.js, 450) and markers (600).
LABEL_PANE, LABEL_PANE_Z = "nkLabels", 420


def _label_marker(lat: float, lon: float, text: str, css_class: str) -> folium.Marker:
    # A DivIcon draws text only: no image is fetched. The text is escaped like all data.
    return folium.Marker(
        location=(lat, lon),
        icon=folium.DivIcon(
            html=f'<div class="{css_class}">{escape_text(text)}</div>',
            icon_size=(0, 0),
            icon_anchor=(0, 0),
            class_name="nk-label-icon",
        ),
        interactive=False,
        pane=LABEL_PANE,
    )


def _label_points(
    layers: Sequence[str], day: dt.date, convention: Convention, settings: Settings
) -> list[tuple[float, float, str, str]]:
    """(lat, lon, text, css class) of the fixed labels: countries, and sites beside their
    dots."""
    out = []
    if "countries" in layers:
        countries = layer_on("countries", None, settings)
        for _, row in countries.iterrows():
            # Label the largest part near its visual centre (not Nakhchivan or an exclave).
            parts = getattr(row.geometry, "geoms", [row.geometry])
            point = max(parts, key=lambda g: g.area).representative_point()
            at = COUNTRY_LABEL_AT.get(row["iso_a3"], (point.y, point.x))
            out.append((*at, str(row["name"]).upper(), "nk-country-label"))
    if "sites" in layers:
        sites = layer_on("sites", day, settings)
        for _, row in sites[sites["kind"] != "terminal"].iterrows():
            text = place_label(str(row["name"]), convention)
            out.append((row.geometry.y, row.geometry.x, text, "nk-site-label"))
    return out


def _labels(points: Sequence[tuple[float, float, str, str]]) -> folium.FeatureGroup:
    """Place names on the basemap: countries in capitals, sites beside their dots."""
    group = folium.FeatureGroup(name="Labels")
    for lat, lon, text, css_class in points:
        _label_marker(lat, lon, text, css_class).add_to(group)
    return group


@dataclass
class _Draw:
    """What a layer builder draws on and adds to: the map, the period, the naming, and the
    legend rows and time-controlled layers it contributes."""

    m: folium.Map
    start: dt.date
    day: dt.date
    convention: Convention
    settings: Settings
    layers: Sequence[str] = ()
    # The fixed labels (countries, sites): (lat, lon, text, css class).
    labels: Sequence[tuple[float, float, str, str]] = ()
    legend: list[tuple] = field(default_factory=list)
    timed_refs: list[folium.GeoJson] = field(default_factory=list)


def _draw_countries(ctx: _Draw) -> None:
    countries = _for_map(layer_on("countries", None, ctx.settings), ctx.convention)
    _geojson(
        countries,
        LAYER_TITLES["countries"],
        lambda f: {"color": "#8c8c8c", "weight": 1, "fillColor": "#f5f2ea", "fillOpacity": 1},
        ["name", "iso_a3", "source"],
        ["Country", "ISO", "Source"],
        key=("countries", ctx.convention, ctx.settings),
    ).add_to(ctx.m)


def _draw_control(ctx: _Draw) -> None:
    raw = load_layer("control", ctx.settings)
    control = _for_map(_overlapping(raw, ctx.start, ctx.day), ctx.convention)
    areas = control[control["kind"] != "capture"]
    captures = control[control["kind"] == "capture"]
    group = folium.FeatureGroup(name=escape_text(LAYER_TITLES["control"]))
    if len(areas):
        areas_layer = _geojson(
            areas,
            "areas",
            lambda f: CONTROL_STYLE.get(f["properties"]["kind"], CONTROL_STYLE["held_area"]),
            ["name", "holder", "valid_from", "valid_to", "accuracy", "source"],
            ["", "Held by", "From", "To", "Accuracy", "Source"],
            key=("areas", ctx.start, ctx.day, ctx.convention, ctx.settings),
        )
        areas_layer.add_to(group)
        ctx.timed_refs.append(areas_layer)
    if len(captures):
        captures_layer = _geojson(
            captures,
            "captures",
            None,
            ["name", "valid_from", "status", "note", "source"],
            ["", "Announced", "Status", "Note", "Source"],
            key=("captures", ctx.start, ctx.day, ctx.convention, ctx.settings),
            marker=folium.CircleMarker(
                radius=5,
                color="#ffffff",
                weight=1.5,
                fill=True,
                fill_color="#2ca02c",
                fill_opacity=1,
            ),
        )
        captures_layer.add_to(group)
        ctx.timed_refs.append(captures_layer)
    group.add_to(ctx.m)
    # The legend lists what the period shows on some day (the time control moves the day).
    for kind in areas["kind"].unique():
        label = {
            "held_area": "Area held by Armenian forces",
            "held_area_reconstructed": (
                "2020 war: area held, reconstructed from claimed captures (approximate)"
            ),
            "corridor": "Lachin corridor (schematic)",
        }.get(kind, str(kind).replace("_", " ").capitalize())
        ctx.legend.append(
            (
                _swatch_fill(CONTROL_STYLE.get(kind, CONTROL_STYLE["held_area"])),
                label,
                _days(areas[areas["kind"] == kind]),
            )
        )
    if len(captures):
        ctx.legend.append(
            (_swatch_dot("#2ca02c"), "Town captured (announced date)", _days(captures))
        )


def _draw_nkao(ctx: _Draw) -> None:
    _geojson(
        _for_map(layer_on("nkao", ctx.day, ctx.settings), ctx.convention),
        LAYER_TITLES["nkao"],
        lambda f: {"color": "#3f007d", "weight": 2, "dashArray": "2 5", "fill": False},
        ["label", "accuracy", "source"],
        ["", "Accuracy", "Source"],
        key=("nkao", ctx.day, ctx.convention, ctx.settings),
    ).add_to(ctx.m)
    ctx.legend.append((_swatch_line("#3f007d", dash=True), "NKAO boundary (1923-1991)"))


def _draw_contact_line(ctx: _Draw) -> None:
    raw = load_layer("contact_line", ctx.settings)
    lines = _for_map(_overlapping(raw, ctx.start, ctx.day), ctx.convention)
    if len(lines):
        lines_layer = _geojson(
            lines,
            LAYER_TITLES["contact_line"],
            lambda f: {"color": CONTACT_LINE_COLOR, "weight": 3},
            ["name", "valid_from", "valid_to", "accuracy", "source"],
            ["", "From", "To", "Accuracy", "Source"],
            key=("contact_line", ctx.start, ctx.day, ctx.convention, ctx.settings),
        )
        lines_layer.add_to(ctx.m)
        ctx.timed_refs.append(lines_layer)
        ctx.legend.append((_swatch_line(CONTACT_LINE_COLOR), "Line of contact", _days(lines)))


def _draw_pipelines(ctx: _Draw) -> None:
    pipes = _for_map(layer_on("pipelines", ctx.day, ctx.settings), ctx.convention)
    # Oil first, gas dashed on top: where routes share a corridor (BTC and SCP) both show.
    pipes = pipes.sort_values("commodity", key=lambda c: c != "oil", kind="stable")
    _geojson(
        pipes,
        LAYER_TITLES["pipelines"],
        _pipeline_style,
        ["name", "commodity", "operator", "length_km", "opened", "waypoints", "accuracy"],
        ["", "Carries", "Operator", "Length (km)", "Opened", "Via", "Accuracy"],
        key=("pipelines", ctx.day, ctx.convention, ctx.settings),
    ).add_to(ctx.m)
    ctx.legend.append((_swatch_line(COMMODITY_COLOR["oil"]), "Oil pipeline (schematic)"))
    ctx.legend.append((_swatch_line(COMMODITY_COLOR["gas"], dash=True), "Gas pipeline (schematic)"))


def _draw_sites(ctx: _Draw) -> None:
    sites = _for_map(layer_on("sites", ctx.day, ctx.settings), ctx.convention)
    group = folium.FeatureGroup(name=escape_text(LAYER_TITLES["sites"]))
    for kind, part in sites.groupby("kind"):
        _geojson(
            part,
            str(kind),
            None,
            ["label", "kind", "note", "accuracy"],
            ["", "Type", "Note", "Accuracy"],
            key=("sites", str(kind), ctx.day, ctx.convention, ctx.settings),
            marker=folium.CircleMarker(
                radius=5,
                color="#ffffff",
                weight=1.5,
                fill=True,
                fill_color=SITE_COLOR.get(str(kind), "#333"),
                fill_opacity=1,
            ),
        ).add_to(group)
    group.add_to(ctx.m)
    ctx.legend.append((_swatch_dot(SITE_COLOR["terminal"]), "Oil/gas terminal"))
    ctx.legend.append((_swatch_dot(SITE_COLOR["capital"]), "Capital / military base"))


# Basemap layers prepared for the map (escaped, in a naming convention), by layer file and
# version, convention and period: the dashboard rebuilds the same map on every rerun, and
# preparing ~1,000 places or the rivers again each time was a fifth of its build time.
_PREPARED: OrderedDict[tuple, object] = OrderedDict()
_PREPARED_SIZE = 64


def _prepared(name: str, settings: Settings, key: tuple, make):
    path = layer_path(name, settings)
    full = (name, str(path), path.stat().st_mtime_ns if path.exists() else None, *key)
    with _GEOJSON_LOCK:
        hit = _PREPARED.get(full)
    if hit is None:
        hit = make()
        with _GEOJSON_LOCK:
            _PREPARED[full] = hit
            while len(_PREPARED) > _PREPARED_SIZE:
                _PREPARED.popitem(last=False)
    return hit


def _water_frames(settings: Settings, convention: Convention) -> tuple:
    """(named, unnamed) water features ready for the map; either may be None."""
    water = layer_on("water", None, settings)
    named = water["name"].fillna("").astype(str).str.strip() != ""
    return (
        _for_map(water[named], convention) if named.any() else None,
        _for_map(water[~named], convention) if (~named).any() else None,
    )


def _draw_water(ctx: _Draw) -> None:
    named, unnamed = _prepared(
        "water",
        ctx.settings,
        (ctx.convention,),
        lambda: _water_frames(ctx.settings, ctx.convention),
    )
    group = folium.FeatureGroup(name=escape_text(LAYER_TITLES["water"]))
    if named is not None:
        _geojson(
            named,
            "named",
            basemap.water_style,
            ["name", "kind", "source"],
            ["", "Type", "Source"],
            key=("water-named", ctx.convention, ctx.settings),
        ).add_to(group)
    if unnamed is not None:
        # Unnamed rivers say nothing on hover: not interactive, so they never take a click.
        folium.GeoJson(
            _geo_data(unnamed, ("water-unnamed", ctx.settings)),
            name="unnamed",
            style_function=basemap.water_style,
            interactive=False,
        ).add_to(group)
    group.add_to(ctx.m)
    ctx.legend.append(
        (
            _swatch_line(basemap.WATER_LINE)
            + " "
            + _swatch_fill({"fillColor": basemap.WATER_FILL, "color": basemap.WATER_LINE}),
            "River / lake",
        )
    )


def _road_frame(ctx: _Draw) -> tuple:
    """The roads of the period ready for the map, and which are schematic."""
    raw = load_layer("roads", ctx.settings)
    roads = _overlapping(raw, ctx.start, ctx.day) if "valid_from" in raw else raw
    roads = roads.assign(drawn=basemap.road_drawn_as(roads))
    return _for_map(roads, ctx.convention), basemap.is_schematic(roads)


def _draw_roads(ctx: _Draw) -> None:
    shown, schematic = _prepared(
        "roads", ctx.settings, (ctx.start, ctx.day, ctx.convention), lambda: _road_frame(ctx)
    )
    if not len(shown):
        return
    layer = _geojson(
        shown,
        LAYER_TITLES["roads"],
        basemap.road_style,
        ["name", "drawn", "accuracy", "waypoints", "valid_from", "valid_to", "note", "source"],
        ["", "Drawn", "Accuracy", "Via", "From", "To", "Note", "Source"],
        key=("roads", ctx.start, ctx.day, ctx.convention, ctx.settings),
    )
    layer.add_to(ctx.m)
    timed = "d0" in shown
    if timed:
        ctx.timed_refs.append(layer)
    for flag, label in ((True, "Road (schematic)"), (False, "Road")):
        part = shown[schematic == flag]
        if len(part):
            row = (_swatch_line(basemap.ROAD_COLOR, dash=flag), label)
            ctx.legend.append((*row, _days(part)) if timed else row)


def _draw_places(ctx: _Draw) -> None:
    fixed = tuple(ctx.labels)
    payload = _prepared(
        "places",
        ctx.settings,
        (ctx.convention, fixed),
        lambda: basemap.places_payload(
            layer_on("places", None, ctx.settings), ctx.convention, fixed
        ),
    )
    basemap.PlacesLayer(payload, escape_text(LAYER_TITLES["places"])).add_to(ctx.m)


def _draw_events(
    ctx: _Draw,
    events: pd.DataFrame | EventPayload,
    events_url: str | None,
    heat: bool,
    draw_points: bool,
) -> list[EventsLayer]:
    """The events as canvas layers (circles and/or density) with their legend rows; returns
    the layers the time control drives."""
    payload = events if isinstance(events, EventPayload) else event_payload(events, ctx.convention)
    if not payload.count:
        return []
    timed: list[EventsLayer] = []
    data = EventData(payload, events_url)
    data.add_to(ctx.m)
    period = {"p0": day_number(ctx.start, OPEN_START), "day": day_number(ctx.day, OPEN_END)}
    if heat:
        heat_layer = EventsLayer(data, "Event density (heat)", mode="heat", **period)
        heat_layer.add_to(ctx.m)
        timed.append(heat_layer)
        ctx.legend.append(
            (
                '<span style="display:inline-block;width:22px;height:10px;'
                "background:linear-gradient(90deg,#ffffb2,#fd8d3c,#bd0026);"
                'vertical-align:middle"></span>',
                "Event density (darker = more events, weighted by fatalities)",
            )
        )
    if draw_points:
        points = EventsLayer(data, "Events", **period)
        points.add_to(ctx.m)
        timed.append(points)
        for kind in payload.types:
            ctx.legend.append((_swatch_dot(EVENT_COLOR[kind]), EVENT_TYPES[kind], kind))
        ctx.legend.append(
            (
                '<span style="display:inline-block;width:9px;height:9px;'
                'border-radius:50%;border:1.5px dashed #555;vertical-align:middle">'
                "</span>",
                "Approximate location",
            )
        )
    return timed


# One builder per reference layer, in drawing order (areas under lines under points; the
# basemap's water and roads under everything the conflict adds, its place names on top).
BUILDERS = {
    "countries": _draw_countries,
    "water": _draw_water,
    "roads": _draw_roads,
    "control": _draw_control,
    "nkao": _draw_nkao,
    "contact_line": _draw_contact_line,
    "pipelines": _draw_pipelines,
    "sites": _draw_sites,
    "places": _draw_places,
}


def build_map(
    day: str | dt.date,
    layers: Sequence[str] = LAYER_NAMES,
    convention: Convention | str = Convention.BOTH,
    *,
    start: str | dt.date | None = None,
    events: pd.DataFrame | EventPayload | None = None,
    events_url: str | None = None,
    heat: bool = False,
    draw_points: bool = True,
    web_tiles: bool = False,
    settings: Settings | None = None,
    center: tuple[float, float] = DEFAULT_CENTER,
    zoom: int = DEFAULT_ZOOM,
    legend: bool = True,
    scale: bool = False,
) -> folium.Map:
    """The map of a period ending on `day`, with self-hosted assets.

    `layers` picks the reference layers; held areas and the contact line are drawn as on `day`.
    With `start` before `day` a time control replays the period in the browser (events and
    reference layers follow it). `events` (a store frame, or its `event_payload` when the caller
    caches it) are drawn on top as circles (`draw_points`) and/or a density view (`heat`); the
    browser shows those of the period and follows the time control. With `events_url` (from
    `eventlayer.publish`) the browser fetches the payload instead of the page carrying it.
    `web_tiles` adds
    OpenStreetMap tiles for users online (never the default: the vector basemap works with no
    internet). `legend=False` leaves the in-map legend out (a briefing draws its own beside
    the map); `scale=True` adds Leaflet's metric scale bar.
    """
    settings = settings or get_settings()
    day = parse_date(day)
    start = parse_date(start) if start is not None else day
    if start > day:
        raise ValueError(f"start {start} is after the map's day {day}")
    convention = Convention(convention)
    unknown = [n for n in layers if n not in LAYER_NAMES]
    if unknown:
        raise ValueError(f"layers: unknown {unknown}; known: {list(LAYER_NAMES)}")

    m = folium.Map(
        location=center,
        zoom_start=zoom,
        tiles=None,
        min_zoom=MIN_ZOOM,
        control_scale=False,
        prefer_canvas=True,
    )
    # folium drops max_zoom when tiles=None (DESIGN.md trap): set it on the options.
    m.options["max_zoom"] = MAX_ZOOM
    # Only Leaflet: folium also loads jQuery, Bootstrap, Font Awesome and awesome-markers,
    # which nothing here uses; inlined in a snapshot page they were 2.3 MB of its 2.4 MB, and
    # parsing them (and waiting for their fonts) most of a PNG export's drawing time.
    assets.leaflet_only(m)
    BasemapStyle().add_to(m)
    folium.map.CustomPane(LABEL_PANE, z_index=LABEL_PANE_Z, pointer_events=False).add_to(m)
    if web_tiles:
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap (online)", overlay=False).add_to(m)

    labels = _label_points(layers, day, convention, settings)
    ctx = _Draw(m, start, day, convention, settings, tuple(layers), labels)
    for name, draw in BUILDERS.items():
        if name in layers:
            draw(ctx)
    rows, timed_refs = ctx.legend, ctx.timed_refs

    if labels:
        _labels(labels).add_to(m)
        basemap.FitLabels().add_to(m)

    timed_events = (
        _draw_events(ctx, events, events_url, heat, draw_points) if events is not None else []
    )

    # What the legend lists, for a caller that draws its own (a briefing, legend=False):
    # (swatch HTML, label text, optional event type code or day intervals), as Legend takes.
    m.nk_legend_rows = list(rows)
    if scale:
        ScaleBar().add_to(m)
    if legend and rows:
        Legend(rows, "Legend").add_to(m)
    if start < day and (timed_events or timed_refs):
        TimeControl(start, day, timed_events, timed_refs).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    assets.localize(m, mode="served", settings=settings)
    return m
