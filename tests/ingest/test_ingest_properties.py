"""Property: random mutations of a valid CSV never crash ingestion and never lose a valid row."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.errors import InputError
from geo.ingest import plan_import
from geo.schema import COLUMN_NAMES
from geo.store import SQLiteStore

BASE = [
    {
        "event_id": f"e{i}",
        "event_date": f"2020-10-{i + 1:02d}",
        "event_type": "shelling",
        "location": "Ganja",
        "country": "AZE",
        "latitude": "40.6828",
        "longitude": "46.3606",
        "fatalities": str(i),
        "source": f"AFP, 2020-10-{i + 1:02d}",
    }
    for i in range(6)
]
NASTY = st.sampled_from(
    [
        "",
        " ",
        "NA",
        "-1",
        "abc",
        "2020-02-30",
        "99",
        "=cmd()",
        "<img src=x onerror=alert(1)>",
        '"',
        "\n",
        ";",
        "\t",
        "é",
        "${x}",
        "1e309",
        "0x10",
        "  12  ",
        # Implausible values (dates, counts, URLs, countries, NUL bytes): rejects, not crashes.
        "1987-12-31",
        "9999-12-31",
        "100001",
        "javascript:alert(1)",
        "www.example.com",
        "XX1",
        "USA",
        "a\x00b",
        "\x1b[31m",
        # Numeric dates: day-first read from 25/10/2020; 05/10/2020 alone is ambiguous.
        "05/10/2020",
        "25/10/2020",
        # Counts that mean "unknown": blank, never a reject.
        "unknown",
        "n/a",
        "?",
        "–",
    ]
)


def to_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMN_NAMES)
    for r in rows:
        writer.writerow([r.get(c, "") for c in COLUMN_NAMES])
    return out.getvalue().encode()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    mutations=st.lists(
        st.tuples(st.integers(0, len(BASE) - 1), st.sampled_from(COLUMN_NAMES), NASTY),
        max_size=8,
    )
)
def test_mutations_never_crash_and_never_lose_untouched_rows(tmp_path_factory, mutations):
    rows = [dict(r) for r in BASE]
    touched = set()
    for i, column, value in mutations:
        rows[i][column] = value
        touched.add(i)
    store = SQLiteStore(tmp_path_factory.mktemp("db") / "events.sqlite")
    try:
        plan = plan_import(to_csv(rows), store, source_name="fuzz.csv")
    except InputError as refusal:
        # A whole-file refusal is allowed only for what a mutation can cause: a mutated date
        # that makes the file's date order ambiguous. It names the column and the remedy, and
        # nothing was written.
        dates_touched = {c for _, c, _ in mutations} & {"event_date", "date_end"}
        assert dates_touched, refusal
        assert refusal.column == "event_date" and "--date-format" in refusal.reason, refusal
        assert str(refusal).startswith("column 'event_date': ")
        assert store.count() == 0
        return
    accounted = len(plan.inserts) + len(plan.updates) + len(plan.duplicates) + len(plan.rejects)
    assert accounted == len(rows)
    kept = {r.event_id for r in plan.inserts}
    for i in set(range(len(rows))) - touched:
        assert f"e{i}" in kept
