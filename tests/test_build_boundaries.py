"""The build script's pure steps, on geometry made in the test."""

import pytest
from shapely.geometry import LineString, Point, Polygon, box

import build_boundaries as bb
from geo.places.gazetteer import Place


def _square_pieces(gap):
    # A unit square drawn as four pieces whose ends miss each other by `gap`.
    return [
        LineString([(0, 0), (1, 0)]),
        LineString([(1 + gap, 0), (1, 1)]),
        LineString([(1, 1 + gap), (0, 1)]),
        LineString([(0, 1 - gap), (0, gap)]),
    ]


def test_polygonize_ring_closes_small_gaps():
    ring = bb.polygonize_ring(_square_pieces(0.004), tolerance=0.01)
    assert ring.is_valid
    assert ring.area == pytest.approx(1.0, abs=0.02)


def test_polygonize_ring_refuses_gaps_beyond_tolerance():
    with pytest.raises(ValueError, match="do not close"):
        bb.polygonize_ring(_square_pieces(0.05), tolerance=0.01)


def test_snap_endpoints_leaves_far_ends_alone():
    a, b = bb.snap_endpoints([LineString([(0, 0), (1, 0)]), LineString([(5, 5), (6, 6)])], 0.1)
    assert list(a.coords) == [(0, 0), (1, 0)]
    assert list(b.coords) == [(5, 5), (6, 6)]


def test_merge_line_joins_a_chain_and_rejects_two_chains():
    merged = bb.merge_line([LineString([(0, 0), (1, 0)]), LineString([(1.001, 0), (2, 0)])], 0.01)
    assert merged.length == pytest.approx(2, abs=0.01)
    with pytest.raises(ValueError, match="2 chains"):
        bb.merge_line([LineString([(0, 0), (1, 0)]), LineString([(5, 0), (6, 0)])], 0.01)


def test_extend_line_grows_both_ends():
    line = bb.extend_line(LineString([(0, 0), (1, 0)]), 0.5)
    assert list(line.coords)[0] == (-0.5, 0) and list(line.coords)[-1] == (1.5, 0)


def test_piece_containing_splits_along_a_line_that_ends_on_the_edge():
    square = box(0, 0, 2, 2)
    cutter = LineString([(1, 0), (1, 2)])  # ends exactly on the boundary, as NE's line does
    left = bb.piece_containing(square, cutter, Point(0.5, 1))
    assert left.area == pytest.approx(2)
    with pytest.raises(ValueError):
        bb.piece_containing(square, cutter, Point(5, 5))


def test_route_uses_the_country_it_is_given():
    calls = []

    def lookup(name, country):
        calls.append((name, country))
        return Place(name, 40.0 + len(calls), 45.0, country, None, "test", None, "primary")

    line, names = bb.route([("Tovuz", "AZ"), ("Gardabani", "GE")], lookup=lookup)
    assert calls == [("Tovuz", "AZ"), ("Gardabani", "GE")]
    assert names == ["Tovuz", "Gardabani"] and list(line.coords) == [(45.0, 41.0), (45.0, 42.0)]


def test_south_of_keeps_the_southern_part():
    half = bb.south_of((0, 1), (2, 1), bounds=(0, 0, 2, 2))
    assert isinstance(half, Polygon) and half.area == pytest.approx(2)
    assert half.contains(Point(1, 0.5)) and not half.contains(Point(1, 1.5))


def test_buffer_km_is_metric():
    ring = bb.buffer_km(Point(46.75, 39.8), 2.5)
    # 2.5 km is ~0.029 deg of longitude at 40N and ~0.0225 deg of latitude.
    minx, miny, maxx, maxy = ring.bounds
    assert (maxx - minx) / 2 == pytest.approx(2.5 / (111.32 * 0.7683), rel=0.02)
    assert (maxy - miny) / 2 == pytest.approx(2.5 / 111.0, rel=0.02)


def test_write_geojson_is_atomic_and_refuses_invalid_geometry(tmp_path):
    import geopandas as gpd

    target = tmp_path / "layer.geojson"
    target.write_text("old")
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    with pytest.raises(ValueError, match="invalid geometry"):
        bb.write_geojson(gpd.GeoDataFrame({"a": [1]}, geometry=[bowtie], crs=4326), target)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["layer.geojson"]
    bb.write_geojson(gpd.GeoDataFrame({"a": [1]}, geometry=[Point(1, 2)], crs=4326), target)
    assert gpd.read_file(target).geometry.iloc[0] == Point(1, 2)


# --------------------------------------------------------------------------- day-by-day control

# A 0.2 x 0.2 degree square near Stepanakert, and settlements at its left and right thirds.
_SQUARE = box(46.6, 39.7, 46.8, 39.9)
_SEEDS = {"west": Point(46.65, 39.8), "east": Point(46.75, 39.8)}


def test_settlement_cells_tile_the_area_and_hold_their_settlement():
    cells = bb.settlement_cells(_SEEDS, _SQUARE)
    assert set(cells) == {"west", "east"}
    for name, cell in cells.items():
        assert cell.contains(_SEEDS[name])
        assert _SQUARE.buffer(1e-9).contains(cell)
    union = cells["west"].union(cells["east"])
    assert union.symmetric_difference(_SQUARE).area < 1e-9
    assert cells["west"].intersection(cells["east"]).area < 1e-12
    # The edge between them is half-way, in metres as in degrees on a parallel.
    assert cells["west"].bounds[2] == pytest.approx(46.70, abs=0.002)


