"""The live map's server side (geo.map.live, geo.map.served): the page it loads and the
values it is sent. The browser side is tested in tests/browser/test_map_page.py."""

import dataclasses
import datetime as dt
import json

import pytest

from geo.map.build import build_map
from geo.map.framing import box_fit, events_fit
from geo.map.live import (
    COMPONENT_DIR,
    has_drawn,
    is_map_published,
    live_args,
    map_page,
    moved_view,
    publish_map,
)
from geo.map.served import served_path
from geo.region import WHOLE_REGION_LONLAT_BOX
from geo.settings import Settings


@pytest.fixture
def settings(tmp_path):
    return dataclasses.replace(Settings(), data_dir=tmp_path / "data", data_url="/app/static/data")


def _map(settings, layers=("countries", "control", "pipelines")):
    return build_map("2020-11-10", layers=list(layers), start="2020-09-27", settings=settings)


def test_the_page_is_a_whole_document_with_the_framing_library(settings):
    html = map_page(_map(settings))
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "window.NKFrame" in html and "NKTimeControl(" in html
    assert "NKFrame.box([" not in html and "NKFrame.events({" not in html  # no framing call
    assert "https://" not in html.split("<body>")[0]  # self-hosted assets only


def test_a_page_is_published_once_under_its_content(settings):
    url = publish_map(_map(settings), settings)
    assert url.startswith("/app/static/data/map-") and url.endswith(".html")
    assert served_path(url, settings).read_text("utf-8").count("window.NKFrame = ") == 1
    assert is_map_published(url, settings)
    other = publish_map(_map(settings, ["countries"]), settings)
    assert other != url
    served_path(url, settings).unlink()
    assert not is_map_published(url, settings) and is_map_published(other, settings)


@pytest.mark.parametrize(
    "url",
    ["/app/static/data/../secret.html", "/elsewhere/map-x.html", "/app/static/data/events-x.json"],
)
def test_only_published_map_pages_count(settings, url):
    assert not is_map_published(url, settings)


def test_served_path_stays_in_the_data_folder(settings):
    assert served_path("/app/static/data/map-a.html", settings) == settings.data_dir / "map-a.html"
    for url in ["/app/static/data/sub/x.html", "/app/static/data/.hidden", "/etc/passwd"]:
        assert served_path(url, settings) is None


def test_the_component_gets_values_only():
    fit = events_fit(dt.date(2020, 9, 27), dt.date(2020, 11, 10))
    args = live_args(
        "/app/static/data/map-1.html",
        center=(40.0, 46.5),
        zoom=7,
        start=dt.date(2020, 9, 27),
        end=dt.date(2020, 11, 10),
        fit=fit,
        fit_seq=3,
    )
    assert args == {
        "doc": "/app/static/data/map-1.html",
        "center": [40.0, 46.5],
        "zoom": 7,
        "period": [18532, 18576],
        "fit": {"seq": 3, **fit},
        "height": 600,
        "ready": "/app/static/data/map-1.html#18532,18576",
    }
    # JSON all the way down: numbers and the page's URL, nothing a browser would evaluate.
    assert json.loads(json.dumps(args)) == args
    assert (
        live_args("u", center=(0, 0), zoom=5, start=dt.date(2020, 1, 1), end=dt.date(2020, 1, 1))[
            "fit"
        ]
        is None
    )
    assert (
        box_fit(WHOLE_REGION_LONLAT_BOX)["box"][0][0]
        < box_fit(WHOLE_REGION_LONLAT_BOX)["box"][1][0]
    )


def test_the_component_ships_its_page_and_script():
    index = (COMPONENT_DIR / "index.html").read_text("utf-8")
    script = (COMPONENT_DIR / "live.js").read_text("utf-8")
    assert '<script src="live.js"></script>' in index
    assert "streamlit:componentReady" in script and "streamlit:render" in script
    # It evaluates nothing it is sent.
    for word in ("eval(", "new Function", "innerHTML", "document.write", "srcdoc"):
        assert word not in script


def test_the_page_preloads_its_own_servers_payload_only(settings):
    from test_eventlayer import _events  # this folder is on sys.path under pytest

    from geo.map.events import event_payload

    payload = event_payload(_events())
    here = build_map(
        "2020-11-10", layers=["countries"], events=payload, events_url="/app/static/data/e.json"
    )
    head = map_page(here).split("<body>")[0]
    assert '<link rel="preload" href="/app/static/data/e.json" as="fetch"' in head
    elsewhere = build_map(
        "2020-11-10", layers=["countries"], events=payload, events_url="http://x.invalid/e.json"
    )
    assert 'rel="preload"' not in map_page(elsewhere)


def test_drawn_is_this_pages_and_periods_report_and_a_move_is_the_components_shape():
    args = live_args(
        "/app/static/data/map-1.html",
        center=(40.0, 46.5),
        zoom=7,
        start=dt.date(2020, 9, 27),
        end=dt.date(2020, 11, 10),
    )
    other = live_args(
        "/app/static/data/map-2.html",
        center=(40.0, 46.5),
        zoom=7,
        start=dt.date(2020, 9, 27),
        end=dt.date(2020, 11, 10),
    )
    later = live_args(
        "/app/static/data/map-1.html",
        center=(40.0, 46.5),
        zoom=7,
        start=dt.date(2020, 9, 27),
        end=dt.date(2020, 11, 11),
    )
    assert len({args["ready"], other["ready"], later["ready"]}) == 3
    assert has_drawn(args, {"view": None, "drawn": args["ready"]})
    for value in (None, {}, "x", [args["ready"]], {"drawn": later["ready"]}, {"drawn": None}):
        assert not has_drawn(args, value)
    move = {"center": {"lat": 40.1, "lng": 46.7}, "zoom": 9}
    assert moved_view({"view": move, "drawn": None}) == move
    for value in (
        None,
        {"view": None},
        {"view": {"center": {"lat": "40", "lng": 46.7}, "zoom": 9}},
        {"view": {"center": {"lat": 40.1, "lng": 46.7}, "zoom": True}},
        {"view": {"center": [40.1, 46.7], "zoom": 9}},
        {"center": {"lat": 40.1, "lng": 46.7}, "zoom": 9},  # the old shape: not a move now
    ):
        assert moved_view(value) is None
