"""Where the data come from: layer sources and accuracy, the build manifest, the SOURCES files,
and who the stored events rest on. Read by the Sources page; pure reads, no UI.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from geo.errors import LayerError, NkMapError
from geo.layers import LAYER_NAMES, LAYER_TITLES, load_layer
from geo.schema import VERIFICATION
from geo.settings import Settings, get_settings

ATTRIBUTION = (
    "Made with Natural Earth (public domain). GeoNames data © GeoNames, licensed under "
    "CC BY 4.0. Lakes and rivers: GSHHG / WDBII by P. Wessel and W. H. F. Smith (LGPL). "
    "Leaflet © Volodymyr Agafonkin and contributors (BSD-2-Clause)."
)
NOT_GIVEN = "(not given)"

# "Reuters, 2020-10-11", "Human Rights Watch report, December 2020", "…, 9/10 Nov 2020".
_TRAILING_DATE = re.compile(
    r",\s*(\d{4}-\d{2}(-\d{2})?|[0-9/]*\s*[A-Z][a-z]+\.?\s+\d{4}|\d{4})\s*$",
)


def _source_files(settings: Settings) -> dict[str, Path]:
    return {
        "data/boundaries/SOURCES.md": settings.boundaries_dir / "SOURCES.md",
        "data/basemap/SOURCES.md": settings.basemap_dir / "SOURCES.md",
        "data/events/SOURCES.md": settings.events_dir / "SOURCES.md",
    }


def sources_markdown(settings: Settings | None = None) -> dict[str, str]:
    """The project's own SOURCES.md files, keyed by their place in the repository."""
    settings = settings or get_settings()
    out = {}
    for label, path in _source_files(settings).items():
        try:
            out[label] = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise NkMapError(f"cannot read {label} at {path}: {exc.strerror}") from exc
    return out


def build_manifest(settings: Settings | None = None) -> dict:
    """The source versions and feature counts of the last builds: data/boundaries/manifest.json
    (`make boundaries`) and data/basemap/manifest.json (`make basemap`) in one dict, their
    "layers" counts merged."""
    settings = settings or get_settings()
    merged: dict = {"layers": {}}
    for folder, target in (
        (settings.boundaries_dir, "boundaries"),
        (settings.basemap_dir, "basemap"),
    ):
        path = folder / "manifest.json"
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise LayerError(
                f"build manifest missing: {path} (rebuild with `make {target}`)"
            ) from exc
        except json.JSONDecodeError as exc:
            raise LayerError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from exc
        merged["layers"].update(manifest.pop("layers", {}))
        merged.update(manifest)
    return merged


def manifest_versions(manifest: dict) -> pd.DataFrame:
    """The manifest's source versions (every top-level entry but the layer counts)."""
    items = [(k, str(v)) for k, v in manifest.items() if k != "layers"]
    return pd.DataFrame(items, columns=["source", "version"])


def layer_provenance(settings: Settings | None = None) -> pd.DataFrame:
    """One row per reference layer and distinct (source, accuracy) pair.

    Columns: `layer`, `title`, `source`, `accuracy`, `features` (how many features carry that
    pair), `layer_features` (the layer's total), `manifest_features` (what the last build
    wrote, <NA> if the manifest does not say). Layers in `LAYER_NAMES` order.
    """
    settings = settings or get_settings()
    counts = build_manifest(settings).get("layers", {})
    parts = []
    for name in LAYER_NAMES:
        gdf = load_layer(name, settings)
        frame = pd.DataFrame(
            {
                col: gdf[col].astype("string").fillna(NOT_GIVEN)
                if col in gdf
                else pd.Series(NOT_GIVEN, index=gdf.index, dtype="string")
                for col in ("source", "accuracy")
            }
        )
        pairs = frame.groupby(["source", "accuracy"], sort=False).size().reset_index()
        pairs.columns = ["source", "accuracy", "features"]
        pairs.insert(0, "title", LAYER_TITLES[name])
        pairs.insert(0, "layer", name)
        pairs["layer_features"] = len(gdf)
        pairs["manifest_features"] = pd.array([counts.get(name)] * len(pairs), dtype="Int64")
        parts.append(pairs)
    return pd.concat(parts, ignore_index=True)


def publisher(source: str) -> list[str]:
    """The publishers a `source` cell names: "Reuters, 2020-10-11; BBC, 2020-10-11" ->
    ["Reuters", "BBC"] (the trailing report date of each part dropped)."""
    parts = (p.strip() for p in str(source).split(";"))
    return [_TRAILING_DATE.sub("", p).strip() for p in parts if p]


def events_by_publisher(events: pd.DataFrame, top: int = 30) -> pd.DataFrame:
    """Events per publisher, most first (ties by name), at most `top` rows.

    An event citing two publishers counts for each. Columns `publisher`, `events`.
    """
    if "source" not in events:
        raise NkMapError("events need a 'source' column")
    return publishers_of(events["source"].value_counts(), top)


def publishers_of(source_counts: pd.Series, top: int = 30) -> pd.DataFrame:
    """`events_by_publisher` from the number of events per distinct `source` text (as the
    store counts them, without reading the events)."""
    totals: dict[str, int] = {}
    for source, n in source_counts.items():
        if source is None or source is pd.NA or (isinstance(source, float) and pd.isna(source)):
            continue
        # dict.fromkeys: each publisher counted once per event, even when cited twice.
        for name in dict.fromkeys(publisher(str(source))):
            if name:
                totals[name] = totals.get(name, 0) + int(n)
    out = pd.DataFrame({"publisher": list(totals), "events": list(totals.values())})
    out = out.sort_values(["events", "publisher"], ascending=[False, True], kind="stable")
    return out.head(top).reset_index(drop=True).astype({"publisher": "string", "events": "int64"})


def events_by_verification(events: pd.DataFrame) -> pd.DataFrame:
    """Events per verification code (every code listed, blanks as "(not given)")."""
    if "verification" not in events:
        raise NkMapError("events need a 'verification' column")
    return verifications_of(events["verification"].value_counts(dropna=False))


def verifications_of(counts: pd.Series) -> pd.DataFrame:
    """`events_by_verification` from the number of events per verification value (None or
    NA for a blank)."""
    totals: dict[str, int] = {}
    for value, n in counts.items():
        key = NOT_GIVEN if value is None or pd.isna(value) else str(value)
        totals[key] = totals.get(key, 0) + int(n)
    order = [*VERIFICATION, *sorted(set(totals) - set(VERIFICATION))]
    out = pd.DataFrame(
        {
            "verification": order,
            "meaning": [VERIFICATION.get(v, "") for v in order],
            "events": [totals.get(v, 0) for v in order],
        }
    )
    return out.astype({"verification": "string", "meaning": "string"})
