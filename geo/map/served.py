"""Files the dashboard's browser fetches from the app's static serving (settings.data_dir,
served at settings.data_url): the events payload and the live map's page.

Each file is named by its content, written atomically and never changed, so browsers may
cache it and several app servers may write the same one. The newest few of each kind stay:
other sessions may still use the older ones.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from geo.settings import Settings, get_settings

# Files of one kind kept in the served folder: the newest few (other sessions may still use them).
KEEP_PUBLISHED = 12


def _path(kind: str, digest: str, suffix: str, settings: Settings) -> Path:
    return settings.data_dir / f"{kind}-{digest}{suffix}"


def publish(
    kind: str, digest: str, suffix: str, text: str, settings: Settings | None = None
) -> str:
    """Write `text` as `<kind>-<digest><suffix>` where the app's static serving finds it (unless
    it is there already), prune the kind's older files, and return the file's URL."""
    settings = settings or get_settings()
    folder = settings.data_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = _path(kind, digest, suffix, settings)
    if not path.exists():
        tmp = folder / f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    else:
        path.touch()  # recently used: kept by the pruning below
    old = sorted(folder.glob(f"{kind}-*{suffix}"), key=lambda f: f.stat().st_mtime, reverse=True)
    for stale in old[KEEP_PUBLISHED:]:
        if stale != path:
            stale.unlink(missing_ok=True)
    return f"{settings.data_url}/{path.name}"


def is_published(kind: str, digest: str, suffix: str, settings: Settings | None = None) -> bool:
    """True when `publish` wrote this file and it is still there (then marked as recently
    used, so the pruning keeps it)."""
    path = _path(kind, digest, suffix, settings or get_settings())
    try:
        path.touch(exist_ok=True) if path.exists() else None
        return path.exists()
    except OSError:
        return False


def served_path(url: str, settings: Settings | None = None) -> Path | None:
    """The file behind a URL that `publish` returned (None for any other URL)."""
    settings = settings or get_settings()
    prefix = settings.data_url + "/"
    if not url.startswith(prefix):
        return None
    name = url.removeprefix(prefix)
    if "/" in name or name.startswith("."):
        return None
    return settings.data_dir / name
