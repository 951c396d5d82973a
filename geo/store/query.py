"""What the map page asks of a store, answered where the data lives: one SQL for both backends.

A period with the view's filters (`Filters`) becomes one WHERE clause (`where`), and the page's
numbers are aggregates over it: counts (`summary`), events and known fatalities per day by type
(`timeline`), the box that frames the view (`frame_box`), one page of the table (`page`), and
the events themselves in batches for the map's payload (`frames`). No function here holds a
period's rows in memory: at 1,000,000 events a period of the 2020 war is 220,000 rows, and
reading them into pandas on each period change cost 1.4 s and 3.8 GB (bench/RESULTS.md).

The two stores differ in a few spellings only (`Dialect`): parameter marks, date literals, list
membership and the case-folding used by the text search. The proximity counts are in the stores
themselves (PostGIS measures on the geography; SQLite has no spatial functions).

Why the text search folds with `lower()` and not `casefold()`: PostgreSQL's `lower()` under the
ICU root collation and Python's `str.lower()` apply the same Unicode lowercase mapping, so the
two stores (and `geo.view.filter_events`) find the same events; `casefold()` has no SQL twin.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from geo.errors import StoreError
from geo.region import FRAME_QUANTILE, REGION_LONLAT_BOX, LonLatBox, events_box, pad_box
from geo.schema import COLUMN_NAMES, EVENT_TYPES, POINTLESS_TYPES, TEXT_SEARCH_COLUMNS
from geo.store.records import _rows_frame

# Between two columns in the searched text, so a needle cannot match across them.
_GLUE = "\x1f"
# Events read per batch for the map payload and the SQLite proximity counts.
READ_BATCH = 50_000
# The frame box's quantiles are read from a histogram of this many bins per degree (about
# 1 km): a few hundred rows leave the store instead of one per event.
FRAME_BINS_PER_DEG = 100
# The marked days of the timeline: ceasefires and statements.
MARKED_TYPES = ("ceasefire", "statement")


class Filters(Protocol):
    """The filter fields of a geo.view.View (the store does not import the view)."""

    start: dt.date
    end: dt.date
    types: tuple[str, ...]
    sides: tuple[str, ...]
    claimed_by: tuple[str, ...]
    fatalities_min: int | None
    fatalities_max: int | None
    precise_only: bool
    text: str


@dataclass(frozen=True)
class Dialect:
    """How one backend spells what the shared SQL needs."""

    mark: str  # a parameter: "?" (sqlite3) or "%s" (psycopg)
    date: str  # a date parameter
    fold: str  # a case-folded text expression, "{}" standing for the text
    contains: str  # "{}" holds the parameter `mark` (a substring, taken literally)
    concat_sep: str  # the SQL for _GLUE

    def one_of(self, column: str, values: Sequence[str]) -> tuple[str, list]:
        marks = ", ".join([self.mark] * len(values))
        return f"{column} IN ({marks})", list(values)


SQLITE = Dialect(
    mark="?", date="?", fold="nk_lower({})", contains="instr({}, ?) > 0", concat_sep="char(31)"
)
POSTGRES = Dialect(
    mark="%s",
    date="%s::date",
    fold='lower(({}) COLLATE "und-x-icu")',
    contains="strpos({}, %s) > 0",
    concat_sep="chr(31)",
)


def sqlite_lower(text: str | None) -> str | None:
    """nk_lower(), the SQLite store's case fold for the text search."""
    return None if text is None else text.lower()


def days_before(day: dt.date | str, days: int) -> str | None:
    """The ISO day `days` before `day` (None when out of range)."""
    try:
        return (dt.date.fromisoformat(str(day)[:10]) - dt.timedelta(days=days)).isoformat()
    except (ValueError, OverflowError):
        return None


