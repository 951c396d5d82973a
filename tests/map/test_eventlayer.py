"""The events payload: what the browser receives is what the store holds, compact and inert."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest

from geo.map.build import build_map
from geo.map.events import EventPayload, event_payload
from geo.schema import BY_NAME, COLUMN_NAMES, EVENT_TYPES, Kind
from geo.store import typed_frame


def _events(n: int = 4) -> pd.DataFrame:
    rows = []
    for i in range(n):
        row = {c: None for c in COLUMN_NAMES}
        row.update(
            event_id=f"e{i}",
            event_date=f"2020-10-{i % 28 + 1:02d}",
            event_type=list(EVENT_TYPES)[i % len(EVENT_TYPES)],
            location="Shusha" if i == 0 else f"Place {i % 2}",
            latitude=39.76 + i / 100,
            longitude=46.75 - i / 100,
            geo_precision=1 + i % 3,
            fatalities=None if i == 0 else i * 4,
            source="Armenian MoD, 2020-10-01" if i % 2 else "Azerbaijani MoD, 2020-10-01",
            claimed_by="Armenian Ministry of Defence",
            notes=f"note {i}",
        )
        rows.append(row)
    rows[1]["date_end"] = "2020-10-09"
    return typed_frame(pd.DataFrame(rows))


def _decode(payload: EventPayload) -> dict:
    return json.loads(payload.json)


def _array(text: str, dtype) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=dtype)


def test_payload_carries_coordinates_days_and_types_exactly():
    events = _events()
    p = _decode(event_payload(events))
    assert p["n"] == 4
    assert np.allclose(_array(p["lat"], np.float32), events["latitude"].astype(float), atol=1e-5)
    assert np.allclose(_array(p["lon"], np.float32), events["longitude"].astype(float), atol=1e-5)
    d0, d1 = _array(p["d0"], np.int32), _array(p["d1"], np.int32)
    first = (pd.Timestamp("2020-10-01") - pd.Timestamp("1970-01-01")).days
    assert d0.tolist() == [first, first + 1, first + 2, first + 3]
    # A one-day event ends on its first day; the multi-day one on its date_end.
    assert d1.tolist() == [first, first + 8, first + 2, first + 3]
    codes = _array(p["type"], np.uint8)
    assert [p["types"][c]["label"] for c in codes] == [EVENT_TYPES[t] for t in events["event_type"]]
    # Unknown fatalities: the default 5 px circle; approximate places are flagged.
    assert _array(p["radius"], np.uint8)[0] == 20
    assert _array(p["flags"], np.uint8).tolist() == [0, 1, 1, 0]


def test_popup_text_is_dictionary_coded_with_both_names_source_and_claim():
    p = _decode(event_payload(_events(), "both"))
    fields = {f["name"]: f for f in p["fields"]}
    loc = fields["location"]
    codes = _array(loc["codes"], np.uint8)
    assert loc["values"][codes[0]] == "Shushi / Shusha"
    assert len(loc["values"]) == 4  # "", Shusha, Place 1, Place 0: repeated places sent once
    for name in ("source", "claimed_by", "notes", "fatalities", "geo_precision"):
        assert fields[name]["kind"] == "text"
    claimed = fields["claimed_by"]
    assert claimed["values"][_array(claimed["codes"], np.uint8)[2]] == (
        "Armenian Ministry of Defence"
    )
    assert fields["fatalities"]["values"][_array(fields["fatalities"]["codes"], np.uint8)[0]] == ""
    # Popup rows keep the schema's order.
    order = [f["name"] for f in p["fields"]][:4]
    assert order == ["event_date", "date_end", "event_type", "location"]


def test_the_azerbaijani_convention_names_places_its_way():
    p = _decode(event_payload(_events(), "azerbaijani"))
    loc = next(f for f in p["fields"] if f["name"] == "location")
    assert "Shusha" in loc["values"] and "Shushi / Shusha" not in loc["values"]


def test_text_over_the_budget_is_left_out_and_the_popup_says_so():
    events = _events(50)
    events["notes"] = [f"a long note number {i} " * 20 for i in range(50)]
    payload = event_payload(events, text_budget=5_000)
    assert "notes" in payload.omitted
    notes = next(f for f in _decode(payload)["fields"] if f["name"] == "notes")
    assert notes["kind"] == "omitted" and "export" in notes["note"]
    assert "a long note" not in payload.json


@pytest.mark.parametrize("char", ["<", ">", "&", "`", "$", "\u2028"])
def test_payload_json_is_inert_inside_a_script_element(char):
    events = _events(2)
    for c in COLUMN_NAMES:
        if BY_NAME[c].kind is Kind.TEXT and c not in ("event_type", "side", "verification"):
            events[c] = pd.array([f"x{char}</script>{char}"] * 2, dtype="string")
    payload = event_payload(events)
    assert char not in payload.json
    assert "</script>" not in payload.json
    decoded = _decode(payload)
    source = next(f for f in decoded["fields"] if f["name"] == "source")
    assert f"x{char}</script>{char}" in source["values"]  # the text itself is unchanged


def test_a_cached_payload_draws_the_same_map():
    events = _events()
    payload = event_payload(events)
    a = build_map("2020-10-09", layers=[], start="2020-10-01", events=events)
    b = build_map("2020-10-09", layers=[], start="2020-10-01", events=payload)
    assert '"Events" :' in a.get_root().render() and '"Events" :' in b.get_root().render()
    assert payload.json in b.get_root().render()
    assert payload.json in a.get_root().render()


def test_heat_alone_sends_the_events_without_circles():
    html = (
        build_map(
            "2020-10-09",
            layers=[],
            start="2020-10-01",
            events=_events(),
            heat=True,
            draw_points=False,
        )
        .get_root()
        .render()
    )
    assert "Event density (heat)" in html and '"Events" :' not in html


def test_published_payload_is_named_by_content_and_old_files_are_pruned(tmp_path):
    import dataclasses
    import os

    from geo.map.events import publish
    from geo.map.served import KEEP_PUBLISHED
    from geo.settings import Settings

    settings = dataclasses.replace(
        Settings(), data_dir=tmp_path / "data", data_url="/app/static/data"
    )
    payload = event_payload(_events())
    url = publish(payload, settings)
    name = url.rsplit("/", 1)[1]
    assert url.startswith("/app/static/data/events-") and name.endswith(".json")
    assert (tmp_path / "data" / name).read_text("utf-8") == payload.json
    assert publish(payload, settings) == url  # same content, same file
    for i in range(KEEP_PUBLISHED + 3):
        other = event_payload(_events(), "armenian" if i % 2 else "azerbaijani")
        stale = publish(dataclasses.replace(other, json=other.json + " " * i), settings)
        os.utime(tmp_path / "data" / stale.rsplit("/", 1)[1], (i, i))  # older than `url`
    publish(payload, settings)
    files = sorted(p.name for p in (tmp_path / "data").glob("events-*.json"))
    assert len(files) == KEEP_PUBLISHED and name in files
    assert not list((tmp_path / "data").glob(".*.tmp"))


def test_popups_show_the_location_as_recorded_unless_it_is_exactly_a_known_name():
    events = _events(3)
    events["location"] = pd.array(
        ["Southern front (Hadrut / Jabrayil / Fuzuli direction)", "Shusha", "Near Shusha"],
        dtype="string",
    )
    loc = next(
        f for f in _decode(event_payload(events, "both"))["fields"] if f["name"] == "location"
    )
    shown = [loc["values"][c] for c in _array(loc["codes"], np.uint8)]
    assert shown == [
        "Southern front (Hadrut / Jabrayil / Fuzuli direction)",
        "Shushi / Shusha",  # exactly a known name: both names
        "Near Shusha",
    ]
