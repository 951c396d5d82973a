"""Realistic synthetic events in the region, for benchmarks only (seeded, reproducible).

Every row is a native-format event (every column of geo.schema.COLUMN_NAMES) that passes
validation. Places are the curated events' own places in the South Caucasus
(data/events/events.csv: location, admin1, country, latitude, longitude) plus a jitter that
grows with the geo precision: no coordinates are invented. Dates fall in 2016-2023, weighted
toward the episodes the dashboard is used for (April 2016, July 2020 Tovuz, the 2020 war,
September 2022, the Lachin blockade, September 2023). The `source` column says the data is
synthetic, so a benchmark store can never pass for real reporting.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geo.schema import COLUMN_NAMES, EVENT_TYPES
from geo.settings import get_settings

# Curated places inside this box (lon_min, lat_min, lon_max, lat_max) are used: Armenia,
# Azerbaijan and the Karabakh front, not Moscow or Geneva where statements were made.
PLACE_BOX = (44.0, 38.5, 50.5, 41.5)

# (first day, last day, share of events): the episodes, then a background over all years.
EPISODES: tuple[tuple[str, str, float], ...] = (
    ("2016-04-01", "2016-04-05", 0.08),  # April 2016 war
    ("2020-07-12", "2020-07-16", 0.03),  # Tovuz clashes
    ("2020-09-27", "2020-11-10", 0.42),  # the 2020 war
    ("2022-09-12", "2022-09-14", 0.05),  # September 2022 clashes
    ("2022-12-12", "2023-09-18", 0.08),  # Lachin corridor blockade
    ("2023-09-19", "2023-09-21", 0.05),  # September 2023 offensive
    ("2016-01-01", "2023-12-31", 0.29),  # everything else
)
TYPE_WEIGHTS: dict[str, float] = {
    "shelling": 0.30,
    "armed_clash": 0.22,
    "violation_report": 0.20,
    "air_drone_strike": 0.08,
    "statement": 0.05,
    "capture": 0.04,
    "missile_strike": 0.03,
    "humanitarian": 0.03,
    "protest": 0.02,
    "other": 0.02,
    "ceasefire": 0.01,
}
SUB_TYPES: dict[str, tuple[str, ...]] = {
    "shelling": ("artillery fire", "mortar fire", "rocket artillery"),
    "armed_clash": ("exchange of fire", "ground assault", "sniper fire"),
    "violation_report": ("ceasefire violation", "small-arms fire reported"),
    "air_drone_strike": ("drone strike", "loitering munition"),
    "statement": ("casualty statement", "ministry statement"),
    "capture": ("claimed capture", "control change"),
    "missile_strike": ("ballistic missile", "cluster munition"),
    "humanitarian": ("displacement", "aid convoy"),
    "protest": ("demonstration", "road blockade"),
    "other": ("unexploded ordnance", "other incident"),
    "ceasefire": ("humanitarian truce", "ceasefire agreement"),
}
SIDE_WEIGHTS: dict[str, float] = {
    "armenian": 0.40,
    "azerbaijani": 0.40,
    "unknown": 0.08,
    "civilian": 0.05,
    "international": 0.04,
    "russian": 0.03,
}
ACTORS: dict[str, str] = {
    "armenian": "Armenian / Nagorno-Karabakh forces",
    "azerbaijani": "Azerbaijani armed forces",
    "russian": "Russian peacekeeping contingent",
    "international": "OSCE monitors",
    "civilian": "Civilians",
    "unknown": "Unidentified armed group",
}
OPPONENT = {"armenian": "azerbaijani", "azerbaijani": "armenian"}
CLAIMANTS: dict[str, str] = {
    "armenian": "Armenian Ministry of Defence",
    "azerbaijani": "Azerbaijani Ministry of Defence",
    "russian": "Russian Ministry of Defence",
}
# Notes of about 60-100 characters; some carry characters that must stay text (< & quotes).
NOTES: tuple[str, ...] = (
    "Synthetic {label} near {place}; placeholder figures for benchmarks.",
    'Report of "heavy fire" near {place} <unconfirmed>; synthetic benchmark row.',
    "Both sides & observers disputed this synthetic {label} at {place}.",
    "Synthetic row: {label} reported at {place}, casualties <n/a> & damage unclear.",
    "Synthetic: a local official's account of the {label}, not independently checked.",
)
MULTI_DAY_SHARE = 0.10
FATALITIES_BLANK_SHARE = 0.40


@dataclass(frozen=True)
class Places:
    """The curated places to cluster events around (one row per place name)."""

    frame: pd.DataFrame  # location, admin1, country, latitude, longitude


def curated_places(events_csv: Path | None = None) -> Places:
    """Places of the curated events inside PLACE_BOX, with their coordinates as curated."""
    path = events_csv or get_settings().events_dir / "events.csv"
    cols = ["location", "admin1", "country", "latitude", "longitude"]
    frame = pd.read_csv(path, usecols=cols).dropna(subset=["latitude", "longitude", "location"])
    lon_min, lat_min, lon_max, lat_max = PLACE_BOX
    inside = frame["longitude"].between(lon_min, lon_max) & frame["latitude"].between(
        lat_min, lat_max
    )
    frame = frame[inside].drop_duplicates("location").reset_index(drop=True)
    if frame.empty:
        raise ValueError(f"{path}: no curated place inside {PLACE_BOX}")
    return Places(frame)


def _choice(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    keys = np.array(list(weights), dtype=object)
    p = np.array(list(weights.values()), dtype=float)
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]


def _dates(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """First days (datetime64[D]) and, for ~10 % of events, last days 1-14 days later."""
    shares = np.array([e[2] for e in EPISODES])
    episode = rng.choice(len(EPISODES), size=n, p=shares / shares.sum())
    first = np.array([np.datetime64(e[0]) for e in EPISODES])
    span = np.array([(np.datetime64(e[1]) - np.datetime64(e[0])).astype(int) + 1 for e in EPISODES])
    offset = (rng.random(n) * span[episode]).astype(int)
    start = first[episode] + offset.astype("timedelta64[D]")
    multi = rng.random(n) < MULTI_DAY_SHARE
    length = rng.integers(1, 15, size=n)
    end = np.where(multi, start + length.astype("timedelta64[D]"), np.datetime64("NaT"))
    return start, end


def _fatalities(rng: np.random.Generator, n: int) -> dict[str, pd.Series]:
    """Best estimate (blank ~40 %: unknown is not 0), some low-high ranges, civilians."""
    known = rng.random(n) >= FATALITIES_BLANK_SHARE
    best = rng.geometric(0.35, size=n) - 1
    has_range = known & (rng.random(n) < 0.3)
    low = np.maximum(best - rng.integers(0, 3, size=n), 0)
    high = best + rng.integers(0, 4, size=n)
    has_civ = known & (rng.random(n) < 0.3)
    civ = np.minimum(rng.geometric(0.6, size=n) - 1, best)

    def col(values: np.ndarray, mask: np.ndarray) -> pd.Series:
        return pd.Series(values, dtype="Int64").where(mask)

    return {
        "fatalities": col(best, known),
        "fatalities_low": col(low, has_range),
        "fatalities_high": col(high, has_range),
        "civilian_fatalities": col(civ, has_civ),
    }


def _jitter(rng: np.random.Generator, precision: np.ndarray) -> np.ndarray:
    # About 1 km for an exact place, 5 km near a place, 15 km for a region centroid.
    sigma = np.array([0.0, 0.01, 0.05, 0.15])[precision]
    return rng.normal(0.0, 1.0, size=len(precision)) * sigma


def events_frame(n: int, seed: int = 1, places: Places | None = None) -> pd.DataFrame:
    """`n` synthetic events as a frame of every schema column (text where the CSV has text)."""
    rng = np.random.default_rng(seed)
    places = places or curated_places()
    at = places.frame.iloc[rng.integers(0, len(places.frame), size=n)].reset_index(drop=True)
    types = _choice(rng, TYPE_WEIGHTS, n)
    sides = _choice(rng, SIDE_WEIGHTS, n)
    start, end = _dates(rng, n)
    geo_precision = rng.choice([1, 2, 3], size=n, p=[0.6, 0.3, 0.1])
    verification = _choice(rng, {"claimed": 0.6, "corroborated": 0.3, "confirmed": 0.1}, n)
    claimed = verification == "claimed"
    sub_pick = rng.integers(0, 3, size=n)
    note_pick = rng.integers(0, len(NOTES), size=n)
    labels = np.array([EVENT_TYPES[t].lower() for t in types], dtype=object)
    frame = pd.DataFrame(
        {
            "event_id": [f"syn{seed}-{i:07d}" for i in range(n)],
            "event_date": pd.Series(start).dt.strftime("%Y-%m-%d"),
            "date_end": pd.Series(end).dt.strftime("%Y-%m-%d"),
            "time_precision": rng.choice([1, 2, 3], size=n, p=[0.8, 0.15, 0.05]),
            "event_type": types,
            "sub_event_type": [
                SUB_TYPES[t][k % len(SUB_TYPES[t])] for t, k in zip(types, sub_pick, strict=True)
            ],
            "actor1": [ACTORS[s] for s in sides],
            "actor2": [ACTORS.get(OPPONENT.get(s, ""), "") for s in sides],
            "side": sides,
            "location": at["location"],
            "admin1": at["admin1"],
            "country": at["country"],
            "latitude": (at["latitude"] + _jitter(rng, geo_precision)).round(4),
            "longitude": (at["longitude"] + _jitter(rng, geo_precision)).round(4),
            "geo_precision": geo_precision,
            **_fatalities(rng, n),
            "source": f"Synthetic benchmark data (bench/synth.py, seed {seed})",
            "source_url": "",
            "claimed_by": [
                CLAIMANTS.get(s, "") if c else "" for s, c in zip(sides, claimed, strict=True)
            ],
            "verification": verification,
            "notes": [
                NOTES[k].format(label=label, place=place)
                for k, label, place in zip(note_pick, labels, at["location"], strict=True)
            ],
        }
    )
    # A column the schema gained since (say a second source URL): blank, as an upload's would be.
    missing = [c for c in COLUMN_NAMES if c not in frame]
    return frame.assign(**dict.fromkeys(missing, ""))[list(COLUMN_NAMES)]


def write_csv(path: Path | str, n: int, seed: int = 1) -> Path:
    """Write `n` synthetic events as a native CSV (UTF-8, header = schema columns)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = events_frame(n, seed)
    tmp = path.with_suffix(path.suffix + ".part")
    frame.to_csv(tmp, index=False, lineterminator="\n")
    tmp.replace(path)
    return path
