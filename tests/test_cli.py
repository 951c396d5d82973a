import json
import subprocess
import sys
from pathlib import Path

import pytest

from geo.cli import main


def _layer(capsys, *args):
    assert main(["layer", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_layer_list(capsys):
    assert main(["layer", "--list"]) == 0
    names = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    assert names[0] == "countries"
    assert sorted(names) == sorted(
        ["countries", "nkao", "control", "contact_line", "pipelines", "sites"]
        + ["places", "water", "roads"]
    )


def test_control_on_2015_is_the_1994_to_2020_held_area(capsys):
    fc = _layer(capsys, "control", "--on", "2015-01-01")
    assert fc["type"] == "FeatureCollection"
    [feature] = fc["features"]
    assert feature["properties"]["valid_from"] == "1994-05-12"
    assert feature["properties"]["valid_to"] == "2020-09-26"
    assert feature["geometry"]["type"] == "Polygon"


def test_layer_without_date_is_whole(capsys):
    assert len(_layer(capsys, "control")["features"]) > 5


def test_bad_date_is_a_clear_error(capsys):
    assert main(["layer", "control", "--on", "2015-13-01"]) == 2
    err = capsys.readouterr().err
    assert "2015-13-01" in err and "YYYY-MM-DD" in err


def test_unknown_layer_is_refused():
    with pytest.raises(SystemExit) as exc:
        main(["layer", "rivers"])
    assert exc.value.code == 2


def test_console_script_is_installed():
    nkmap = Path(sys.executable).parent / "nkmap"
    out = subprocess.run(
        [str(nkmap), "layer", "contact_line", "--on", "2021-01-01"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "schematic" in json.loads(out)["features"][0]["properties"]["name"]


def test_layer_list_gives_title_count_and_folder_of_every_layer(capsys, monkeypatch, tmp_path):
    from geo.layers import load_layer
    from geo.settings import get_settings

    settings = get_settings()
    assert main(["layer", "--list"]) == 0
    rows = {}
    for line in capsys.readouterr().out.splitlines():
        name, title, count, folder = line.split("\t")
        rows[name] = (title, count, Path(folder))
    assert rows["water"] == (
        "Rivers and lakes",
        str(len(load_layer("water"))),
        settings.basemap_dir,
    )
    assert rows["places"][2] == settings.basemap_dir
    assert rows["control"][1:] == (str(len(load_layer("control"))), settings.boundaries_dir)
    # A basemap folder without the files: the layers are listed as missing, not an error.
    monkeypatch.setenv("NKMAP_BASEMAP_DIR", str(tmp_path))
    assert main(["layer", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"roads\tRoads (schematic)\tmissing\t{tmp_path.resolve()}" in lines
