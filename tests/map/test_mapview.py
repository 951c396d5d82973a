"""The map, tested by rendering it to HTML (the browser tests drive the real page)."""

import re

import geopandas as gpd
import pytest
from shapely.geometry import Point

from geo import layers
from geo.map.build import build_map, escape_text
from geo.settings import Settings

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "${document.title=1}",
    "`backtick`",
    "back\\slash",
    "</script><script>alert(2)</script>",
    '"><svg onload=alert(3)>',
]


def _html(m):
    return m.get_root().render()


def test_map_has_every_layer_and_no_cdn_link():
    html = _html(build_map("2015-01-01"))
    for title in layers.LAYER_TITLES.values():
        assert escape_text(title) in html, title
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert "/app/static/vendor/" in html
    assert "tile.openstreetmap" not in html


def test_max_zoom_survives_tiles_none():
    m = build_map("2015-01-01")
    assert m.options["max_zoom"] == 14
    assert '"maxZoom": 14' in _html(m)


def test_web_tiles_only_when_asked():
    assert "tile.openstreetmap.org" in _html(build_map("2015-01-01", web_tiles=True))


def test_layers_follow_the_date():
    html_2015 = _html(build_map("2015-01-01", layers=["control", "contact_line"]))
    html_2021 = _html(build_map("2021-06-01", layers=["control", "contact_line"]))
    assert "1994 ceasefire to 26 Sep 2020" in html_2015
    assert "Lachin corridor" not in html_2015
    assert "Lachin corridor" in html_2021
    assert "Line of Contact, 1994-2020" not in html_2021


def test_naming_convention_applies_to_labels():
    assert "Stepanakert / Khankendi" in _html(build_map("2015-01-01", layers=["sites"]))
    azerbaijani = _html(build_map("2015-01-01", layers=["sites"], convention="azerbaijani"))
    assert "Khankendi" in azerbaijani and "Stepanakert / Khankendi" not in azerbaijani


def test_unknown_layer_is_refused():
    with pytest.raises(ValueError, match="rivers"):
        build_map("2015-01-01", layers=["rivers"])


@pytest.mark.parametrize("payload", HOSTILE)
def test_escape_text_leaves_nothing_live(payload):
    out = escape_text(payload)
    for live in ("<", ">", "`", "${", "\\", '"'):
        assert live not in out


def test_hostile_layer_properties_are_escaped_in_the_map(tmp_path):
    # A sites layer whose every text property is hostile, in a boundaries folder of its own.
    for name in set(layers.LAYER_NAMES) - set(layers.BASEMAP_NAMES):
        (tmp_path / f"{name}.geojson").write_bytes(
            (Settings().boundaries_dir / f"{name}.geojson").read_bytes()
        )
    rows = [
        {
            "name": p,
            "label": p,
            "kind": "capital",
            "country": p,
            "gazetteer_name": p,
            "source": p,
            "accuracy": p,
            "note": p,
            "geometry": Point(46.7, 39.8),
        }
        for p in HOSTILE
    ]
    gpd.GeoDataFrame(rows, crs=4326).to_file(tmp_path / "sites.geojson", driver="GeoJSON")
    settings = Settings(boundaries_dir=tmp_path)
    html = _html(build_map("2015-01-01", layers=["sites"], settings=settings))
    for live in ("<img src=x", "<svg onload", "${document", "</script><script>alert", "`back"):
        assert live not in html, live
    # The text is still there, as inert entities (JSON may encode "&" as \\u0026).
    assert "lt;img src=x onerror=alert(1)" in html


def _hostile_events():
    import pandas as pd

    from geo.schema import BY_NAME, COLUMN_NAMES, Kind
    from geo.store import typed_frame

    rows = []
    for i, payload in enumerate(HOSTILE):
        row = {c: payload for c in COLUMN_NAMES if BY_NAME[c].kind is Kind.TEXT}
        row.update(
            event_id=f"x{i}",
            event_date="2020-10-05",
            event_type="shelling",
            side="civilian",
            verification="claimed",
            latitude=39.8 + i / 100,
            longitude=46.75,
            geo_precision=1 + i % 3,
            fatalities=i,
        )
        rows.append(row)
    return typed_frame(pd.DataFrame(rows))


def test_hostile_event_text_is_escaped_in_popups_and_tooltips():
    events = _hostile_events()
    html = _html(build_map("2020-10-05", layers=[], events=events))
    for live in ("<img src=x", "<svg onload", "${document", "</script><script>alert", "`back"):
        assert live not in html, live
    assert "nk-popup" in html


def _decoded_payload(html: str) -> dict:
    import json

    start = html.index("NKMap.decode(") + len("NKMap.decode(")
    return json.JSONDecoder().raw_decode(html[start:])[0]


def test_events_without_a_point_are_not_drawn():
    events = _hostile_events()
    events.loc[0, ["latitude", "longitude"]] = None
    assert _decoded_payload(_html(build_map("2020-10-05", layers=[], events=events)))["n"] == 5


def test_the_layer_control_names_the_events_without_a_count():
    # A count here was the whole data span's ("Events (212)") while the page said 144 and the
    # playback 139: the time control's readout says what it counts instead.
    html = _html(build_map("2020-10-05", layers=[], start="2020-10-01", events=_hostile_events()))
    assert re.search(r'"Events"\s*:', html)
    assert not re.search(r"Events \(\d", html)
    assert "events with a map point shown" in html  # the readout's words (timecontrol.js)
