"""Framing a view: the box around its events and the web-map zoom that shows it."""

import pandas as pd
import pytest

from geo import region
from geo.view import frame_box


def test_fit_extent_centres_the_box_and_zooms_to_fit_it():
    assert region.fit_extent([40.68], [46.36]) == ((40.68, 46.36), region.POINT_ZOOM)
    centre, zoom = region.fit_extent([39.8, 40.7], [46.3, 47.2])  # Stepanakert to Ganja, ~1°
    assert centre == pytest.approx((40.25, 46.75)) and zoom == 9  # 0.9° of latitude: 430 px
    centre, zoom = region.fit_extent([38.8, 41.2], [43.5, 50.4])  # the whole South Caucasus
    assert zoom == 7  # 6.9° of longitude: 630 of 900 px
    assert region.fit_extent([-60, 70], [-170, 170])[1] == region.MIN_ZOOM  # never the world


def test_events_box_ignores_points_outside_the_region_and_has_a_minimum_size():
    # Stepanakert, and a statement placed in Washington: the frame is Stepanakert's.
    box = region.events_box([39.8153, 38.8951], [46.7519, -77.0364])
    assert box.contains(46.7519, 39.8153)
    assert box.lon_max - box.lon_min == pytest.approx(region.FRAME_MIN_DEG, abs=1e-3)
    assert box.lat_max - box.lat_min == pytest.approx(region.FRAME_MIN_DEG, abs=1e-3)
    assert region.events_box([38.9], [-77.0]) is None
    assert region.events_box([], []) is None


def test_events_box_leaves_out_a_few_outliers_of_a_large_view():
    lats = [39.8 + i * 0.001 for i in range(200)] + [41.7]  # one event in Tbilisi
    lons = [46.7 + i * 0.001 for i in range(200)] + [44.8]
    box = region.events_box(lats, lons)
    assert box.lat_max < 40.2 and box.lon_min > 46.5


def test_frame_box_frames_the_ground_not_the_capitals_where_statements_were_made():
    events = pd.DataFrame(
        {
            "event_type": ["shelling", "capture", "statement", "ceasefire"],
            "latitude": [40.68, 39.76, 40.41, 55.75],  # Ganja, Shusha, Baku, Moscow
            "longitude": [46.36, 46.75, 49.87, 37.62],
        }
    )
    box = frame_box(events)
    assert box.contains(46.36, 40.68) and box.contains(46.75, 39.76)
    assert not box.contains(49.87, 40.41)
    only_talk = events[events["event_type"] == "statement"]
    assert frame_box(only_talk).contains(49.87, 40.41)
    assert frame_box(events.iloc[0:0]) is None
