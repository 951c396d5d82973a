"""geo.assets: the map's JS/CSS come from this machine, never a CDN (no browser, no network)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import folium
import pytest
from folium import plugins
from folium.elements import JSCSSMixin

from geo import assets
from geo.errors import AssetError
from geo.settings import REPO_ROOT, Settings

# src=/href= of script/link tags, and url()/@import targets in CSS.
LINK_RE = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)=["']([^"']*)["']""", re.I)
EXTERNAL_RE = re.compile(
    r"""(?:\b(?:src|href)\s*=\s*["']?|url\(\s*["']?|@import\s+["']?)\s*(?:https?:)?//""", re.I
)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose vendor_dir is a fresh temp folder, filled by install()."""
    vendor_dir = tmp_path_factory.mktemp("static") / "vendor"
    s = dataclasses.replace(Settings.from_env(), root=REPO_ROOT, vendor_dir=vendor_dir)
    assets.install(s)
    return s


def polygon() -> dict:
    return {
        "type": "Feature",
        "properties": {"name": "test area"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[46.5, 39.6], [47.0, 39.6], [47.0, 40.0], [46.5, 40.0], [46.5, 39.6]]],
        },
    }


def full_map() -> folium.Map:
    """A map with every element type whose assets we self-host."""
    m = folium.Map(location=[39.8, 46.75], zoom_start=8, tiles=None)
    m.options["max_zoom"] = 18  # tiles=None drops max_zoom; MarkerCluster needs it (DESIGN.md)
    cluster = plugins.MarkerCluster().add_to(m)
    folium.Marker([39.82, 46.75], icon=folium.Icon(prefix="fa", icon="info", angle=30)).add_to(
        cluster
    )
    folium.Marker([39.76, 46.75]).add_to(m)
    plugins.HeatMap([[39.8, 46.7, 1.0], [39.9, 46.8, 0.5]]).add_to(m)
    plugins.Fullscreen().add_to(m)
    plugins.TimestampedGeoJson(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [46.75, 39.8]},
                    "properties": {"times": ["2020-09-27", "2020-11-10"]},
                }
            ],
        }
    ).add_to(m)
    folium.GeoJson(polygon()).add_to(m)
    return m


def test_install_provides_every_file_in_the_table(settings: Settings) -> None:
    for url, rel in assets.ASSET_URLS.items():
        assert (settings.vendor_dir / rel).is_file(), f"{url} -> {rel} not installed"
    # Relative url() targets travel with their CSS.
    assert (settings.vendor_dir / "leaflet/dist/images/marker-icon.png").is_file()
    assert (settings.vendor_dir / "@fortawesome/fontawesome-free/webfonts").is_dir()
    assert (settings.vendor_dir / "leaflet.awesome-markers/dist/images/markers-soft.png").is_file()


def test_install_replaces_the_tree_and_leaves_no_temp_dirs(settings: Settings) -> None:
    stray = settings.vendor_dir / "stale.js"
    stray.write_text("old")
    files = assets.install(settings)
    assert not stray.exists()
    assert files and all(p.is_file() for p in files)
    assert [p.name for p in settings.vendor_dir.parent.iterdir()] == ["vendor"]


def test_install_without_node_modules_names_package_and_npm_ci(tmp_path: Path) -> None:
    s = dataclasses.replace(
        Settings.from_env(), root=tmp_path, vendor_dir=tmp_path / "static" / "vendor"
    )
    with pytest.raises(AssetError, match=r"'leaflet'.*npm ci"):
        assets.install(s)
    assert not (tmp_path / "static").exists()  # checked before anything is written


def test_no_installed_stylesheet_loads_from_the_internet(settings: Settings) -> None:
    for css in settings.vendor_dir.rglob("*.css"):
        text = css.read_text("utf-8")
        assert not EXTERNAL_RE.search(text), css
    timedimension = (
        settings.vendor_dir
        / assets.ASSET_URLS[
            "https://cdn.jsdelivr.net/npm/leaflet-timedimension@1.1.1/dist/leaflet.timedimension.control.css"
        ]
    )
    text = timedimension.read_text("utf-8")
    assert "bootstrapcdn" not in text
    assert "Glyphicons" not in text
    assert '"Font Awesome 6 Free"' in text


def test_localize_leaves_no_cdn_link_in_rendered_map(settings: Settings) -> None:
    m = assets.localize(full_map(), settings=settings)
    html = m.get_root().render()
    links = LINK_RE.findall(html)
    assert len(links) >= 20
    for url in links:
        assert url.startswith(settings.vendor_url + "/"), url
        assert (settings.vendor_dir / url[len(settings.vendor_url) + 1 :]).is_file(), url
    for tag in re.findall(r"<(?:script|link)\b[^>]*>", html, re.I):
        assert "https://" not in tag and "http://" not in tag, tag


def test_localize_is_idempotent_and_leaves_folium_classes_alone(settings: Settings) -> None:
    class_js = list(folium.Map.default_js)
    class_css = list(plugins.MarkerCluster.default_css)
    m = full_map()
    m.get_root().render()  # rendered once with CDN links before localizing: must not matter
    assets.localize(m, settings=settings)
    first = LINK_RE.findall(m.get_root().render())
    assets.localize(m, settings=settings)
    # Compare links only: folium itself appends script lines on every render.
    assert LINK_RE.findall(m.get_root().render()) == first
    assert "cdn" not in " ".join(first)
    assert sum(url.endswith(assets.ICON_PATH_JS) for url in first) == 1
    assert folium.Map.default_js == class_js
    assert plugins.MarkerCluster.default_css == class_css
    assert folium.Map().default_js[0][1].startswith("https://")


def test_localize_file_mode_points_into_vendor_dir(settings: Settings) -> None:
    m = assets.localize(full_map(), mode="file", settings=settings)
    for url in LINK_RE.findall(m.get_root().render()):
        assert url.startswith(settings.vendor_dir.resolve().as_uri() + "/"), url


def test_localize_unknown_url_names_element_and_url(settings: Settings) -> None:
    class Gadget(JSCSSMixin):
        default_js = [("gadget", "https://cdn.example.invalid/gadget.js")]

    m = folium.Map(tiles=None)
    m.add_child(Gadget())
    with pytest.raises(AssetError, match=r"Gadget.*https://cdn\.example\.invalid/gadget\.js"):
        assets.localize(m, settings=settings)


def test_offline_html_is_self_contained_and_carries_leaflet(settings: Settings) -> None:
    html = assets.offline_html(full_map(), settings=settings)
    # Script bodies hold strings such as Leaflet's attribution link; they load nothing.
    markup_and_css = re.sub(r"(?is)<script>.*?</script>", "<script></script>", html)
    assert not EXTERNAL_RE.search(markup_and_css), EXTERNAL_RE.search(markup_and_css)
    assert assets.external_refs(html) == []
    assert "/app/static/vendor" not in html
    leaflet_js = (settings.vendor_dir / "leaflet/dist/leaflet.js").read_text("utf-8")
    assert "Leaflet 1.9.3, a JS library for interactive maps" in html
    assert leaflet_js.splitlines()[4][:2000] in html
    assert "data:font/woff2;base64," in html  # Font Awesome fonts inlined
    assert "data:image/png;base64," in html  # Leaflet / awesome-markers images inlined
    assert not re.search(r"(?i)<script[^>]*\bsrc=", html)
    assert not re.search(r"(?i)<link[^>]*rel=.stylesheet", html)


def test_offline_html_refuses_a_map_that_still_loads_remote_code(settings: Settings) -> None:
    m = full_map()
    m.get_root().header.add_child(folium.JavascriptLink("https://cdn.example.invalid/x.js"))
    with pytest.raises(AssetError, match="cdn.example.invalid"):
        assets.offline_html(m, settings=settings)


def test_external_refs_ignores_text_and_script_bodies() -> None:
    html = (
        '<p>see https://example.org</p><a href="https://example.org">x</a>'
        '<script>var s = "<img src=https://x.invalid/a.png>";</script>'
        "<style>.a{background:url(\"data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>\")}"
        "</style>"
    )
    assert assets.external_refs(html) == []
    bad = '<style>@import "//fonts.invalid/x.css"; .b{background:url(https://x.invalid/b.png)}</style>'
    bad += '<img src="//x.invalid/c.png"><link rel="stylesheet" href="http://x.invalid/d.css">'
    assert len(assets.external_refs(bad)) == 4


def test_inline_js_cannot_close_its_script_element() -> None:
    js = 'var a = "</script><script>alert(1)</SCRIPT>"; var b = /<!--/;'
    escaped = assets.escape_inline_js(js)
    assert "</script" not in escaped.lower()
    assert "<!--" not in escaped
    assert escaped == 'var a = "<\\/script><script>alert(1)<\\/SCRIPT>"; var b = /\\x3C!--/;'


def test_lockfile_pins_exact_versions_from_the_registry_only() -> None:
    manifest = json.loads((REPO_ROOT / "package.json").read_text("utf-8"))
    lock = json.loads((REPO_ROOT / "package-lock.json").read_text("utf-8"))
    assert manifest["private"] is True
    wanted = manifest["dependencies"]
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in wanted.values()), wanted
    packages = lock["packages"]
    for name, version in wanted.items():
        assert packages[f"node_modules/{name}"]["version"] == version
    for path, entry in packages.items():
        if not path:
            continue
        assert not entry.get("link"), path
        assert entry["integrity"].startswith("sha512-"), path
        resolved = entry.get("resolved")
        # npm omits `resolved` for default-registry tarballs when
        # omit-lockfile-registry-resolved is set; otherwise it must be the registry.
        assert resolved is None or resolved.startswith("https://registry.npmjs.org/"), path
