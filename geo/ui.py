"""The one Streamlit glue module: cached loaders, sidebar widgets and the view in the URL.

Pages call these; everything else in geo/ stays free of Streamlit.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from geo import auth
from geo.errors import AuthError, InputError, StoreError, Superseded
from geo.layers import LAYER_TITLES
from geo.map.build import build_map, reuse_compiled_templates
from geo.map.events import EventPayload, event_payload, is_published, publish
from geo.map.framing import box_fit, events_fit
from geo.map.live import (
    COMPONENT_DIR,
    has_drawn,
    is_map_published,
    live_args,
    moved_view,
    publish_map,
)
from geo.region import (
    DEFAULT_CENTER_LATLON,
    DEFAULT_ZOOM,
    WHOLE_REGION_LONLAT_BOX,
    LonLatBox,
    fit_box,
)
from geo.schema import EVENT_TYPES, SIDES, URL_COLUMNS
from geo.settings import Settings
from geo.store import open_store
from geo.store.giveway import give_way
from geo.view import (
    ALL_LAYERS,
    CUSTOM,
    FIRST_DAY,
    LAST_DAY,
    PRESETS,
    SINGLE_DAY,
    Convention,
    View,
    preset_for,
    slider_bounds,
)

# Dashboard reruns rebuild the same map: reuse compiled templates in this process only.
reuse_compiled_templates()

# The map page's map (geo.map.live): a page loaded once, moved by values on later reruns.
_live_map = components.declare_component("live_map", path=str(COMPONENT_DIR))

LAYER_LABELS = {**LAYER_TITLES, "events": "Events", "heat": "Event density (heat)"}
CONVENTION_LABELS = {
    "both": "Both (Armenian / Azerbaijani)",
    "armenian": "Armenian",
    "azerbaijani": "Azerbaijani",
}


# Few entries: at a million events one period's frame can hold hundreds of thousands of rows.
@st.cache_data(show_spinner=False, max_entries=4)
def load_events(db_path: str, version: int, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Events of [start, end]; `version` (the store's last import) keys the cache, so an
    import shows at once. Only the Briefing page reads a period whole: the map page asks the
    store for aggregates (below)."""
    return open_store(db_path).events(start, end)


# The map page's numbers, computed by the store (geo.store.query) and cached per store version
# and filters: small values (counts, one table page, a box), never a period's events.
@st.cache_data(show_spinner=False, max_entries=16)
def _timeline(db_path: str, version: int, filters: View):
    return open_store(db_path).timeline(filters)


@st.cache_data(show_spinner=False, max_entries=32)
def _frame_box(db_path: str, version: int, filters: View):
    return open_store(db_path).frame_box(filters)


@st.cache_data(show_spinner=False, max_entries=8)
def _table_page(db_path: str, version: int, filters: View, offset: int, limit: int):
    return open_store(db_path).page(filters, offset, limit)


@st.cache_data(show_spinner=False, max_entries=16)
def _near(db_path: str, version: int, filters: View, km: float, _settings: Settings):
    from geo.proximity import reference_lines

    lines = reference_lines(filters.end, _settings)
    return open_store(db_path).near_counts(filters, lines, km), lines


def superseded(ctx: object = None) -> bool:
    """Whether this run (or the run of `ctx`, a ScriptRunContext) is no longer wanted: the
    user asked for another (a new period, filter or page) and Streamlit has started it or
    will at the run's next call. Read from the run's pending request (ScriptRequests, not a
    public API: tests/pages/test_giving_way_page.py fails if a Streamlit release changes it);
    False where there is no run, or it cannot be told."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    run = ctx if ctx is not None else get_script_run_ctx(suppress_warning=True)
    state = getattr(getattr(run, "script_requests", None), "_state", None)
    return getattr(state, "value", "CONTINUE") in ("RERUN", "STOP")


def run_superseded() -> Callable[[], bool]:
    """`superseded` bound to this run: callable from any thread (the PostgreSQL store's
    watcher asks from its own, where Streamlit knows of no run)."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return (lambda: superseded(ctx)) if ctx is not None else (lambda: False)


@contextmanager
def giving_way() -> Iterator[None]:
    """The store's reads inside stop as soon as the user asks for another view: Streamlit has
    started the new run already, and the old one's SQL would go on for nothing
    (geo.store.giveway)."""
    try:
        with give_way(run_superseded()):
            yield
    except Superseded:
        st.empty()  # a Streamlit call: Streamlit ends this run here and starts the next one
        st.rerun()  # (not reached while the request is pending)


def filters_of(view: View) -> View:
    """The view as the store's questions see it: period and filters (the cache key), without
    the map's layers, naming convention and position."""
    return replace(view, layers=(), convention=Convention.BOTH, center=None, zoom=None)


def _ask(settings: Settings, cached, view: View, *args):
    store = open_store(settings.db_path)
    return cached(str(store.path), store.version(), filters_of(view), *args)


def period_summary(settings: Settings, view: View):
    """How many events the view holds, and how many have a map point (geo.store.query.Summary),
    from the timeline's counts: one read of the period for both."""
    from geo.store.query import summary_of

    return summary_of(_ask(settings, _timeline, view)[0])


def view_box(settings: Settings, view: View) -> LonLatBox | None:
    """The box framing the view's events (geo.view.frame_box, computed by the store)."""
    return _ask(settings, _frame_box, view)


@st.cache_data(show_spinner=False, max_entries=8)
def _date_span(db_path: str, version: int) -> tuple[dt.date, dt.date] | None:
    return open_store(db_path).date_span()


@st.cache_data(show_spinner=False, max_entries=8)
def _claimants(db_path: str, version: int) -> list[str]:
    return open_store(db_path).claimants()


@st.cache_data(show_spinner=False, max_entries=16)
def _value_counts(db_path: str, version: int, column: str) -> pd.Series:
    return open_store(db_path).value_counts(column)


def value_counts(settings: Settings, column: str) -> pd.Series:
    """Events per value of a text column, counted by the store (cached per store version)."""
    store = open_store(settings.db_path)
    return _value_counts(str(store.path), store.version(), column)


