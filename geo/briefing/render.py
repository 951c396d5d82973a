"""Briefing exports: one snapshot of a view as PNG, PDF, self-contained HTML or a data pack.

`snapshot()` is the one function the briefing page and `nkmap snapshot` call. A view (period,
filters, layers, naming convention) becomes a page — header (handling banner, title, subtitle
with the period and the active filters in words), the dashboard's own folium/Leaflet map
(legend, scale bar, north arrow), footer (sources and accuracy of the visible layers, event
count, generation time, data version, permalink) — by `briefing_html()`. That page is:

- ``.html``: written as is; every asset is inlined by `geo.map.assets.offline_html`, so the file
  opens offline with the dashboard's layers, popups and time control;
- ``.png`` / ``.pdf``: drawn by headless Chromium (Playwright, network blocked) from the same
  page; the time control's buttons are hidden, its date label stays. PDF is one A4 landscape
  page. Why a browser and not a static renderer: docs/decisions/0001-snapshot-renderer.md;
- ``.zip``: a data pack — PNG, PDF, the filtered events as formula-safe CSV and GeoJSON, and
  a README with the sources and the permalink of the view.

Files are written atomically (a temp file in the target folder, then `os.replace`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlencode

import pandas as pd
from branca.element import MacroElement, Template

from geo.errors import InputError, NkMapError
from geo.export import events_csv
from geo.layers import LAYER_NAMES, LAYER_TITLES, layer_on
from geo.map.assets import offline_html
from geo.map.build import DEFAULT_CENTER, DEFAULT_ZOOM, build_map
from geo.region import WHOLE_REGION_LONLAT_BOX
from geo.settings import Settings, get_settings
from geo.text import escape_text
from geo.view import View, filter_events

FORMATS = ("png", "pdf", "html", "zip")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
# A4 landscape in CSS pixels (96 per inch): 297 x 210 mm. The PDF page is laid out at this
# size and drawn at twice the resolution, so the map's canvas prints at about 190 dpi.
A4_LANDSCAPE_PX = (1123, 794)
PDF_DEVICE_SCALE = 2
RENDER_TIMEOUT_MS = 30_000
# Drawn map content (Leaflet's `load` fires before anything is drawn).
_MAP_DRAWN = ".leaflet-overlay-pane canvas, .leaflet-overlay-pane path, .leaflet-marker-pane > *"
_LOCAL_SCHEMES = ("data:", "about:", "blob:")


WHOLE_REGION = tuple(WHOLE_REGION_LONLAT_BOX)  # the briefing page's "The whole region"

T = TypeVar("T")


class RenderError(NkMapError, RuntimeError):
    """Chromium is missing or could not draw the page."""


@dataclass(frozen=True)
class SnapshotOptions:
    title: str | None = None  # default: "Nagorno-Karabakh: <period>"
    banner: str | None = None  # handling banner, e.g. "UNCLASSIFIED // FOR BRIEFING"
    size: tuple[int, int] = (1600, 1000)  # PNG pixels (CSS px at device scale 1)
    # lon_min, lat_min, lon_max, lat_max; None = the view's centre/zoom, else the default view
    bbox: tuple[float, float, float, float] | None = None
    permalink_base: str = "http://localhost:8501/"


# ------------------------------------------------------------------------------------ page


def _period(view: View) -> str:
    if view.start == view.end:
        return f"{view.end:%d %b %Y}"
    return f"{view.start:%d %b %Y} to {view.end:%d %b %Y}"


def default_title(view: View) -> str:
    """The title a briefing gets unless the user gives one: the place and the period."""
    return f"Nagorno-Karabakh: {_period(view)}"


def permalink(view: View, options: SnapshotOptions = SnapshotOptions()) -> str:
    """The dashboard URL that opens this view (period, filters, layers, names, map view)."""
    return options.permalink_base + "?" + urlencode(view.to_query())


def data_version(events: pd.DataFrame, settings: Settings | None = None) -> str:
    """sha256 of the events' export CSV + the boundaries manifest, first 12 hex digits."""
    settings = settings or get_settings()
    digest = hashlib.sha256(events_csv(events).encode("utf-8"))
    manifest = settings.boundaries_dir / "manifest.json"
    digest.update(manifest.read_bytes() if manifest.is_file() else b"")
    return digest.hexdigest()[:12]


