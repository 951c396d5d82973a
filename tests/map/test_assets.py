"""geo.map.assets: the map's JS/CSS come from this machine, never a CDN (no browser, no network)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import folium
import pytest
from folium import plugins
from folium.elements import JSCSSMixin

from geo.errors import AssetError
from geo.map import assets
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


def app_like_map() -> folium.Map:
    """A map made of what nkmap's maps use: Leaflet alone (as geo.map.build.build_map draws)."""
    m = assets.leaflet_only(folium.Map(location=[39.8, 46.75], zoom_start=8, tiles=None))
    folium.GeoJson(polygon(), name="area").add_to(m)
    folium.CircleMarker([39.9, 46.9], radius=6).add_to(m)
    folium.Marker(
        [39.82, 46.75],
        icon=folium.DivIcon(html='<div class="nk-label">Stepanakert</div>', icon_size=(0, 0)),
    ).add_to(m)
    folium.Marker([39.76, 46.75]).add_to(m)  # Leaflet's default icon image
    folium.LayerControl().add_to(m)  # its toggle is leaflet.css's images/layers.png
    return m


def test_install_provides_leaflet_and_nothing_else(settings: Settings) -> None:
    files = {p.relative_to(settings.vendor_dir).as_posix() for p in assets.install(settings)}
    assert files == {
        "leaflet/LICENSE",
        "leaflet/dist/leaflet.js",
        "leaflet/dist/leaflet.css",
        *(
            f"leaflet/dist/images/{name}.png"
            for name in ("layers", "layers-2x", "marker-icon", "marker-icon-2x", "marker-shadow")
        ),
        assets.ICON_PATH_JS,
    }
    for url, rel in assets.ASSET_URLS.items():
        assert (settings.vendor_dir / rel).is_file(), f"{url} -> {rel} not installed"


def test_asset_urls_are_folium_maps_leaflet_at_the_pinned_version() -> None:
    pinned = json.loads((REPO_ROOT / "package.json").read_text("utf-8"))["dependencies"]
    assert sorted(assets.ASSET_URLS.values()) == sorted(assets.ASSET_FILES.values())
    for url in assets.ASSET_URLS:
        # folium and package.json must agree on the Leaflet version, or the copy is not its own.
        assert f"leaflet@{pinned['leaflet']}/" in url, url


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
    stylesheets = list(settings.vendor_dir.rglob("*.css"))
    assert stylesheets
    for css in stylesheets:
        assert not EXTERNAL_RE.search(css.read_text("utf-8")), css


def test_leaflet_only_keeps_leaflet_and_leaves_folium_map_class_alone() -> None:
    class_js, class_css = list(folium.Map.default_js), list(folium.Map.default_css)
    m = assets.leaflet_only(folium.Map(tiles=None))
    assert [n for n, _ in m.default_js] == ["leaflet"]
    assert [n for n, _ in m.default_css] == ["leaflet_css"]
    assert folium.Map.default_js == class_js and folium.Map.default_css == class_css
    assert len(folium.Map().default_js) > 1


def test_localize_leaves_only_self_hosted_leaflet_in_rendered_map(settings: Settings) -> None:
    m = assets.localize(app_like_map(), settings=settings)
    html = m.get_root().render()
    links = LINK_RE.findall(html)
    assert sorted(url[len(settings.vendor_url) + 1 :] for url in links) == sorted(
        [*assets.ASSET_FILES.values(), assets.ICON_PATH_JS]
    )
    for url in links:
        assert url.startswith(settings.vendor_url + "/"), url
        assert (settings.vendor_dir / url[len(settings.vendor_url) + 1 :]).is_file(), url
    for tag in re.findall(r"<(?:script|link)\b[^>]*>", html, re.I):
        assert "https://" not in tag and "http://" not in tag, tag


def test_localize_is_idempotent_and_leaves_folium_classes_alone(settings: Settings) -> None:
    class_js = list(folium.Map.default_js)
    m = app_like_map()
    m.get_root().render()  # rendered once with CDN links before localizing: must not matter
    assets.localize(m, settings=settings)
    first = LINK_RE.findall(m.get_root().render())
    assets.localize(m, settings=settings)
    # Compare links only: folium itself appends script lines on every render.
    assert LINK_RE.findall(m.get_root().render()) == first
    assert "cdn" not in " ".join(first)
    assert sum(url.endswith(assets.ICON_PATH_JS) for url in first) == 1
    assert folium.Map.default_js == class_js
    assert folium.Map().default_js[0][1].startswith("https://")