def claimants(settings: Settings) -> list[str]:
    """The "claimed by" values of the whole store (cached per store version): the filter's
    options do not depend on the period, so changing the period reads no events first."""
    store = open_store(settings.db_path)
    return _claimants(str(store.path), store.version())


def data_span(settings: Settings) -> tuple[dt.date, dt.date]:
    """The days the stored events cover (the whole range when the store is empty)."""
    store = open_store(settings.db_path)
    return _date_span(str(store.path), store.version()) or (FIRST_DAY, LAST_DAY)


def current_events(settings: Settings, start: dt.date, end: dt.date) -> pd.DataFrame:
    store = open_store(settings.db_path)
    return load_events(str(store.path), store.version(), start, end)


def map_span(settings: Settings, view: View) -> tuple[dt.date, dt.date]:
    """The days the map carries: the stored events' span, widened to the view's period.

    The map holds the events and reference layers of this whole span and the browser shows
    the period, so changing the period does not rebuild the map (geo.map.timecontrol.period_change).
    """
    first, last = data_span(settings)
    first, last = min(first, view.start), max(last, view.end)
    if first == last:
        first -= dt.timedelta(days=1)
    return first, last


@st.cache_data(show_spinner=False, max_entries=4)
def _event_payload(
    db_path: str, version: int, filters: View, convention: str, _settings: Settings
) -> tuple[EventPayload, str]:
    payload = event_payload(open_store(db_path).frames(filters), convention)
    return payload.published(), publish(payload, _settings)


def map_events(
    settings: Settings, view: View, span: tuple[dt.date, dt.date]
) -> tuple[EventPayload, str]:
    """The filtered events of the whole map span, encoded for the browser in batches from the
    store and written to a file the browser fetches (cached per store version, filters and
    naming convention: a period change reuses it), and the file's URL. The cache keeps the
    payload's counts and URL, not its megabytes."""
    store = open_store(settings.db_path)
    filters = replace(filters_of(view), start=span[0], end=span[1])
    args = (str(store.path), store.version(), filters, view.convention, settings)
    payload, url = _event_payload(*args)
    if not is_published(payload, settings):  # pruned by newer payloads: write it again
        _event_payload.clear()
        payload, url = _event_payload(*args)
    return payload, url


@st.cache_data(show_spinner=False, max_entries=8)
def _map_document(
    span: tuple[dt.date, dt.date],
    layers: tuple[str, ...],
    convention: str,
    events_url: str | None,
    heat: bool,
    points: bool,
    _payload: EventPayload | None,
    _settings: Settings,
) -> str:
    m = build_map(
        span[1],
        layers=list(layers),
        convention=convention,
        start=span[0],
        events=_payload,
        events_url=events_url,
        heat=heat,
        draw_points=points,
        settings=_settings,
        scale=True,
    )
    return publish_map(m, _settings)


def map_document(settings: Settings, view: View, span: tuple[dt.date, dt.date]) -> str:
    """The URL of the map's page for this view's layers, filters and names over `span` (the
    period is not in it: the browser shows the period). Built and written once per those
    (the events payload's URL names the filters), so a period change or a pan builds nothing.
    """
    shows_events = "events" in view.layers or "heat" in view.layers
    payload, url = map_events(settings, view, span) if shows_events else (None, None)
    args = (
        span,
        tuple(n for n in view.layers if n not in ("events", "heat")),
        str(view.convention),
        url,
        "heat" in view.layers,
        "events" in view.layers,
        payload,
        settings,
    )
    doc = _map_document(*args)
    if not is_map_published(doc, settings):  # pruned by newer pages: write it again
        _map_document.clear()
        doc = _map_document(*args)
    return doc


@dataclass(frozen=True)
class MapReport:
    """What the live map said: the view the user last moved it to ({"center": {"lat", "lng"},
    "zoom"}, None before the first move) and whether it has drawn this run's page and period."""

    view: dict | None
    drawn: bool


def live_map(
    settings: Settings, view: View, span: tuple[dt.date, dt.date], *, height: int = 600
) -> MapReport:
    """Draw the map page's map (geo.map.live) and return what it reported."""
    (center, zoom), fit = map_frame(
        view, lambda: view_box(settings, view), in_browser="events" in view.layers
    )
    if fit:
        # The map will be framed in the browser: the permalink drops the old map view (the
        # framing follows from the period and filters) until the user moves the map.
        st.session_state["_fit_seq"] = st.session_state.get("_fit_seq", 0) + 1
        st.session_state["_center"] = st.session_state["_zoom"] = None
    args = live_args(
        map_document(settings, view, span),
        center=view.center or center,
        zoom=view.zoom or zoom,
        start=view.start,
        end=view.end,
        fit=fit,
        fit_seq=st.session_state.get("_fit_seq", 0),
        height=height,
    )
    value = _live_map(**args, key="map", default=None)
    return MapReport(view=moved_view(value), drawn=has_drawn(args, value))


def _init_from_url() -> None:
    """Seed the widgets' state: from the permalink on a session's first run, and again from
    the last view when the user comes back from another page (Streamlit drops the state of
    widgets a page did not draw; keys starting with "_" survive)."""
    if "from" in st.session_state:
        return
    last = st.session_state.get("_view")
    view = last if isinstance(last, View) else View.from_query(st.query_params.to_dict())
    st.session_state.update(
        {
            "from": view.start,
            "to": view.end,
            "span": (view.start, view.end),
            "types": list(view.types),
            "sides": list(view.sides),
            "claimed": list(view.claimed_by),
            "fmin": view.fatalities_min,
            "fmax": view.fatalities_max,
            "precise": view.precise_only,
            "q": view.text,
            "layers": list(view.layers),
            "names": view.convention,
            "_center": view.center,
            "_zoom": view.zoom,
            # Where the map opens when no view of the user's is known (a framed map: the
            # region's box until the browser has framed the events).
            "_origin": (view.center, view.zoom),
            "_view_ready": True,
            "preset": preset_for(view.start, view.end),
        }
    )


def _apply_preset() -> None:
    name = st.session_state.get("preset")
    if name in PRESETS:
        st.session_state["from"], st.session_state["to"] = PRESETS[name]
    elif name == SINGLE_DAY:
        st.session_state["from"] = st.session_state["to"]
    _dates_to_span()


