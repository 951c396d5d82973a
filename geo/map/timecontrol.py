"""Time playback inside the map: play/pause, speed, cumulative or moving window.

It runs in the browser (in the live map's page too: geo.map.live), so playing the 2020 war does
not rerun the Streamlit script once per day. Every feature carries `d0` / `d1`: its first and
last day as days since 1970-01-01. Event layers show what started by the current day (and,
with a moving window, had not ended before it); reference layers (held areas, contact line)
show what was valid on the current day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import folium
import pandas as pd
from branca.element import MacroElement, Template

EPOCH = dt.date(1970, 1, 1)
_JS = Path(__file__).with_name("js") / "timecontrol.js"


@cache
def _library() -> str:
    return _JS.read_text(encoding="utf-8")


OPEN_START, OPEN_END = -1_000_000, 1_000_000


def day_number(value: object, open_value: int) -> int:
    """Days since 1970-01-01; `open_value` for a missing date (an open-ended validity)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return open_value
    return (pd.Timestamp(value).date() - EPOCH).days


class TimeControl(MacroElement):
    """A Leaflet control that steps a day through [start, end] and filters layers by it."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.library }}
        NKTimeControl({{ this._parent.get_name() }}, {{ this.start }}, {{ this.end }},
          [{{ this.event_layers | join(", ") }}], [{{ this.reference_layers | join(", ") }}]);
        {% endmacro %}
        """
    )

    def __init__(
        self,
        start: dt.date,
        end: dt.date,
        event_layers: Sequence[folium.GeoJson],
        reference_layers: Sequence[folium.GeoJson],
    ) -> None:
        super().__init__()
        self._name = "TimeControl"
        self.start = day_number(start, OPEN_START)
        self.end = day_number(end, OPEN_END)
        self.event_layers = [layer.get_name() for layer in event_layers]
        self.reference_layers = [layer.get_name() for layer in reference_layers]
        self.library = _library()
