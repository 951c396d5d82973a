"""The map page's questions answered in the store (geo.store.query), on both backends: each
answer equals what the pandas path (store.events + geo.view.filter_events + the frame
functions) gives for the same view, so moving the work into SQL changed no number."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from geo.map.events import event_payload
from geo.map.timeline import daily_counts, marked_days
from geo.proximity import counts_near, reference_lines
from geo.schema import EVENT_TYPES, SIDES
from geo.store import BatchInfo, Record, SQLiteStore, content_hash
from geo.store import query as q
from geo.view import View, filter_events, frame_box

PLACES = [  # (name, lat, lon): along the pipelines near Tovuz and Ganja, and in Karabakh
    ("Şuşa / Shushi", 39.758, 46.749),
    ("Ստեփանակերտ / Stepanakert", 39.815, 46.752),
    ("Tovuz district border", 40.99, 45.63),
    ("Ganja", 40.683, 46.361),
    ("Yevlakh", 40.618, 47.150),
    ("Baku", 40.409, 49.867),
]
# Event text that must stay text: a template, Markdown and HTML.
PAYLOADS = (
    "{{ 7*7 }} {% if 1 %}x{% endif %}",
    "**bold** [link](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
)
TYPES = list(EVENT_TYPES)


def _events(n: int = 240, seed: int = 7) -> list[Record]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        name, lat, lon = PLACES[i % len(PLACES)]
        day = dt.date(2020, 9, 20) + dt.timedelta(days=int(rng.integers(0, 60)))
        values = {
            "event_id": f"q{i:04d}",
            "event_date": day.isoformat(),
            "date_end": (day + dt.timedelta(days=int(rng.integers(1, 5)))).isoformat()
            if i % 9 == 0
            else None,
            "event_type": TYPES[i % len(TYPES)],
            "sub_event_type": PAYLOADS[i % 3] if i % 4 == 0 else None,
            "side": list(SIDES)[i % len(SIDES)] if i % 3 else None,
            "claimed_by": ["Armenian MoD", "Azerbaijani MoD", None][i % 3],
            "location": name,
            "latitude": None if i % 17 == 0 else round(lat + float(rng.normal(0, 0.08)), 5),
            "longitude": None if i % 17 == 0 else round(lon + float(rng.normal(0, 0.08)), 5),
            "geo_precision": [1, 2, 3][i % 3],
            "fatalities": None if i % 5 == 0 else int(rng.integers(0, 30)),
            "notes": PAYLOADS[i % 3] + (" Ganja" if i % 7 == 0 else ""),
            "source": "AFP, 2020-10-04",
        }
        if values["latitude"] is None:
            values["longitude"] = None
        out.append(Record(values, content_hash(values)))
    return out


@pytest.fixture
def filled(store):
    store.apply(_events(), [], batch=BatchInfo(user="test", file_name="q.csv"))
    return store


WAR = View(start=dt.date(2020, 9, 27), end=dt.date(2020, 11, 10))
VIEWS = [
    WAR,
    View(start=dt.date(2020, 10, 1), end=dt.date(2020, 10, 1)),  # one day, multi-day events
    View(start=dt.date(2020, 9, 1), end=dt.date(2020, 12, 31), types=("shelling", "statement")),
    View(start=WAR.start, end=WAR.end, sides=(list(SIDES)[0],), claimed_by=("Armenian MoD",)),
    View(start=WAR.start, end=WAR.end, fatalities_min=5, fatalities_max=20),
    View(start=WAR.start, end=WAR.end, fatalities_max=3),
    View(start=WAR.start, end=WAR.end, precise_only=True),
    View(start=WAR.start, end=WAR.end, text="ŞUŞA"),  # non-ASCII, folded on both stores
    View(start=WAR.start, end=WAR.end, text="ստեփանակերտ"),  # Armenian has case too
    View(start=WAR.start, end=WAR.end, text="ganja"),
    View(start=WAR.start, end=WAR.end, text="{{ 7*7 }}"),  # a template is a plain needle
    View(start=WAR.start, end=WAR.end, text="100%_"),  # no wildcard: finds nothing
    View(start=dt.date(2021, 1, 1), end=dt.date(2021, 1, 31)),  # nothing
]


def _pandas(store, view: View) -> pd.DataFrame:
    return filter_events(store.events(view.start, view.end), view).reset_index(drop=True)


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.describe())
def test_counts_timeline_and_pages_equal_the_pandas_path(filled, view):
    expected = _pandas(filled, view)
    summary = filled.summary(view)
    assert summary.events == len(expected)
    assert summary.placed == int(expected["latitude"].notna().sum())
    counts, marks = filled.timeline(view)
    assert q.summary_of(counts) == summary
    pd.testing.assert_frame_equal(
        counts.drop(columns="placed"), daily_counts(expected), check_dtype=False
    )
    want = marked_days(expected).sort_values(["day", "kind", "label"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(marks.reset_index(drop=True), want, check_dtype=False)
    for offset, limit in ((0, 10), (7, 25), (len(expected), 5)):
        page = filled.page(view, offset, limit)
        assert list(page["event_id"]) == list(expected["event_id"][offset : offset + limit])
    batches = list(filled.frames(view))
    got = pd.concat(batches, ignore_index=True) if batches else expected.iloc[0:0]
    assert list(got["event_id"]) == list(expected["event_id"])


def test_text_search_finds_non_ascii_in_any_case(filled):
    for needle in ("ŞUŞA", "şuşa", "ՍՏԵՓԱՆԱԿԵՐՏ"):
        view = View(start=WAR.start, end=WAR.end, text=needle)
        assert filled.summary(view).events > 0, needle
    assert filled.summary(View(start=WAR.start, end=WAR.end, text="100%_")).events == 0


def test_the_map_payload_from_batches_equals_the_one_from_a_frame(filled, monkeypatch):
    monkeypatch.setattr(q, "READ_BATCH", 7)  # many batches, values repeating across them
    for view in (WAR, VIEWS[2], VIEWS[7]):
        batched = event_payload(filled.frames(view), "both")
        whole = event_payload(_pandas(filled, view), "both")
        assert batched.json == whole.json and batched.count == whole.count
        assert batched.types == whole.types
    # A text budget that leaves columns out does so the same way in batches.
    small = event_payload(filled.frames(WAR), "both", text_budget=300)
    assert small.json == event_payload(_pandas(filled, WAR), "both", text_budget=300).json
    assert small.omitted


@pytest.mark.parametrize("view", [VIEWS[0], VIEWS[2], VIEWS[7], VIEWS[-1]], ids=str)
def test_frame_box_is_the_pandas_box_within_one_bin(filled, view):
    want = frame_box(_pandas(filled, view))
    got = filled.frame_box(view)
    if want is None:
        assert got is None
        return
    # Quantiles from a histogram of 0.01-degree bins, each at its outer edge (np.quantile
    # interpolates between two events), then padded: within 2 % of the frame's size.
    size = max(want.lon_max - want.lon_min, want.lat_max - want.lat_min)
    assert np.allclose(got, want, atol=0.02 * size), (got, want)
    assert got.lon_min <= want.lon_min + 1e-9 and got.lat_max >= want.lat_max - 1e-9


def test_a_small_view_is_boxed_exactly(filled):
    view = View(start=dt.date(2020, 10, 1), end=dt.date(2020, 10, 3))
    assert 0 < filled.summary(view).placed <= 50
    assert filled.frame_box(view) == frame_box(_pandas(filled, view))


@pytest.mark.parametrize("km", [0, 5, 10, 30])
def test_proximity_counts_equal_the_pandas_ones(filled, km):
    """SQLite measures in geo.proximity's projection, as the pandas path: the same numbers.
    PostGIS measures on the spheroid, along geodesics: an event within 1 % of the threshold
    may fall on the other side (the schematic pipelines are good to tens of km); every other
    count is the same, and the closest event too."""
    lines = reference_lines(WAR.end)
    got = filled.near_counts(WAR, lines, km)
    events = _pandas(filled, WAR)
    want = counts_near(events, lines, km)
    same = ["name", "nearest_date", "nearest_place"]
    pd.testing.assert_frame_equal(got[same], want[same], check_dtype=False)
    assert np.allclose(got["nearest_km"], want["nearest_km"], rtol=0.01, atol=0.01, equal_nan=True)
    if isinstance(filled, SQLiteStore):
        cols = ["events", "fatalities", "fatalities_unknown"]
        pd.testing.assert_frame_equal(got[cols], want[cols], check_dtype=False)
    else:
        fewest = counts_near(events, lines, km * 0.99)["events"]
        most = counts_near(events, lines, km * 1.01)["events"]
        assert ((fewest <= got["events"]) & (got["events"] <= most)).all()
    assert (got["events"] > 0).any() or km == 0


def test_proximity_refuses_a_negative_distance(filled):
    from geo.errors import StoreError

    with pytest.raises(StoreError, match="0 km or more"):
        filled.near_counts(WAR, reference_lines(WAR.end), -1)


def test_a_version_4_store_gets_the_cover_index_when_opened(filled, store_target, monkeypatch):
    """Schema 5 adds events_cover (the page's counts read it); a version-4 store, SQLite or
    PostgreSQL, gets it on opening and keeps its events."""
    import geo.store.postgres as gp
    import geo.store.sqlite as gs
    from geo.store import SCHEMA_VERSION, open_store

    sqlite = isinstance(filled, SQLiteStore)
    with filled._connect() as conn:
        conn.execute("DROP INDEX events_cover")
        conn.execute("UPDATE meta SET value='4' WHERE key='schema_version'")
    monkeypatch.setattr(gs if sqlite else gp, "_CURRENT", set())  # as another process opens it
    again = open_store(store_target)
    assert again.schema_version() == SCHEMA_VERSION == 5 and again.count() == len(_events())
    with again._connect() as conn:
        sql = (
            "SELECT count(*) FROM sqlite_master WHERE name = 'events_cover'"
            if sqlite
            else "SELECT count(*) FROM pg_indexes WHERE indexname = 'events_cover' "
            "AND schemaname = current_schema()"
        )
        assert conn.execute(sql).fetchone()[0] == 1
    assert again.summary(WAR) == filled.summary(WAR)