def _dates_to_span() -> None:
    st.session_state["span"] = (st.session_state["from"], st.session_state["to"])
    st.session_state["preset"] = preset_for(st.session_state["from"], st.session_state["to"])


def _span_to_dates() -> None:
    st.session_state["from"], st.session_state["to"] = st.session_state["span"]
    st.session_state["preset"] = preset_for(*st.session_state["span"])


# Phones: a compact title, so the map and its time control are in view (our CSS, no data).
_PHONE_CSS = (
    "<style>@media (max-width: 640px) { h1 { font-size: 1.5rem !important; "
    "padding-top: 0.25rem !important; } }</style>"
)


def sidebar_view(claimants: list[str], span: tuple[dt.date, dt.date]) -> View:
    """Draw the sidebar and return the view it describes; `span` bounds the period slider."""
    _init_from_url()
    st.html(_PHONE_CSS)
    sb = st.sidebar
    lo, hi = slider_bounds(st.session_state["from"], st.session_state["to"], span)
    sb.header("Period")
    sb.selectbox("Preset", [CUSTOM, *PRESETS, SINGLE_DAY], key="preset", on_change=_apply_preset)
    sb.slider(
        "Period",
        min_value=lo,
        max_value=hi,
        key="span",
        on_change=_span_to_dates,
        format="DD MMM YYYY",
        help="Over the period's years (or the stored events' span for a long period); type "
        "other days below.",
    )
    sb.date_input(
        "From", min_value=FIRST_DAY, max_value=LAST_DAY, key="from", on_change=_dates_to_span
    )
    sb.date_input(
        "To",
        min_value=FIRST_DAY,
        max_value=LAST_DAY,
        key="to",
        on_change=_dates_to_span,
        help="Held areas and the line of contact are drawn as they were on this day.",
    )
    sb.header("Filters")
    sb.multiselect("Event types", list(EVENT_TYPES), format_func=EVENT_TYPES.get, key="types")
    sb.multiselect("Side (of the actor)", list(SIDES), format_func=SIDES.get, key="sides")
    options = sorted(set(claimants) | set(st.session_state.get("claimed") or []))
    sb.multiselect("Claimed by", options, key="claimed")
    c1, c2 = sb.columns(2)
    c1.number_input("Fatalities from", min_value=0, step=1, key="fmin", value=None)
    c2.number_input("to", min_value=0, step=1, key="fmax", value=None)
    sb.checkbox("Precise locations only", key="precise")
    sb.text_input("Search text", key="q", max_chars=200)
    sb.header("Map")
    sb.multiselect("Layers", list(ALL_LAYERS), format_func=LAYER_LABELS.get, key="layers")
    sb.radio(
        "Frame the map on",
        [FRAME_EVENTS, FRAME_REGION],
        key="frame",
        help="The map moves to fit the view's events when the period or the filters change "
        "(statements made in capitals do not widen it); pan and zoom freely in between.",
    )
    sb.radio(
        "Contested place names",
        [c.value for c in Convention],
        format_func=CONVENTION_LABELS.get,
        key="names",
    )
    s = st.session_state
    return View(
        start=s["from"],
        end=s["to"],
        types=tuple(s["types"]),
        sides=tuple(s["sides"]),
        claimed_by=tuple(s["claimed"]),
        fatalities_min=None if s["fmin"] is None else int(s["fmin"]),
        fatalities_max=None if s["fmax"] is None else int(s["fmax"]),
        precise_only=bool(s["precise"]),
        text=s["q"] or "",
        layers=tuple(s["layers"]),
        convention=s["names"],
        center=s.get("_center"),
        zoom=s.get("_zoom"),
    )


FRAME_EVENTS, FRAME_REGION = "The view's events", "The whole region"


def map_frame(
    view: View, box_of: Callable[[], LonLatBox | None], *, in_browser: bool
) -> tuple[tuple[tuple[float, float], int], dict | None]:
    """Where the map opens (centre, zoom), and the framing to send it now, if any.

    The map is fitted to the view's events (where things happened, not the capitals where
    statements were made: geo.view.frame_box's rule) when the page opens without a map view in
    its permalink, and again whenever the period, the filters or the frame choice change;
    panning and zooming are the user's between those. With `in_browser` (the map draws the
    events) the browser frames the events it holds (geo.map.framing.fit_to_events): a period
    change reads nothing from the store first. Otherwise the store boxes them (`box_of()`).
    "The whole region" frames Armenia and Azerbaijan. The opening centre is used only when the
    live map loads its first page (later pages keep the view the user has).
    """
    s = st.session_state
    choice = s.get("frame", FRAME_EVENTS)
    key = (filters_of(view), choice)
    origin = s.get("_origin", (None, None))
    if s.get("_framed") == key:
        return _opening(origin), None
    opening = "_framed" not in s
    s["_framed"] = key
    if opening and origin[0] is not None:  # a permalink's own map view wins when it opens
        return _opening(origin), None
    if choice == FRAME_REGION:
        box = WHOLE_REGION_LONLAT_BOX
    elif in_browser:
        box = None
    else:
        box = box_of() or WHOLE_REGION_LONLAT_BOX
    if origin[0] is None:
        s["_origin"] = fit_box(box or WHOLE_REGION_LONLAT_BOX)
    change = box_fit(box) if box else events_fit(view.start, view.end)
    return _opening(s["_origin"]), change


def _opening(origin: tuple) -> tuple[tuple[float, float], int]:
    center, zoom = origin
    return (center or DEFAULT_CENTER_LATLON), (zoom or DEFAULT_ZOOM)


def remember_map_view(view: View, moved: dict | None) -> View:
    """The view with the map's current centre and zoom, kept for the permalink: the user's
    last move (`MapReport.view`, taken when it is new), unless the map was framed since
    (`live_map`)."""
    s = st.session_state
    if moved and moved != s.get("_map_value"):
        s["_map_value"] = moved
        s["_center"] = (round(moved["center"]["lat"], 4), round(moved["center"]["lng"], 4))
        s["_zoom"] = int(moved["zoom"])
    return replace(view, center=s.get("_center"), zoom=s.get("_zoom"))


