"""The map draws in a real browser with every off-site request blocked.

Independent of the dashboard's app.py: a tiny Streamlit script in a temp folder (with a
``static`` symlink to the repo's static/) exercises localize() + st_folium + static serving,
and offline_html() is opened as a file with the network switched off.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import folium
import pytest
from playwright.sync_api import Page, Route

from geo.map import assets
from geo.settings import get_settings

from .conftest import REPO_ROOT, PageLog, save_screenshot, start_streamlit, wait_for_map

pytestmark = pytest.mark.browser

DEMO_APP = textwrap.dedent(
    """
    import folium
    from streamlit_folium import st_folium

    from geo.map.assets import leaflet_only, localize

    # What nkmap's maps are made of: Leaflet alone (GeoJSON, circles, DivIcon labels, the
    # layer control), as geo.map.build.build_map draws them.
    m = leaflet_only(folium.Map(location=[39.8, 46.75], zoom_start=8, tiles=None))
    folium.GeoJson(
        {
            "type": "Feature",
            "properties": {},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[46.5, 39.6], [47.0, 39.6], [47.0, 40.0], [46.5, 40.0], [46.5, 39.6]]
                ],
            },
        },
        name="area",
        style_function=lambda f: {"color": "#b2182b", "weight": 3, "fillOpacity": 0.3},
    ).add_to(m)
    folium.CircleMarker([39.9, 46.9], radius=8, color="#2166ac").add_to(m)
    folium.Marker(
        [39.82, 46.75],
        icon=folium.DivIcon(html='<div class="nk-label">Stepanakert</div>', icon_size=(0, 0)),
    ).add_to(m)
    folium.Marker([39.7, 46.6]).add_to(m)  # Leaflet's default icon image
    folium.LayerControl(collapsed=True).add_to(m)  # toggle: leaflet.css's images/layers.png
    localize(m)
    st_folium(m, height=400, returned_objects=[])
    """
)

# The collapsed layer control's icon: a background image that leaflet.css names.
LAYERS_ICON = "getComputedStyle(document.querySelector('.leaflet-control-layers-toggle'))"
DEFAULT_ICON_LOADED = """() => [...document.querySelectorAll('img.leaflet-marker-icon')]
                           .some(img => img.complete && img.naturalWidth > 0)"""

CONFIG = textwrap.dedent(
    """
    [server]
    enableStaticServing = true
    headless = true

    [browser]
    gatherUsageStats = false
    """
)


@pytest.fixture(scope="module")
def vendor_installed() -> Path:
    """The repo's static/vendor, as `make setup` installed it (rebuilt when assets.py changes).

    Not reinstalled here: the dashboard server of other browser tests serves the same folder.
    """
    vendor_dir = get_settings().vendor_dir
    missing = [rel for rel in set(assets.ASSET_URLS.values()) if not (vendor_dir / rel).is_file()]
    assert not missing, f"static/vendor lacks {missing[:3]}: run `make setup`"
    return vendor_dir


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory, vendor_installed: Path) -> Iterator[str]:
    app_dir = tmp_path_factory.mktemp("demo_app")
    (app_dir / "app.py").write_text(DEMO_APP, "utf-8")
    (app_dir / ".streamlit").mkdir()
    (app_dir / ".streamlit" / "config.toml").write_text(CONFIG, "utf-8")
    (app_dir / "static").symlink_to(REPO_ROOT / "static", target_is_directory=True)
    with start_streamlit(app_dir / "app.py") as url:
        yield url


def test_static_serving_gives_js_and_css_their_mimetypes(page: Page, demo_url: str) -> None:
    # nosniff: a .js served as text/plain would be refused by the browser.
    for rel, mime in [
        ("leaflet/dist/leaflet.js", "javascript"),
        ("leaflet/dist/leaflet.css", "text/css"),
        ("leaflet/dist/images/layers.png", "image/png"),
    ]:
        response = page.request.get(f"{demo_url}/app/static/vendor/{rel}")
        assert response.status == 200, rel
        assert mime in response.headers["content-type"], (rel, response.headers)


def test_st_folium_map_draws_from_self_hosted_assets(
    page: Page, page_log: PageLog, demo_url: str
) -> None:
    page.goto(demo_url)
    frame = wait_for_map(page)
    assert frame != page.main_frame  # st_folium draws inside its component iframe
    assert frame.locator(".leaflet-container").first.is_visible()
    assert frame.locator(".leaflet-overlay-pane path").count() >= 2  # polygon and circle
    box = frame.locator(".leaflet-overlay-pane path").first.bounding_box()
    assert box and box["width"] > 50 and box["height"] > 50
    assert frame.locator(".nk-label").inner_text() == "Stepanakert"
    assert any("/app/static/vendor/leaflet/dist/leaflet.js" in u for u in page_log.requests)
    # Leaflet only: none of folium's other defaults reached the page.
    assert frame.evaluate("() => [typeof window.jQuery, typeof L.AwesomeMarkers]") == [
        "undefined",
        "undefined",
    ]
    # The layer control's icon comes from the vendored folder. Asked of the page's requests
    # (every frame's), not of this frame's resource timings: st_folium may have replaced the
    # frame after the image loaded, and a new frame served from memory lists no entry.
    for _ in range(100):
        if any(u.endswith("/vendor/leaflet/dist/images/layers.png") for u in page_log.requests):
            break
        page.wait_for_timeout(100)
    else:
        pytest.fail(f"the layer control's icon was never requested: {page_log.requests}")
    # Regression: Leaflet guessed ".../leaflet/distmarker-icon.png" inside st_folium.
    frame.wait_for_function(DEFAULT_ICON_LOADED, timeout=10_000)
    path = save_screenshot(page, "offline-assets-st-folium")
    assert path.stat().st_size > 10_000
    assert page_log.offsite_requests == []
    assert page_log.page_errors == []
    assert page_log.failed_responses == []


def test_offline_html_draws_with_the_network_off(
    page: Page, page_log: PageLog, vendor_installed: Path, tmp_path: Path
) -> None:
    m = assets.leaflet_only(folium.Map(location=[39.8, 46.75], zoom_start=8, tiles=None))
    folium.GeoJson(
        {
            "type": "Feature",
            "properties": {},
            "geometry": {
                "type": "LineString",
                "coordinates": [[46.4, 39.5], [47.1, 40.1]],
            },
        },
        name="line",
    ).add_to(m)
    folium.CircleMarker([39.9, 46.9], radius=8).add_to(m)
    folium.Marker(
        [39.82, 46.75],
        icon=folium.DivIcon(html='<div class="nk-label">Stepanakert</div>', icon_size=(0, 0)),
    ).add_to(m)
    folium.Marker([39.7, 46.6]).add_to(m)  # Leaflet's default icon, from a data: URI
    folium.LayerControl(collapsed=True).add_to(m)
    html_path = tmp_path / "map.html"
    html_path.write_text(assets.offline_html(m), "utf-8")

    fetched: list[str] = []

    def no_network(route: Route) -> None:
        fetched.append(route.request.url)
        route.abort("internetdisconnected")

    page.context.set_offline(True)
    page.route("http*://**/*", no_network)
    page.goto(html_path.as_uri())
    frame = wait_for_map(page)
    assert frame == page.main_frame
    assert frame.locator(".leaflet-overlay-pane path").count() >= 2  # line and circle
    assert page.locator(".nk-label").inner_text() == "Stepanakert"
    assert page.evaluate(f"() => {LAYERS_ICON}.backgroundImage").startswith(
        'url("data:image/png;base64,'
    )
    assert page.evaluate(DEFAULT_ICON_LOADED)
    save_screenshot(page, "offline-assets-html")
    assert fetched == []
    assert page_log.offsite_requests == []
    assert page_log.page_errors == []
    assert page_log.failed_responses == []
