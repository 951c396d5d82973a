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