def where(
    f: Filters, d: Dialect, longest_days: int, *, start: dt.date | None = None
) -> tuple[str, list]:
    """The WHERE clause (without the keyword) and its parameters for a period and filters.

    The period is f.start..f.end (or `start`..f.end): an event overlaps it when it starts on or
    before the end and ends on or after the start. `longest_days` (the longest stored event)
    turns the second test into an index range as well.
    """
    first = start or f.start
    parts = [f"event_date <= {d.date}", f"coalesce(date_end, event_date) >= {d.date}"]
    params: list = [str(f.end)[:10], str(first)[:10]]
    lower = days_before(first, longest_days)
    if lower is not None:
        parts.append(f"event_date >= {d.date}")
        params.append(lower)
    for column, values in (
        ("event_type", f.types),
        ("side", f.sides),
        ("claimed_by", f.claimed_by),
    ):
        if values:
            sql, more = d.one_of(column, list(values))
            parts.append(sql)
            params += more
    if f.fatalities_min:
        parts.append(f"fatalities IS NOT NULL AND fatalities >= {d.mark}")
        params.append(int(f.fatalities_min))
    if f.fatalities_max is not None:
        parts.append(f"(fatalities IS NULL OR fatalities <= {d.mark})")
        params.append(int(f.fatalities_max))
    if f.precise_only:
        parts.append("coalesce(geo_precision, 1) <= 1 AND latitude IS NOT NULL")
    needle = (f.text or "").replace(_GLUE, "").lower()
    if needle:
        text = f" || {d.concat_sep} || ".join(f"coalesce({c}, '')" for c in TEXT_SEARCH_COLUMNS)
        parts.append(d.contains.format(d.fold.format(text)))
        params.append(needle)
    return " AND ".join(f"({p})" for p in parts), params


# ------------------------------------------------------------------------ the page's questions


@dataclass(frozen=True)
class Summary:
    """How many events a view holds, and how many of them have a map point."""

    events: int
    placed: int

    @property
    def unplaced(self) -> int:
        return self.events - self.placed


def summary(conn, f: Filters, d: Dialect, longest: int) -> Summary:
    clause, params = where(f, d, longest)
    n, placed = conn.execute(
        f"SELECT count(*), count(latitude) FROM events WHERE {clause}",  # noqa: S608
        params,
    ).fetchone()
    return Summary(int(n), int(placed))


def summary_of(counts: pd.DataFrame) -> Summary:
    """The Summary of a `timeline`'s counts: the page reads the period once for both."""
    return Summary(int(counts["events"].sum()), int(counts["placed"].sum()))


TIMELINE_COLUMNS = ["day", "type", "events", "fatalities", "placed"]
MARKED_COLUMNS = ["day", "kind", "label"]


def _day(value: object) -> pd.Timestamp:
    return pd.Timestamp(str(value)[:10])


