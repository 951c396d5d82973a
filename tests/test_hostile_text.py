"""Data is never code: template, Markdown and HTML payloads through every output path.

Hostile events go in the way a user's would (a CSV through `nkmap ingest` into a real SQLite
store); every output — the map page's map, snapshot HTML / PNG / PDF / data pack, a series,
CSV / GeoJSON / GeoPackage exports, popups, the page's captions and tables — must carry the
text verbatim (escaped where it is HTML), evaluate nothing, and still succeed. The browser
half (popups clicked in Chromium, pages opened with hostile permalinks) is in
tests/browser/test_hostile_browser.py.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from hostile import NUL, PAYLOADS, TEXT_COLUMNS, assert_inert, hostile_rows
from live_map import report_drawn
from streamlit.testing.v1 import AppTest

from geo.briefing import SnapshotOptions, briefing_html, series, snapshot
from geo.cli import main
from geo.export import neutralise
from geo.map.build import build_map
from geo.map.events import event_payload
from geo.store import open_store
from geo.text import escape_markdown, escape_text, script_safe_json
from geo.view import View

REPO = Path(__file__).resolve().parent.parent
DAY = "2020-10-02"
VIEW = View(start=pd.Timestamp(DAY).date(), end=pd.Timestamp(DAY).date())
TITLE = PAYLOADS["jinja_expression"] + " " + PAYLOADS["markdown_image"]
BANNER = PAYLOADS["jinja_statement"] + " " + PAYLOADS["html_img"] + NUL


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real store holding one event per payload, imported from a CSV by the CLI."""
    folder = tmp_path_factory.mktemp("hostile")
    rows = hostile_rows(DAY)
    source = folder / "hostile.csv"
    with source.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    path = folder / "events.sqlite"
    assert main(["ingest", str(source), "--db", str(path), "--strict"]) == 0
    return path


@pytest.fixture(scope="module")
def events(db: Path) -> pd.DataFrame:
    frame = open_store(db).events(VIEW.start, VIEW.end)
    assert len(frame) == len(PAYLOADS)
    return frame


def _embedded_payload(page: str) -> dict:
    """The events payload a page carries inline (`NKMap.decode({...})`), parsed as JSON."""
    start = page.index("NKMap.decode(") + len("NKMap.decode(")
    obj, _ = json.JSONDecoder().raw_decode(page, start)
    return obj


def _popup_values(payload: dict) -> dict[str, set[str]]:
    return {f["name"]: set(f["values"]) for f in payload["fields"] if f["kind"] == "text"}


def _assert_popups_verbatim(page: str) -> None:
    values = _popup_values(_embedded_payload(page))
    for column in ("source", "claimed_by", "notes", "actor1", "actor2"):
        for text in PAYLOADS.values():
            assert text in values[column], (column, text)


# ----------------------------------------------------------------------------- the escapers


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_escaped_html_has_no_markup_and_no_template_opener(name):
    out = escape_text(PAYLOADS[name])
    for live in ("<", ">", "`", "${", "\\", '"', "{", "}"):
        assert live not in out
    assert html.unescape(out) == PAYLOADS[name]


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_script_json_round_trips_and_opens_no_template(name):
    obj = {"a": [PAYLOADS[name], {"b": PAYLOADS[name] + "{{"}], "c": {}}
    text = script_safe_json(obj)
    assert json.loads(text) == obj
    for opener in ("{{", "{%", "{#", "</", "`", "${"):
        assert opener not in text


def test_escaped_markdown_has_no_live_link_or_image():
    out = escape_markdown(PAYLOADS["markdown_image"] + PAYLOADS["markdown_link"])
    assert "](" not in out and "![" not in out


# ------------------------------------------------------------------------------- map (HTML)


def test_map_with_hostile_events_renders_them_as_data(events):
    page = build_map(DAY, events=events, start="2020-10-01").get_root().render()
    assert_inert(page)
    _assert_popups_verbatim(page)
    for opener in ("{{ 6*7", "{% if", "{# hidden"):
        assert opener not in page


