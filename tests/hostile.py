"""Hostile text for the "data is never code" tests: template, Markdown and HTML payloads.

Each payload carries a marker (``PRB``); where a template engine evaluated it, the text that
engine would produce is listed in ``EVALUATED`` and must never appear in any output.
"""

from __future__ import annotations

import os

from geo.schema import FREE_TEXT_COLUMNS

PAYLOADS: dict[str, str] = {
    "jinja_expression": "PRB{{ 6*7 }}PRB",
    "jinja_statement": "PRB{% if true %}LIVE{% endif %}PRB",
    "jinja_comment": "PRB{# hidden #}PRB",
    "jinja_unmatched": "PRB{{ unclosed PRB",
    "jinja_closers": "PRB }} %} #} PRB",
    "jinja_escape_attempt": "PRB{{ cycler.__init__.__globals__.os.getcwd() }}PRB",
    "js_template_literal": "PRB${6*7}PRB`",
    "ruby_interpolation": "PRB#{6*7}PRB",
    "script_close": "</script><script>window.__nkXss=1</script>",
    "html_img": '<img src=x onerror="window.__nkXss=2">',
    "html_attribute": '"><svg onload=window.__nkXss=3>',
    "javascript_url": "javascript:window.__nkXss=4",
    "markdown_image": "![pixel](http://203.0.113.9/pixel.png)",
    "markdown_link": "[click me](javascript:window.__nkXss=5)",
    "markdown_emphasis": "**PRB** _PRB_ :red[PRB] $PRB$",
    "rtl_override": "PRB\u202eLIVE\u202cPRB",
    "backslash": "PRB\\u003cPRB\\",
    "braces_in_json": 'PRB{"a":{"b":1}}PRB',
}
# What an evaluation of the payloads would leave behind (none of it may appear anywhere).
EVALUATED = ("PRB42PRB", "PRBLIVEPRB", "PRBPRB", f"PRB{os.getcwd()}PRB")
# Not storable (refused at import), but pages and exports must still show it as text.
NUL = "PRB\x00PRB"

TEXT_COLUMNS = FREE_TEXT_COLUMNS  # every column of the source's own words


def hostile_rows(day: str = "2020-10-02") -> list[dict[str, object]]:
    """One event per payload, the payload in every free-text column (events at one point
    each, a few hundred metres apart, in Karabakh)."""
    rows = []
    for i, (name, text) in enumerate(PAYLOADS.items()):
        row: dict[str, object] = {c: text for c in TEXT_COLUMNS}
        row.update(
            event_id=f"hostile-{name}",
            event_date=day,
            event_type="shelling",
            latitude=39.80 + i * 0.004,
            longitude=46.75,
            geo_precision=1,
            time_precision=1,
        )
        rows.append(row)
    return rows


def assert_inert(text: str) -> None:
    """No payload was evaluated in `text`."""
    for result in EVALUATED:
        assert result not in text, f"a template was evaluated: {result!r} in the output"
