"""The timeline under the map: events and fatalities per day by type, agreements marked."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd

from geo.schema import EVENT_COLOR, EVENT_TYPES

MARKED_TYPES = ("ceasefire", "statement")


def daily_counts(events: pd.DataFrame) -> pd.DataFrame:
    """One row per (day, type): number of events and known fatalities (first day of each)."""
    if events.empty:
        return pd.DataFrame(columns=["day", "type", "events", "fatalities"])
    frame = pd.DataFrame(
        {
            "day": events["event_date"].dt.normalize(),
            "type": events["event_type"].map(EVENT_TYPES),
            "fatalities": events["fatalities"].astype("Float64").fillna(0),
        }
    )
    out = frame.groupby(["day", "type"], as_index=False).agg(
        events=("type", "size"), fatalities=("fatalities", "sum")
    )
    out["fatalities"] = out["fatalities"].astype(int)
    return out


def marked_days(events: pd.DataFrame) -> pd.DataFrame:
    """Ceasefires and statements: day and a short label, to draw as rules over the bars."""
    marked = events[events["event_type"].isin(MARKED_TYPES)]
    return pd.DataFrame(
        {
            "day": marked["event_date"].dt.normalize(),
            "kind": marked["event_type"].map(EVENT_TYPES),
            "label": marked["sub_event_type"].fillna(marked["location"]).fillna(""),
        }
    ).drop_duplicates()


def timeline_charts(
    counts: pd.DataFrame,
    marks: pd.DataFrame,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> tuple[alt.LayerChart, alt.LayerChart]:
    """Events and known fatalities per day, stacked by type in the map's colours; ceasefires
    and statements as dashed rules across both. `counts` and `marks` are `daily_counts` and
    `marked_days` of the events (or the store's `timeline`, the same frames counted in SQL):
    the charts carry a row per day and type, never one per event. The x axis is the period
    [start, end] (the counted days' span when not given), in days: no times of day.

    Two charts drawn one above the other, not one vconcat: Vega-Lite cannot fit a concatenated
    chart to its container, and the vconcat ran some 50 px past the page's right edge. The
    legend is the second chart's (the first chart's colours are the same)."""
    first = pd.Timestamp(start) if start is not None else counts["day"].min()
    last = pd.Timestamp(end) if end is not None else counts["day"].max()
    # Half a day either side: the first and last days' bars are drawn whole.
    domain = [
        (first - pd.Timedelta(hours=12)).isoformat(),
        (last + pd.Timedelta(hours=12)).isoformat(),
    ]
    x = alt.X(
        "day:T",
        title=None,
        scale=alt.Scale(domain=domain),
        axis=alt.Axis(format="%d %b %Y", labelAngle=0, labelOverlap=True),
    )
    shown = [t for t in EVENT_TYPES if EVENT_TYPES[t] in set(counts["type"])]
    palette = alt.Scale(
        domain=[EVENT_TYPES[t] for t in shown], range=[EVENT_COLOR[t] for t in shown]
    )
    color = alt.Color(
        "type:N",
        title=None,
        scale=palette,
        legend=alt.Legend(orient="bottom", columns=4, labelLimit=220, symbolType="square"),
    )
    unlabelled = alt.Color("type:N", title=None, scale=palette, legend=None)
    day = alt.Tooltip("day:T", title="day", format="%d %b %Y")
    rules = (
        alt.Chart(marks)
        .mark_rule(strokeDash=[3, 3], color="#555555")
        .encode(x=x, tooltip=[day, alt.Tooltip("kind:N"), alt.Tooltip("label:N")])
    )
    deaths = (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("fatalities:Q", title="known fatalities"),
            color=color,
            tooltip=[day, "type:N", alt.Tooltip("fatalities:Q", title="known fatalities")],
        )
    )
    bars = (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("events:Q", title="events per day"),
            color=unlabelled,
            tooltip=[
                day,
                alt.Tooltip("type:N"),
                alt.Tooltip("events:Q"),
                alt.Tooltip("fatalities:Q", title="known fatalities"),
            ],
        )
    )
    fit = alt.AutoSizeParams(type="fit-x", contains="padding")
    return (
        alt.layer(bars, rules).properties(height=150, width="container", autosize=fit),
        alt.layer(deaths, rules).properties(height=90, width="container", autosize=fit),
    )


# Said under the chart: what its dashed lines are.
RULES_CAPTION = (
    "Bars in the map's colours by event type. Dashed lines: ceasefires, agreements and "
    "statements (hover for which). Fatalities are known figures only (unknown is not zero)."
)
