"""Briefing exports: a view as PNG, PDF, self-contained HTML or a data pack (`snapshot`), or a
series of them (`series`). The briefing page and `nkmap snapshot` call the same functions."""

from geo.briefing.render import (
    FORMATS,
    FRAMES,
    MAX_LABELS,
    WHOLE_REGION,
    RenderError,
    SnapshotOptions,
    briefing_html,
    default_title,
    frame_of,
    permalink,
    snapshot,
)
from geo.briefing.series import periods, series

__all__ = [
    "FORMATS",
    "FRAMES",
    "MAX_LABELS",
    "WHOLE_REGION",
    "RenderError",
    "SnapshotOptions",
    "briefing_html",
    "default_title",
    "frame_of",
    "periods",
    "permalink",
    "series",
    "snapshot",
]
