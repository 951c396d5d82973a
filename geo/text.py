"""User text made safe for each place it is written: HTML, JSON inside <script>, Markdown.

Event text, file names and query parameters are data. Each output path calls one of these and
nothing renders the result again as a template:

- `escape_text`: HTML text and attribute values (Leaflet's innerHTML, tooltips, legend rows).
- `script_safe_json`: JSON placed inside a <script> element.
- `escape_markdown`: the few places that are Markdown files (a data pack's README).

Why braces matter: branca (under folium) renders every element's output through Jinja a
second time (`MacroElement.render` wraps it in a new Template), so a `{{ ... }}` that reached
a map as plain text would be evaluated on the server.
"""

from __future__ import annotations

import html
import json
import re

_MORE_ENTITIES = str.maketrans(
    {"`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;", "}": "&#125;"}
)


def escape_text(value: object) -> object:
    """HTML-escape a string for innerHTML, JS template literals and Jinja; others pass."""
    if not isinstance(value, str):
        return value
    return html.escape(value, quote=True).translate(_MORE_ENTITIES)


_SCRIPT_ESCAPES = (
    # Inside <script>, "</script>" or "<!--" would end or change the element; JSON allows
    # these escapes. "`" and "$" are escaped too, so the text is inert even if some wrapper
    # ever put the script in a JS template literal; U+2028/2029 for older parsers.
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("`", "\\u0060"),
    ("$", "\\u0024"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)
# In compact JSON a structural "{" is always followed by '"' or "}", so a "{" followed by
# "{", "%" or "#" (Jinja's openers) lies inside a string, where \u007b is the same character.
_JINJA_OPENER = re.compile(r"\{(?=[{%#])")


def script_safe_json(obj: object) -> str:
    """Compact JSON of `obj` that is inert inside <script> and inside a Jinja template."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for char, escape in _SCRIPT_ESCAPES:
        text = text.replace(char, escape)
    return _JINJA_OPENER.sub(r"\\u007b", text)


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")


def escape_markdown(text: str) -> str:
    """`text` with every Markdown special backslash-escaped, so a value like
    `![x](http://host/)` shows as typed and never becomes an image or a link."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)
