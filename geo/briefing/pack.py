"""A briefing's data pack (.zip): the PNG and PDF, the events as formula-safe CSV and as
GeoJSON, and a README with the sources and the view's permalink."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

from geo.briefing.render import (
    SnapshotOptions,
    _event_note,
    _page,
    _Renderer,
    data_version,
    default_title,
    layer_notes,
    permalink,
)
from geo.export import events_csv, export_events
from geo.settings import Settings
from geo.text import escape_markdown
from geo.view import View


def readme(
    view: View, options: SnapshotOptions, settings: Settings, events: pd.DataFrame, stem: str
) -> str:
    title = options.title or default_title(view)
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    # The title, banner and filters are user text: escaped, so a Markdown viewer shows them
    # as typed (no image fetched, no live link).
    lines = [
        f"# {escape_markdown(title)}",
        "",
        escape_markdown(view.describe()),
        "",
    ]
    if options.banner:
        lines += [f"Handling: {escape_markdown(options.banner)}", ""]
    lines += [
        f"- Permalink of the view: {permalink(view, options)}",
        f"- Layers: {', '.join(view.layers) or 'none'}; names: {view.convention}",
        f"- Events: {len(events)}",
        f"- Generated: {generated}; data version {data_version(events, settings)} "
        "(sha256 of the events CSV and the boundaries manifest)",
        "",
        "## Files",
        "",
        f"- `{stem}.png`: the map as an image",
        f"- `{stem}.pdf`: the same briefing page, A4 landscape",
        "- `events.csv`: the events of the view, every schema column; text cells that a "
        "spreadsheet would run as a formula start with `'`; re-imports with `nkmap ingest`",
        "- `events.geojson`: the same events as points (EPSG:4326)",
        "",
        "## Sources and accuracy",
        "",
    ]
    for layer_title, sources, accuracy in layer_notes(view, settings):
        lines += [f"- **{layer_title}**: {sources}. Accuracy: {accuracy}"]
    lines += [
        f"- **Events**: {_event_note(events, view)}",
        "",
        "Layer provenance in full: data/boundaries/SOURCES.md and data/events/SOURCES.md of the "
        "nkmap repository.",
        "",
    ]
    return "\n".join(lines)


def data_pack(
    view: View,
    options: SnapshotOptions,
    settings: Settings,
    events: pd.DataFrame,
    stem: str,
    renderer: _Renderer,
) -> bytes:
    page = _page(view, options, settings, events, static=True)
    png = renderer.render(page, "png", options.size)
    pdf = renderer.render(page, "pdf", options.size)
    with tempfile.TemporaryDirectory() as tmp:
        geojson_path = Path(tmp) / "events.geojson"
        export_events(events, geojson_path, "geojson")
        geojson = geojson_path.read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{stem}.png", png)
        zf.writestr(f"{stem}.pdf", pdf)
        zf.writestr("events.csv", events_csv(events).encode("utf-8"))
        zf.writestr("events.geojson", geojson)
        zf.writestr("README.md", readme(view, options, settings, events, stem).encode("utf-8"))
    return buf.getvalue()