def timeline(conn, f: Filters, d: Dialect, longest: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Events and known fatalities per (first) day and type (and how many of those events have
    a map point: `placed`), and the marked days (ceasefires, statements: day, kind, label), as
    geo.map.timeline draws them."""
    clause, params = where(f, d, longest)
    rows = conn.execute(
        "SELECT event_date, event_type, count(*), sum(coalesce(fatalities, 0)), "  # noqa: S608
        "count(latitude) "
        f"FROM events WHERE {clause} GROUP BY event_date, event_type "
        "ORDER BY event_date, event_type",
        params,
    ).fetchall()
    counts = pd.DataFrame(
        {
            "day": pd.to_datetime([str(r[0])[:10] for r in rows], format="%Y-%m-%d"),
            "type": pd.array([EVENT_TYPES[r[1]] for r in rows], dtype="string"),
            "events": np.array([r[2] for r in rows], dtype="int64"),
            "fatalities": np.array([r[3] for r in rows], dtype="int64"),
            "placed": np.array([r[4] for r in rows], dtype="int64"),
        },
        columns=TIMELINE_COLUMNS,
    )
    # By day, then by the type's label (as pandas groups them), whatever the store's order.
    counts = counts.sort_values(["day", "type"], kind="stable", ignore_index=True)
    mark_sql, mark_params = d.one_of("event_type", list(MARKED_TYPES))
    marked = conn.execute(
        "SELECT DISTINCT event_date, event_type, "  # noqa: S608
        "coalesce(sub_event_type, location, '') "
        f"FROM events WHERE {clause} AND {mark_sql} ORDER BY 1, 2, 3",
        params + mark_params,
    ).fetchall()
    marks = pd.DataFrame(
        {
            "day": pd.to_datetime([str(r[0])[:10] for r in marked], format="%Y-%m-%d"),
            "kind": [EVENT_TYPES[r[1]] for r in marked],
            "label": [r[2] for r in marked],
        },
        columns=MARKED_COLUMNS,
    )
    return counts, marks


def frame_box(conn, f: Filters, d: Dialect, longest: int) -> LonLatBox | None:
    """geo.view.frame_box of the view's events, computed in the store.

    The events on the ground first (statements and agreements are placed at capitals), else
    all. Up to 50 points: their exact extent (as geo.region.events_box). More: the quantiles
    come from a histogram of FRAME_BINS_PER_DEG bins per degree, each taken at the bin's outer
    edge, so the frame is at most one bin (about 1 km) wider than the exact quantiles.
    """
    clause, params = where(f, d, longest)
    box = REGION_LONLAT_BOX
    inside = (
        f"latitude BETWEEN {box.lat_min} AND {box.lat_max} "
        f"AND longitude BETWEEN {box.lon_min} AND {box.lon_max}"
    )
    pointless, pointless_params = d.one_of("event_type", sorted(POINTLESS_TYPES))
    for extra, extra_params in ((f"NOT {pointless}", pointless_params), ("1 = 1", [])):
        scope = f"{clause} AND {inside} AND {extra}"
        p = params + extra_params
        n = conn.execute(f"SELECT count(*) FROM events WHERE {scope}", p).fetchone()[0]  # noqa: S608
        if not n:
            continue
        if n <= 50:
            sql = f"SELECT latitude, longitude FROM events WHERE {scope}"  # noqa: S608
            rows = conn.execute(sql, p).fetchall()
            return events_box([r[0] for r in rows], [r[1] for r in rows])
        extent = []
        for column in ("latitude", "longitude"):
            binned = f"CAST(floor({column} * {FRAME_BINS_PER_DEG}) AS INTEGER)"
            rows = conn.execute(
                f"SELECT {binned}, count(*) FROM events WHERE {scope} "  # noqa: S608
                f"GROUP BY {binned} ORDER BY 1",
                p,
            ).fetchall()
            bins = np.array([r[0] for r in rows], dtype=float)
            cumulative = np.cumsum([r[1] for r in rows])
            last = len(bins) - 1
            lo = bins[min(last, np.searchsorted(cumulative, FRAME_QUANTILE * n, side="right"))]
            hi = bins[min(last, np.searchsorted(cumulative, (1 - FRAME_QUANTILE) * n))] + 1
            extent.append((lo / FRAME_BINS_PER_DEG, hi / FRAME_BINS_PER_DEG))
        (south, north), (west, east) = extent
        return pad_box(west, south, east, north)
    return None


def page(conn, f: Filters, d: Dialect, longest: int, offset: int, limit: int) -> pd.DataFrame:
    """Rows offset..offset+limit of the view's events by date (and id), schema columns."""
    clause, params = where(f, d, longest)
    rows = conn.execute(
        f"SELECT {', '.join(COLUMN_NAMES)} FROM events WHERE {clause} "  # noqa: S608
        f"ORDER BY event_date, event_id LIMIT {d.mark} OFFSET {d.mark}",
        params + [int(limit), int(offset)],
    ).fetchall()
    return _rows_frame(rows)


def frames(cursor, clause: str, params: list) -> Iterator[pd.DataFrame]:
    """The view's events in date order as schema frames of up to READ_BATCH rows (`cursor`
    runs the SELECT; a server-side cursor on PostgreSQL)."""
    cursor.execute(
        f"SELECT {', '.join(COLUMN_NAMES)} FROM events WHERE {clause} "  # noqa: S608
        "ORDER BY event_date, event_id",
        params,
    )
    while rows := cursor.fetchmany(READ_BATCH):
        yield _rows_frame(rows)


def check_km(km: float) -> float:
    km = float(km)
    if not km >= 0:
        raise StoreError(f"expected a distance of 0 km or more, not {km}")
    return km


# ------------------------------------------------------------------------ proximity

_KM_PER_DEG_LAT = 110.574


def named_lines(lines) -> list[tuple[str, object]]:
    """(name, one shapely geometry in EPSG:4326) per distinct line name, in order of first
    appearance: features sharing a name are one line (geo.proximity.distances_km)."""
    import shapely

    if len(lines) and lines.crs is None:
        raise StoreError("lines have no CRS; expected EPSG:4326 or another known CRS")
    lines = lines[lines.geometry.notna() & ~lines.geometry.is_empty]
    if len(lines):
        lines = lines.to_crs("EPSG:4326")
    names = pd.unique(lines["name"].astype(str)) if len(lines) else []
    as_text = lines["name"].astype(str).to_numpy() if len(lines) else np.array([])
    geoms = lines.geometry.to_numpy() if len(lines) else np.array([])
    return [(str(n), shapely.union_all(geoms[as_text == n])) for n in names]


def envelope(geom, km: float) -> tuple[float, float, float, float]:
    """The geometry's bounds grown by `km` on every side (west, south, east, north): every
    point within `km` of it is inside."""
    west, south, east, north = geom.bounds
    dlat = km / _KM_PER_DEG_LAT + 1e-6
    widest = min(89.0, max(abs(south), abs(north)) + dlat)
    dlon = km / (111.320 * np.cos(np.radians(widest))) + 1e-6
    return west - dlon, south - dlat, east + dlon, north + dlat


@dataclass
class Nearby:
    """The events within reach of one line, counted as batches come in."""

    name: str
    events: int = 0
    known: int = 0
    fatalities: int = 0
    nearest_km: float = np.inf
    nearest_date: object = None
    nearest_place: object = None

    def add(self, km: np.ndarray, fatalities: np.ndarray, dates: Sequence, places: Sequence):
        """One batch (in date order) of events already within reach: distances, fatalities
        (NaN unknown), days and places."""
        if not len(km):
            return
        self.events += len(km)
        known = ~np.isnan(fatalities)
        self.known += int(known.sum())
        self.fatalities += int(fatalities[known].sum())
        i = int(km.argmin())  # the first of a tie: the earliest event
        if km[i] < self.nearest_km:
            self.nearest_km, self.nearest_date, self.nearest_place = (
                float(km[i]),
                dates[i],
                places[i],
            )

    def row(self) -> dict:
        found = self.events > 0
        return {
            "name": self.name,
            "events": self.events,
            # Unknown is not zero: no total when every event found lacks a figure.
            "fatalities": self.fatalities if self.known or not found else pd.NA,
            "fatalities_unknown": self.events - self.known,
            "nearest_km": self.nearest_km if found else np.nan,
            "nearest_date": _day(self.nearest_date) if found else pd.NaT,
            "nearest_place": self.nearest_place if found else pd.NA,
        }


def near_frame(rows: list[Nearby]) -> pd.DataFrame:
    """The rows as geo.proximity.counts_near returns them."""
    from geo.proximity import NEAR_COLUMNS

    return pd.DataFrame([r.row() for r in rows], columns=list(NEAR_COLUMNS)).astype(NEAR_COLUMNS)


def near_counts_sqlite(conn, f: Filters, longest: int, lines, km: float) -> pd.DataFrame:
    """geo.proximity.counts_near of the view's events, for a store without spatial SQL.

    One pass over the events inside the lines' envelopes grown by `km`: three numbers per event
    leave the store, in batches, and the distances are measured in geo.proximity's metric
    projection (every line per batch). The closest event's day and place are read afterwards
    by its position in the same order.
    """
    import shapely

    from geo.proximity import metric_xy

    km = check_km(km)
    clause, params = where(f, SQLITE, longest)
    named = named_lines(lines)
    if not named:
        return near_frame([])
    boxes = np.array([envelope(g, km) for _, g in named])
    west, south = boxes[:, 0].min(), boxes[:, 1].min()
    east, north = boxes[:, 2].max(), boxes[:, 3].max()
    metric = [
        shapely.transform(g, lambda xy: np.column_stack(metric_xy(xy[:, 0], xy[:, 1])))
        for _, g in named
    ]
    for geom in metric:
        shapely.prepare(geom)
    scope = f"{clause} AND latitude BETWEEN ? AND ? AND longitude BETWEEN ? AND ?"
    scope_params = [*params, south, north, west, east]
    near = [Nearby(name) for name, _ in named]
    closest = [(np.inf, -1)] * len(named)  # (km, position in the scope's order)
    cursor = conn.execute(
        f"SELECT latitude, longitude, fatalities FROM events WHERE {scope} "  # noqa: S608
        "ORDER BY event_date, event_id",
        scope_params,
    )
    seen = 0
    while rows := cursor.fetchmany(READ_BATCH):
        values = np.array(rows, dtype=float)  # None -> nan
        points = shapely.points(*metric_xy(values[:, 1], values[:, 0]))
        for i, geom in enumerate(metric):
            hit = np.flatnonzero(shapely.dwithin(points, geom, km * 1000.0))
            if not len(hit):
                continue
            dist = shapely.distance(points[hit], geom) / 1000.0
            near[i].add(dist, values[hit, 2], [None] * len(hit), [None] * len(hit))
            j = int(dist.argmin())
            if dist[j] < closest[i][0]:
                closest[i] = (float(dist[j]), seen + int(hit[j]))
        seen += len(rows)
    for row, (_, position) in zip(near, closest, strict=True):
        if position >= 0:
            row.nearest_date, row.nearest_place = conn.execute(
                f"SELECT event_date, location FROM events WHERE {scope} "  # noqa: S608
                "ORDER BY event_date, event_id LIMIT 1 OFFSET ?",
                [*scope_params, position],
            ).fetchone()
    return near_frame(near)


def near_counts_postgis(conn, f: Filters, longest: int, lines, km: float) -> pd.DataFrame:
    """geo.proximity.counts_near of the view's events, measured by PostGIS on the spheroid
    (ST_DWithin and ST_Distance on geography), in one statement.

    Each line's geography buffer (1% wider than `km`) is computed once and tested against the
    points as plain geometry first; only the points inside it get the exact geodesic test.
    The CTEs are MATERIALIZED: inlined, the buffer was recomputed for every event (1.3 s for
    42,000 events instead of 0.2 s, measured). At 424,000 events in the period it takes 1.6 s
    (bench numbers in the decision note 0005).
    """
    km = check_km(km)
    named = named_lines(lines)
    if not named:
        return near_frame([])
    clause, params = where(f, POSTGRES, longest)
    # The closest event per line is one sort of the hits: in memory, not in 28 MB on disk.
    conn.execute("SET LOCAL work_mem = '64MB'")
    rows = conn.execute(
        f"""
        WITH line AS MATERIALIZED (
            SELECT i, g, ST_Buffer(g, %s * 1.01)::geometry AS buf
            FROM (SELECT i, ST_GeogFromText(w) AS g
                  FROM unnest(%s::int[], %s::text[]) AS u(i, w)) AS parsed
        ),
        e AS MATERIALIZED (
            SELECT geom, fatalities, event_date, event_id, location FROM events
            WHERE {clause} AND geom IS NOT NULL
        ),
        hit AS MATERIALIZED (
            SELECT line.i, e.fatalities, e.event_date, e.event_id, e.location,
                   ST_Distance(e.geom::geography, line.g) AS d
            FROM e JOIN line
              ON ST_Intersects(e.geom, line.buf) AND ST_DWithin(e.geom::geography, line.g, %s)
        ),
        counts AS (
            SELECT i, count(*) AS n, count(fatalities) AS k, coalesce(sum(fatalities), 0) AS f
            FROM hit GROUP BY i
        ),
        nearest AS (
            SELECT DISTINCT ON (i) i, d, event_date, location FROM hit
            ORDER BY i, d, event_date, event_id
        )
        SELECT i, n, k, f, d / 1000.0, event_date, location FROM counts JOIN nearest USING (i)
        """,  # noqa: S608 - `clause` holds marks, not values
        [km * 1000.0, list(range(len(named))), [g.wkt for _, g in named], *params, km * 1000.0],
    ).fetchall()
    near = [Nearby(name) for name, _ in named]
    for i, total, known, dead, dist, day, place in rows:
        row = near[i]
        row.events, row.known, row.fatalities = int(total), int(known), int(dead)
        row.nearest_km, row.nearest_date, row.nearest_place = float(dist), day, place
    return near_frame(near)