def current_view() -> View:
    """The view of this session: the one the map page last drew (kept under "_view", which
    survives page switches), else the URL's (a permalink opened on another page)."""
    kept = st.session_state.get("_view")
    return kept if isinstance(kept, View) else View.from_query(st.query_params.to_dict())


def app_url() -> str:
    """The dashboard's address as the browser sees it, ending in "/" (for permalinks)."""
    url = (st.context.url or "http://localhost:8501").split("?")[0].rstrip("/")
    for page in ("/Briefing", "/Upload", "/Sources"):
        url = url.removesuffix(page)
    return url + "/"


def write_permalink(view: View) -> None:
    """Put the view in the URL, so the address bar is always a permalink to it, and keep it
    for the other pages (the briefing export) and for coming back to the map."""
    st.session_state["_view"] = view
    query = view.to_query()
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


def problem(message: str, detail: object) -> None:
    """`message` (our own words, a literal) as an error; `detail`, which may quote a file or
    a user's input, as plain text: never Markdown."""
    st.error(message)
    st.code(str(detail), language=None, wrap_lines=True)


# ----------------------------------------------------------------------------- accounts


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def current_identity(settings: Settings) -> auth.Identity | None:
    """Who is signed in to this session, or None (never signed in, signed out, or expired:
    then the session forgets the identity and says so once)."""
    session = st.session_state.get("_session")
    if not isinstance(session, auth.Session):
        return _oidc_identity(settings)
    now = _now()
    idle = dt.timedelta(minutes=settings.session_idle_minutes)
    longest = dt.timedelta(hours=settings.session_max_hours)
    if session.expired(now, idle, longest):
        del st.session_state["_session"]
        st.session_state["_expired"] = True
        return None
    st.session_state["_session"] = session.touched(now)
    return session.identity


def _sign_out() -> None:
    st.session_state.pop("_session", None)
    if _oidc_configured() and st.user.is_logged_in:
        st.logout()


def _oidc_configured() -> bool:
    """True when .streamlit/secrets.toml configures st.login (an [auth] section)."""
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        return False


def _oidc_identity(settings: Settings) -> auth.Identity | None:
    """The identity provider's user (st.login), with the role of the account of the same
    name (its e-mail address): an unknown address is a viewer."""
    if not _oidc_configured() or not st.user.is_logged_in:
        return None
    email = str(st.user.get("email") or "")
    account = open_store(settings.db_path).user(email) if email else None
    return auth.Identity(email or "unknown", account.role if account else "viewer", via="oidc")


def sign_in_form(settings: Settings, where=None, *, why: str | None = None) -> None:
    """The sign-in form (account name and password). Messages are plain text."""
    where = where or st
    if st.session_state.pop("_expired", False):
        where.info("Your session expired: sign in again.")
    if why:
        where.info(why)
    if _oidc_configured():
        where.button("Sign in with your organisation's account", on_click=st.login)
    with where.form("sign-in", clear_on_submit=True):
        name = st.text_input("Account name", max_chars=64, autocomplete="username")
        password = st.text_input(
            "Password",
            type="password",
            max_chars=auth.MAX_PASSWORD,
            autocomplete="current-password",
        )
        submitted = st.form_submit_button("Sign in")
    if not submitted:
        return
    try:
        identity = auth.sign_in(open_store(settings.db_path), name, password)
    except AuthError as exc:
        where.error("Sign-in refused.")
        where.text(str(exc))  # our message, but it quotes the name typed: plain text
        return
    now = _now()
    st.session_state["_session"] = auth.Session(identity, now, now)
    st.rerun()


def account_box(settings: Settings, *, offer_sign_in: bool = True) -> auth.Identity | None:
    """The sidebar's account line: who is signed in, with Sign out; or a Sign in expander.
    With NKMAP_REQUIRE_LOGIN=1 a visitor who is not signed in sees only the form."""
    identity = current_identity(settings)
    if identity is not None:
        st.sidebar.text(f"Signed in: {identity.name} ({identity.role})")
        st.sidebar.button("Sign out", on_click=_sign_out, key="sign-out")
        return identity
    if settings.require_login:
        st.title("Sign in")
        sign_in_form(settings, why="This dashboard is for signed-in users.")
        st.stop()
    if offer_sign_in:
        with st.sidebar.expander("Sign in (editors)"):
            sign_in_form(settings)
    return None


def require_role(settings: Settings, needed: str) -> auth.Identity:
    """The signed-in identity if its account has the role `needed` now; otherwise the page
    shows why and the sign-in form, and stops."""
    identity = account_box(settings, offer_sign_in=False)
    store = open_store(settings.db_path)
    if identity is not None and auth.at_least(auth.current_role(store, identity), needed):
        return identity
    if identity is None:
        sign_in_form(settings, why=f"Sign in with an {needed} account to change the record.")
    else:
        st.warning(f"This account may not change the record (it needs the {needed} role).")
    st.stop()
    raise AssertionError("unreachable: st.stop() ends the script")


# --------------------------------------------------------------------------- import batches


# The batch table's columns, in words (the store's names on the right).
BATCH_COLUMNS = {
    "id": "batch",
    "at": "when (UTC)",
    "user": "who",
    "file": "file",
    "format": "format",
    "rows": "rows",
    "inserted": "new",
    "updated": "updated",
    "duplicates": "duplicates",
    "rejected": "rejected",
    "undone_at": "undone (UTC)",
    "undone_by": "undone by",
    "undo_of": "undoes batch",
    "sha256": "file sha256",
}


def _when(text: object) -> str:
    """ISO UTC text as "2026-11-30 09:41"; blank for a missing value (None or NaN)."""
    return text.replace("T", " ").removesuffix("+00:00")[:16] if isinstance(text, str) else ""


def _batches_frame(batches: list) -> pd.DataFrame:
    frame = pd.DataFrame([b.as_dict() for b in batches], columns=list(BATCH_COLUMNS))
    frame["at"], frame["undone_at"] = frame["at"].map(_when), frame["undone_at"].map(_when)
    frame["sha256"] = frame["sha256"].map(lambda h: h[:12] if isinstance(h, str) else "")
    return frame.rename(columns=BATCH_COLUMNS)