def test_map_payload_for_the_dashboard_is_data(events):
    payload = json.loads(event_payload(events).json)
    values = _popup_values(payload)
    for text in PAYLOADS.values():
        assert text in values["notes"]


def test_hostile_reference_layer_names_and_properties_render_as_text(tmp_path):
    """Reference layers are ours, but one path for all text: a layer built from a hostile
    GeoJSON renders escaped and unevaluated."""
    from geo import layers
    from geo.settings import Settings

    for name in set(layers.LAYER_NAMES) - set(layers.BASEMAP_NAMES):
        (tmp_path / f"{name}.geojson").write_bytes(
            (Settings().boundaries_dir / f"{name}.geojson").read_bytes()
        )
    sites = gpd.read_file(tmp_path / "sites.geojson")
    for col in ("name", "note", "source", "accuracy"):
        if col in sites:
            sites[col] = PAYLOADS["jinja_expression"] + PAYLOADS["html_img"]
    sites.to_file(tmp_path / "sites.geojson", driver="GeoJSON")
    settings = Settings(boundaries_dir=tmp_path)
    page = build_map(DAY, layers=["sites"], settings=settings).get_root().render()
    assert_inert(page)
    assert PAYLOADS["html_img"] not in page


# --------------------------------------------------------------------------------- exports


def test_snapshot_html_with_hostile_title_banner_filters_and_events(tmp_path, events):
    view = View(
        start=VIEW.start,
        end=VIEW.end,
        text=PAYLOADS["markdown_link"],
        claimed_by=(PAYLOADS["jinja_unmatched"],),
    )
    options = SnapshotOptions(title=TITLE, banner=BANNER)
    page = briefing_html(view, options, events=events)
    assert_inert(page)
    _assert_popups_verbatim(page)
    assert f"<h1>{escape_text(TITLE)}</h1>" in page
    assert escape_text(view.describe()) in page
    assert PAYLOADS["html_img"] not in page and "<svg onload" not in page
    # The file written is the same document.
    out = snapshot(view, tmp_path / "brief.html", options, events=events)
    assert_inert(out.read_text(encoding="utf-8"))


def _label_markup(page: str) -> str:
    """The event labels' markers in a briefing page (folium's divIcon options)."""
    icons = re.findall(r"L\.divIcon\(\{[^{}]*\}\)", page)
    return "".join(i for i in icons if "nk-elabel-icon" in i)


def test_snapshot_labels_of_key_events_are_escaped_text(tmp_path, db, events):
    """`--label N` and the briefing page's option: a label is the event's date and its place
    as recorded; with a payload for the place it must stay inert, escaped text."""
    options = SnapshotOptions(label=len(PAYLOADS))
    page = briefing_html(VIEW, options, events=events)
    assert_inert(page)
    labels = _label_markup(page)
    assert labels.count("nk-elabel nk-elabel-") == len(PAYLOADS)
    for live in ("<img", "<svg", "<script", "{{", "{%", "${", "`"):
        assert live not in labels, live
    assert "\\u0026lt;img src=x onerror=" in labels  # the payload is there, as text
    out = tmp_path / "cli.html"
    args = ["snapshot", "--db", str(db), "--from", DAY, "--to", DAY, "--label", "5"]
    assert main([*args, "--out", str(out)]) == 0
    assert_inert(out.read_text(encoding="utf-8"))
    assert _label_markup(out.read_text(encoding="utf-8")).count("nk-elabel nk-elabel-") == 5


