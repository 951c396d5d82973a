"""A briefing's data pack (.zip): the PNG and PDF, the events as formula-safe CSV and as
GeoJSON, and a README with the sources (as recorded: datasets, packages and versions) and the
view's permalink."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

from geo.briefing import layout
from geo.briefing.chromium import A4_LANDSCAPE_PX, ChromiumService
from geo.briefing.render import SnapshotOptions, _page, data_version, frame_of, permalink
from geo.export import events_csv, export_events
from geo.provenance import build_manifest
from geo.settings import Settings
from geo.text import escape_markdown
from geo.view import View


def _manifest_lines(settings: Settings) -> list[str]:
    try:
        manifest = build_manifest(settings)
    except Exception:  # noqa: BLE001 - a pack without the build versions is still a pack
        return ["- (data/boundaries/manifest.json not readable)"]
    return [f"- {k}: {v}" for k, v in manifest.items() if k != "layers"]


def readme(
    view: View, options: SnapshotOptions, settings: Settings, events: pd.DataFrame, stem: str
) -> str:
    box = frame_of(view, options, events)
    title = options.title or layout.default_title(view, box)
    counts = layout.EventCounts.of(events, view)
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    link = permalink(view, settings.public_url)
    # The title, banner and filters are user text: escaped, so a Markdown viewer shows them
    # as typed (no image fetched, no live link).
    lines = [
        f"# {escape_markdown(title)}",
        "",
        escape_markdown(layout.subtitle(view, counts)),
        "",
    ]
    if options.banner:
        lines += [f"Handling: {escape_markdown(options.banner)}", ""]
    frame = "none (the map page's centre and zoom)" if box is None else ", ".join(map(str, box))
    lines += [
        f"- Permalink of the view: {link or '(none: NKMAP_PUBLIC_URL is not set)'}",
        f"- Layers: {', '.join(view.layers) or 'none'}; names: {view.convention}",
        f"- Map frame (lon_min, lat_min, lon_max, lat_max): {frame}",
        f"- Events: {counts}",
        f"- Generated: {generated}; data version {data_version(events, settings)} "
        "(sha256 of the events' stored content hashes and the reference data manifests)",
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
    for layer_title, sources, accuracy in layout.layer_notes(view, settings):
        lines += [f"- **{layer_title}**: {'; '.join(sources)}. Accuracy: {' · '.join(accuracy)}"]
    if counts.shown:
        publishers = escape_markdown(layout.event_publishers(events, top=30))
        lines += [f"- **Events**: {publishers}. {layout.event_accuracy(events)}."]
    lines += [
        "",
        "Versions of the reference data build (data/boundaries/manifest.json):",
        "",
        *_manifest_lines(settings),
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
    renderer: ChromiumService,
) -> bytes:
    png = renderer.render(_page(view, options, settings, events, True), "png", options.size)
    page = _page(view, options, settings, events, True, A4_LANDSCAPE_PX)
    pdf = renderer.render(page, "pdf", A4_LANDSCAPE_PX)
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
