"""The words the extractor reads events by: event types, who speaks for whom, and the dead.

Every list here is English as wire services and both sides' ministries write it about this
conflict. The claimant names are the ones the curated events use (data/events/events.csv).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _rx(*parts: str) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE)


# ------------------------------------------------------------------------------- event types
# Checked in this order; the first type with a cue in the sentence wins. Weapon types come
# first: "Armenian forces attacked Tartar with Smerch rockets" is shelling, not a clash.
TYPE_CUES: tuple[tuple[str, re.Pattern], ...] = (
    ("missile_strike", _rx(r"\bmissiles?\b", r"\bballistic\b", r"\biskander", r"\btochka",
                           r"\bscud", r"\bcruise\s+missile")),
    ("shelling", _rx(r"\bshell(?:ed|ing|s)?\b", r"\bartillery\b", r"\bmortars?\b",
                     r"\brockets?\b", r"\bgrad\b", r"\bsmerch\b", r"\bhowitzers?\b",
                     r"\bmultiple[- ]launch", r"\bmlrs\b", r"\bbombard(?:ed|ment|ing)\b",
                     r"\bcame\s+under\s+fire\b", r"\b(?:opened|fired)\s+(?:fire\s+)?(?:at|on)\b",
                     r"\bfire\s+(?:at|on)\s+(?:the\s+)?(?:village|town|city|settlement|position)",
                     r"\bsubjected\s+to\s+(?:intensive\s+)?fire\b", r"\bunder\s+fire\b",
                     r"\bbombard\b")),
    ("air_drone_strike", _rx(r"\bdrones?\b", r"\buavs?\b", r"\bair\s*strikes?\b",
                             r"\bairstrikes?\b", r"\baircraft\b", r"\bbayraktar",
                             r"\bkamikaze\b", r"\bloitering\s+munition", r"\bbombed\b",
                             r"\bwarplanes?\b", r"\bsu-25\b")),
    ("capture", _rx(r"\bcaptur(?:ed|es|e|ing)\b", r"\bliberat(?:ed|ion|es|ing)\b",
                    r"\btook\s+(?:full\s+)?control\b", r"\btaken\s+(?:under\s+)?control\b",
                    r"\bunder\s+(?:its|their|full)\s+control\b",
                    r"\b(?:came|come|brought)\s+under\s+(?:the\s+)?control\b",
                    r"\bseiz(?:ed|ing)\b", r"\bcleared\s+of\b", r"\bfreed\b",
        r"\btook\s+(?:the\s+)?(?:[\w-]+\s+){0,3}(?:heights?|village|town|hill|settlement|"
                    r"positions?)\b", r"\brecaptur", r"\bretook\b", r"\bregained\b",
                    r"\bhanded\s+over\b", r"\bwithdr(?:ew|awn|awal)\b", r"\bfell\s+to\b",
                    r"\braised\s+the\s+(?:azerbaijani|armenian)?\s*flag\b",
                    r"\bentered\s+(?:the\s+)?(?:city|town|village)\b")),
    ("armed_clash", _rx(r"\bclash(?:es|ed)?\b", r"\bfight(?:ing|s)?\b", r"\bbattles?\b",
                         r"\boffensive\b", r"\bcounter-?(?:attack|offensive)",
                        r"\battack(?:ed|s|ing)?\b", r"\bskirmish", r"\bfirefights?\b",
                        r"\bhostilities\b", r"\bsabotage\b", r"\bambush", r"\bassault",
                        r"\bincursion", r"\bprovocation", r"\bmilitary\s+operation",
                        r"\banti-terror(?:ist)?\s+(?:measures|operations?|activities)",
                        r"\bexchange(?:d)?\s+(?:of\s+)?fire\b", r"\bsniper",
                        r"\bsmall[- ]arms\b", r"\bmachine[- ]guns?\b", r"\breturned\s+fire\b",
                        r"\bkilled\s+in\s+action\b")),
    ("humanitarian", _rx(r"\bevacuat", r"\bdisplaced\b", r"\brefugees?\b", r"\bfled\b",
                         r"\bexodus\b", r"\bhumanitarian\s+(?:aid|convoy|cargo|crisis|situation)",
                         r"\baid\s+convoy", r"\bblockade\b", r"\bblocked\b",
                         r"\bshortages?\b")),
    ("other", _rx(r"\bexplosions?\b", r"\bblasts?\b", r"\bexploded\b", r"\blandmines?\b",
                  r"\bmines?\s+(?:blast|explosion)", r"\bstepped\s+on\s+a\s+mine\b")),
    ("protest", _rx(r"\bprotest", r"\brall(?:y|ied)\b", r"\bdemonstrat(?:ors|ion)",
                    r"\bsit-in\b", r"\bmarched\b")),
    ("violation_report", _rx(r"\bviolat(?:ed|ions?|ing)\b.*\b(?:ceasefire|truce)\b",
                             r"(?<!rights\s)\bviolations\b",
                             r"\b(?:ceasefire|truce)\b.*\bviolat", r"\bbreach")),
    ("ceasefire", _rx(r"\b(?:ceasefire|truce|armistice|cessation\s+of\s+hostilities|"
                      r"peace\s+(?:deal|agreement)|trilateral\s+statement)\b.*\b(?:agreed|signed|"
                      r"reached|took\s+effect|came\s+into\s+(?:force|effect)|entered\s+into\s+force|"
                      r"announced|declared|brokered|in\s+force|begins|began|holding)\b",
                      r"\b(?:agreed|signed|reached|brokered|announced|declared)\b.*\b(?:ceasefire|"
                      r"truce|armistice|cessation\s+of\s+hostilities|peace\s+(?:deal|agreement)|"
                      r"trilateral\s+statement)\b", r"\bagreed\s+to\s+(?:stop|halt|end|suspend)\b",
                      r"\bdecision\s+to\s+(?:stop|halt|cease|suspend)\b",
                      r"\bagreement\b[^.]*\bto\s+(?:stop|halt|cease|suspend)\b")),
    ("statement", _rx(r"\bcall(?:ed|s)?\s+(?:for|on|upon)\b", r"\burg(?:ed|es|ing)\b",
                      r"\bcondemn(?:ed|s|ing)?\b", r"\bdemand(?:ed|s)\b",
                      r"\bexpress(?:ed|es)\s+(?:deep\s+|grave\s+|serious\s+)?(?:concern|regret|"
                      r"support|condolences)", r"\bwelcom(?:ed|es)\b", r"\brecogni[sz](?:ed|es)\b",
                      r"\bappeal(?:ed|s)?\s+(?:to|for)\b", r"\bwarn(?:ed|s)\b",
                      r"\bin\s+a\s+(?:joint\s+)?statement\b", r"\bissued\s+a\s+statement\b",
                      r"\bultimatum\b", r"\bannounced\b", r"\bdeclared\b", r"\bsaid\b",
                      r"\breported\b", r"\bstated\b", r"\btold\b")),
)  # fmt: skip
TYPE_BY_NAME = dict(TYPE_CUES)
CAPTURE_CUE = TYPE_BY_NAME["capture"]
# Fighting that goes with a capture in one sentence: a second event.
FIGHT_CUE = _rx(
    r"\bbroke\s+through\b",
    r"\bfight(?:ing)?\b",
    r"\bbattles?\b",
    r"\boffensive\b",
    r"\bcounter-?attack",
    r"\bclash(?:es|ed)?\b",
    r"\bassault\b",
    r"\bstormed\b",
)
# Cues that make a statement on their own; "said" and "reported" only make one when the
# sentence gives figures (a casualty statement).
STRONG_STATEMENT = _rx(
    r"\bcall(?:ed|s)?\s+(?:for|on|upon)\b", r"\burg(?:e|ed|es|ing)\b", r"\bcondemn",
    r"\bdemand(?:ed|s)\b", r"\bexpress(?:ed|es)\s+(?:deep\s+|grave\s+|serious\s+)?(?:concern|"
    r"regret|support|condolences)", r"\bwelcom(?:ed|es)\b", r"\brecogni[sz](?:ed|es)\b",
    r"\bappeal(?:ed|s)?\s+(?:to|for)\b", r"\bultimatum\b", r"\bin\s+a\s+(?:joint\s+)?statement\b",
    r"\bissued\s+a\s+statement\b", r"\bresponsibility\b[^.]*\b(?:rests|lies)\s+with\b",
    r"\bholds?\b[^.]*\bresponsible\b", r"\bblam(?:es|ed)\b",
)  # fmt: skip
# A sentence about fears, chances or what might be is not an event.
NOT_AN_EVENT = _rx(
    r"\bfears?\b",
    r"\bcould\b",
    r"\bwould\b",
    r"\bmight\b",
    r"\bpossibility\b",
    r"\bconcern\s+about\b",
    r"\braised\s+(?:international\s+)?concern",
    r"\bthreatens?\b",
    r"\brisk\s+of\b",
    r"\bif\b",
    r"\bpipelines?\b",
    r"\bmilitary\s+base\b",
    r"\bhave\s+been\s+at\s+loggerheads\b",
    r"\bpeace\s+talks\b",
    r"\b(?:deadliest|worst|heaviest|largest|biggest)\b[^.]*\bsince\b",
    r"^\s*background\b",
    r"\bha(?:ve|s)\s+not\s+(?:yet\s+)?(?:commented|issued|confirmed|responded)\b",
    r"\bno\s+(?:immediate\s+)?comment\b",
)
# "killed in the fighting": the incident already told, not a new one.
BACK_REFERENCE = _rx(
    r"\b(?:in|during|by|after)\s+the\s+(?:fighting|clashes|attack|shelling|strike|battle|"
    r"explosion|blast|assault|bombardment|incident)\b",
    r"\bas\s+a\s+result\b",
)
# A statement about an incident ("issued a statement on the shelling of Ganja") is a statement.
ABOUT_STATEMENT = _rx(
    r"\b(?:issued|made|released|published)\s+a\s+statement\s+(?:on|about|over|regarding|"
    r"condemning|denouncing)\b"
)
# "was killed there": the place the sentence before named.
THERE = _rx(
    r"(?<!\bis\s)(?<!\bwas\s)\bthere\b(?!\s+(?:is|are|was|were|have|has|had|will|"
    r"would|could|may|might)\b)"
)
# What must happen or someone wants: a demand or a plan, not an incident.
MODAL = _rx(
    r"\bmust\b",
    r"\bshall\b",
    r"\bwants?\s+to\b",
    r"\bintends?\s+to\b",
    r"\bready\s+to\b",
    r"\bwilling\s+to\b",
)
# Habits and policies, not incidents: not an event unless the sentence gives a date.
HABITUAL = _rx(
    r"\brepeatedly\b",
    r"\bsystematically\b",
    r"\bcontinues?\s+to\b",
    r"\bkeeps?\s+(?:on\s+)?\w+ing\b",
    r"\broutinely\b",
    r"\bpolicy\s+of\b",
)
# Sentences that only deny what another sentence claims.
DENIAL = _rx(r"\bden(?:ied|ies|y)\b", r"\brejected\s+(?:the|these|this)\s+(?:claim|report|"
             r"allegation|accusation)", r"\brefut(?:e|ed|es)\b", r"\bdismissed\b.*\b(?:claim|"
             r"report|allegation|lie|false|disinformation)", r"\b(?:absolute\s+)?lie\b",
             r"\bdisinformation\b", r"\bdoes\s+not\s+correspond\s+to\s+reality\b",
             r"\bgroundless\b", r"\bfabricat")  # fmt: skip


# ---------------------------------------------------------------------------- who speaks
@dataclass(frozen=True)
class Speaker:
    claimant: str  # the curated claimed_by name, or "" for a third party (never a claimant)
    side: str  # geo.schema.SIDES
    actor: str  # actor1 when this speaker makes a statement
    pattern: re.Pattern


def _speaker(claimant: str, side: str, actor: str, *parts: str) -> Speaker:
    return Speaker(claimant, side, actor, _rx(*parts))


_AZ = r"(?:azerbaijan(?:'s|’s|i)?|azeri|baku(?:'s|’s)?)"
_AM = r"(?:armenia(?:'s|’s|n)?|yerevan(?:'s|’s)?)"
_NK = (
    r"(?:nagorno[- ]karabakh(?:'s|’s)?|karabakh(?:'s|’s)?|artsakh(?:'s|’s)?|"
    r"self-proclaimed|separatist|unrecognized|unrecognised|breakaway|ethnic\s+armenian)"
)
_MOD = r"(?:defen[cs]e\s+ministry|ministry\s+of\s+defen[cs]e|mod\b|defen[cs]e\s+department)"
_MFA = r"(?:foreign\s+(?:affairs\s+)?ministry|ministry\s+of\s+foreign\s+affairs|foreign\s+office)"

SPEAKERS: tuple[Speaker, ...] = (
    _speaker("Nagorno-Karabakh authorities", "armenian", "Nagorno-Karabakh authorities",
             rf"{_NK}\s+(?:region(?:'s|’s)?\s+)?(?:authorities|officials|defen[cs]e\s+(?:army|ministry)|"
             rf"army|government|leader(?:ship)?|president|ombudsman|human\s+rights\s+(?:defender|"
             rf"ombudsman)|emergency|state\s+service|interior\s+ministry|rescue\s+service|"
             rf"information\s+(?:centre|center|headquarters)|administration)",
             r"\barayik\s+harutyunyan\b", r"\bsamvel\s+shahramanyan\b", r"\bartak\s+beglaryan\b",
             r"\bgegham\s+stepanyan\b", r"\bdavit\s+babayan\b", r"\bjalal\s+harutyunyan\b",
             r"\bbako\s+sahakyan\b", r"\bkarabakh\s+army\b", r"\bdefen[cs]e\s+army\b",
             r"\bruben\s+vardanyan\b"),
    _speaker("Azerbaijani Ministry of Defence", "azerbaijani", "Azerbaijani Ministry of Defence",
             rf"\b{_AZ}\s+{_MOD}", rf"{_MOD}\s+of\s+azerbaijan", r"\bvagif\s+dargahl[iı]",
             r"\banar\s+eyvazov", r"\bzakir\s+hasanov", r"\bazerbaijani\s+army\s+command"),
    _speaker("Armenian Ministry of Defence", "armenian", "Armenian Ministry of Defence",
             rf"\b{_AM}\s+{_MOD}", rf"{_MOD}\s+of\s+(?:the\s+republic\s+of\s+)?armenia",
             r"\bshushan\s+stepanyan", r"\bartsrun\s+hovhannisyan", r"\baram\s+torosyan",
             r"\bsuren\s+papikyan", r"\bdavit\s+tonoyan"),
    _speaker("Azerbaijani Prosecutor General's Office", "azerbaijani",
             "Azerbaijani Prosecutor General's Office",
             r"\b(?:prosecutor|prosecutor-general|procurator)(?:'s|’s)?\s+(?:general(?:'s|’s)?\s+)?"
             r"office\b", r"\bgeneral\s+prosecutor", r"\bprosecutor\s+general"),
    _speaker("Azerbaijani Ministry of Foreign Affairs", "azerbaijani",
             "Azerbaijani Ministry of Foreign Affairs", rf"\b{_AZ}\s+{_MFA}",
             rf"{_MFA}\s+of\s+azerbaijan", r"\bjeyhun\s+bayramov", r"\bleyla\s+abdullayeva",
             r"\bhikmet\s+hajiyev"),
    _speaker("Armenian Ministry of Foreign Affairs", "armenian",
             "Armenian Ministry of Foreign Affairs", rf"\b{_AM}\s+{_MFA}",
             rf"{_MFA}\s+of\s+armenia", r"\bararat\s+mirzoyan", r"\bzohrab\s+mnatsakanyan",
             r"\banna\s+naghdalyan"),
    _speaker("President of Azerbaijan", "azerbaijani", "President of Azerbaijan Ilham Aliyev",
             r"\bilham\s+aliyev", r"\bpresident\s+aliyev", rf"\b{_AZ}\s+president\b",
             r"\baliyev\b"),
    _speaker("Prime Minister of Armenia", "armenian", "Prime Minister of Armenia Nikol Pashinyan",
             r"\bpashinyan\b", rf"\b{_AM}\s+prime\s+minister"),
    _speaker("President of Armenia", "armenian", "President of Armenia",
             r"\bserzh\s+sargsyan\b", r"\barmen\s+sarkissian\b", r"\bvahagn\s+khachaturyan\b",
             rf"\b{_AM}\s+president\b"),
    _speaker("Russian Ministry of Defence", "russian", "Russian Ministry of Defence",
             rf"\brussia(?:'s|’s|n)?\s+{_MOD}", r"\brussian\s+peacekeep", r"\bpeacekeeping\s+"
             r"(?:contingent|mission|forces|command)", r"\bpeacekeepers\b"),
    _speaker("Azerbaijani authorities", "azerbaijani", "Azerbaijani authorities",
             rf"\b{_AZ}\s+(?:officials?|authorities|government|interior\s+ministry|emergency|"
             rf"ombudsman|presidential\s+(?:aide|administration)|side|state\s+border\s+service|"
             rf"border\s+(?:guards|service)|media|state\s+media)",
             r"\b(?:baku|azerbaijan)\s+(?:said|says|claimed|claims|accused|accuses|reported)\b",
             r"\bazertac\b", r"\bsabina\s+aliyeva"),
    _speaker("Armenian authorities", "armenian", "Armenian authorities",
             rf"\b{_AM}\s+(?:officials?|authorities|government|side|interior\s+ministry|"
             rf"ombudsman|human\s+rights\s+defender|security\s+council|national\s+security\s+"
             rf"service|border\s+guards)",
             r"\b(?:yerevan|armenia)\s+(?:said|says|claimed|claims|accused|accuses|reported)\b",
             r"\barman\s+tatoyan", r"\banahit\s+manasyan"),
    # Third parties: their statements are events, but never anyone's one-sided claim.
    _speaker("", "international", "OSCE Minsk Group co-chairs",
             r"\bminsk\s+group\b", r"\bco-chairs?\b"),
    _speaker("", "international", "United Nations", r"\bunited\s+nations\b", r"\bu\.?n\.?\s+"
             r"(?:secretary|security|chief|spokes)", r"\bguterres\b", r"\bsecretary-general\b",
             r"\bsecurity\s+council\b",
             r"\bicrc\b", r"\bred\s+cross\b", r"\bunhcr\b"),
    _speaker("", "international", "European Union", r"\beuropean\s+union\b", r"\beu\b",
             r"\bborrell\b", r"\bcharles\s+michel\b", r"\bmicheal\b"),
    _speaker("", "international", "Russia", r"\bkremlin\b", r"\bputin\b", r"\blavrov\b",
             r"\bpeskov\b", r"\bzakharova\b", r"\brussian\s+foreign\s+ministry\b"),
    _speaker("", "international", "United States", r"\bstate\s+department\b", r"\bpompeo\b",
             r"\bblinken\b", r"\bwhite\s+house\b", r"\bwashington\b"),
    _speaker("", "international", "France", r"\ble\s+drian\b", r"\bmacron\b", r"\bélysée\b",
             r"\bfrench\s+foreign\s+ministry\b"),
    _speaker("", "international", "Turkey", r"\berdogan\b", r"\berdoğan\b", r"\bankara\s+said",
             r"\bturkish\s+(?:foreign|defen[cs]e)\s+ministry\b", r"\bcavusoglu\b",
             r"\bçavuşoğlu\b"),
    _speaker("", "international", "Iran", r"\btehran\s+said", r"\biranian\s+foreign\s+ministry\b"),
)  # fmt: skip
SPEAKER_BY_CLAIMANT = {s.claimant: s for s in SPEAKERS if s.claimant}

# Officials the reports quote most, by surname: found with the words before them ("Foreign
# Minister Sergei Lavrov" -> "Sergei Lavrov") for a statement's actor1.
_SURNAMES = (
    "Lavrov|Le Drian|Pompeo|Blinken|Guterres|Putin|Peskov|Zakharova|Erdogan|Erdoğan|Cavusoglu|"
    "Çavuşoğlu|Macron|Borrell|Michel|Aliyev|Pashinyan|Mirzoyan|Bayramov|Mnatsakanyan|"
    "Mnatsakanian|Hajiyev|Harutyunyan|Hovhannisyan|Stepanyan|Eyvazov|Dargahli|Hasanov|Tonoyan|"
    "Sargsyan|Sarkissian|Beglaryan|Vardanyan|Shahramanyan|Ohanyan|Dujarric|Shoigu|Biden|Obama|"
    "Kerry|Tillerson|Abdullayeva|Naghdalyan|Tatoyan|Babayan"
)
KNOWN_PEOPLE = re.compile(rf"(?:[A-Z][\w’'\-]+\s+){{0,4}}(?:{_SURNAMES})\b")
TITLE_WORDS = frozenset(
    [
        "us",
        "u.s.",
        "uk",
        "un",
        "eu",
        "russian",
        "french",
        "turkish",
        "armenian",
        "azerbaijani",
        "foreign",
        "defence",
        "defense",
        "prime",
        "minister",
        "ministers",
        "secretary",
        "state",
        "president",
        "presidential",
        "general",
        "deputy",
        "spokesman",
        "spokeswoman",
        "chief",
        "head",
        "of",
        "the",
        "colonel",
        "lieutenant",
        "major",
        "ombudsman",
        "aide",
    ]
)

# Attribution: the speaker is the one these words point at in the sentence.
ATTRIBUTION = _rx(
    r"\baccording\s+to\b",
    r"\b(?:said|says|reported|reports|claimed|claims|announced|stated|"
    r"told|informed|added|noted|insisted|alleged|accused|blamed|confirmed|wrote|tweeted|"
    r"stressed|urged|condemned|warned|called|expressed)\b",
    r"\bcited\b",
    r"\bciting\b",
    r"\bstatement\b",
    r"\bcommuniqu",
)

# Whose forces did it ("Azerbaijani forces shelled ...").
FORCES: tuple[tuple[str, str, re.Pattern], ...] = (
    ("Nagorno-Karabakh Defence Army", "armenian",
     _rx(rf"{_NK}\s+(?:forces|troops|army|fighters|defen[cs]e\s+army|military|units)",
         r"\bdefen[cs]e\s+army\b", r"\bseparatists?\b")),
    ("Armed Forces of Armenia", "armenian",
     _rx(rf"\b{_AM}\s+(?:armed\s+)?(?:forces|troops|army|military|units|side|soldiers|positions)",
         r"\barmed\s+forces\s+of\s+armenia\b")),
    ("Armed Forces of Azerbaijan", "azerbaijani",
     _rx(rf"\b{_AZ}\s+(?:armed\s+)?(?:forces|troops|army|military|units|side|soldiers|positions|"
         r"drones?|air\s+force)", r"\barmed\s+forces\s+of\s+azerbaijan\b")),
    ("Russian peacekeepers", "russian", _rx(r"\brussian\s+peacekeep", r"\bpeacekeepers\b")),
)  # fmt: skip

# ------------------------------------------------------------------------------ the dead
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "hundred": 100, "a dozen": 12,
}  # fmt: skip
_NUM = r"(?:\d[\d,]*|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + ")"
_NOUNS = r"(?:[a-z\-]+\s+){0,3}?"
_DIED = (
    r"(?:were|was|have\s+been|had\s+been|has\s+been|are|being|reportedly)?\s*"
    r"(?:killed|dead|died|lost\s+their\s+lives|perished|killed\s+in\s+action)"
)
_RANGE = rf"(?P<low>{_NUM})\s*(?:-|–|to|or)\s*(?P<high>{_NUM})"
FATALITY_PATTERNS: tuple[re.Pattern, ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        rf"\b(?:at\s+least\s+|more\s+than\s+|over\s+|some\s+|about\s+|around\s+|up\s+to\s+)?"
        rf"(?:{_RANGE}|(?P<n>{_NUM}))\s+(?P<who>{_NOUNS}){_DIED}\b",
        rf"\bkill(?:ed|ing)\s+(?:at\s+least\s+|more\s+than\s+|some\s+|about\s+)?"
        rf"(?:{_RANGE}|(?P<n>{_NUM}))(?P<who>\s+(?:[a-z\-]+\s+){{0,2}}?(?:people|civilians?|"
        rf"soldiers|servicemen|persons|residents|children|troops|others))?\b",
        r"\b(?P<one>was|has\s+been)\s+killed\b",
        rf"\bdeath\s+toll\s+(?:\w+\s+){{0,3}}?(?:to|at|of|is|was|reached)\s+(?P<n>{_NUM})\b",
    )
)  # fmt: skip
NO_DEATHS = _rx(
    r"\bno\s+(?:one|body)\s+(?:was|were)\s+(?:killed|hurt|injured)",
    r"\bnobody\s+was\s+(?:killed|hurt|injured)",
    r"\bno\s+casualties\b",
    r"\bno\s+(?:deaths|fatalities)\b",
    r"\bwithout\s+casualties\b",
)
CIVILIANS = _rx(
    r"\bcivilians?\b",
    r"\bresidents?\b",
    r"\bchild(?:ren)?\b",
    r"\bwomen\b",
    r"\bpeople\b(?!.*\bsoldiers\b)",
)


def number(text: str) -> int | None:
    text = text.strip().lower().replace(",", "")
    if text.isdigit():
        return int(text)
    return _NUMBER_WORDS.get(text)


# Capitalised words that are never a place on this map, whatever a gazetteer says.
_NOT_PLACES_TEXT = """
Armenia Azerbaijan Armenian Armenians Azerbaijani Azerbaijanis Azeri Azeris Russia Russian
Russians Turkey Turkish Iran Iranian Georgia Georgian France French Syria Syrian Israel
Israeli Moscow Ankara Washington Paris Brussels Tehran Minsk Europe European America
American Soviet Union Caucasus South North East West Ministry Defence Defense Foreign
Affairs President Prime Minister Secretary State General Office Army Forces Armed Republic
Council Security National Monday Tuesday Wednesday Thursday Friday Saturday Sunday January
February March April May June July August September October November December Jan Feb Mar
Apr Jun Jul Aug Sep Sept Oct Nov Dec The A An In On At Of For And But With From By As It Its
This That These Those He She They We I His Her Their Our Earlier Later Meanwhile However
Also According Reuters Tass AFP AP Trend Azertac Armenpress Interfax Twitter Telegram
Facebook Hundreds Dozens Thousands Peace Battles Lieutenant Colonel Major Captain Spokesman
Spokeswoman OSCE UN EU NATO CSTO ICRC UNHCR Red Cross Mr Mrs Ms Dr Press Service Agency News
Radio Public Human Rights Defender Ombudsman Emergency Situations Emergencies Prosecutor
Border Guards Service Committee Investigative Police Interior Corridor Kremlin Ilham Aliyev
Nikol Pashinyan Erdogan Putin Lavrov Pompeo Macron Guterres Michel GMT Smerch Grad Tochka
Iskander Bayraktar Su Mi Orbiter Harop Kamikaze
"""
NOT_PLACES = frozenset(w.casefold() for w in _NOT_PLACES_TEXT.split())  # noqa: SIM905