def layer_notes(view: View, settings: Settings | None = None) -> list[tuple[str, str, str]]:
    """(layer title, sources, accuracy) of each reference layer shown, as on `view.end`."""
    notes = []
    for name in (n for n in LAYER_NAMES if n in view.layers):
        gdf = layer_on(name, view.end, settings)
        if gdf.empty:
            continue
        sources = " · ".join(dict.fromkeys(str(s) for s in gdf.get("source", []) if s))
        accuracy = " · ".join(dict.fromkeys(str(a) for a in gdf.get("accuracy", []) if a))
        notes.append((LAYER_TITLES[name], sources, accuracy))
    return notes


def _event_note(events: pd.DataFrame, view: View) -> str:
    if "events" not in view.layers and "heat" not in view.layers:
        return f"{len(events)} events match the view (event layers hidden)."
    placed = events["latitude"].notna() & events["longitude"].notna()
    approx = int((events.loc[placed, "geo_precision"].fillna(1) >= 2).sum())
    unplaced = int((~placed).sum())
    text = (
        f"{len(events)} events. Each names its publisher and date (see the data pack's CSV); "
        f"one-sided claims say whose claim they are. {approx} placed approximately "
        "(hollow dashed rings)"
    )
    if unplaced:
        text += f"; {unplaced} without a map point"
    return text + ". Fatalities are the parties' claims unless marked otherwise."


