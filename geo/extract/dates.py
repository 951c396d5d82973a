"""Date expressions in a sentence, resolved against the report's publication date.

Calendar dates ("October 28", "28 September 2020", "Oct. 1") go to dateparser with the
publication date as its relative base and past dates preferred. The rest are rules of reading
that dateparser does not share (it takes "on Monday" in a Monday report for the week before):

- a weekday is the latest such day on or before publication;
- "overnight" / "during the night" / "last night": the day before publication to publication;
- "yesterday", "today", "this morning";
- "last week": Monday to Sunday of the week before (time precision 2);
- "since 27 September", "erupted on 27 September": that day to publication;
- "a day after", "the next day", "two days later": counted from the date the report last gave;
- "13-14 September", "September 13-14": a two-day span; "the night of 25 March": 24-25 March;
- "at the same time", "meanwhile": the date the report last gave.

Nothing resolves after the publication date: a calendar date that would is taken a year
earlier, and anything else is dropped. A bare year or a date long before the story ("since
1988", "in July" in an October report) marks the sentence as background.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?:19|20)\d\d)"
_CAL = rf"(?:{_DAY}\s+(?:of\s+)?{_MONTHS}{_YEAR}?|{_MONTHS}\s+{_DAY}\b{_YEAR}?)"
_CAL_RANGE = (
    rf"(?:(?P<d1>{_DAY})\s*(?:-|–|and|to)\s*(?P<d2>{_DAY})\s+(?P<m1>{_MONTHS})(?P<y1>{_YEAR})?"
    rf"|(?P<m2>{_MONTHS})\s+(?P<d3>{_DAY})\s*(?:-|–|and|to)\s*(?P<d4>{_DAY})\b(?P<y2>{_YEAR})?)"
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_PART_OF_DAY = r"(?:the\s+(?:early\s+|late\s+)?(?:morning|afternoon|evening|night)\s+of\s+)?"
_NUMBER_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}

_PATTERNS: tuple[tuple[str, re.Pattern], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("since", rf"\b(?:since\s+{_PART_OF_DAY}|(?:erupted|began|started|broke\s+out|resumed)\s+"
                  r"(?:on\s+)?)"
                  rf"(?:(?P<cal>{_CAL})|(?P<wd>{_WEEKDAY})|(?P<year>(?:19|20)\d\d)\b)"),
        ("range", rf"\b{_CAL_RANGE}"),
        ("night_of", rf"\bnight\s+of\s+(?P<cal>{_CAL})"),
        ("calendar", rf"\b{_CAL}"),
        ("month_year", rf"\b(?:in\s+)?{_MONTHS}\s+(?:of\s+)?(?:19|20)\d\d\b"),
        ("year", r"\b(?:in|since|from|until|by)\s+(?:19|20)\d\d\b"),
        ("month", rf"\bin\s+(?:early\s+|mid-?|late\s+)?(?:{_MONTHS})(?![\w])"),
        ("overnight", r"\b(?:overnight|during\s+the\s+night|last\s+night|at\s+night\s+on)\b"),
        ("weekday", rf"\b{_WEEKDAY}\b"),
        ("yesterday", r"\byesterday\b"),
        ("today", r"\b(?:today|this\s+morning|earlier\s+today|tonight|this\s+afternoon)\b"),
        ("last_week", r"\b(?:last|past)\s+week\b"),
        ("vague", r"\b(?:(?:a\s+few|several|some)\s+days|(?:a|one|two|three|several|a\s+few)\s+"
                  r"(?:weeks?|months?|years?))\s+(?:ago|earlier|before|after|later)\b"
                  r"|\b(?:over\s+|in\s+)?the\s+(?:past|last)\s+(?:few\s+|several\s+)?(?:weeks|months|years)\b"
                  r"|\brecently\b|\bearlier\s+this\s+(?:month|year)\b|\blast\s+(?:month|year)\b"),
        ("same_time", r"\b(?:at\s+the\s+same\s+time|meanwhile|simultaneously)\b"),
        ("ago", r"\b(?P<n>a|one|two|three|four|five|six|\d)\s+days?\s+ago\b"),
        ("after", r"\b(?:(?P<n>a|one|two|three|four|five|six|\d)\s+days?\s+(?:after|later)"
                  r"|the\s+(?:next|following)\s+day|on\s+the\s+same\s+day)\b"),
    )
)  # fmt: skip


@dataclass(frozen=True)
class DateSpan:
    start: dt.date
    end: dt.date | None  # None: one day
    precision: int  # geo.schema.TIME_PRECISION: 1 day, 2 week, 3 month
    explicit: bool  # stated in the sentence (else inherited or the publication day)
    offsets: tuple[int, int] = (0, 0)  # where in the sentence
    # The day later sentences without a date of their own belong to: the morning after a
    # night, the first day otherwise; None for a span up to publication ("since ...").
    anchor: dt.date | None = None


@dataclass(frozen=True)
class SentenceDates:
    span: DateSpan | None  # the sentence's event date, when it states one
    background: bool  # only dates long before the story ("since 1988", "in 2016")


@lru_cache(maxsize=4096)
def _calendar(text: str, published: dt.date) -> dt.date | None:
    import dateparser

    base = dt.datetime(published.year, published.month, published.day, 12)
    parsed = dateparser.parse(
        re.sub(r"\s+of\s+", " ", text.replace(".", " ")),
        languages=["en"],
        settings={
            "RELATIVE_BASE": base,
            "PREFER_DATES_FROM": "past",
            "PREFER_DAY_OF_MONTH": "first",
            "RETURN_AS_TIMEZONE_AWARE": False,
            "REQUIRE_PARTS": ["day", "month"],
        },
    )
    if parsed is None:
        return None
    day = parsed.date()
    if day > published and not re.search(r"(19|20)\d\d", text):
        day = day.replace(year=day.year - 1)
    return day


def _weekday(name: str, published: dt.date) -> dt.date:
    back = (published.weekday() - _WEEKDAYS.index(name.lower())) % 7
    return published - dt.timedelta(days=back)


# A point date this long before publication belongs to the background, not the story.
BACKGROUND_DAYS = 45
# A span that runs up to publication ("since 12 December") may start longer ago.
SINCE_BACKGROUND_DAYS = 120


def read_dates(sentence: str, published: dt.date, anchor: dt.date | None) -> SentenceDates:
    """The first date expression of `sentence` that gives the story a date.

    `anchor` is the date the report last gave (for "a day after"); None at the start."""
    taken: list[tuple[int, int]] = []
    found: list[DateSpan] = []
    background = False

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(sentence):
            if not free(*m.span()):
                continue
            taken.append(m.span())
            span = _resolve(kind, m, published, anchor)
            if span is None:
                if kind in ("year", "month_year", "month", "since", "vague", "after"):
                    background = True
                continue
            if span.start > published:
                continue
            limit = SINCE_BACKGROUND_DAYS if kind == "since" else BACKGROUND_DAYS
            if span.start < published - dt.timedelta(days=limit):
                background = True
                continue
            anchor_day = (
                None
                if kind == "since"
                else span.end
                if kind in ("overnight", "night_of")
                else span.start
            )
            found.append(DateSpan(span.start, span.end, span.precision, True, m.span(), anchor_day))
    if not found:
        return SentenceDates(None, background)
    first = min(found, key=lambda s: s.offsets[0])
    return SentenceDates(first, False)


def _resolve(kind: str, m: re.Match, published: dt.date, anchor: dt.date | None):
    one = dt.timedelta(days=1)
    if kind == "since":
        if m.group("year"):
            return None  # "since 1988": background
        start = (
            _calendar(m.group("cal"), published)
            if m.group("cal")
            else _weekday(m.group("wd"), published)
        )
        if start is None or start > published:
            return None
        return DateSpan(start, published if start < published else None, 1, True)
    if kind == "range":
        day1, day2 = (
            (m.group("d1"), m.group("d2")) if m.group("d1") else (m.group("d3"), m.group("d4"))
        )
        month = m.group("m1") or m.group("m2")
        year = m.group("y1") or m.group("y2") or ""
        first = _calendar(f"{day1} {month}{year}", published)
        last = _calendar(f"{day2} {month}{year}", published)
        if first is None or last is None or last < first:
            return None
        return DateSpan(first, last if last > first else None, 1, True)
    if kind == "night_of":
        day = _calendar(m.group("cal"), published)
        return DateSpan(day - one, day, 1, True) if day else None
    if kind == "same_time":
        return DateSpan(anchor, None, 1, True) if anchor else None
    if kind == "calendar":
        day = _calendar(m.group(0), published)
        return DateSpan(day, None, 1, True) if day else None
    if kind in ("month_year", "year", "month", "vague"):
        return None
    if kind == "ago":
        n = m.group("n").lower()
        return DateSpan(
            published - dt.timedelta(days=_NUMBER_WORDS.get(n) or int(n)), None, 1, True
        )
    if kind == "overnight":
        return DateSpan(published - one, published, 1, True)
    if kind == "weekday":
        return DateSpan(_weekday(m.group(0), published), None, 1, True)
    if kind == "yesterday":
        return DateSpan(published - one, None, 1, True)
    if kind == "today":
        return DateSpan(published, None, 1, True)
    if kind == "last_week":
        monday = published - dt.timedelta(days=published.weekday() + 7)
        return DateSpan(monday, monday + dt.timedelta(days=6), 2, True)
    if kind == "after":
        if anchor is None:
            return None
        text = m.group(0).lower()
        if "same day" in text:
            return DateSpan(anchor, None, 1, True)
        n = m.group("n")
        days = 1 if n is None else _NUMBER_WORDS.get(n.lower()) or int(n)
        day = anchor + dt.timedelta(days=days)
        return DateSpan(day, None, 1, True) if day <= published else None
    raise AssertionError(kind)