@pytest.mark.browser
def test_snapshot_labels_show_the_payloads_verbatim_in_chromium(events):
    from playwright.sync_api import sync_playwright

    from geo.briefing.render import CHROMIUM, CHROMIUM_ARGS, _outside_event_loop

    page_html = briefing_html(VIEW, SnapshotOptions(label=len(PAYLOADS)), events=events)

    def shown() -> tuple[list[str], object]:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.route("**/*", lambda route: route.abort("blockedbyclient"))
                page.set_content(page_html, wait_until="load")
                page.wait_for_selector(".nk-elabel", state="attached")
                texts = page.eval_on_selector_all(
                    ".nk-elabel", "els => els.map(e => e.textContent)"
                )
                return texts, page.evaluate("() => window.__nkXss === undefined")
            finally:
                browser.close()

    texts, clean = _outside_event_loop(shown)
    assert clean is True
    places = {t.split(" · ", 1)[1] for t in texts}
    cut = {t if len(" ".join(t.split())) <= 42 else None for t in PAYLOADS.values()}
    assert {" ".join(t.split()) for t in cut if t} <= places


@pytest.mark.browser
def test_data_pack_png_pdf_csv_geojson_and_readme_keep_the_text(tmp_path, db, events):
    """Chromium draws the PNG and PDF; every file of the pack carries the text as data."""
    options = SnapshotOptions(title=TITLE, banner=BANNER, size=(640, 400))
    out = snapshot(VIEW, tmp_path / "pack.zip", options, events=events)
    with zipfile.ZipFile(out) as zf:
        assert zf.read("pack.png").startswith(b"\x89PNG")
        assert zf.read("pack.pdf").startswith(b"%PDF")
        rows = list(csv.DictReader(io.StringIO(zf.read("events.csv").decode("utf-8"))))
        features = json.loads(zf.read("events.geojson"))["features"]
        readme = zf.read("README.md").decode("utf-8")
    assert {r["notes"] for r in rows} == {neutralise(t) for t in PAYLOADS.values()}
    assert {f["properties"]["notes"] for f in features} == set(PAYLOADS.values())
    assert_inert(readme)
    # The README is Markdown: the user's title and banner stay text (no image, no link).
    assert "![pixel](" not in readme and "](javascript:" not in readme
    assert escape_markdown(TITLE) in readme


def test_each_day_series_succeeds_with_hostile_text(tmp_path, db, monkeypatch):
    monkeypatch.setenv("NKMAP_DB", str(db))
    view = View(start=VIEW.start, end=pd.Timestamp("2020-10-03").date())
    paths = series(view, tmp_path / "frames", each="day", fmt="html")
    assert [p.name for p in paths] == ["2020-10-02.html", "2020-10-03.html"]
    first = paths[0].read_text(encoding="utf-8")
    assert_inert(first)
    _assert_popups_verbatim(first)


@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg"])
def test_cli_exports_carry_the_text_verbatim(tmp_path, db, fmt):
    out = tmp_path / f"events.{fmt}"
    assert main(["export", "--db", str(db), "--format", fmt, "--out", str(out)]) == 0
    if fmt == "csv":
        with out.open(encoding="utf-8", newline="") as fh:
            frame = pd.DataFrame(list(csv.DictReader(fh)))
        expected = {neutralise(t) for t in PAYLOADS.values()}
    else:
        frame = gpd.read_file(out)
        expected = set(PAYLOADS.values())
    for column in TEXT_COLUMNS:
        assert set(frame[column]) == expected, column


def test_exported_csv_reimports_as_duplicates(tmp_path, db):
    out = tmp_path / "events.csv"
    assert main(["export", "--db", str(db), "--format", "csv", "--out", str(out)]) == 0
    from geo.ingest import plan_import

    plan = plan_import(out.read_bytes(), open_store(db), fmt="native")
    assert plan.rejects == [] and len(plan.duplicates) == len(PAYLOADS)


def test_an_export_fails_for_no_text():
    """Regression: one event with an unmatched '{{' made every export of its period fail."""
    frame = pd.DataFrame(hostile_rows(DAY))
    from geo.store import typed_frame

    page = briefing_html(VIEW, SnapshotOptions(), events=typed_frame(frame))
    assert "PRB\\u007b{ unclosed PRB" in page or "PRB&#123;&#123; unclosed PRB" in page


# ----------------------------------------------------------------------------- the dashboard

PERMALINK = {
    "from": DAY,
    "to": DAY,
    "q": PAYLOADS["markdown_image"],
    "claimed": PAYLOADS["markdown_link"] + "|" + PAYLOADS["jinja_expression"],
}


