"""Smoke tests of the Sources page with Streamlit's AppTest."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from geo.layers import LAYER_TITLES
from geo.store import open_store

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "2_Sources.py")


def _text(at: AppTest) -> str:
    parts = [
        el.value
        for kind in ("title", "header", "subheader", "caption", "markdown")
        for el in at.get(kind)
    ]
    return "\n".join(str(p) for p in parts)


def test_page_shows_every_layer_and_the_sources(monkeypatch, tmp_path):
    monkeypatch.setenv("NKMAP_DB", str(tmp_path / "empty.sqlite"))
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Sources and accuracy"
    text = _text(at)
    for title in LAYER_TITLES.values():
        assert title in text
    assert "CC BY 4.0" in text and "BSD-2-Clause" in text
    assert "Curated seed events: provenance and conventions" in text  # events SOURCES.md
    assert "Reference geography — sources, licences, accuracy" in text  # boundaries SOURCES.md
    frames = [df.value for df in at.dataframe]
    assert any("natural_earth_admin0" in f.get("source", []).tolist() for f in frames)
    assert "0 events in the store." in text


def test_page_counts_the_stored_events_by_publisher(monkeypatch, seeded_db):
    monkeypatch.setenv("NKMAP_DB", seeded_db)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    by_publisher = next(df.value for df in at.dataframe if "publisher" in df.value.columns)
    counts = by_publisher.set_index("publisher")["events"]
    assert len(counts) == 30
    # The curated events cite outlets of both sides and of neither.
    assert counts["Armenpress"] > 10 and counts["Trend"] > 10 and counts["RFE/RL"] > 5
    by_verification = next(df.value for df in at.dataframe if "verification" in df.value.columns)
    stored = open_store(seeded_db).count()
    assert by_verification["events"].sum() == stored
    assert f"{stored} events in the store." in _text(at)
