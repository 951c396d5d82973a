"""App tests: the page runs, its widgets change what the map script contains."""

import tomllib
from pathlib import Path

from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")


def _map_html(at: AppTest) -> str:
    # st_folium renders through a custom component; its arguments carry the map's script.
    return str([el.proto for el in at.get("component_instance")])


def test_map_page_runs_and_draws_the_layers():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Nagorno-Karabakh conflict map"
    html = _map_html(at)
    assert "Oil and gas pipelines" in html
    assert "2020 war: area held before 27 Sep 2020" in html


def test_date_changes_the_reference_layers():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.date_input[0].set_value("2021-06-01").run()
    assert not at.exception
    html = _map_html(at)
    assert "Lachin corridor" in html
    assert "front moving" not in html


def test_naming_convention_reaches_the_map():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.radio[0].set_value("azerbaijani").run()
    html = _map_html(at)
    assert "Khankendi" in html and "Stepanakert / Khankendi" not in html


def test_streamlit_config_is_safe_and_serves_static_assets():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    server = config["server"]
    assert server["enableStaticServing"] is True
    assert server["enableXsrfProtection"] is True
    assert 0 < server["maxUploadSize"] <= 200
    assert config["client"]["showErrorDetails"] is False
