"""From a report to candidate events: dated, placed, attributed rows of the native schema.

    result = extract(text, published=date(2020, 10, 5), source="Example Wire")
    result.candidates  # pandas DataFrame: the native columns + evidence_start/end, confidence

Read sentence by sentence (docs/decisions/0006-report-to-events.md):

1. the sentence's date (geo.extract.dates: dateparser for calendar dates, rules for weekdays,
   "overnight", "since ..."), else the date the report last gave, else publication day;
2. its event type from cue words (geo.extract.lexicon.TYPE_CUES); background, fears and
   forecasts, and denials, are not events (a denial is kept in the notes of the events it
   denies);
3. its places (geo.extract.places): one candidate per place; a violent event with no place
   takes the report's region at precision 3;
4. who claims it (an attribution in the sentence, else in the paragraph, else the report's
   source when that is a party), whose forces acted, and the dead as stated.

Candidates with the same date, type and place are one event. Nothing here touches the
network, and the text is data throughout: it is never formatted into markup or code.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pandas as pd

from geo.errors import InputError
from geo.export import neutralise
from geo.extract.dates import DateSpan, read_dates
from geo.extract.lexicon import (
    ABOUT_STATEMENT,
    ATTRIBUTION,
    BACK_REFERENCE,
    CAPTURE_CUE,
    CIVILIANS,
    DENIAL,
    FATALITY_PATTERNS,
    FIGHT_CUE,
    FORCES,
    HABITUAL,
    KNOWN_PEOPLE,
    MODAL,
    NO_DEATHS,
    NOT_AN_EVENT,
    SPEAKERS,
    STRONG_STATEMENT,
    THERE,
    TITLE_WORDS,
    TYPE_CUES,
    Speaker,
    number,
)
from geo.extract.places import ISO3, REGIONS, Mention, find_places, region_point, settle
from geo.extract.text import Sentence, report_text, sentences
from geo.ingest import rules
from geo.places.gazetteer import region_tier
from geo.schema import BY_NAME, COLUMN_NAMES, POINTLESS_TYPES, Kind

__all__ = [
    "EXTRA_COLUMNS",
    "Extraction",
    "extract",
    "extract_report",
    "parse_published",
    "report_text",
    "source_label",
    "to_csv",
]

WEAPONS = frozenset({"shelling", "missile_strike", "air_drone_strike"})
# Beyond the native schema: where each candidate came from in the text, and how sure we are.
EXTRA_COLUMNS = ("evidence_start", "evidence_end", "evidence", "confidence")
VIOLENT = frozenset(
    {"shelling", "air_drone_strike", "missile_strike", "armed_clash", "capture",
     "violation_report"}
)  # fmt: skip


@dataclass
class _Candidate:
    row: dict
    sentence: Sentence
    confidence: float
    denials: list[str] = field(default_factory=list)
    explicit: bool = False  # the sentence states the date
    since: bool = False  # a span up to publication ("since 27 September")


@dataclass(frozen=True)
class Extraction:
    text: str  # the report's plain text: evidence offsets index into it
    published: dt.date
    candidates: pd.DataFrame  # native columns + EXTRA_COLUMNS, in the text's order

    def __len__(self) -> int:
        return len(self.candidates)


def source_label(
    published: dt.date, source: str | None = None, url: str | None = None, name: str | None = None
) -> str:
    """The `source` cell: publisher and date, as the curated events write it.

    The publisher is the one given, else the URL's host, else the file's name."""
    publisher = (source or "").strip()
    if not publisher and url:
        publisher = urlsplit(url).hostname or ""
        publisher = publisher.removeprefix("www.")
    if not publisher:
        publisher = (name or "").strip() or "unnamed report"
    return f"{publisher}, {published.isoformat()}"


def parse_published(value: str | dt.date, today: dt.date | None = None) -> dt.date:
    """A publication date: ISO (YYYY-MM-DD), not in the future. InputError names the value."""
    if isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise InputError(
                "the publication date must be YYYY-MM-DD", column="published", value=value
            ) from None
    if day > (today or dt.date.today()):
        raise InputError(
            "the publication date is in the future", column="published", value=day.isoformat()
        )
    return day


def check_url(url: str | None) -> str:
    """The report's address: blank, or an absolute http(s) URL by geo.ingest's own rule (the
    candidates carry it as `source_url`)."""
    url = (url or "").strip()
    if not url:
        return ""
    try:
        return rules.source_url(url)
    except rules.RuleError as exc:
        raise InputError(str(exc), column="url", value=url) from None


def extract_report(
    data: bytes | str,
    published: str | dt.date,
    *,
    source: str | None = None,
    url: str | None = None,
    name: str = "report",
) -> Extraction:
    """`extract` for a file or a paste: bytes or text, plain or HTML, with the date and URL
    checked first (InputError names what is wrong)."""
    day = parse_published(published)
    url = check_url(url)
    text = report_text(data, name)
    if not text.strip():
        raise InputError("the report has no text", column="file", value=name)
    return extract(text, day, source=source, url=url or None, name=name)


def _speakers_in(text: str) -> list[tuple[int, Speaker]]:
    hits = []
    for speaker in SPEAKERS:
        m = speaker.pattern.search(text)
        if m:
            hits.append((m.start(), speaker))
    hits.sort(key=lambda h: h[0])
    return hits


def _claimant(sentence: str) -> Speaker | None:
    """The speaker an attribution in the sentence points at: "X said", "according to X"."""
    if not ATTRIBUTION.search(sentence):
        return None
    hits = _speakers_in(sentence)
    if not hits:
        return None
    m = re.search(r"\baccording\s+to\b", sentence, re.IGNORECASE)
    if m:
        after = [h for h in hits if h[0] >= m.end()]
        if after:
            return after[0][1]
    return hits[0][1]


def _forces(sentence: str) -> list[tuple[int, str, str]]:
    hits = []
    for actor, side, pattern in FORCES:
        m = pattern.search(sentence)
        if m:
            hits.append((m.start(), actor, side))
    hits.sort()
    return hits


def _event_type(sentence: str) -> str | None:
    """The first type with a cue in the sentence (denials are set aside before this)."""
    return next((kind for kind, pattern in TYPE_CUES if pattern.search(sentence)), None)


def _fatalities(sentence: str) -> dict:
    if NO_DEATHS.search(sentence):
        return {"fatalities": 0}
    # "Seven civilians, three of them women, were killed": the aside is not the count.
    sentence = re.sub(r",\s*(?:[\w-]+\s+){0,3}of\s+them\b[^,]*,", "", sentence)
    if re.search(r"\bkilling\s+(?:[A-Z][a-z]+\s+){1,2}[A-Z][a-z]+\b", sentence):
        return {"fatalities": 1}  # "killing Zabil Hasanov"
    for pattern in FATALITY_PATTERNS:
        m = pattern.search(sentence)
        if not m:
            continue
        groups = m.groupdict()
        if re.match(r"\s*(?:or|and)\s+(?:wounded|injured)", sentence[m.end() :], re.I):
            continue  # "killed or wounded": not a count of the dead
        if groups.get("one"):
            return {"fatalities": 1}
        who = (groups.get("who") or "").lower()
        if re.search(r"\b(?:wounded|injured|hurt)\b", who):
            continue
        if groups.get("low"):
            low, high = number(groups["low"]), number(groups["high"])
            if low is None or high is None or high < low:
                continue
            out = {"fatalities": low, "fatalities_low": low, "fatalities_high": high}
        else:
            n = number(groups.get("n") or "")
            if n is None:
                continue
            out = {"fatalities": n}
        if who and CIVILIANS.search(who):
            out["civilian_fatalities"] = out["fatalities"]
        return out
    return {}


def _people(sentence: str) -> list[str]:
    """Named officials in a statement: "Foreign Minister Sergei Lavrov" -> "Sergei Lavrov";
    a name the lexicon knows is found without its title ("..., Jean-Yves Le Drian and ...")."""
    title = (
        r"(?i:minister|secretary\s+of\s+state|secretary|president|spokes(?:man|woman|person)|"
        r"ombudsman|aide|chairman|envoy|representative|ambassador)"
    )
    name = r"((?:[A-Z][\w’'\-]+)(?:\s+(?:[A-Z][\w’'\-]+|de|le|von|van)){1,3})"
    found: list[tuple[int, str]] = []
    for m in re.finditer(rf"\b{title}\s+{name}", sentence):
        found.append((m.start(1), m.group(1)))
    for m in KNOWN_PEOPLE.finditer(sentence):
        words = m.group(0).split()
        while words and words[0].casefold() in TITLE_WORDS:
            words.pop(0)
        if len(words) >= 2:
            found.append((m.end() - len(" ".join(words)), " ".join(words)))
    out: list[str] = []
    for _, person in sorted(found):
        if not any(person in p or p in person for p in out):
            out.append(person)
    return out


def _region_context(mentions: list[Mention]) -> Mention | None:
    """The report's region: the one it names most (Nagorno-Karabakh first on a tie), else the
    one its towns lie in (Nagorno-Karabakh and the districts around it, or the Armenian
    province nearest the towns), else None: a report that names no place at all."""
    regions = [m for m in mentions if m.precision == 3]
    if regions:
        counts: dict[str, int] = {}
        for m in regions:
            counts[m.name] = counts.get(m.name, 0) + 1
        label = max(counts, key=lambda k: (counts[k], k == "Nagorno-Karabakh"))
        return next(m for m in regions if m.name == label)
    towns = [m for m in mentions if m.precision < 3]
    if not towns:
        return None
    karabakh = [
        m for m in towns if m.country == "AZ" and region_tier(m.latitude, m.longitude, "AZ") == 0
    ]
    armenian = [m for m in towns if m.country == "AM"]
    if len(karabakh) >= len(armenian) and karabakh:
        chosen = REGIONS[0]
        first = karabakh[0]
    elif armenian:
        first = armenian[0]
        provinces = [r for r in REGIONS if r.country == "AM"]
        chosen = min(
            provinces,
            key=lambda r: rules.distance_km(*region_point(r), first.latitude, first.longitude),
        )
    else:
        return None
    lat, lon = region_point(chosen)
    return Mention(chosen.label, first.start, first.end, lat, lon, 3, chosen.country, None)


def extract(
    text: str,
    published: dt.date,
    *,
    source: str | None = None,
    url: str | None = None,
    name: str | None = None,
) -> Extraction:
    """Candidate events of one report (plain text; geo.extract.report_text reads files)."""
    source_cell = source_label(published, source, url, name)
    sents = sentences(text)
    placed = [(s, find_places(s.text)) for s in sents]
    every = [m for _, ms in placed for m in ms if not m.origin]
    region = _region_context(every)
    # Whose report this is, when a sentence and its paragraph name nobody: the first side that
    # speaks in it ("..., Azerbaijan's Prosecutor General's Office told Trend"), else the
    # publisher when that is a party (a ministry's own communiqué).
    report_speaker = next(
        (c for c in (_claimant(s.text) for s in sents) if c is not None and c.claimant),
        None,
    ) or next((s for s in SPEAKERS if s.claimant and s.pattern.search(source or "")), None)

    out: list[_Candidate] = []
    anchor: dt.date | None = None
    anchor_span: DateSpan | None = None
    paragraph, paragraph_speaker = -1, None
    last_events: list[_Candidate] = []
    previous: list[Mention] = []
    for sentence, mentions in placed:
        if not mentions and previous and THERE.search(sentence.text):
            mentions = [m for m in previous if m.precision < 3] or mentions  # "killed there"
        previous = mentions or previous
        if sentence.paragraph != paragraph:
            paragraph, paragraph_speaker = sentence.paragraph, None
        dates = read_dates(sentence.text, published, anchor)
        speaker = _claimant(sentence.text)
        if DENIAL.search(sentence.text):
            denier = speaker or (_speakers_in(sentence.text) or [(0, None)])[0][1]
            who = (denier.actor if denier else "") or _denier_side(sentence.text)
            note = f"{who} denied it." if who else "Denied by the other side."
            for c in last_events:
                if note not in c.denials:
                    c.denials.append(note)
            continue
        if speaker is not None:
            paragraph_speaker = speaker
        if dates.background or NOT_AN_EVENT.search(sentence.text):
            continue
        if dates.span is None and HABITUAL.search(sentence.text):
            continue
        kind = _event_type(sentence.text)
        voice = speaker or paragraph_speaker
        if (
            kind in VIOLENT
            and voice is not None
            and voice.side == "international"
            and STRONG_STATEMENT.search(sentence.text)
        ):
            kind = "statement"  # a third party's call or concern about the fighting
        if kind in VIOLENT and ABOUT_STATEMENT.search(sentence.text):
            kind = "statement"
        if kind in VIOLENT and MODAL.search(sentence.text):
            kind = "statement"  # "forces must be withdrawn": a demand, kept only as a statement
        deaths = _fatalities(sentence.text)
        if kind == "statement" and not (STRONG_STATEMENT.search(sentence.text) or deaths):
            kind = None
        if dates.span is not None:
            span, explicit = dates.span, True
            # The day later sentences belong to: an incident's or a dateline's; any other
            # sentence's only at the start ("Recalling what was said on Oct. 1" dates no
            # fighting).
            dateline = kind is None and len(sentence.text) < 60
            incident = kind is not None and kind not in POINTLESS_TYPES
            if span.anchor is not None and (incident or dateline or anchor is None):
                anchor, anchor_span = span.anchor, span
        elif anchor_span is not None:
            span, explicit = anchor_span, False  # the date the report last gave
        else:
            span, explicit = DateSpan(published, None, 1, False), False
        towns = [m for m in mentions if m.precision < 3]
        retells = kind is None or kind == "statement" or BACK_REFERENCE.search(sentence.text)
        follow_up = retells and deaths and not towns and not explicit
        if (
            follow_up
            and len(last_events) == 1
            and last_events[0].row.get("fatalities") in ("", None)
        ):
            last_events[0].row.update(deaths)  # "Seven were killed": the incident just told
            continue
        if kind is None and deaths and speaker is not None:
            kind = "statement"  # a casualty statement
        if kind is None:
            continue
        who = speaker or paragraph_speaker or report_speaker
        told: list[_Candidate] = []
        for each in [kind, *_second_type(sentence.text, kind)]:
            told += _candidates_of(
                sentence, each, span, explicit, deaths, who, mentions, every, region, out,
                source_cell, url,
            )  # fmt: skip
        if told:
            last_events = told
        out.extend(c for c in told if c not in out)
    return Extraction(text, published, _frame(_merge(_tidy(out, sents)), published))


def _second_type(sentence: str, kind: str) -> list[str]:
    """A second event in the same sentence: fighting that took a place is a clash and a capture
    ("broke through the line and took control of the heights")."""
    if kind in VIOLENT - {"capture"} and CAPTURE_CUE.search(sentence):
        return ["capture"]
    if kind == "capture" and FIGHT_CUE.search(sentence):
        return ["armed_clash"]
    return []


def _candidates_of(
    sentence: Sentence,
    kind: str,
    span: DateSpan,
    explicit: bool,
    deaths: dict,
    who: Speaker | None,
    mentions: list[Mention],
    every: list[Mention],
    region: Mention | None,
    out: list[_Candidate],
    source_cell: str,
    url: str | None,
) -> list[_Candidate]:
    """The candidates of one sentence and type: one per place, or the incident they retell."""
    claimed_by = who.claimant if who else ""
    row = {
        "event_date": span.start.isoformat(),
        "date_end": span.end.isoformat() if span.end and span.end > span.start else "",
        "time_precision": span.precision,
        "event_type": kind,
        "source": source_cell,
        "source_url": url or "",
        "claimed_by": claimed_by,
        "verification": "claimed" if claimed_by else "",
        **deaths,
    }
    row.update(_actors(sentence.text, kind, who))
    # Towns and villages make the places; a region named beside them is their context.
    towns = [m for m in mentions if m.precision < 3]
    targets = [m for m in (towns or mentions) if not m.origin] or towns or mentions
    if kind in POINTLESS_TYPES:
        targets = [m for m in targets if m.precision < 3 and kind != "statement"]
    confidence = 0.45 + (0.2 if explicit else 0) + (0.1 if claimed_by else 0)
    events = []
    if targets:
        for m in settle(targets, every):
            precise = 0.15 if m.precision == 1 else 0.05 if m.precision == 2 else -0.05
            events.append(_Candidate({**row, **_place_cells(m)}, sentence, confidence + precise))
    else:
        # No place in the sentence: the same incident as one already told (same day and
        # type), else a statement without a place, else the report's region.
        same = [c for c in out if _same_incident(c, row["event_date"], kind, sentence)]
        if same and kind not in POINTLESS_TYPES:
            kept = same[-1]
            if kept.row["event_type"] == "armed_clash" and kind != "armed_clash":
                kept.row["event_type"] = kind  # "an attack on Tartar ... a shell struck"
            for column, value in row.items():
                if value not in ("", None) and kept.row.get(column) in ("", None):
                    kept.row[column] = value
            return [kept]
        if kind in POINTLESS_TYPES:
            events.append(_Candidate(dict(row), sentence, confidence + 0.1))
        elif region is not None:
            events.append(_Candidate({**row, **_place_cells(region)}, sentence, confidence - 0.15))
        else:  # no place anywhere in the report: the reviewer adds one (never a country's)
            events.append(_Candidate(dict(row), sentence, confidence - 0.25))
    for c in events:
        c.explicit = explicit
        c.since = explicit and span.anchor is None
    return events


def _same_incident(c: _Candidate, day: str, kind: str, sentence: Sentence) -> bool:
    """Whether a sentence with no place retells candidate `c`: the same day and type, or an
    attack and its weapon told in the same or the next paragraph."""
    if c.row["event_date"] != day:
        return False
    if c.row["event_type"] == kind:
        return True
    near = 0 <= sentence.paragraph - c.sentence.paragraph <= 1
    pair = {c.row["event_type"], kind}
    return near and "armed_clash" in pair and bool(pair & WEAPONS)


def _tidy(found: list[_Candidate], sents: list[Sentence]) -> list[_Candidate]:
    """The same incident told twice, kept once.

    - A headline (a first line with no full stop, before the body) repeats the lede: its
      candidates go when the body has one at the same place or of the same type, and give
      that one what it lacks (the dead in "Strike kills at least 21").
    - A placed candidate outranks one of the same day and type with no place (or only the
      report's region) in the same or the next paragraph: "Azerbaijani forces opened fire on
      the border. Positions near Sotk and Vardenis came under fire."
    """
    headline = sents[0] if sents and _is_headline(sents[0], sents) else None
    keep: list[_Candidate] = []
    for c in found:
        if headline is not None and c.sentence is headline:
            body = [
                o
                for o in found
                if o.sentence is not headline
                and (
                    o.row["event_type"] == c.row["event_type"]
                    or (c.row.get("location") and o.row.get("location") == c.row.get("location"))
                )
            ]
            if body:
                for column, value in c.row.items():
                    if value not in ("", None) and body[0].row.get(column) in ("", None):
                        body[0].row[column] = value
                continue
        keep.append(c)
    out = []
    for c in keep:
        vague = c.row["event_type"] in VIOLENT and (
            not c.row.get("location") or c.row.get("geo_precision") == 3
        )
        if vague and any(
            o is not c
            and o.row.get("geo_precision") in (1, 2)
            and (o.row["event_date"], o.row["event_type"])
            == (c.row["event_date"], c.row["event_type"])
            for o in keep
        ):
            continue
        out.append(c)
    return _drop_commentary(_drop_recaps(out))


def _drop_commentary(found: list[_Candidate]) -> list[_Candidate]:
    """A party's condemnation appended to its own account of an incident is commentary, not
    a second event: a statement with no date of its own and no figures, by the side that
    claims an incident of the same day, goes."""
    claimed = {
        (c.row["claimed_by"], c.row["event_date"])
        for c in found
        if c.row["event_type"] in VIOLENT and c.row.get("claimed_by")
    }
    return [
        c
        for c in found
        if not (
            c.row["event_type"] == "statement"
            and not c.explicit
            and c.row.get("fatalities") in ("", None)
            and (c.row.get("claimed_by"), c.row["event_date"]) in claimed
        )
    ]


def _drop_recaps(found: list[_Candidate]) -> list[_Candidate]:
    """The background a report recalls after its lede, not its story.

    - The story's day is the first dated candidate's (the lede). An incident dated more than a
      day before it, told in a later paragraph, is a recap ("Armenian forces launched a
      large-scale attack on Sept. 27" in a 1 October report).
    - A span up to publication ("the fighting that erupted on 27 September") is the story
      only in a report that tells no particular placed incident (the seed article); beside
      incidents it is their background.
    """
    dated = [c for c in found if c.explicit]
    if not dated:
        return found
    lede = dated[0]
    story = dt.date.fromisoformat(lede.row["event_date"])
    placed = any(
        c.row["event_type"] in VIOLENT and c.row.get("geo_precision") in (1, 2) for c in found
    )
    out = []
    for c in found:
        day = dt.date.fromisoformat(c.row["event_date"])
        later = c.sentence.paragraph > lede.sentence.paragraph
        if c.explicit and not c.since and later and day < story - dt.timedelta(days=1):
            continue
        if c.since and placed and c.row.get("geo_precision") not in (1, 2):
            continue
        out.append(c)
    return out


def _is_headline(first: Sentence, sents: list[Sentence]) -> bool:
    return (
        len(sents) > 2
        and not first.text.rstrip().endswith((".", "!", "?", '"', "\u201d"))
        and len(first.text) <= 160
        and sents[1].paragraph > first.paragraph
    )


def _actors(sentence: str, kind: str, who: Speaker | None) -> dict:
    """actor1 (and actor2, side): the speakers of a statement, else whose forces acted."""
    if kind == "statement":
        people = _people(sentence)
        speakers = _speakers_in(sentence)
        actor = "; ".join(people) or (speakers[0][1].actor if speakers else "")
        actor = actor or (who.actor if who else "")
        side = speakers[0][1].side if speakers else (who.side if who else "")
        return {"actor1": actor, "side": side}
    forces = _forces(sentence)
    if not forces:
        return {}
    out = {"actor1": forces[0][1], "side": forces[0][2]}
    others = [f for f in forces if f[2] != forces[0][2]]
    if others:
        out["actor2"] = others[0][1]
    return out


def _denier_side(sentence: str) -> str:
    low = sentence.lower()
    if re.search(r"\barmenia|\byerevan", low):
        return "Armenia"
    if re.search(r"\bazerbaijan|\bbaku", low):
        return "Azerbaijan"
    return ""


def _place_cells(m: Mention) -> dict:
    region = next((r for r in REGIONS if r.label == m.name), None)
    lat, lon = (m.latitude, m.longitude) if region is None else region_point(region)
    cells = {
        "location": m.name,
        "latitude": round(lat, 5),
        "longitude": round(lon, 5),
        "geo_precision": m.precision,
        "country": ISO3.get(m.country, ""),
    }
    if m.ambiguous:
        cells["_ambiguous"] = True
    return cells


def _merge(found: list[_Candidate]) -> list[_Candidate]:
    """One candidate per (date, type, place): the first sentence's, with what later ones add."""
    merged: dict[tuple, _Candidate] = {}
    for c in found:
        key = (c.row["event_date"], c.row["event_type"], (c.row.get("location") or "").casefold())
        if c.row["event_type"] == "statement":  # one per side and day
            key += (c.row.get("claimed_by") or "",)
        if key not in merged:
            merged[key] = c
            continue
        kept = merged[key]
        for column, value in c.row.items():
            if value not in ("", None) and kept.row.get(column) in ("", None):
                kept.row[column] = value
        kept.confidence = max(kept.confidence, c.confidence)
        kept.denials += [d for d in c.denials if d not in kept.denials]
    return list(merged.values())


def _frame(found: list[_Candidate], published: dt.date) -> pd.DataFrame:
    rows = []
    for c in found:
        row = {name: c.row.get(name, "") for name in COLUMN_NAMES}
        notes = ["Extracted automatically from the report: check it against the text."]
        if c.row.get("_ambiguous"):
            notes.append("The place name is ambiguous: check the point.")
        if c.row.get("geo_precision") == 3:
            notes.append("No place in the sentence: placed at the region's centre.")
        elif not c.row.get("location") and c.row["event_type"] not in POINTLESS_TYPES:
            notes.append("No place named in the report: add one before importing.")
        notes += c.denials
        row["notes"] = " ".join(notes)
        row["event_id"] = _event_id(row)
        row["evidence_start"] = c.sentence.start
        row["evidence_end"] = c.sentence.end
        row["evidence"] = c.sentence.text
        row["confidence"] = round(min(0.95, max(0.05, c.confidence)), 2)
        assert row["event_date"] <= published.isoformat()
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[*COLUMN_NAMES, *EXTRA_COLUMNS])
    return frame.sort_values("evidence_start", kind="stable").reset_index(drop=True)


def _event_id(row: dict) -> str:
    """A stable id: the same report read again gives the same ids (a re-import updates rather
    than duplicates), and two events of one day, type and place (two sides' statements) differ.
    """
    key = "\x1f".join(
        str(row.get(c) or "")
        for c in ("source", "source_url", "event_date", "event_type", "location", "claimed_by")
    )
    return "x-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def to_csv(frame: pd.DataFrame, *, extra: bool = True) -> str:
    """The candidates as a CSV that `nkmap ingest` reads as native (extra columns are ignored
    there, and listed as ignored). Text a spreadsheet would run as a formula gets a leading '
    as in every export (geo.export.neutralise); ingest takes it off again."""
    columns = [*COLUMN_NAMES, *(EXTRA_COLUMNS if extra else ())]
    text = {c for c in columns if c not in BY_NAME or BY_NAME[c].kind is Kind.TEXT}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for record in frame[columns].itertuples(index=False):
        writer.writerow(
            [
                "" if pd.isna(v) else neutralise(v) if c in text and isinstance(v, str) else v
                for c, v in zip(columns, record, strict=True)
            ]
        )
    return buffer.getvalue()