def test_settlement_cells_need_two_settlements():
    with pytest.raises(ValueError, match="at least 2"):
        bb.settlement_cells({"one": Point(46.7, 39.8)}, _SQUARE)


def test_held_intervals_shrink_on_each_claim_date():
    cells = bb.settlement_cells(_SEEDS, _SQUARE)
    out = bb.held_intervals(_SQUARE, cells, {"east": "2020-10-04"}, "2020-09-27", "2020-11-09")
    assert [(a, b, new) for a, b, _, new in out] == [
        ("2020-09-27", "2020-10-03", []),
        ("2020-10-04", "2020-11-09", ["east"]),
    ]
    assert out[0][2].equals(_SQUARE)
    assert out[1][2].area == pytest.approx(cells["west"].area, rel=1e-6)
    assert not out[1][2].contains(_SEEDS["east"]) and out[1][2].contains(_SEEDS["west"])
    # A claim on the first day makes no unchanged interval before it.
    first = bb.held_intervals(_SQUARE, cells, {"west": "2020-09-27"}, "2020-09-27", "2020-09-30")
    assert [(a, b) for a, b, _, _ in first] == [("2020-09-27", "2020-09-30")]


def test_held_intervals_refuse_claims_outside_the_period_or_without_a_cell():
    cells = bb.settlement_cells(_SEEDS, _SQUARE)
    with pytest.raises(ValueError, match="outside"):
        bb.held_intervals(_SQUARE, cells, {"east": "2020-11-10"}, "2020-09-27", "2020-11-09")
    with pytest.raises(ValueError, match="without a cell"):
        bb.held_intervals(_SQUARE, cells, {"north": "2020-10-01"}, "2020-09-27", "2020-11-09")


_HEADER = "date,settlement,geonames_name,latitude,longitude,claimant,source,source_url,note\n"


def _captures_file(tmp_path, *rows):
    path = tmp_path / "captures.csv"
    path.write_text(_HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_read_captures_parses_a_good_row(tmp_path):
    path = _captures_file(
        tmp_path,
        '2020-10-04,East,East,39.8,46.75,President,"Pub, 2020-10-04",https://example.org/a,',
        "2020-10-05,West,West,39.8,46.65,President,Pub,,no address: print only",
    )
    rows = bb.read_captures(path)
    assert [r["latitude"] for r in rows] == [39.8, 39.8]
    assert rows[0]["source"] == "Pub, 2020-10-04"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("04/10/2020,E,E,39.8,46.75,P,Pub,https://x.org,", "line 2, date='04/10/2020'"),
        ("2020-10-04,E,E,north,46.75,P,Pub,https://x.org,", "latitude='north'"),
        ("2020-10-04,E,E,39.8,46.75,P, ,https://x.org,", "source"),
        ("2020-10-04,E,E,39.8,46.75,P,Pub,www.x.org,", "http(s) address"),
    ],
)
def test_read_captures_names_the_bad_cell(tmp_path, row, message):
    with pytest.raises(ValueError) as exc:
        bb.read_captures(_captures_file(tmp_path, row))
    assert message in str(exc.value)


def test_read_captures_refuses_other_columns(tmp_path):
    path = tmp_path / "captures.csv"
    path.write_text("date,place\n2020-10-04,East\n", encoding="utf-8")
    with pytest.raises(ValueError, match="columns must be"):
        bb.read_captures(path)


def test_match_captures_keeps_the_earliest_claim_and_refuses_unknown_places():
    rows = [
        {"settlement": "E", "latitude": 39.8, "longitude": 46.75, "date": "2020-10-09"},
        {"settlement": "E", "latitude": 39.8, "longitude": 46.75, "date": "2020-10-04"},
    ]
    assert bb.match_captures(rows, _SEEDS) == {"east": "2020-10-04"}
    far = [{"settlement": "X", "latitude": 40.5, "longitude": 46.0, "date": "2020-10-04"}]
    with pytest.raises(ValueError, match="not a GeoNames settlement"):
        bb.match_captures(far, _SEEDS)


def test_settlements_inside_drops_other_countries_and_duplicates():
    rows500 = [("West", 39.8, 46.65, "AZ"), ("Border", 39.85, 46.7, "AM"), ("Far", 41, 46, "AZ")]
    rows1000 = [("West bis", 39.81, 46.66, "AZ"), ("East", 39.8, 46.75, "AZ")]
    seeds = bb.settlements_inside(_SQUARE, rows500, rows1000)
    assert set(seeds) == {"West", "East"}


def test_check_captures_in_gazetteer_compares_coordinates():
    def lookup(name, country):
        return Place(name, 39.8, 46.75, country, None, "test", None, "primary")

    good = [{"geonames_name": "East", "latitude": 39.8, "longitude": 46.75}]
    bb.check_captures_in_gazetteer(good, lookup=lookup)
    bad = [{"geonames_name": "East", "latitude": 39.9, "longitude": 46.75}]
    with pytest.raises(ValueError, match="in the gazetteer"):
        bb.check_captures_in_gazetteer(bad, lookup=lookup)


def test_area_km2_uses_the_metric_projection():
    # A 0.1 x 0.1 degree cell at 40 N: about 11.1 km x 8.5 km.
    assert bb.area_km2(box(46.45, 39.95, 46.55, 40.05)) == pytest.approx(94.8, rel=0.01)
