"""What a file's columns and codes mean: native, ACLED, UCDP GED and common hand-made headers.

`detect_format` guesses the format from the header, `column_mapping` maps source headers to
schema columns (a preset plus the user's overrides); the code tables translate each format's
event types, sides, countries and precisions into ours.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from geo.errors import InputError
from geo.schema import COLUMN_NAMES, EVENT_TYPES, SIDES

# ---------------------------------------------------------------------------------- presets

ACLED_COLUMNS = {
    "event_id_cnty": "event_id",
    "event_date": "event_date",
    "time_precision": "time_precision",
    "event_type": "event_type",
    "sub_event_type": "sub_event_type",
    "actor1": "actor1",
    "actor2": "actor2",
    "country": "country",
    "admin1": "admin1",
    "location": "location",
    "latitude": "latitude",
    "longitude": "longitude",
    "geo_precision": "geo_precision",
    "source": "source",
    "notes": "notes",
    "fatalities": "fatalities",
}
UCDP_COLUMNS = {
    "id": "event_id",
    "date_start": "event_date",
    "date_end": "date_end",
    "date_prec": "time_precision",
    "type_of_violence": "event_type",
    "side_a": "actor1",
    "side_b": "actor2",
    "country": "country",
    "adm_1": "admin1",
    "where_description": "location",
    "latitude": "latitude",
    "longitude": "longitude",
    "where_prec": "geo_precision",
    "best": "fatalities",
    "low": "fatalities_low",
    "high": "fatalities_high",
    "deaths_civilians": "civilian_fatalities",
    "source_office": "source",
    "source_headline": "notes",
}
# Common headers of hand-made files (compared lower-case, spaces and dashes as underscores).
COMMON_HEADERS = {
    "id": "event_id",
    "date": "event_date",
    "day": "event_date",
    "start_date": "event_date",
    "end_date": "date_end",
    "type": "event_type",
    "event": "event_type",
    "place": "location",
    "town": "location",
    "village": "location",
    "location": "location",
    "lat": "latitude",
    "latitude": "latitude",
    "y": "latitude",
    "lon": "longitude",
    "lng": "longitude",
    "long": "longitude",
    "longitude": "longitude",
    "x": "longitude",
    "killed": "fatalities",
    "deaths": "fatalities",
    "dead": "fatalities",
    "fatalities": "fatalities",
    "casualties": "fatalities",
    "civilians_killed": "civilian_fatalities",
    "source": "source",
    "publisher": "source",
    "url": "source_url",
    "link": "source_url",
    # Free text: what the row says happened.
    "description": "notes",
    "event_description": "notes",
    "what_happened": "notes",
    "details": "notes",
    "detail": "notes",
    "summary": "notes",
    "narrative": "notes",
    "comment": "notes",
    "comments": "notes",
    "comment(s)": "notes",
    "notes": "notes",
    "note": "notes",
    "region": "admin1",
    "province": "admin1",
    "district": "admin1",
    "actor": "actor1",
    "claimed_by": "claimed_by",
    "claim": "claimed_by",
}

ACLED_TYPES = {
    # (event_type, sub_event_type) lower-case -> our code; sub-type first, then type.
    "shelling/artillery/missile attack": "shelling",
    "air/drone strike": "air_drone_strike",
    "remote explosive/landmine/ied": "other",
    "grenade": "other",
    "suicide bomb": "other",
    "government regains territory": "capture",
    "non-state actor overtakes territory": "capture",
    "non-violent transfer of territory": "capture",
    "agreement": "ceasefire",
    "armed clash": "armed_clash",
    "battles": "armed_clash",
    "explosions/remote violence": "shelling",
    "violence against civilians": "other",
    "protests": "protest",
    "riots": "protest",
    "strategic developments": "other",
}
UCDP_VIOLENCE = {"1": "armed_clash", "2": "armed_clash", "3": "other"}
# UCDP date_prec: 1 day, 2 2-6 days, 3 week, 4 8-30 days, 5 more -> ACLED-style 1..3.
UCDP_TIME_PRECISION = {"1": 1, "2": 2, "3": 2, "4": 3, "5": 3}
# UCDP where_prec: 1 exact, 2 within 25 km, 3 admin-2, 4 admin-1, 5 linear, 6 country, 7 sea.
UCDP_GEO_PRECISION = {"1": 1, "2": 2, "3": 2, "4": 3, "5": 2, "6": 3, "7": 3}

TYPE_SYNONYMS = {
    **{code: code for code in EVENT_TYPES},
    **{label.lower(): code for code, label in EVENT_TYPES.items()},
    "shelling/artillery": "shelling",
    "artillery": "shelling",
    "air strike": "air_drone_strike",
    "airstrike": "air_drone_strike",
    "drone strike": "air_drone_strike",
    "air/drone strike": "air_drone_strike",
    "missile": "missile_strike",
    "clash": "armed_clash",
    "battle": "armed_clash",
    "fighting": "armed_clash",
    "capture/control change": "capture",
    "control change": "capture",
    "ceasefire/agreement": "ceasefire",
    "agreement": "ceasefire",
    "truce": "ceasefire",
    "violation": "violation_report",
    "ceasefire violation": "violation_report",
    "demonstration": "protest",
}
SIDE_SYNONYMS = {
    **{code: code for code in SIDES},
    "armenia": "armenian",
    "nkr": "armenian",
    "artsakh": "armenian",
    "azerbaijan": "azerbaijani",
    "russia": "russian",
    "civilians": "civilian",
}
COUNTRY_ISO3 = {
    "armenia": "ARM",
    "am": "ARM",
    "azerbaijan": "AZE",
    "az": "AZE",
    "georgia": "GEO",
    "ge": "GEO",
    "russia": "RUS",
    "russian federation": "RUS",
    "ru": "RUS",
    "turkey": "TUR",
    "türkiye": "TUR",
    "turkiye": "TUR",
    "tr": "TUR",
    "iran": "IRN",
    "iran (islamic republic of)": "IRN",
    "ir": "IRN",
    "russia (soviet union)": "RUS",  # UCDP GED's name for the USSR and Russia
}
ISO3_TO_ISO2 = {"ARM": "AM", "AZE": "AZ", "GEO": "GE", "RUS": "RU", "TUR": "TR", "IRN": "IR"}
# Another well-formed ISO3 code (USA for talks in Washington) is merely unusual: a warning.
REGION_COUNTRIES = frozenset(ISO3_TO_ISO2)


def _norm_header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def detect_format(header: list[str]) -> str:
    names = {_norm_header(h) for h in header}
    if {"event_id_cnty", "event_date", "event_type"} <= names:
        return "acled"
    if {"date_start", "where_prec"} <= names or {"side_a", "best", "where_description"} <= names:
        return "ucdp"
    if {"event_date", "event_type", "source"} <= names:
        return "native"
    return "generic"


def column_mapping(
    header: list[str], fmt: str, overrides: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[str]]:
    """Source header -> schema column, and the ignored source columns."""
    preset = {
        "native": {c: c for c in COLUMN_NAMES},
        "acled": ACLED_COLUMNS,
        "ucdp": UCDP_COLUMNS,
        "generic": {**{c: c for c in COLUMN_NAMES}, **COMMON_HEADERS},
    }[fmt]
    mapping: dict[str, str] = {}
    for h in header:
        dest = preset.get(_norm_header(h))
        if dest is None and fmt == "native":
            dest = COMMON_HEADERS.get(_norm_header(h))
        if dest is not None and dest not in mapping.values():
            mapping[h] = dest
    for src, dest in (overrides or {}).items():
        if src not in header:
            raise InputError(
                f"--map names a column the file does not have; columns: {', '.join(header)}",
                column=src,
            )
        if not dest:  # an empty target drops the column, even one a preset would map
            mapping.pop(src, None)
            continue
        if dest not in COLUMN_NAMES:
            raise InputError(
                f"--map target must be one of: {', '.join(COLUMN_NAMES)}", column=src, value=dest
            )
        mapping = {h: d for h, d in mapping.items() if d != dest and h != src}
        mapping[src] = dest
    if "event_date" not in mapping.values():
        raise InputError(
            "no column gives the event date; name it event_date or map one with "
            "--map 'Your column=event_date'",
            line=1,
        )
    ignored = [h for h in header if h not in mapping]
    return mapping, ignored


# First-level admin areas of GeoNames' admin1 codes (cities500 carries the code only), to name
# a candidate place: "Martuni, Gegharkunik (AM)". Azerbaijan's rayons are named after their
# towns, so its codes add nothing a reader needs.
ADMIN1_NAMES: dict[tuple[str, str], str] = {
    ("AM", "01"): "Aragatsotn", ("AM", "02"): "Ararat", ("AM", "03"): "Armavir",
    ("AM", "04"): "Gegharkunik", ("AM", "05"): "Kotayk", ("AM", "06"): "Lori",
    ("AM", "07"): "Shirak", ("AM", "08"): "Syunik", ("AM", "09"): "Tavush",
    ("AM", "10"): "Vayots Dzor", ("AM", "11"): "Yerevan",
    ("GE", "02"): "Abkhazia", ("GE", "04"): "Adjara", ("GE", "51"): "Tbilisi",
    ("GE", "65"): "Guria", ("GE", "66"): "Imereti", ("GE", "67"): "Kakheti",
    ("GE", "68"): "Kvemo Kartli", ("GE", "69"): "Mtskheta-Mtianeti",
    ("GE", "70"): "Racha-Lechkhumi and Kvemo Svaneti", ("GE", "71"): "Samegrelo-Zemo Svaneti",
    ("GE", "72"): "Samtskhe-Javakheti", ("GE", "73"): "Shida Kartli",
}  # fmt: skip
# Count cells that say "we do not know": blank (unknown), never a reject. "NA" is Namibia only
# in a country column; in a count it is "not available".
UNKNOWN_COUNT = frozenset({"unknown", "unk", "n/a", "na", "n.a.", "?", "-", "–", "—"})