def import_history(settings: Settings, identity: auth.Identity) -> None:
    """Every import batch (newest first), an Undo for editors, and one event's versions."""
    store = open_store(settings.db_path)
    done = st.session_state.pop("_undo_done", None)
    if done:
        st.success(done)
    batches = store.imports(limit=500)
    if not batches:
        st.info("Nothing has been imported into this store yet.")
        return
    st.dataframe(_batches_frame(batches), hide_index=True, width="stretch")
    undoable = {b.id: b for b in batches if b.format != "undo" and not b.undone_at}
    if undoable:
        choice = st.selectbox(
            "Import to undo",
            list(undoable),
            format_func=lambda i: (
                f"batch {i}: {undoable[i].file} ({undoable[i].user}, {_when(undoable[i].at)})"
            ),
            key="undo-batch",
        )
        force = st.checkbox(
            "Undo even where a later import changed the same events",
            key="undo-force",
            help="Those events go back to their version before this import.",
        )
        sure = st.checkbox(f"Yes, undo batch {choice}", key="undo-sure")
        if st.button("Undo this import", key="undo", disabled=not sure):
            try:
                auth.require(store, identity, "editor")  # the account as it is now
                undo = store.undo(int(choice), user=identity.label, force=force)
            except (AuthError, StoreError) as exc:
                problem("Nothing was undone.", exc)
            else:
                st.session_state.pop("upload_done", None)  # "now on the map" no longer holds
                st.session_state.pop(f"{REPORT}upload_done", None)
                st.session_state["_undo_done"] = (
                    f"Batch {choice} undone (recorded as batch {undo.id}): {undo.removed} "
                    f"events removed, {undo.updated or 0} restored, {undo.inserted or 0} "
                    "re-created."
                )
                st.rerun()
    event_id = st.text_input("Versions of one event (its event_id)", key="history-id")
    if event_id:
        versions = store.history(event_id.strip())
        if not versions:
            st.text(f"No event with the id {event_id.strip()!r} was ever stored.")
        else:
            rows = [
                {k: v for k, v in version.items() if k != "values"} | (version["values"] or {})
                for version in versions
            ]
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


# ------------------------------------------------------------------------ map page sections


def summary(where, view: View) -> None:
    """What the map shows, in words, above it: our words as a caption; the filters in words
    (they carry permalink text: `q`, `claimed`) as plain text, never as Markdown. Nothing here
    is read from the store, so it is drawn with the map (the counts come under it)."""
    with where.container():
        st.caption(
            f"{view.start:%d %b %Y} to {view.end:%d %b %Y}. Reference geography as on "
            f"{view.end:%d %b %Y}; ▶ replays the period; schematic geometry is labelled. The "
            "events are compiled from public reports, many of them one side's claims: click "
            "one for its source and claimant, and open its report (linked in the table) "
            "before relying on it."
        )
        st.text("View: " + view.describe())


# The sections under the map wait until the map has drawn the period (MapReport.drawn: the
# live map says so, and the page reruns): computed earlier, the store's aggregates and the
# charts' and grids' rendering compete with its draw for the machine (bench/RESULTS.md). Until
# then each keeps about its height, so the page under the map does not jump.
PENDING = "After the map has drawn the period…"
TIMELINE_HEIGHT, PROXIMITY_HEIGHT, TABLE_HEIGHT = 476, 295, 400


# While the map draws a new period, what is under it stays as the last view left it (Streamlit
# greys it as out of date while the app runs) instead of being swapped for the placeholders:
# the swap unmounted two charts and two data grids in the browser frame that hands the map its
# new period, and a period change at 1,000,000 events took about 80 ms longer for it
# (docs/decisions/0010-hold-the-page-while-the-map-draws.md). The run waits for the map's
# report and ends there, for the next run; that one replaces each section in place.
# HOLD_LIMIT_S outlasts the component's own limit (READY_LIMIT_MS, 3 s, geo/map/component):
# a map that never reports gets the placeholders, as before.
HOLD_LIMIT_S, HOLD_POLL_S = 5.0, 0.005
_SHOWN = "_sections_shown"  # session state: the sections under the map show a drawn view
_PAGE = "_page_run"  # session state: the page of the last run (page_entered)


def hold_while_the_map_draws() -> bool:
    """In a run whose map has not drawn its period yet: when the page shows the sections of
    an earlier view, keep them and end this run once the map reports its draw (or the user
    asks for something else), within HOLD_LIMIT_S; the next run draws the sections. No wait on
    a page that shows none (the first open: placeholders keep their places). True when the
    hold ran out: the run goes on, and the placeholders replace the earlier sections."""
    if not st.session_state.get(_SHOWN):
        return False
    wanted = run_superseded()
    deadline = time.monotonic() + HOLD_LIMIT_S
    while time.monotonic() < deadline:
        if wanted():
            raise Superseded  # (in giving_way: the next run starts, this page's elements kept)
        time.sleep(HOLD_POLL_S)
    st.session_state[_SHOWN] = False
    return True


def page_entered(page: str) -> None:
    """Called by app.py before each run of a page (`page`: its URL path). A run of another
    page than the last run's starts on a screen Streamlit has cleared: the map page's
    sections are gone, so a map drawing there holds nothing (hold_while_the_map_draws)."""
    if st.session_state.get(_PAGE) != page:
        st.session_state[_PAGE] = page
        st.session_state[_SHOWN] = False


def sections_shown(shown: bool) -> None:
    """Remember whether this run left the sections under the map drawn (True) or pending."""
    st.session_state[_SHOWN] = shown


def _pending(height: int) -> None:
    with st.container(height=height, border=False):
        st.caption(PENDING)


