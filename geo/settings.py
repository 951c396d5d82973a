"""One settings object: every path and option the app, CLI and tests use.

Values come from environment variables with defaults relative to the repository, so a clone
works as it is and a deployment can move things without code changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# Nominatim's usage policy asks for a User-Agent that identifies the application.
# Deployments should set NKMAP_NOMINATIM_USER_AGENT to include a contact address.
DEFAULT_NOMINATIM_USER_AGENT = "nkmap/0.1 (Karabakh conflict map, open-source research tool)"


def _path(var: str, default: Path) -> Path:
    value = os.environ.get(var, "").strip()
    return Path(value).expanduser().resolve() if value else default


def _db(var: str, default: Path) -> Path | str:
    """The event store: a file path (resolved), or a postgresql:// URL kept as it is."""
    value = os.environ.get(var, "").strip()
    if value.split("://", 1)[0].lower() in ("postgresql", "postgres"):
        return value
    return _path(var, default)


def _flag(var: str) -> bool:
    return os.environ.get(var, "").strip().lower() in {"1", "true", "yes", "on"}


def _whole(var: str, default: int) -> int:
    value = os.environ.get(var, "").strip()
    try:
        return max(1, int(value)) if value else default
    except ValueError:
        raise ValueError(f"{var} must be a whole number of minutes/hours, not {value!r}") from None


@dataclass(frozen=True)
class Settings:
    """Paths and options. Build with `Settings.from_env()`; never mutate."""

    root: Path = REPO_ROOT
    boundaries_dir: Path = field(default=REPO_ROOT / "data" / "boundaries")
    # The offline basemap (places, water, roads) built by scripts/build_basemap.py.
    basemap_dir: Path = field(default=REPO_ROOT / "data" / "basemap")
    events_dir: Path = field(default=REPO_ROOT / "data" / "events")
    # Streamlit serves <app dir>/static at /app/static when enableStaticServing is on.
    static_dir: Path = field(default=REPO_ROOT / "static")
    vendor_dir: Path = field(default=REPO_ROOT / "static" / "vendor")
    # URL prefix under which the browser fetches vendor assets from the running app.
    vendor_url: str = "/app/static/vendor"
    # Event payloads the app writes for the browser to fetch (git-ignored), and their URL.
    data_dir: Path = field(default=REPO_ROOT / "static" / "data")
    data_url: str = "/app/static/data"
    # Git-ignored folder for run-time state (stores, caches); never inside data/.
    var_dir: Path = field(default=REPO_ROOT / "var")
    # Web tiles are an option for users online; the default basemap is vector data.
    web_tiles: bool = False
    # Online geocoding (optional): identifying User-Agent, and the persistent answer cache.
    nominatim_user_agent: str = DEFAULT_NOMINATIM_USER_AGENT
    geocode_cache: Path = field(default=REPO_ROOT / "var" / "geocode-cache.sqlite")
    # The offline gazetteer's name index, built once from the GeoNames files (geo.places.gazetteer).
    gazetteer_cache: Path = field(default=REPO_ROOT / "var" / "gazetteer.sqlite")
    # The event store: a SQLite file (a Path; keep it on a local disk: WAL does not work on
    # network filesystems), or a PostgreSQL/PostGIS database as a postgresql:// URL (a str).
    db_path: Path | str = field(default=REPO_ROOT / "var" / "events.sqlite")
    # Accounts (geo/auth.py): with require_login, viewing needs a signed-in account too;
    # writes always need an editor. Dashboard sessions end after this much inactivity, and
    # this long after sign-in whatever the activity.
    require_login: bool = False
    session_idle_minutes: int = 60
    session_max_hours: int = 12
    # The address readers reach the dashboard at (https://maps.example.org/karabakh): briefing
    # exports print permalinks under it. Empty: exports carry no permalink (a localhost link
    # means nothing to a reader).
    public_url: str = ""

    @classmethod
    def from_env(cls) -> Settings:
        root = _path("NKMAP_ROOT", REPO_ROOT)
        static_dir = _path("NKMAP_STATIC_DIR", root / "static")
        var_dir = _path("NKMAP_VAR_DIR", root / "var")
        return cls(
            root=root,
            boundaries_dir=_path("NKMAP_BOUNDARIES_DIR", root / "data" / "boundaries"),
            basemap_dir=_path("NKMAP_BASEMAP_DIR", root / "data" / "basemap"),
            events_dir=_path("NKMAP_EVENTS_DIR", root / "data" / "events"),
            static_dir=static_dir,
            vendor_dir=_path("NKMAP_VENDOR_DIR", static_dir / "vendor"),
            vendor_url=os.environ.get("NKMAP_VENDOR_URL", "/app/static/vendor").rstrip("/"),
            data_dir=_path("NKMAP_DATA_DIR", static_dir / "data"),
            data_url=os.environ.get("NKMAP_DATA_URL", "/app/static/data").rstrip("/"),
            var_dir=var_dir,
            web_tiles=_flag("NKMAP_WEB_TILES"),
            nominatim_user_agent=os.environ.get("NKMAP_NOMINATIM_USER_AGENT", "").strip()
            or DEFAULT_NOMINATIM_USER_AGENT,
            geocode_cache=_path("NKMAP_GEOCODE_CACHE", var_dir / "geocode-cache.sqlite"),
            gazetteer_cache=_path("NKMAP_GAZETTEER_CACHE", var_dir / "gazetteer.sqlite"),
            db_path=_db("NKMAP_DB", var_dir / "events.sqlite"),
            require_login=_flag("NKMAP_REQUIRE_LOGIN"),
            session_idle_minutes=_whole("NKMAP_SESSION_IDLE_MINUTES", 60),
            session_max_hours=_whole("NKMAP_SESSION_MAX_HOURS", 12),
            public_url=os.environ.get("NKMAP_PUBLIC_URL", "").strip().rstrip("/"),
        )


def get_settings() -> Settings:
    """The settings in force now (re-read from the environment on each call; cheap)."""
    return Settings.from_env()