def _markdown_texts(at: AppTest) -> list[str]:
    """Everything the page drew through Markdown (titles, captions, alerts, markdown)."""
    texts = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "error", "warning"):
        texts.extend(str(el.value) for el in getattr(at, kind))
    for kind in ("info", "success"):
        texts.extend(str(el.value) for el in getattr(at, kind))
    return texts


def test_map_page_draws_permalink_text_as_text_not_markdown(db, monkeypatch):
    monkeypatch.setenv("NKMAP_DB", str(db))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=90)
    at.query_params.update(PERMALINK)
    for run in (at.run, lambda: report_drawn(at)):  # the map's run, then what is under it
        run()
        assert not at.exception
        for text in _markdown_texts(at):
            for payload in (PAYLOADS["markdown_image"], PAYLOADS["markdown_link"], "PRB{{"):
                assert payload not in text, text
            assert_inert(text)
        plain = " ".join(str(t.value) for t in at.text)
        assert PAYLOADS["markdown_image"] in plain  # the filters in words, as typed
    # The events table holds the notes verbatim (a data grid, never HTML or Markdown).
    table = next(df.value for df in at.dataframe if "notes" in df.value.columns)
    assert set(PAYLOADS.values()) <= set(table["notes"]) or table.empty


def test_map_page_table_and_legend_with_hostile_events(db, monkeypatch):
    monkeypatch.setenv("NKMAP_DB", str(db))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=90)
    at.query_params.update({"from": DAY, "to": DAY})
    at.run()
    assert not at.exception
    for text in _markdown_texts(at):  # the map's run, before the counts and tables
        assert_inert(text)
    report_drawn(at)
    assert not at.exception
    table = next(df.value for df in at.dataframe if "notes" in df.value.columns)
    assert set(table["notes"]) == set(PAYLOADS.values())
    for text in _markdown_texts(at):
        assert_inert(text)
        assert "<img" not in text and "{{" not in text
    # The live map's arguments are values (no event text), and its page holds reference
    # layers and the legend only (the browser fetches the events' payload); nothing in either
    # was evaluated.
    from geo.map.served import served_path

    args = json.loads(at.get("component_instance")[0].proto.json_args)
    assert set(args) - {"key", "default"} == {
        "doc",
        "center",
        "zoom",
        "period",
        "fit",
        "height",
        "ready",
    }
    assert_inert(json.dumps(args))
    assert_inert(served_path(args["doc"]).read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", ["app_pages/2_Sources.py", "app_pages/3_Briefing.py"])
def test_other_pages_with_a_hostile_permalink(db, monkeypatch, page):
    monkeypatch.setenv("NKMAP_DB", str(db))
    at = AppTest.from_file(str(REPO / page), default_timeout=90)
    at.query_params.update(PERMALINK)
    at.run()
    assert not at.exception
    for text in _markdown_texts(at):
        assert PAYLOADS["markdown_image"] not in text and "](javascript:" not in text
        assert_inert(text)


def test_no_page_renders_user_text_as_markdown():
    """A lint of the pages: Markdown-rendering calls get literals or our own f-strings of
    numbers and dates, never a variable holding user text. (The AppTest tests above check the
    outcome; this catches a new call before a payload test exists for it.)"""
    calls = re.compile(r"st\.(markdown|caption|error|warning|info|success|write)\((?P<arg>[^)\n]*)")
    allowed_names = {"text"}  # `text` is our own SOURCES.md (2_Sources.py)
    for path in [REPO / "app.py", *sorted((REPO / "app_pages").glob("*.py"))]:
        for match in calls.finditer(path.read_text(encoding="utf-8")):
            arg = match.group("arg").strip()
            constant = re.fullmatch(r"[A-Z][A-Z0-9_]*", arg)  # our module constants
            if not arg or arg[0] in "\"'f(" or arg in allowed_names or constant:
                continue
            raise AssertionError(f"{path.name}: st.{match.group(1)}({arg}) may render user text")