def counts_line(where, counts, view: View) -> None:
    """How many events the view holds and how many have a map point (None: not yet counted;
    then whether the sections under it, held while the map draws, are the previous view's)."""
    if counts is None:
        earlier = (
            " Until then the charts and tables below (greyed) are the previous view's."
            if st.session_state.get(_SHOWN)
            else ""
        )
        where.caption(
            f"Counting the events, {view.start:%d %b %Y} to {view.end:%d %b %Y}…{earlier}"
        )
        return
    where.caption(
        f"{counts.events:,} events, {view.start:%d %b %Y} to {view.end:%d %b %Y}: "
        f"{counts.placed:,} with a map point, {counts.unplaced:,} without one (in the table "
        "below)."
    )


def timeline(settings: Settings, view: View, *, drawn: bool = True) -> None:
    """Events and known fatalities per day by type (counted by the store), under the map."""
    from geo.map.timeline import RULES_CAPTION, timeline_charts

    if not drawn:
        _pending(TIMELINE_HEIGHT)
        return
    counts, marks = _ask(settings, _timeline, view)
    if counts.empty:
        return
    for chart in timeline_charts(counts, marks, view.start, view.end):
        st.altair_chart(chart, width="stretch")
    st.caption(RULES_CAPTION)


def proximity_table(settings: Settings, view: View, *, drawn: bool = True) -> None:
    """How many events fell within N km of each pipeline and of the line of contact (counted
    by the store: PostGIS on PostgreSQL, geo.store.query on SQLite)."""
    from geo.proximity import proximity_table

    st.subheader("How close to the pipelines and the line of contact")
    km = st.slider("Within (km)", 1, 50, 10, key="km")
    if not drawn:
        _pending(PROXIMITY_HEIGHT)
        return
    near, lines = _ask(settings, _near, view, float(km), settings)
    st.dataframe(proximity_table(near, lines, km), hide_index=True, width="stretch")
    no_line = (
        ""
        if (lines["layer"] == "contact_line").any()
        else (
            f" No line of contact is drawn for {view.end:%d %b %Y}: during the 2020 war and its "
            "handovers (27 Sep - 30 Nov 2020) the front moved daily and is not resolved here, "
            "and after 20 Sep 2023 there was none."
        )
    )
    st.caption(
        "Distances to schematic pipeline routes (tens of km of error) and to the line of "
        f"contact valid on {view.end:%d %b %Y}, rounded to each line's accuracy; events "
        "without a map point are not counted." + no_line
    )


# The table shows one page of TABLE_ROWS events at a time, read from the store by position:
# a table of 100,000 rows costs seconds per rerun and nobody reads it; exports (Briefing page,
# `nkmap export`) carry every event in one file.
TABLE_ROWS = 1_000
# The events table's columns and their headings (the export keeps the schema's names).
TABLE_COLUMNS = {
    "event_date": "Date",
    "event_type": "Type",
    "location": "Location (as recorded)",
    "fatalities": "Known fatalities",
    "claimed_by": "Claimed by",
    "source": "Source",
    "source_url": "Report",
    "source_url_2": "Second report",
    "verification": "Verification",
    "notes": "Notes",
}


