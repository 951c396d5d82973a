"""Reads that give way (geo.store.giveway), on both backends: inside `give_way(stop)` the map
page's reads raise Superseded once `stop()` is True — before they start, and while their SQL
runs — and the store answers the next question as before."""

import datetime as dt
import threading

import numpy as np
import pandas as pd
import pytest

from geo.errors import Superseded
from geo.proximity import reference_lines
from geo.schema import EVENT_TYPES
from geo.store import BatchInfo, Record, SQLiteStore, content_hash
from geo.store.giveway import give_way
from geo.view import View

VIEW = View(start=dt.date(2020, 9, 27), end=dt.date(2020, 11, 10))


def _events(n: int = 60) -> list[Record]:
    rng = np.random.default_rng(3)
    out = []
    for i in range(n):
        values = {
            "event_id": f"g{i:03d}",
            "event_date": (VIEW.start + dt.timedelta(days=int(rng.integers(0, 40)))).isoformat(),
            "event_type": list(EVENT_TYPES)[i % len(EVENT_TYPES)],
            "location": "Tovuz district border",
            "latitude": round(40.99 + float(rng.normal(0, 0.05)), 5),
            "longitude": round(45.63 + float(rng.normal(0, 0.05)), 5),
            "geo_precision": 2,
            "fatalities": i % 4,
            "notes": "<b>{{ 7*7 }}</b> **x**",
            "source": "AFP, 2020-10-04",
        }
        out.append(Record(values, content_hash(values)))
    return out


@pytest.fixture
def filled(store):
    store.apply(_events(), [], batch=BatchInfo(user="test", file_name="g.csv"))
    return store


def _answers(store) -> dict:
    lines = reference_lines(VIEW.end)
    return {
        "summary": store.summary(VIEW),
        "timeline": store.timeline(VIEW),
        "box": store.frame_box(VIEW),
        "page": store.page(VIEW, 0, 25),
        "near": store.near_counts(VIEW, lines, 30.0),
        "frames": list(store.frames(VIEW)),
    }


def _assert_same(got: dict, want: dict) -> None:
    assert got["summary"] == want["summary"]
    assert got["box"] == want["box"]
    for g, w in zip(got["timeline"], want["timeline"], strict=True):
        pd.testing.assert_frame_equal(g, w)
    pd.testing.assert_frame_equal(got["page"], want["page"])
    pd.testing.assert_frame_equal(got["near"], want["near"])
    assert len(got["frames"]) == len(want["frames"])
    for g, w in zip(got["frames"], want["frames"], strict=True):
        pd.testing.assert_frame_equal(g, w)


def test_a_read_no_longer_wanted_does_not_start(filled):
    want = _answers(filled)
    lines = reference_lines(VIEW.end)
    reads = {
        "summary": lambda: filled.summary(VIEW),
        "timeline": lambda: filled.timeline(VIEW),
        "box": lambda: filled.frame_box(VIEW),
        "page": lambda: filled.page(VIEW, 0, 25),
        "near": lambda: filled.near_counts(VIEW, lines, 30.0),
        "frames": lambda: list(filled.frames(VIEW)),
    }
    with give_way(lambda: True):
        for name, read in reads.items():
            with pytest.raises(Superseded):
                read()
                pytest.fail(f"{name} ran although its answer was no longer wanted")
    _assert_same(_answers(filled), want)


def test_a_wanted_read_answers_as_without_give_way(filled):
    want = _answers(filled)
    asked = []
    with give_way(lambda: asked.append(1) or False):
        _assert_same(_answers(filled), want)
    assert asked, "the reads never asked whether they were still wanted"


def _long_statement(store) -> str:
    """SQL that runs for tens of seconds unless it is stopped."""
    if isinstance(store, SQLiteStore):
        return (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 400000000)"
            " SELECT count(*) FROM c"
        )
    return "SELECT pg_sleep(60)"


def test_a_running_statement_stops_when_no_longer_wanted(filled):
    want = _answers(filled)
    unwanted = threading.Event()
    timer = threading.Timer(0.3, unwanted.set)  # the user asks for another view meanwhile
    used = []
    with give_way(unwanted.is_set):
        timer.start()
        try:
            with pytest.raises(Superseded), filled._read() as conn:
                used.append(conn)
                conn.execute(_long_statement(filled)).fetchall()
        finally:
            timer.cancel()
    assert unwanted.is_set()
    if not isinstance(filled, SQLiteStore):
        # A connection that was sent a cancel never goes back to the pool.
        assert used[0].closed
    _assert_same(_answers(filled), want)  # and the store answers as before


def test_writes_do_not_give_way(filled):
    more = [r for r in _events(70) if r.values["event_id"] >= "g060"]
    with give_way(lambda: True):
        result = filled.apply(more, [], batch=BatchInfo(user="test", file_name="more.csv"))
    assert result.inserted == 10
    assert filled.count() == 70
