"""Exports: every schema column, formula-safe CSV that re-imports unchanged, GeoJSON, GPKG."""

import csv
import io

import geopandas as gpd
import pytest
from store_backends import pg_database, pg_url, store_target  # noqa: F401 (fixtures)

from geo.export import events_csv, export_events, neutralise
from geo.ingest import apply_plan, plan_import
from geo.schema import COLUMN_NAMES
from geo.store import SQLiteStore, open_store

HOSTILE = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.fixture
def store(store_target):  # noqa: F811 (the imported fixture)
    """Hostile cells in a store: SQLite, then PostgreSQL."""
    s = open_store(store_target)
    rows = [",".join(COLUMN_NAMES)]
    for i, payload in enumerate(HOSTILE):
        quoted = '"' + payload.replace('"', '""') + '"'
        values = {
            "event_id": f"e{i}",
            "event_date": "2020-10-04",
            "event_type": "shelling",
            "location": "Ganja",
            "latitude": "40.68",
            "longitude": "-46.36" if i == 0 else "46.36",
            "source": "AFP",
            "notes": quoted,
            "actor1": quoted,
        }
        rows.append(",".join(values.get(c, "") for c in COLUMN_NAMES))
    # e0's negative longitude is far outside the region: it is rejected; the rest import.
    plan = plan_import(("\n".join(rows) + "\n").encode(), s, source_name="t.csv")
    apply_plan(plan, s, user="test")
    return s


def test_neutralise_prefixes_formula_starts_only():
    assert [neutralise(p)[0] for p in HOSTILE] == ["'"] * len(HOSTILE)
    assert neutralise("Ganja") == "Ganja" and neutralise("") == ""


def test_csv_cells_are_safe_and_numbers_stay_numbers(store):
    rows = list(csv.reader(io.StringIO(events_csv(store.events()))))
    assert rows[0] == list(COLUMN_NAMES)
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            assert not cell.startswith("-") or float(cell) < 0, cell  # only negative numbers
    notes = rows[0].index("notes")
    assert sum(row[notes].startswith("'=") for row in rows[1:]) == 0  # e0 was rejected
    assert {row[notes] for row in rows[1:]} >= {"'+1+1", "'-2+3", "'@SUM(A1)"}
    lat = rows[0].index("latitude")
    assert all(float(r[lat]) == pytest.approx(40.68) for r in rows[1:])


def test_negative_numbers_are_not_neutralised(tmp_path):
    s = SQLiteStore(tmp_path / "e.sqlite")
    values = {
        "event_id": "s",
        "event_date": "2020-10-01",
        "event_type": "statement",
        "location": "Washington",
        "latitude": "38.9",
        "longitude": "-77.03",
        "source": "US State Department 2020-10-01",
    }
    data = ",".join(COLUMN_NAMES) + "\n" + ",".join(values.get(c, "") for c in COLUMN_NAMES)
    data += "\n"
    apply_plan(plan_import(data.encode(), s), s, user="test")
    text = events_csv(s.events())
    assert ",-77.03," in text and "'-77" not in text


def test_exported_csv_reimports_unchanged(store, tmp_path):
    out = tmp_path / "export.csv"
    export_events(store.events(), out, "csv")
    again = plan_import(out.read_bytes(), store, source_name="export.csv")
    assert not again.rejects and not again.inserts and not again.updates
    assert len(again.duplicates) == store.count()
    fresh = SQLiteStore(tmp_path / "fresh.sqlite")
    apply_plan(plan_import(out.read_bytes(), fresh), fresh, user="test")
    assert fresh.events().equals(store.events())


@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
def test_geo_exports_keep_every_column(store, tmp_path, fmt):
    out = tmp_path / f"events.{fmt}"
    assert export_events(store.events(), out, fmt) == store.count()
    gdf = gpd.read_file(out)
    assert set(COLUMN_NAMES) <= set(gdf.columns)
    assert gdf.crs.to_epsg() == 4326
    assert gdf.geometry.x.round(2).tolist() == [46.36] * store.count()


def test_a_writer_failing_halfway_leaves_the_old_file_and_no_temp_file(tmp_path):
    from geo.export import _atomic

    out = tmp_path / "events.csv"
    out.write_text("old")

    def half_then_crash(path):
        path.write_text("half a file")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        _atomic(out, half_then_crash)
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["events.csv"]


def test_unknown_format_is_refused(store, tmp_path):
    with pytest.raises(ValueError, match="csv, geojson, gpkg"):
        export_events(store.events(), tmp_path / "x.xlsx", "xlsx")


def _csv_cell_by_cell(events) -> str:
    # The definition: every cell through geo.export._cell, one row at a time.
    from geo.export import _cell

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([neutralise(c) for c in COLUMN_NAMES])
    for row in events[list(COLUMN_NAMES)].itertuples(index=False):
        writer.writerow([_cell(n, v) for n, v in zip(COLUMN_NAMES, row, strict=True)])
    return out.getvalue()


def test_column_wise_csv_equals_the_cell_by_cell_definition(store, seeded_db):
    events = SQLiteStore(seeded_db).events()
    assert events_csv(events) == _csv_cell_by_cell(events)
    hostile = store.events()
    assert events_csv(hostile) == _csv_cell_by_cell(hostile)
    assert events_csv(events.iloc[0:0]) == _csv_cell_by_cell(events.iloc[0:0])