def events_table(settings: Settings, view: View, total: int | None) -> None:
    """The view's events as a data grid, a page at a time (text is data there: never HTML or
    Markdown); `total` None: not yet counted (the map is drawing)."""
    with st.expander("The events, as a table", expanded=False, key="table"):
        if total is None:
            if "table_page" in st.session_state:  # keep the page the widget is not drawn on
                st.session_state["table_page"] = st.session_state["table_page"]
            _pending(TABLE_HEIGHT)
            return
        pages = max(1, -(-total // TABLE_ROWS))
        if st.session_state.get("table_page", 1) > pages:  # a smaller view than last time
            st.session_state["table_page"] = 1
        page = 1
        if pages > 1:
            page = int(st.number_input(f"Page (of {pages:,})", 1, pages, key="table_page"))
            first = (page - 1) * TABLE_ROWS
            st.caption(
                f"Events {first + 1:,} to {min(total, first + TABLE_ROWS):,} of {total:,}, by "
                "date; the Briefing page's data pack or `nkmap export` has all of them in one "
                "file."
            )
        rows = _ask(settings, _table_page, view, (page - 1) * TABLE_ROWS, TABLE_ROWS)
        shown = rows[list(TABLE_COLUMNS)]
        shown = shown.assign(event_type=shown["event_type"].map(EVENT_TYPES))
        for name in URL_COLUMNS:  # the ingest rule, again where links are drawn
            url = shown[name].astype("string")
            shown[name] = url.where(url.str.match(r"https?://", na=False))
        config = {name: heading for name, heading in TABLE_COLUMNS.items()}
        config["event_date"] = st.column_config.DateColumn("Date", format="DD MMM YYYY")
        config["fatalities"] = st.column_config.NumberColumn("Known fatalities", format="%d")
        # Only http(s) addresses become links: never a script.
        for name in URL_COLUMNS:
            config[name] = st.column_config.LinkColumn(TABLE_COLUMNS[name], display_text="open")
        st.dataframe(shown, hide_index=True, width="stretch", column_config=config)


# ------------------------------------------------------------------------ upload page sections


def upload_dry_run(data: bytes, name: str, store, *, slot: str = "upload_plan", **options):
    """The plan of an upload (or the InputError refusing the file), with a progress bar;
    recomputed only when the file, an option or the store changes (one per session and
    `slot`: each tab of the Upload page keeps its own)."""
    from geo import ingest
    from geo.errors import InputError
    from geo.ingest import report as up

    key = up.plan_key(data, name=name, version=store.version(), **options)
    cached = st.session_state.get(slot)
    if cached is None or cached[0] != key:
        bar = st.progress(0.0, text="Checking rows and placing them on the map…")
        try:
            plan = ingest.plan_import(
                data, store, source_name=name, progress=lambda n, t: bar.progress(n / t), **options
            )
        except InputError as exc:
            plan = exc
        bar.empty()
        cached = st.session_state[slot] = (key, plan)
    return cached[1]


def upload_columns(header: list[str], fkey: str) -> dict[str, object]:
    """The format, column mapping and (for a file without a type column) type pickers of an
    upload; returns the plan_import options they give."""
    from geo.ingest import report as up

    detected, formats = up.default_format(header), list(up.FORMATS)
    fmt = st.selectbox(
        "Format",
        formats,
        index=formats.index(detected),
        format_func=lambda f: up.FORMATS[f] + (" — detected" if f == detected else ""),
        key=f"format-{fkey}",
        help="Detected from the header; change it if the guess is wrong.",
    )
    st.subheader("Columns")
    preset = up.mapping_rows(header, fmt)
    edited = st.data_editor(
        preset,
        key=f"mapping-{fkey}-{fmt}",
        hide_index=True,
        num_rows="fixed",
        disabled=[up.SOURCE_COLUMN],
        column_config={
            up.TARGET_COLUMN: st.column_config.SelectboxColumn(
                options=list(up.MAP_TO_CHOICES), required=True, help="The event field it fills"
            )
        },
    )
    overrides, notes = up.overrides_from(preset, edited)
    for note in notes:
        st.warning("Two columns fill the same field:")
        st.text(note)
    event_type = None
    if not up.maps_event_type(edited):
        event_type = st.selectbox(
            "Event type of every row",
            up.TYPE_CHOICES,
            format_func=up.type_label,
            key=f"type-{fkey}",
            help=up.TYPE_HELP,
        )
    return {"fmt": fmt, "overrides": overrides, "event_type": event_type or None}


def upload_report(plan, file_name: str) -> None:
    """The dry run's numbers, facts, warnings and rejected rows (uploaded text drawn as data)."""
    from geo.ingest import report as up

    st.subheader("Dry run: what importing would do")
    for column, (label, value) in zip(st.columns(5), up.plan_metrics(plan).items(), strict=True):
        column.metric(label, value)
    st.text(up.plan_facts(plan))
    if plan.ignored_columns:
        st.text("Ignored columns: " + ", ".join(plan.ignored_columns))
    for heading, issues in (("Warnings", plan.warnings), ("Rejected rows", plan.rejects)):
        if issues:
            st.subheader(f"{heading} ({len(issues)})")
            st.dataframe(up.issues_frame(issues), hide_index=True)
    if plan.rejects:
        st.download_button(
            "Download the rejected rows (CSV)",
            up.rejects_csv(plan.rejects),
            file_name=up.reject_file_name(file_name),
            mime="text/csv",
        )


def upload_import(
    plan, store, identity: auth.Identity, fkey: str, done: bool, prefix: str = ""
) -> None:
    """Strict mode and the import button; a successful import is remembered for the file
    (with the map's permalink to the imported events) and the page reruns. `prefix` keeps a
    second flow's widgets and state apart (the "From a report" tab: "report-")."""
    from geo import ingest
    from geo.errors import InputError
    from geo.ingest import report as up

    why_not = up.nothing_to_import(plan)
    if why_not and not done:
        if plan.valid_rows == 0:
            st.error("No valid rows: nothing can be imported.")
        st.text(why_not)
    strict = st.checkbox(
        "Strict: all or nothing",
        help="Import nothing if any row is rejected.",
        key=f"{prefix}strict",
    )
    if st.button(
        up.import_label(plan), type="primary", disabled=why_not is not None, key=f"{prefix}import"
    ):
        try:
            result = ingest.apply_plan(plan, store, strict=strict, user=identity.label)
        except (InputError, StoreError) as exc:
            problem("Nothing was imported.", up.plain_message(exc))
        else:
            view = up.imported_view(plan)
            if view is not None:  # the map opens on the imported events (same tab, same session)
                st.session_state["_view"] = view
            st.session_state[f"{prefix}upload_done"] = (fkey, result.inserted, result.updated, view)
            st.rerun()


# ------------------------------------------------------------ upload page: from a report

REPORT = "report-"  # the "From a report" tab's widget keys and state
PASTE, UPLOAD = "Paste the text", "Upload a file"
REPORT_HELP = (
    "A news story, ministry communiqué or prosecutor's statement, in English: plain text or "
    "an HTML page. Candidate events are read from it offline (geo.extract): check each one "
    "against its highlighted sentence before importing."
)


def _report_columns(published: dt.date) -> dict[str, object]:
    """How the candidates' table shows and checks its columns (every native column stays)."""
    from geo.schema import GEO_PRECISION, TIME_PRECISION, VERIFICATION

    cc = st.column_config
    types_help = "; ".join(f"{code}: {label}" for code, label in EVENT_TYPES.items())
    return {
        "event_date": cc.DateColumn(
            "event_date", format="YYYY-MM-DD", required=True, max_value=published
        ),
        "date_end": cc.DateColumn(
            "date_end", format="YYYY-MM-DD", max_value=published, help="Blank = one day"
        ),
        "event_type": cc.SelectboxColumn(
            "event_type", options=list(EVENT_TYPES), required=True, help=types_help
        ),
        "latitude": cc.NumberColumn("latitude", min_value=-90, max_value=90, format="%.4f"),
        "longitude": cc.NumberColumn("longitude", min_value=-180, max_value=180, format="%.4f"),
        "geo_precision": cc.SelectboxColumn(
            "geo_precision", options=list(GEO_PRECISION), help=str(GEO_PRECISION)
        ),
        "time_precision": cc.SelectboxColumn(
            "time_precision", options=list(TIME_PRECISION), help=str(TIME_PRECISION)
        ),
        "fatalities": cc.NumberColumn(
            "fatalities", min_value=0, step=1, format="%d", help="Blank = unknown (not 0)"
        ),
        "side": cc.SelectboxColumn("side", options=list(SIDES)),
        "verification": cc.SelectboxColumn("verification", options=list(VERIFICATION)),
        "confidence": cc.NumberColumn(
            "confidence", format="%.2f", disabled=True, help="The extractor's score, 0 to 1"
        ),
        "notes": cc.TextColumn("notes", width="large"),
    }


def _report_inputs() -> tuple[bytes | str, str, dt.date | None, str, str]:
    """The report (pasted text, or an uploaded file's bytes), its name, and its publication
    date, source and URL as typed."""
    text_col, details = st.columns([3, 2])
    how = text_col.radio(
        "The report", [PASTE, UPLOAD], horizontal=True, key=f"{REPORT}how", help=REPORT_HELP
    )
    if how == UPLOAD:
        file = text_col.file_uploader(
            "Report file (.txt, .html)", type=["txt", "html", "htm"], key=f"{REPORT}file"
        )
        data, name = (file.getvalue(), file.name) if file is not None else ("", "report")
    else:
        data, name = text_col.text_area(
            "Report text", key=f"{REPORT}text", height=220, max_chars=200_000,
            placeholder="Paste the report here.",
        ), "report"  # fmt: skip
    published = details.date_input(
        "Publication date (required)",
        value=None,
        min_value=dt.date(1988, 1, 1),
        max_value=dt.date.today(),
        format="YYYY-MM-DD",
        key=f"{REPORT}published",
        help='Dates in the report ("on Sunday", "last week") are read from this day.',
    )
    source = details.text_input("Source (publisher)", key=f"{REPORT}source", max_chars=200)
    url = details.text_input(
        "URL of the report", key=f"{REPORT}url", max_chars=2000, placeholder="https://…"
    )
    return data, name, published, source, url


def _find_events(data, name: str, published, source: str, url: str, key: str) -> None:
    """Read the report's candidates into the session (under its key), or say why not."""
    from geo.extract import extract_report, source_label
    from geo.ingest import report as up

    st.session_state.pop(f"_{REPORT}found", None)  # a failed read leaves nothing to import
    if not data.strip():
        st.error("Paste a report or upload its file first.")
        return
    if published is None:
        st.error("Pick the report's publication date: its dates are read from that day.")
        return
    try:
        found = extract_report(data, published, source=source, url=url, name=name)
    except InputError as exc:
        problem("This report cannot be read.", up.plain_message(exc))
        return
    batch = "report: " + source_label(found.published, source, url, name)
    st.session_state[f"_{REPORT}found"] = (key, found, batch)


def _report_map(settings: Settings, events: pd.DataFrame, published: dt.date, key: str) -> None:
    """The candidates with coordinates on the offline map (the Map page's builder)."""
    from streamlit_folium import st_folium

    from geo.map.build import build_map
    from geo.region import fit_extent

    if events.empty:
        st.caption("No candidate has coordinates: nothing to show on the map.")
        return
    ends = events["date_end"].fillna(events["event_date"])
    start = events["event_date"].min().date()
    day = max(published, ends.max().date())
    centre, zoom = fit_extent(events["latitude"].tolist(), events["longitude"].tolist(), 640, 400)
    m = build_map(
        day,
        layers=("countries", "water", "roads", "nkao", "places"),
        start=start if start < day else day - dt.timedelta(days=1),
        events=events,
        settings=settings,
        center=centre,
        zoom=min(zoom, 9),
    )
    st_folium(
        m, height=400, use_container_width=True, returned_objects=[], key=f"{REPORT}map-{key}"
    )


def report_tab(settings: Settings, identity: auth.Identity, store) -> None:
    """The Upload page's "From a report" tab: a report (pasted or a file) and its date,
    source and URL -> candidate events in an editable table, beside the report's text with each
    candidate's sentence highlighted and numbered, and on a map; then the dry run and the import
    of the reviewed rows as a native CSV, one undoable batch (the file upload's own path)."""
    from geo.extract import review
    from geo.ingest import report as up

    st.caption(
        "Paste a report and find its events; drop or fix rows, check, then import. Nothing is "
        "written until you press Import."
    )
    data, name, published, source, url = _report_inputs()
    key = review.report_key(data, published, source.strip(), url.strip())
    if st.button("Find events", type="primary", key=f"{REPORT}find"):
        _find_events(data, name, published, source.strip(), url.strip(), key)
    found = st.session_state.get(f"_{REPORT}found")
    if found is None:
        st.info("Paste a report (or upload it), set its publication date, and press Find events.")
        return
    key, extraction, batch = found
    if key != review.report_key(data, published, source.strip(), url.strip()):
        st.warning(
            "The report or its details changed since you pressed Find events: the candidates "
            "below are the earlier report's. Press Find events to read the new one."
        )
    done = st.session_state.get(f"{REPORT}upload_done") or (None, 0, 0, None)
    if done[0] == key:
        st.success(
            f"Imported {done[1]} new and {done[2]} updated events: they are on the map now, and "
            "the batch is in Import history and undo."
        )
        if done[3]:
            st.page_link("app_pages/0_Map.py", label="Open the map", icon=":material/map:",
                          query_params=done[3].to_query())  # fmt: skip
    if extraction.candidates.empty:
        st.warning("No candidate events were found in this report.")
        return
    st.subheader(f"Candidate events ({len(extraction)})")
    table, text = st.columns([3, 2])
    with table:
        st.caption(
            "One row per candidate; # is its number on the highlighted sentence. Fix cells in "
            "place; select rows and press the bin (or Delete) to drop them."
        )
        edited = st.data_editor(
            review.review_frame(extraction.candidates),
            key=f"{REPORT}edit-{key}",
            num_rows="delete",
            hide_index=False,
            column_order=review.SHOWN_COLUMNS,
            column_config=_report_columns(extraction.published),
            disabled=list(review.READ_ONLY_COLUMNS),
            width="stretch",
        )
        st.caption("Map preview: the candidates with coordinates")
        _report_map(settings, review.preview_events(edited), extraction.published, key)
    with text:
        st.caption(
            f"The report ({len(extraction.text):,} characters), its events' sentences marked"
        )
        st.html(review.highlight_html(extraction.text, review.evidence_spans(edited)))
    if st.button("Check", key=f"{REPORT}check", help="A dry run: nothing is written."):
        st.session_state[f"_{REPORT}checked"] = key
    if st.session_state.get(f"_{REPORT}checked") != key:
        st.caption("Check the reviewed rows (a dry run, as for a file) before importing them.")
        return
    data = review.review_csv(edited)
    plan = upload_dry_run(data, batch, store, slot=f"_{REPORT}plan", fmt="native")
    if isinstance(plan, InputError):
        problem("These rows cannot be imported.", up.plain_message(plan))
        return
    upload_report(plan, batch)
    upload_import(plan, store, identity, key, done=done[0] == key, prefix=REPORT)