class NorthArrow(MacroElement):
    """A north arrow in the map's top-right corner (the map is north-up Web Mercator)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
          var NorthArrow = L.Control.extend({
            options: { position: "topright" },
            onAdd: function () {
              var div = L.DomUtil.create("div", "nk-north");
              div.title = "North";
              div.innerHTML = '<svg width="30" height="44" viewBox="0 0 30 44" ' +
                'role="img" aria-label="North">' +
                '<polygon points="15,3 25,30 15,24 5,30" fill="#222" stroke="#fff" ' +
                'stroke-width="1.2"/>' +
                '<polygon points="15,3 15,24 5,30" fill="#888"/>' +
                '<text x="15" y="42" text-anchor="middle" font-family="system-ui,sans-serif" ' +
                'font-size="12" font-weight="700" fill="#222">N</text></svg>';
              return div;
            }
          });
          new NorthArrow().addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "NorthArrow"


@cache
def _page_css() -> str:
    return (Path(__file__).with_name("css") / "briefing.css").read_text(encoding="utf-8")


def _page(
    view: View,
    options: SnapshotOptions,
    settings: Settings,
    events: pd.DataFrame,
    static: bool,
) -> str:
    refs = [n for n in view.layers if n in LAYER_NAMES]
    center, zoom = view.center or DEFAULT_CENTER, view.zoom or DEFAULT_ZOOM
    m = build_map(
        view.end,
        layers=refs,
        convention=view.convention,
        start=view.start,
        events=events if "events" in view.layers else None,
        heat="heat" in view.layers,
        settings=settings,
        center=center,
        zoom=zoom,
    )
    if options.bbox is not None:
        lon_min, lat_min, lon_max, lat_max = options.bbox
        m.fit_bounds([[lat_min, lon_min], [lat_max, lon_max]])
    NorthArrow().add_to(m)
    doc = offline_html(m, settings)

    title = options.title or default_title(view)
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    version = data_version(events, settings)
    link = permalink(view, options)
    banner = f'<div class="nk-banner">{escape_text(options.banner)}</div>' if options.banner else ""
    head = (
        f'{banner}<header class="nk-head"><h1>{escape_text(title)}</h1>'
        f'<div class="nk-sub">{escape_text(view.describe())}</div></header>'
        '<main class="nk-mapbox">'
    )
    notes = layer_notes(view, settings)
    # Layers share sources (Natural Earth, GeoNames): each is named once.
    sources = "; ".join(
        dict.fromkeys(p.strip() for _, s, _ in notes for p in s.split(" · ") for p in p.split("; "))
    )
    accuracy = " | ".join(f"{t}: {a}" for t, _, a in notes if a)
    foot = [
        '<div class="nk-notes">',
        f"<p><b>Sources.</b> {escape_text(sources or 'no reference layer shown')}</p>",
        f"<p><b>Accuracy.</b> {escape_text(accuracy or '-')}</p>",
        f"<p><b>Events.</b> {escape_text(_event_note(events, view))}</p>",
        "</div>",
        f'<p class="nk-meta">Generated {escape_text(generated)} · data version '
        f"{escape_text(version)} · view: {escape_text(link)}</p>",
    ]
    tail = f'</main><footer class="nk-foot">{"".join(foot)}</footer>{banner}'
    body_class = "nk-brief nk-static" if static else "nk-brief"
    head_extra = f"<title>{escape_text(title)}</title><style>{_page_css()}</style>"

    # The folium document is <html><head>…</head><body>map div, legend</body><script>…</script>:
    # wrap the body's content between the header and the footer, in a positioned box that
    # the map and its legend fill.
    for marker in ("<head>", "<body>", "</body>"):
        if doc.count(marker) != 1:
            raise RenderError(f"unexpected map document: {marker} found {doc.count(marker)} times")
    doc = doc.replace("<head>", "<head>" + head_extra, 1)
    doc = doc.replace("<body>", f'<body class="{body_class}">' + head, 1)
    return doc.replace("</body>", tail + "</body>", 1)


def _load_events(view: View, settings: Settings) -> pd.DataFrame:
    from geo.store import open_store

    return filter_events(open_store(settings=settings).events(view.start, view.end), view)


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


class _Renderer:
    """One headless Chromium (network blocked) that draws briefing pages as PNG or PDF."""

    def __init__(self) -> None:
        self._playwright = None
        self._browser = None

    def start(self) -> _Renderer:
        if not Path(CHROMIUM).exists():
            raise RenderError(
                f"Chromium not found at {CHROMIUM} (install it, or set CHROMIUM): "
                "PNG and PDF exports need it; HTML exports do not"
            )
        from playwright.sync_api import Error, sync_playwright

        try:
            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
            )
        except Error as exc:
            self.close()
            raise RenderError(f"cannot start Chromium: {exc}") from None
        return self

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None

    def render(self, html: str, fmt: str, size: tuple[int, int]) -> bytes:
        from playwright.sync_api import Error, Route

        assert self._browser is not None, "start() the renderer first"
        if fmt == "pdf":
            viewport, scale = A4_LANDSCAPE_PX, PDF_DEVICE_SCALE
        else:
            viewport, scale = size, 1
        context = self._browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]},
            device_scale_factor=scale,
            service_workers="block",
            java_script_enabled=True,
        )
        blocked: list[str] = []

        def guard(route: Route) -> None:
            if route.request.url.startswith(_LOCAL_SCHEMES):
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort("blockedbyclient")

        try:
            context.route("**/*", guard)
            page = context.new_page()
            if fmt == "pdf":
                page.emulate_media(media="print")
            page.set_content(html, wait_until="load", timeout=RENDER_TIMEOUT_MS)
            page.wait_for_selector(
                ".leaflet-container", state="attached", timeout=RENDER_TIMEOUT_MS
            )
            if page.query_selector(".leaflet-overlay-pane, .leaflet-marker-pane") is not None:
                # Nothing drawn after 10 s: no layer shown; the empty map is the picture.
                with contextlib.suppress(Error):
                    page.wait_for_selector(_MAP_DRAWN, state="attached", timeout=10_000)
            # The events canvas draws on an animation frame once its data is decoded.
            page.wait_for_function(
                "() => !window.nkEvents || window.nkEvents.draws > 0 || window.nkEvents.error",
                timeout=RENDER_TIMEOUT_MS,
            )
            # The canvas renderer draws on the next animation frame: let two pass.
            page.evaluate(
                "() => document.fonts.ready.then(() => new Promise(r => "
                "requestAnimationFrame(() => requestAnimationFrame(() => r(true)))))"
            )
            if fmt == "pdf":
                return page.pdf(
                    format="A4",
                    landscape=True,
                    print_background=True,
                    prefer_css_page_size=True,
                    margin={"top": "0", "right": "0", "bottom": "0", "left": "0"},
                )
            return page.screenshot(type="png", full_page=False)
        except Error as exc:
            raise RenderError(f"Chromium could not draw the briefing page: {exc}") from None
        finally:
            context.close()


def _outside_event_loop(fn: Callable[..., T], *args: object) -> T:
    """Run `fn` here, or in a worker thread when this thread runs an asyncio loop.

    Playwright's sync API refuses to start inside a running loop (a notebook, an async server,
    another sync Playwright session in the same thread); its objects stay in the thread that
    made them, so the whole render runs in the worker.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nkmap-render") as pool:
        return pool.submit(fn, *args).result()


@contextmanager
def _renderer() -> Iterator[_Renderer]:
    r = _Renderer().start()
    try:
        yield r
    finally:
        r.close()


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


def _make(
    view: View,
    out: Path,
    fmt: str,
    options: SnapshotOptions,
    settings: Settings,
    events: pd.DataFrame,
    renderer: _Renderer | None,
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
        data = renderer.render(_page(view, options, settings, events, True), fmt, options.size)
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
    """
    out = Path(out)
    fmt = _format_of(out)
    _check_options(options)
    settings = settings or get_settings()
    if events is None:
        events = _load_events(view, settings)
    return _outside_event_loop(_make, view, out, fmt, options, settings, events, None)
