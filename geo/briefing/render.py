"""Briefing exports: one snapshot of a view as PNG, PDF, self-contained HTML or a data pack.

`snapshot()` is the one function the briefing page and `nkmap snapshot` call. A view (period,
filters, layers, naming convention) becomes a page by `briefing_html()`:

- header: handling banner, title (what and where), subtitle (period, filters, event count);
- the dashboard's own folium/Leaflet map, framed on the view's events (or a given box), with
  its scale bar, a north arrow and, on request, labels of the key events;
- beside it: a locator inset (the South Caucasus, the frame drawn on it) and the legend;
- footer: sources in words a reader knows, accuracy of the visible layers, the event count
  (the subtitle's), generation time, data version, and the permalink under
  Settings.public_url (none without one).

That page is:

- ``.html``: written as is; every asset is inlined by `geo.map.assets.offline_html`, so the file
  opens offline with the dashboard's layers, popups and time control;
- ``.png`` / ``.pdf``: drawn by headless Chromium (geo/briefing/chromium.py: one browser per
  process, kept between exports; network blocked) from the same page; the time control's
  buttons are hidden, its date label stays. PDF is one A4 landscape page. Why a browser and
  not a static renderer: docs/decisions/0001-snapshot-renderer.md;
- ``.zip``: a data pack — PNG, PDF, the filtered events as formula-safe CSV and GeoJSON, and
  a README with the sources (package names and versions too) and the permalink of the view.

Files are written atomically (a temp file in the target folder, then `os.replace`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlencode

import folium
import pandas as pd

from geo.briefing import layout
from geo.briefing.chromium import (
    A4_LANDSCAPE_PX,
    CHROMIUM,
    CHROMIUM_ARGS,
    SERVICE,
    ChromiumService,
    RenderError,
    _Renderer,  # noqa: F401 - tests spy on it here
)
from geo.errors import InputError
from geo.layers import LAYER_NAMES, layer_on
from geo.map.assets import offline_html
from geo.map.build import DEFAULT_CENTER, DEFAULT_ZOOM, build_map, reuse_compiled_templates
from geo.map.events import TEXT_BUDGET, EventPayload, event_payload
from geo.map.timecontrol import OPEN_END, day_number
from geo.places.names import place_label
from geo.region import WHOLE_REGION_LONLAT_BOX, LonLatBox, fit_box
from geo.settings import Settings, get_settings
from geo.text import escape_text
from geo.view import View, filter_events, frame_box

__all__ = [
    "A4_LANDSCAPE_PX",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "FORMATS",
    "FRAMES",
    "RenderError",
    "SnapshotOptions",
    "WHOLE_REGION",
    "briefing_html",
    "data_version",
    "default_title",
    "frame_of",
    "layer_notes",
    "permalink",
    "snapshot",
]

# Said under every export with events (issue 12): what the events are, and what to do first.
COMPILATION_CAVEAT = (
    "The events are a compilation of public reports, many of them one side's claims, and not "
    "exhaustive: check an event's linked report (in the data pack's CSV) before relying on it."
)
FORMATS = ("png", "pdf", "html", "zip")
WHOLE_REGION = tuple(WHOLE_REGION_LONLAT_BOX)  # "the whole region": Armenia and Azerbaijan
# What the map shows when no bbox is given: the view's events (geo.view.frame_box; the whole
# region when none has a point), or the map page's own centre and zoom.
FRAMES = ("events", "view")
MAX_LABELS = 50
# The page around the map, in CSS px (geo/briefing/css/briefing.css), to pick the map's zoom
# before the browser lays it out: the side panel's width (landscape pages; below the map on
# portrait ones), the header, the footer and a banner.
SIDE_PX, SIDE_BELOW_PX, HEAD_PX, FOOT_PX, BANNER_PX = 262, 250, 62, 96, 20

T = TypeVar("T")
# Where the events payload goes until the page is rendered: a JSON string (valid where the
# payload's JSON goes) that escaped user text cannot contain (its quotes become &quot;).
_PAYLOAD_MARK = '"nkmap-briefing-events-payload"'


@dataclass(frozen=True)
class SnapshotOptions:
    title: str | None = None  # default: what and where (layout.default_title)
    banner: str | None = None  # handling banner, e.g. "UNCLASSIFIED // FOR BRIEFING"
    size: tuple[int, int] = (1600, 1000)  # PNG pixels (CSS px at device scale 1)
    # lon_min, lat_min, lon_max, lat_max (WHOLE_REGION: Armenia and Azerbaijan); None: `frame`
    bbox: tuple[float, float, float, float] | None = None
    frame: str = "events"  # without a bbox: "events" (fit the view's events) or "view"
    label: int = 0  # label the N most important events with their date and place


# ------------------------------------------------------------------------------------ page


def default_title(
    view: View, events: pd.DataFrame | None = None, box: LonLatBox | None = None
) -> str:
    """The title a briefing gets unless the user gives one: what and where (the subtitle
    says when, which filters and how many). Where: `box`, else the frame of `events`."""
    if box is None and events is not None:
        box = frame_box(events)
    return layout.default_title(view, box)


def permalink(view: View, base: str) -> str:
    """The dashboard URL that opens this view (period, filters, layers, names, map view)
    under `base` (Settings.public_url); "" when there is no base: a localhost link means
    nothing to a reader."""
    if not base:
        return ""
    return base.rstrip("/") + "/?" + urlencode(view.to_query())


def _stored_hashes(events: pd.DataFrame, settings: Settings) -> list[str]:
    """The content hashes of the events, sorted: the store's when it holds every one of them
    (the frame was read from it), else computed from the frame (events that are not stored)."""
    from geo.store import content_hashes, is_url, open_store

    ids = events["event_id"].dropna().astype(str).tolist()
    db = settings.db_path
    if ids and (is_url(db) or Path(db).is_file()):
        stored = open_store(settings=settings).hashes(ids)
        if len(stored) == len(set(ids)):
            return sorted(stored.values())
    frame = events.drop_duplicates("event_id")
    return sorted(content_hashes(frame))


def data_version(events: pd.DataFrame, settings: Settings | None = None) -> str:
    """sha256 of the events' content hashes (as stored) and the reference data manifests,
    first 12 hex digits: the same events and layers give the same version, in any order."""
    settings = settings or get_settings()
    digest = hashlib.sha256("".join(_stored_hashes(events, settings)).encode("ascii"))
    for manifest in (settings.boundaries_dir, settings.basemap_dir):
        path = manifest / "manifest.json"
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()[:12]


def layer_notes(view: View, settings: Settings | None = None) -> list[tuple[str, str, str]]:
    """(layer title, sources as recorded, accuracy) of each reference layer shown."""
    notes = layout.layer_notes(view, settings or get_settings())
    return [(title, " · ".join(src), " · ".join(acc)) for title, src, acc in notes]


def frame_of(view: View, options: SnapshotOptions, events: pd.DataFrame) -> LonLatBox | None:
    """The box the export shows: the bbox given; else the view's events' frame (the whole
    region when none has a point); None for frame="view" when the view has a centre (the map
    page's own centre and zoom; a view without one is framed on its events)."""
    if options.bbox is not None:
        return LonLatBox(*options.bbox)
    if options.frame == "view" and view.center is not None:
        return None
    return frame_box(events) or WHOLE_REGION_LONLAT_BOX


def map_area_px(size: tuple[int, int], banner: bool) -> tuple[int, int]:
    """About how large the map is on a page of `size` CSS px (to pick its zoom)."""
    w, h = size
    h -= HEAD_PX + FOOT_PX + (2 * BANNER_PX if banner else 0)
    if w >= h:  # the side panel beside the map (briefing.css: a portrait page puts it below)
        return max(w - SIDE_PX, 100), max(h, 100)
    return max(w, 100), max(h - SIDE_BELOW_PX, 100)


@cache
def _page_css() -> str:
    return (Path(__file__).with_name("css") / "briefing.css").read_text(encoding="utf-8")


def _label_layer(
    view: View,
    events: pd.DataFrame,
    n: int,
    box: LonLatBox | None,
    zoom: int,
    settings: Settings,
) -> tuple[folium.FeatureGroup | None, int]:
    """The `n` key events' labels as map markers (escaped text), and how many there are."""
    chosen = layout.key_events(events, n, box)
    if chosen.empty:
        return None, 0
    group = folium.FeatureGroup(name="Labels of key events", control=False)
    with_year = view.start.year != view.end.year
    avoid = []
    if "sites" in view.layers:  # the map labels sites (not terminals) right of their dots
        sites = layer_on("sites", view.end, settings)
        for _, row in sites[sites["kind"] != "terminal"].iterrows():
            text = place_label(str(row["name"]), view.convention)
            avoid.append((row.geometry.y, row.geometry.x, text))
    if "places" in view.layers:  # town names the map may show at this zoom
        places = layer_on("places", None, settings)
        if "min_zoom" in places:
            places = places[places["min_zoom"].astype("Float64").fillna(99) <= zoom]
        for _, row in places.iterrows():
            text = place_label(str(row["name"]), view.convention)
            avoid.append((row.geometry.y, row.geometry.x, text))
    for lat, lon, text, side in layout.place_labels(chosen, zoom, with_year, avoid):
        html = (
            '<span class="nk-ring"></span>'
            f'<span class="nk-elabel nk-elabel-{side}">{escape_text(text)}</span>'
        )
        folium.Marker(
            location=(lat, lon),
            icon=folium.DivIcon(
                html=html, icon_size=(0, 0), icon_anchor=(0, 0), class_name="nk-elabel-icon"
            ),
            interactive=False,
        ).add_to(group)
    return group, len(chosen)


def _footer(
    view: View,
    events: pd.DataFrame,
    counts: layout.EventCounts,
    settings: Settings,
    labelled: int,
) -> str:
    """Sources in words, accuracy of the visible layers, the event count (the subtitle's),
    generation time, data version and the permalink (under Settings.public_url only)."""
    notes = layout.layer_notes(view, settings)
    map_sources = layout.reader_sources([s for _, sources, _ in notes for s in sources])
    sources = f"Map layers: {'; '.join(map_sources) or 'none shown'}."
    if counts.shown:
        sources += f" Events: {layout.event_publishers(events)}."
    accuracy = " · ".join(f"{t}: {layout.accuracy_in_words(a)}" for t, _, a in notes if a)
    if counts.shown:
        accuracy += (" · " if accuracy else "") + "Events: " + layout.event_accuracy(events)
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = f"Generated {generated} · data version {data_version(events, settings)}"
    if link := permalink(view, settings.public_url):
        meta += f" · view: {link}"
    said = f"{counts}." + (f" Labelled: the {labelled} most important." if labelled else "")
    if counts.shown:
        said += f" {COMPILATION_CAVEAT}"
    return (
        '<div class="nk-notes">'
        f"<p><b>Sources.</b> {escape_text(sources)}</p>"
        f"<p><b>Accuracy.</b> {escape_text(accuracy or '-')}</p>"
        f"<p><b>Events.</b> {escape_text(said)}</p>"
        f'</div><p class="nk-meta">{escape_text(meta)}</p>'
    )


def _page(
    view: View,
    options: SnapshotOptions,
    settings: Settings,
    events: pd.DataFrame,
    static: bool,
    size: tuple[int, int] | None = None,
) -> str:
    """The briefing page; `size`: the page size it is drawn at (default options.size)."""
    size = size or options.size
    refs = [n for n in view.layers if n in LAYER_NAMES]
    box = frame_of(view, options, events)
    if box is not None:
        center, zoom = fit_box(box, *map_area_px(size, bool(options.banner)))
    else:
        center, zoom = view.center or DEFAULT_CENTER, view.zoom or DEFAULT_ZOOM
    # folium/branca compile a Jinja template per element and render: compile each once per
    # process (a pure function of its source), as the dashboard does.
    reuse_compiled_templates()
    payload = None
    if "events" in view.layers or "heat" in view.layers:
        # An image has no popups: a static page carries the points without their text.
        budget = 0 if static else TEXT_BUDGET
        payload = event_payload(events, view.convention, text_budget=budget)

    def page_of(drawn: EventPayload | None) -> tuple[folium.Map, str, int]:
        m = build_map(
            view.end,
            layers=refs,
            convention=view.convention,
            start=view.start,
            events=drawn,
            heat="heat" in view.layers,
            draw_points="events" in view.layers,
            settings=settings,
            center=center,
            zoom=zoom,
            legend=False,
            scale=True,
        )
        if box is not None:
            m.fit_bounds([[box.lat_min, box.lon_min], [box.lat_max, box.lon_max]])
        labelled = 0
        if options.label and "events" in view.layers:
            labels, labelled = _label_layer(view, events, options.label, box, zoom, settings)
            if labels is not None:
                labels.add_to(m)
        return m, offline_html(m, settings), labelled

    # The payload (megabytes at 100,000 events) goes into the page after branca has rendered
    # it: Jinja never parses it (0.1 s less per export, and data never meets a template).
    if payload is not None:
        mark = replace(payload, json=_PAYLOAD_MARK)
        m, doc, labelled = page_of(mark)
        if doc.count(_PAYLOAD_MARK) == 1:
            doc = doc.replace(_PAYLOAD_MARK, payload.json, 1)
        else:  # a map builder that carries the payload differently: the plain way
            m, doc, labelled = page_of(payload)
    else:
        m, doc, labelled = page_of(None)

    counts = layout.EventCounts.of(events, view)
    title = options.title or layout.default_title(view, box)
    banner = f'<div class="nk-banner">{escape_text(options.banner)}</div>' if options.banner else ""
    head = (
        f'{banner}<header class="nk-head"><h1>{escape_text(title)}</h1>'
        f'<div class="nk-sub">{escape_text(layout.subtitle(view, counts))}</div></header>'
        '<div class="nk-body"><main class="nk-mapbox">'
    )
    end_day = day_number(view.end, OPEN_END)  # the picture shows the layers as on view.end
    rows = getattr(m, "nk_legend_rows", None)
    if rows is None:  # a map builder that does not list its legend rows
        rows = layout.fallback_legend_rows(view, events)
    side = (
        '<aside class="nk-side"><figure class="nk-inset-box">'
        f"{layout.locator_svg(box, settings)}"
        "<figcaption>Map frame (red) in the South Caucasus</figcaption></figure>"
        '<div class="nk-legend-box">'
        f"{layout.legend_html(rows, events, counts, labelled, end_day)}</div>"
        "</aside>"
    )
    foot = _footer(view, events, counts, settings, labelled)
    tail = (
        f'<div class="nk-north-box">{layout.NORTH_ARROW_SVG}</div></main>{side}</div>'
        f'<footer class="nk-foot">{foot}</footer>{banner}'
    )
    body_class = "nk-brief nk-static" if static else "nk-brief"
    head_extra = f"<title>{escape_text(title)}</title><style>{_page_css()}</style>"

    # The folium document is <html><head>…</head><body>map div</body><script>…</script>
    # </html>: wrap the body's content between the header and the side panel and footer, in
    # a positioned box that the map fills; the inset's script runs after the map's.
    for marker in ("<head>", "<body>", "</body>", "</html>"):
        if doc.count(marker) != 1:
            raise RenderError(f"unexpected map document: {marker} found {doc.count(marker)} times")
    doc = doc.replace("<head>", "<head>" + head_extra, 1)
    doc = doc.replace("<body>", f'<body class="{body_class}">' + head, 1)
    doc = doc.replace("</body>", tail + "</body>", 1)
    return doc.replace("</html>", layout.page_script(m.get_name()) + "</html>", 1)


def _load_events(view: View, settings: Settings) -> pd.DataFrame:
    from geo.store import open_store

    store = open_store(settings=settings)
    # The store filters by type in SQL (fewer rows read); filter_events does the rest.
    return filter_events(store.events(view.start, view.end, types=view.types or None), view)


def briefing_html(
    view: View,
    options: SnapshotOptions = SnapshotOptions(),
    settings: Settings | None = None,
    events: pd.DataFrame | None = None,
) -> str:
    """The briefing page of `view` as one self-contained HTML document (the .html export).

    `events`: the view's events already filtered; default: read from the store and filtered.
    Every data string is escaped; every asset is inlined (nothing is fetched from anywhere).
    """
    settings = settings or get_settings()
    if events is None:
        events = _load_events(view, settings)
    return _page(view, options, settings, events, static=False)


# ------------------------------------------------------------------------------- rendering


def _outside_event_loop(fn: Callable[..., T], *args: object) -> T:
    """Run `fn` here, or in a worker thread when this thread runs an asyncio loop.

    Playwright's sync API refuses to start inside a running loop (a notebook, an async server,
    another sync Playwright session in the same thread); its objects stay in the thread that
    made them. Exports draw in the Chromium service's own thread; tests that drive their own
    Playwright use this.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nkmap-render") as pool:
        return pool.submit(fn, *args).result()


@contextmanager
def _renderer() -> Iterator[ChromiumService]:
    """The process's Chromium (started on first use, kept between exports)."""
    yield SERVICE


# ---------------------------------------------------------------------------------- output


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; an export is an ordinary file
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


def _format_of(out: Path) -> str:
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InputError(
            "the output file must end in " + ", ".join(f".{f}" for f in FORMATS),
            value=str(out),
        )
    return fmt


def _check_options(options: SnapshotOptions) -> None:
    w, h = options.size
    if not (200 <= w <= 10_000 and 200 <= h <= 10_000):
        raise InputError("size must be between 200x200 and 10000x10000 pixels", value=options.size)
    if options.bbox is not None:
        lon_min, lat_min, lon_max, lat_max = options.bbox
        if not (-180 <= lon_min < lon_max <= 180 and -90 <= lat_min < lat_max <= 90):
            raise InputError(
                "bbox must be lon_min,lat_min,lon_max,lat_max with min < max", value=options.bbox
            )
    if options.frame not in FRAMES:
        raise InputError(f"frame must be one of {', '.join(FRAMES)}", value=options.frame)
    if not 0 <= options.label <= MAX_LABELS:
        raise InputError(f"label takes 0 to {MAX_LABELS} events", value=options.label)


def _make(
    view: View,
    out: Path,
    fmt: str,
    options: SnapshotOptions,
    settings: Settings,
    events: pd.DataFrame,
    renderer: ChromiumService | None,
) -> Path:
    if fmt == "html":
        data = _page(view, options, settings, events, static=False).encode("utf-8")
    elif renderer is None:
        with _renderer() as r:
            return _make(view, out, fmt, options, settings, events, r)
    elif fmt == "zip":
        from geo.briefing.pack import data_pack  # pack builds on this module's page

        data = data_pack(view, options, settings, events, out.stem, renderer)
    else:
        size = A4_LANDSCAPE_PX if fmt == "pdf" else options.size
        data = renderer.render(_page(view, options, settings, events, True, size), fmt, size)
    _atomic_write(out, data)
    return out


def snapshot(
    view: View,
    out: Path | str,
    options: SnapshotOptions = SnapshotOptions(),
    settings: Settings | None = None,
    events: pd.DataFrame | None = None,
) -> Path:
    """Write the briefing snapshot of `view` to `out`; the suffix picks the format.

    ``.png`` (``options.size`` pixels), ``.pdf`` (one A4 landscape page), ``.html`` (self-
    contained, with the time control) or ``.zip`` (data pack). Any other suffix raises
    InputError (a ValueError) naming the allowed ones. `events`: the view's events, already
    filtered; default: the store's events of the period, filtered by the view. Returns `out`.

    The map frames `options.bbox`, else the view's events (see `frame_of`). PNG and PDF are
    drawn by the process's Chromium, started by the first export and kept for the next.
    """
    out = Path(out)
    fmt = _format_of(out)
    _check_options(options)
    if fmt != "html":
        SERVICE.start_soon()  # Chromium starts while the events are read and the page built
    settings = settings or get_settings()
    if events is None:
        events = _load_events(view, settings)
    return _make(view, out, fmt, options, settings, events, None)
