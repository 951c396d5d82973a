"""An independent statement of the ingest rules, one row at a time: the oracle that the
column-wise rules (geo.ingest.rules) are compared to on random files (test_ingest_fast).

Written plainly and slowly on purpose; it shares with geo.ingest only the reading of the file
(decode, CSV records, column mapping, date parsing), the code tables and the message for an
ambiguous place, never a rule. A rule changed in one place and not the other fails the
comparisons.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from urllib.parse import urlsplit

import geo.ingest.plan as ingest_plan
from geo.errors import InputError
from geo.ingest import (
    ACLED_TYPES,
    COUNTRY_ISO3,
    ISO3_TO_ISO2,
    REGION_COUNTRIES,
    SIDE_SYNONYMS,
    TYPE_SYNONYMS,
    UCDP_GEO_PRECISION,
    UCDP_TIME_PRECISION,
    UCDP_VIOLENCE,
    ImportPlan,
    RowIssue,
    column_mapping,
    decide_date_order,
    decode,
    detect_format,
    parse_date,
    read_records,
    sniff_delimiter,
)
from geo.ingest.rules import ambiguity
from geo.schema import COLUMN_NAMES, EVENT_TYPES, SIDES, VERIFICATION
from geo.store import Record, content_hash

TYPES_WITHOUT_PLACE = {"statement", "ceasefire"}
REGION = (34.0, 35.0, 53.0, 47.5)  # lon_min, lat_min, lon_max, lat_max
CORE = (43.0, 38.2, 51.0, 43.7)  # Armenia, Azerbaijan, Georgia
UNKNOWN = {"unknown", "unk", "n/a", "na", "n.a.", "?", "-", "–", "—"}
COUNTS = ("fatalities", "fatalities_low", "fatalities_high", "civilian_fatalities")


class Refused(Exception):
    def __init__(self, column, value, reason):
        self.column, self.value, self.reason = column, value, reason


def inside(box, lat, lon) -> bool:
    return box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


def km_between(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, max(0.0, a))))


def clean(value):
    value = (value or "").strip()
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        value = value[1:]
    return value or None


def whole(column, raw, low=None, high=None):
    if raw is None:
        return None
    try:
        number = float(raw.replace(",", "")) if re.fullmatch(r"[\d,]+(\.0+)?", raw) else float(raw)
    except ValueError:
        raise Refused(column, raw, "not a whole number") from None
    if not math.isfinite(number) or number != int(number):
        raise Refused(column, raw, "not a whole number")
    if abs(number) > 2**53:
        raise Refused(column, raw, "too large to be a count")
    if low is not None and number < low:
        raise Refused(column, raw, f"must be {low} or more")
    if high is not None and number > high:
        raise Refused(column, raw, f"must be {high} or less")
    return int(number)


def degrees(column, raw, limit):
    if raw is None:
        return None
    try:
        number = float(raw)
    except ValueError:
        raise Refused(column, raw, "not a number") from None
    if not -limit <= number <= limit:
        raise Refused(column, raw, f"out of range (-{limit} to {limit})")
    return number


def country_of(raw):
    code = COUNTRY_ISO3.get(raw.lower())
    if code is None and re.fullmatch(r"[A-Za-z]{3}", raw):
        code = raw.upper()
    if code is None:
        raise Refused(
            "country",
            raw,
            "not an ISO 3166-1 alpha-3 country code (e.g. ARM, AZE, GEO) or a country name of "
            "the region",
        )
    return code


def url_of(raw, column="source_url"):
    try:
        parts = urlsplit(raw)
        _ = parts.port
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise Refused(
            column,
            raw,
            "not an absolute http:// or https:// URL (e.g. https://example.org/a)",
        )
    if re.search(r'[\s"<>\\\x00-\x1f\x7f]', raw):
        raise Refused(
            column,
            raw,
            "a URL cannot contain spaces, quotes, <, >, \\ or control characters: "
            "percent-encode them (%20 for a space)",
        )
    return raw


class Reference:
    def __init__(self, fmt, order, date_format, geocoder, source, latest, file_type):
        self.fmt, self.order, self.date_format = fmt, order, date_format
        self.geocoder, self.source, self.latest, self.file_type = (
            geocoder,
            source,
            latest,
            file_type,
        )
        self.geocoded = 0
        self.warnings = []

    def warn(self, line, column, value, reason):
        self.warnings.append(RowIssue(line, column, value, reason))

    def day(self, column, raw):
        if raw is None:
            return None
        try:
            when = parse_date(raw, self.order, self.date_format)
        except ValueError as exc:
            reason = str(exc)
            if "day is out of range" in reason or "month must be" in reason:
                reason = "impossible date"
            raise Refused(column, raw, reason) from None
        if when < dt.date(1988, 1, 1):
            raise Refused(column, raw, "date before 1988-01-01: the conflict data starts in 1988")
        if when > self.latest:
            raise Refused(column, raw, f"date in the future (after {self.latest.isoformat()})")
        return when

    def row(self, line, raw):
        v = {c: raw.get(c) for c in COLUMN_NAMES}
        given_type = raw.get("event_type")
        if given_type is None:
            if self.file_type:
                v["event_type"] = self.file_type
            else:
                self.warn(line, "event_type", None, "no event type: recorded as 'other'")
                v["event_type"] = "other"
        else:
            if self.fmt == "ucdp":
                code = UCDP_VIOLENCE.get(given_type)
            elif self.fmt == "acled":
                sub = (raw.get("sub_event_type") or "").lower()
                code = ACLED_TYPES.get(sub) or ACLED_TYPES.get(given_type.lower())
            else:
                code = TYPE_SYNONYMS.get(given_type.lower())
            if code is None:
                raise Refused(
                    "event_type",
                    given_type,
                    f"unknown event type; allowed: {', '.join(EVENT_TYPES)}",
                )
            v["event_type"] = code
            if self.fmt == "ucdp":
                v["sub_event_type"] = f"UCDP type_of_violence {given_type}"
        if raw.get("side") is not None:
            v["side"] = SIDE_SYNONYMS.get(raw["side"].lower())
            if v["side"] is None:
                allowed = ", ".join(SIDES)
                raise Refused("side", raw["side"], f"not an allowed value; allowed: {allowed}")
        if raw.get("verification") is not None:
            v["verification"] = raw["verification"].lower()
            if v["verification"] not in VERIFICATION:
                allowed = ", ".join(VERIFICATION)
                raise Refused(
                    "verification", raw["verification"], f"not an allowed value; allowed: {allowed}"
                )
        if raw.get("country") is not None:
            v["country"] = country_of(raw["country"])
        v["event_date"] = self.day("event_date", raw.get("event_date"))
        if v["event_date"] is None:
            raise Refused("event_date", None, "no date")
        v["date_end"] = self.day("date_end", raw.get("date_end"))
        if v["date_end"] is not None and v["date_end"] < v["event_date"]:
            raise Refused("date_end", raw["date_end"], "ends before event_date")
        if v["date_end"] == v["event_date"]:
            v["date_end"] = None
        for column in COUNTS:
            text = raw.get(column)
            if text is not None and text.lower() in UNKNOWN:
                text = None
            v[column] = whole(column, text, low=0)
            if v[column] is not None and v[column] > 100_000:
                raise Refused(
                    column,
                    text,
                    "must be 100,000 or less: not a plausible count for one event",
                )
        if self.fmt == "ucdp":
            for column, original, table, what in (
                ("time_precision", "date_prec", UCDP_TIME_PRECISION, "date precision (1-5)"),
                ("geo_precision", "where_prec", UCDP_GEO_PRECISION, "location precision (1-7)"),
            ):
                text = raw.get(column)
                v[column] = table.get(text) if text else None
                if text and v[column] is None:
                    raise Refused(original, text, f"unknown UCDP {what}")
            if v["event_id"]:
                v["event_id"] = "ucdp-" + v["event_id"]
        else:
            v["time_precision"] = whole("time_precision", raw.get("time_precision"), 1, 3)
            v["geo_precision"] = whole("geo_precision", raw.get("geo_precision"), 1, 3)
        low, best, high = v["fatalities_low"], v["fatalities"], v["fatalities_high"]
        if low is not None and high is not None and low > high:
            raise Refused("fatalities_low", raw.get("fatalities_low"), "low estimate above high")
        if best is not None and (
            (low is not None and best < low) or (high is not None and best > high)
        ):
            raise Refused("fatalities", raw.get("fatalities"), "outside the low-high range")
        for column in ("source_url", "source_url_2"):
            if raw.get(column) is not None:
                url_of(raw[column], column)
        if v["source"] is None:
            v["source"] = self.source
        elif self.fmt == "acled":
            v["source"] += " (via ACLED)"
        elif self.fmt == "ucdp":
            v["source"] += " (via UCDP GED)"
        self.place(line, v, raw)
        if not v["event_id"]:
            key = "|".join(
                str(v[c].isoformat() if isinstance(v[c], dt.date) else v[c]).strip().lower()
                for c in ("event_date", "location", "event_type", "source")
            )
            v["event_id"] = "h-" + hashlib.sha256(key.encode()).hexdigest()[:16]
        if (
            v["country"] is not None
            and v["country"] not in REGION_COUNTRIES
            and v["event_type"] not in TYPES_WITHOUT_PLACE
        ):
            self.warn(
                line,
                "country",
                raw.get("country"),
                f"{v['country']} is not a country of the region "
                f"({', '.join(sorted(REGION_COUNTRIES))}): check it",
            )
        return v

    def query(self, v):
        name, _, tail = v["location"].rpartition(",")
        tail_country = ISO3_TO_ISO2.get(COUNTRY_ISO3.get(tail.strip().lower(), ""))
        if tail_country and name.strip():
            return name.strip(), tail_country
        return v["location"], ISO3_TO_ISO2.get(v["country"] or "")

    def place(self, line, v, raw):
        lat = degrees("latitude", raw.get("latitude"), 90)
        lon = degrees("longitude", raw.get("longitude"), 180)
        pointless = v["event_type"] in TYPES_WITHOUT_PLACE
        if (lat is None) != (lon is None):
            missing = "longitude" if lon is None else "latitude"
            raise Refused(missing, None, "one coordinate given without the other")
        if lat is not None:
            given = f"{raw['latitude']}, {raw['longitude']}"
            far_from_place = None
            swapped_to_place = False
            if v["location"] and not pointless:
                answer = self.geocoder.geocode(*self.query(v))
                if answer.best is not None and not answer.ambiguous:
                    at = (answer.best.latitude, answer.best.longitude)
                    distance = km_between(lat, lon, *at)
                    swapped = km_between(lon, lat, *at)
                    if distance > 50 and swapped <= 10:
                        self.warn(
                            line,
                            "latitude",
                            given,
                            f"latitude and longitude were swapped: the point given is "
                            f"{distance:,.0f} km from {v['location']}, swapped it is "
                            f"{swapped:,.0f} km",
                        )
                        lat, lon = lon, lat
                        swapped_to_place = True
                    elif distance > 50:
                        far_from_place = distance
            if (
                not swapped_to_place
                and not pointless
                and inside(REGION, lat, lon)
                and not inside(CORE, lat, lon)
                and inside(CORE, lon, lat)
            ):
                self.warn(
                    line,
                    "latitude",
                    given,
                    "outside Armenia, Azerbaijan and Georgia; swapped, the coordinates "
                    "would fall inside: check the order of latitude and longitude",
                )
            if not inside(REGION, lat, lon):
                if not swapped_to_place and inside(REGION, lon, lat) and abs(lon) <= 90:
                    self.warn(
                        line, "latitude", given, "latitude and longitude look swapped; swapped them"
                    )
                    lat, lon = lon, lat
                elif not pointless:
                    raise Refused(
                        "latitude", given, "coordinates far outside the region (South Caucasus)"
                    )
            if far_from_place is not None:
                self.warn(
                    line,
                    "latitude",
                    given,
                    f"the point is {far_from_place:,.0f} km from {v['location']}: check the "
                    "coordinates or the place",
                )
            v["latitude"], v["longitude"] = lat, lon
            return
        if not v["location"]:
            if pointless:
                return
            raise Refused("location", None, "no coordinates and no place name")
        answer = self.geocoder.geocode(*self.query(v))
        if answer.best is None:
            raise Refused(
                "location", v["location"], "no coordinates and no gazetteer knows this place"
            )
        v["latitude"] = round(answer.best.latitude, 5)
        v["longitude"] = round(answer.best.longitude, 5)
        if v["geo_precision"] is None:
            v["geo_precision"] = answer.geo_precision
        self.geocoded += 1
        if answer.ambiguous:
            self.warn(line, "location", v["location"], ambiguity(v["location"], answer))


def reference_plan(
    data,
    store,
    *,
    source_name="upload",
    fmt="auto",
    overrides=None,
    date_format=None,
    event_type=None,
    geocoder=None,
    max_bytes=ingest_plan.MAX_BYTES,
    max_rows=ingest_plan.MAX_ROWS,
    progress=None,
):
    """The plan plan_import should make, worked out one row at a time (Records in lists)."""
    if len(data) > max_bytes:
        raise InputError(
            f"the file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB: "
            "split it into smaller files (each with the header line) and import them one "
            "after another"
        )
    file_type = ingest_plan.event_type_code(event_type)
    if geocoder is None:
        from geo.places.geocode import get_geocoder

        geocoder = get_geocoder("offline")
    text, encoding = decode(data)
    delimiter = sniff_delimiter(text)
    records = list(read_records(text, delimiter))
    if not records:
        raise InputError("the file is empty")
    first_line, header = records[0]
    header = [h.strip() for h in header]
    if first_line != 1 or not any(header):
        raise InputError("the first line must be a header row", line=1)
    if any("\x00" in h for h in header):
        raise InputError(
            "the header has a NUL byte: is the file UTF-16 or not a CSV file? Save it as UTF-8",
            line=1,
        )
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError(f"the header repeats columns: {', '.join(dupes)}", line=1)
    rows = records[1:]
    if len(rows) > max_rows:
        raise InputError(
            f"the file has {len(rows):,} rows; the limit is {max_rows:,}: split it into smaller "
            "files (each with the header line) and import them one after another"
        )
    detected = detect_format(header) if fmt == "auto" else fmt
    if detected not in ("native", "acled", "ucdp", "generic"):
        raise InputError("format must be auto, native, acled, ucdp or generic", value=fmt)
    mapping, ignored = column_mapping(header, detected, overrides)
    where = {dest: header.index(src) for src, dest in mapping.items()}
    dates = [where[c] for c in ("event_date", "date_end") if c in where]
    order = (
        "given"
        if date_format
        else decide_date_order(clean(f[i]) or "" for _, f in rows for i in dates if i < len(f))
    )
    plan = ImportPlan(
        source_name, encoding, delimiter, detected, mapping, ignored, order, rows=len(rows)
    )
    plan.sha256 = hashlib.sha256(data).hexdigest()
    if "source" not in mapping.values():
        plan.warnings.append(
            RowIssue(
                1,
                "source",
                None,
                f"the file has no source column: recorded as 'User upload: {source_name}'",
            )
        )
    checker = Reference(
        detected,
        order,
        date_format,
        geocoder,
        f"User upload: {source_name}",
        ingest_plan._today() + dt.timedelta(days=1),
        file_type,
    )
    names = list(header)
    for dest, i in where.items():
        names[i] = dest
    seen, valid = {}, []
    for line, fields in rows:
        checker.warnings = plan.warnings
        if len(fields) != len(header):
            plan.rejects.append(
                RowIssue(
                    line,
                    None,
                    None,
                    f"the row has {len(fields)} fields, the header has {len(header)}",
                )
            )
            continue
        nul = next((i for i, f in enumerate(fields) if "\x00" in f), None)
        if nul is not None:
            plan.rejects.append(
                RowIssue(line, names[nul], clean(fields[nul]), "NUL byte in the text")
            )
            continue
        try:
            values = checker.row(line, {dest: clean(fields[i]) for dest, i in where.items()})
        except Refused as r:
            plan.rejects.append(RowIssue(line, r.column, r.value, r.reason))
            continue
        record = Record(values, content_hash(values))
        earlier = seen.get(record.event_id)
        if earlier is None:
            seen[record.event_id] = (line, record.content_hash)
            valid.append(record)
        elif earlier[1] == record.content_hash:
            plan.duplicates.append(record.event_id)
            plan.warnings.append(
                RowIssue(line, "event_id", record.event_id, f"repeats line {earlier[0]}")
            )
        else:
            plan.rejects.append(
                RowIssue(
                    line,
                    "event_id",
                    record.event_id,
                    f"same event_id as line {earlier[0]} with different content",
                )
            )
    plan.geocoded = checker.geocoded
    stored = store.hashes(r.event_id for r in valid)
    for record in valid:
        old = stored.get(record.event_id)
        if old is None:
            plan.inserts.append(record)
        elif old == record.content_hash:
            plan.duplicates.append(record.event_id)
        else:
            plan.updates.append(record)
    return plan


def test_the_reference_states_the_rules_it_is_compared_on(tmp_path):
    from geo.store import SQLiteStore

    data = (
        b"event_id,event_date,event_type,latitude,longitude,source,fatalities\n"
        b"a,2020-10-04,shelling,40.68,46.36,AFP,unknown\n"
        b"b,2020-10-04,picnic,40.68,46.36,AFP,\n"
    )
    plan = reference_plan(data, SQLiteStore(tmp_path / "e.sqlite"))
    assert [r.values["fatalities"] for r in plan.inserts] == [None]
    assert [(r.line, r.column) for r in plan.rejects] == [(3, "event_type")]
