"""The timeline under the map: events and fatalities per day by type, agreements marked."""

from __future__ import annotations

import altair as alt
import pandas as pd

from geo.schema import EVENT_TYPES

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


def timeline_chart(events: pd.DataFrame) -> alt.VConcatChart:
    """Events and known fatalities per day, stacked by type; ceasefires and statements as
    dashed rules across both."""
    counts = daily_counts(events)
    x = alt.X("day:T", title=None)
    color = alt.Color("type:N", title="type", legend=alt.Legend(orient="bottom"))
    rules = (
        alt.Chart(marked_days(events))
        .mark_rule(strokeDash=[3, 3], color="#17becf")
        .encode(x="day:T", tooltip=["day:T", "kind:N", "label:N"])
    )
    deaths = (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("fatalities:Q", title="known fatalities"),
            color=color,
            tooltip=["day:T", "type:N", alt.Tooltip("fatalities:Q", title="known fatalities")],
        )
    )
    bars = (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("events:Q", title="events per day"),
            color=alt.Color("type:N", title="type", legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("day:T"),
                alt.Tooltip("type:N"),
                alt.Tooltip("events:Q"),
                alt.Tooltip("fatalities:Q", title="known fatalities"),
            ],
        )
    )
    return alt.vconcat(
        alt.layer(bars, rules).properties(height=150),
        alt.layer(deaths, rules).properties(height=90),
    ).resolve_scale(x="shared")