def test_localize_file_mode_points_into_vendor_dir(settings: Settings) -> None:
    m = assets.localize(app_like_map(), mode="file", settings=settings)
    links = LINK_RE.findall(m.get_root().render())
    assert len(links) == 3
    for url in links:
        assert url.startswith(settings.vendor_dir.resolve().as_uri() + "/"), url


def test_localize_unknown_url_names_element_and_url(settings: Settings) -> None:
    class Gadget(JSCSSMixin):
        default_js = [("gadget", "https://cdn.example.invalid/gadget.js")]

    m = app_like_map()
    m.add_child(Gadget())
    with pytest.raises(
        AssetError, match=r"Gadget links 'gadget' from https://cdn\.example\.invalid/gadget\.js"
    ) as err:
        assets.localize(m, settings=settings)
    assert "only Leaflet" in str(err.value) and "package.json" in str(err.value)


def test_localize_refuses_folium_maps_extras_and_says_how_to_drop_them(
    settings: Settings,
) -> None:
    with pytest.raises(
        AssetError, match=r"Map links 'jquery' from https://\S*jquery.*only Leaflet"
    ):
        assets.localize(folium.Map(tiles=None), settings=settings)
    # Rendered before leaflet_only(): the extras already sit in the page header.
    m = folium.Map(tiles=None)
    m.get_root().render()
    assets.leaflet_only(m)
    with pytest.raises(AssetError, match=r"in the page header links 'jquery'.*leaflet_only"):
        assets.localize(m, settings=settings)


@pytest.mark.parametrize(
    "plugin",
    [
        lambda: plugins.MarkerCluster(),
        lambda: plugins.HeatMap([[39.8, 46.7, 1.0]]),
        lambda: plugins.Fullscreen(),
        lambda: plugins.TimestampedGeoJson({"type": "FeatureCollection", "features": []}),
    ],
    ids=["MarkerCluster", "HeatMap", "Fullscreen", "TimestampedGeoJson"],
)
def test_localize_refuses_the_plugins_the_app_dropped(settings: Settings, plugin) -> None:
    m = app_like_map()
    element = plugin().add_to(m)
    with pytest.raises(AssetError, match=rf"^{type(element).__name__} links '.*only Leaflet"):
        assets.localize(m, settings=settings)


def test_localize_refuses_folium_icon_which_needs_awesome_markers(settings: Settings) -> None:
    m = app_like_map()
    folium.Marker([39.8, 46.7], icon=folium.Icon(prefix="fa", icon="info")).add_to(m)
    with pytest.raises(AssetError, match=r"folium\.Icon.*awesome-markers.*DivIcon"):
        assets.localize(m, settings=settings)


def test_offline_html_is_self_contained_and_carries_leaflet(settings: Settings) -> None:
    html = assets.offline_html(app_like_map(), settings=settings)
    # Script bodies hold strings such as Leaflet's attribution link; they load nothing.
    markup_and_css = re.sub(r"(?is)<script>.*?</script>", "<script></script>", html)
    assert not EXTERNAL_RE.search(markup_and_css), EXTERNAL_RE.search(markup_and_css)
    assert assets.external_refs(html) == []
    assert "/app/static/vendor" not in html
    leaflet_js = (settings.vendor_dir / "leaflet/dist/leaflet.js").read_text("utf-8")
    assert "Leaflet 1.9.3, a JS library for interactive maps" in html
    assert leaflet_js.splitlines()[4][:2000] in html
    assert "data:image/png;base64," in html  # leaflet.css images and default icon inlined
    assert not re.search(r"(?i)<script[^>]*\bsrc=", html)
    assert not re.search(r"(?i)<link[^>]*rel=.stylesheet", html)
    assert len(html) < 400_000  # Leaflet only: no jQuery, Bootstrap or Font Awesome inlined


def test_offline_html_refuses_a_map_that_still_loads_remote_code(settings: Settings) -> None:
    m = app_like_map()
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
    # Every pinned package is copied into vendor_dir, and nothing else is pinned.
    assert set(wanted) == {source.package for source in assets.SOURCES}
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
