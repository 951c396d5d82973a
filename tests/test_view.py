"""The view: URL round trip, hostile or broken links, and the event filter."""

import datetime as dt

import pandas as pd
import pytest

from geo.map.timeline import daily_counts, marked_days, timeline_charts
from geo.store import typed_frame
from geo.view import View, filter_events


def test_view_round_trips_through_the_url():
    view = View(
        start=dt.date(2020, 10, 1),
        end=dt.date(2020, 10, 9),
        types=("shelling", "capture"),
        sides=("azerbaijani",),
        claimed_by=("Armenian Ministry of Defence", "A, B"),
        fatalities_min=2,
        fatalities_max=40,
        precise_only=True,
        text="Ganja",
        layers=("countries", "events", "heat"),
        convention="armenian",
        center=(39.9, 46.8),
        zoom=9,
    )
    assert View.from_query(view.to_query()) == view


def test_default_view_makes_a_short_link():
    assert View().to_query() == {"from": "2020-09-27", "to": "2020-10-05"}


@pytest.mark.parametrize(
    "query",
    [
        {"from": "yesterday", "to": "2020-13-40"},
        {"types": "<script>", "sides": "martians", "z": "99", "lat": "NaNx"},
        {"fmin": "-5", "fmax": "lots", "names": "klingon", "layers": "rivers"},
        {"from": ["2020-10-01", "2020-10-02"]},
    ],
)
def test_broken_links_open_with_defaults(query):
    view = View.from_query(query)
    assert view.start <= view.end
    assert all(t in {"shelling"} for t in view.types) or view.types == ()
    assert view.zoom is None or 3 <= view.zoom <= 18
    assert view.convention in {"both", "armenian", "azerbaijani"}


def test_reversed_period_is_put_in_order():
    view = View.from_query({"from": "2020-11-01", "to": "2020-10-01"})
    assert (view.start, view.end) == (dt.date(2020, 10, 1), dt.date(2020, 11, 1))


def _events():
    rows = [
        dict(
            event_id="a",
            event_date="2020-10-01",
            event_type="shelling",
            side="azerbaijani",
            location="Stepanakert / Khankendi",
            fatalities=3,
            geo_precision=1,
            latitude=39.8,
            longitude=46.7,
            source="Reuters",
            claimed_by="Nagorno-Karabakh authorities",
        ),
        dict(
            event_id="b",
            event_date="2020-10-04",
            event_type="shelling",
            side="armenian",
            location="Ganja",
            fatalities=None,
            geo_precision=1,
            latitude=40.7,
            longitude=46.4,
            source="AFP",
            notes="Residential area hit",
        ),
        dict(
            event_id="c",
            event_date="2020-10-05",
            event_type="statement",
            side="international",
            source="OSCE",
            notes="Call for a ceasefire",
            sub_event_type="joint statement",
        ),
        dict(
            event_id="d",
            event_date="2020-10-05",
            event_type="armed_clash",
            side="armenian",
            location="Front",
            fatalities=12,
            geo_precision=2,
            latitude=39.5,
            longitude=47.0,
            source="MoD",
        ),
    ]
    return typed_frame(pd.DataFrame(rows))


@pytest.mark.parametrize(
    ("view", "ids"),
    [
        (View(), ["a", "b", "c", "d"]),
        (View(types=("shelling",)), ["a", "b"]),
        (View(sides=("armenian",)), ["b", "d"]),
        (View(claimed_by=("Nagorno-Karabakh authorities",)), ["a"]),
        (View(fatalities_min=1), ["a", "d"]),  # unknown fatalities are not "at least 1"
        (View(fatalities_max=5), ["a", "b", "c"]),  # unknown stays in an open-ended range
        (View(precise_only=True), ["a", "b"]),
        (View(text="residential"), ["b"]),
        (View(text="khankendi"), ["a"]),
    ],
)
def test_filter_events(view, ids):
    assert list(filter_events(_events(), view)["event_id"]) == ids


def test_describe_says_the_filters_in_words():
    text = View(types=("shelling",), fatalities_min=2, text="Ganja").describe()
    assert "27 Sep 2020 to 05 Oct 2020" in text and "Shelling / artillery" in text
    assert "fatalities 2-any" in text and '"Ganja"' in text


def test_timeline_counts_and_marks():
    events = _events()
    counts = daily_counts(events)
    assert counts["events"].sum() == 4
    assert counts.loc[counts["type"] == "Armed clash", "fatalities"].item() == 12
    assert list(marked_days(events)["kind"]) == ["Statement"]
    charts = [c.to_dict() for c in timeline_charts(daily_counts(events), marked_days(events))]
    assert len(charts) == 2 and all("layer" in part for part in charts)
    # Each fits the page's width (a vconcat ran past it), and one legend explains both.
    assert all(c["autosize"] == {"type": "fit-x", "contains": "padding"} for c in charts)
    legends = [c["layer"][0]["encoding"]["color"].get("legend", {}) for c in charts]
    assert legends[0] is None and legends[1]["orient"] == "bottom"
    assert daily_counts(events.iloc[0:0]).empty


def test_timeline_uses_the_maps_colours_and_the_whole_period():
    """Regression: the chart coloured capture red (shelling is red on the map), shrank its
    axis to the filtered events and showed "12 PM" ticks (issue 11, item 5)."""
    import datetime as dt

    from geo.schema import EVENT_COLOR, EVENT_TYPES

    events = _events()
    top, _ = timeline_charts(
        daily_counts(events), marked_days(events), dt.date(2020, 9, 1), dt.date(2020, 11, 30)
    )
    bars = top.to_dict()["layer"][0]["encoding"]
    scale = bars["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"], strict=True)) == {
        EVENT_TYPES[t]: EVENT_COLOR[t]
        for t in EVENT_TYPES
        if EVENT_TYPES[t] in set(daily_counts(events)["type"])
    }
    assert bars["x"]["scale"]["domain"][0].startswith("2020-08-31T12")
    assert bars["x"]["scale"]["domain"][1].startswith("2020-11-30T12")
    assert bars["x"]["axis"]["format"] == "%d %b %Y"


def test_a_period_is_recognised_as_its_preset():
    from geo.view import CUSTOM, PRESETS, SINGLE_DAY, preset_for

    for name, (start, end) in PRESETS.items():
        assert preset_for(start, end) == name
    day = dt.date(2021, 6, 1)
    assert preset_for(day, day) == SINGLE_DAY
    assert preset_for(day, day + dt.timedelta(days=3)) == CUSTOM


@pytest.mark.parametrize(
    ("start", "end", "bounds"),
    [
        # The 2020 war: the slider spans 2020, not 1994-2024 (a six-week war was a dot).
        ("2020-09-27", "2020-11-10", ("2020-01-01", "2020-12-31")),
        ("2022-12-12", "2023-09-18", ("2022-01-01", "2023-12-31")),
        # A long period: the stored events' span, widened to hold the period.
        ("2016-04-01", "2023-10-01", ("2016-04-01", "2023-10-01")),
    ],
)
def test_the_slider_spans_the_periods_years(start, end, bounds):
    from geo.view import slider_bounds

    day = dt.date.fromisoformat
    data = (day("2016-04-02"), day("2023-09-30"))
    assert slider_bounds(day(start), day(end), data) == (day(bounds[0]), day(bounds[1]))
