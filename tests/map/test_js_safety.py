"""No event text reaches an HTML sink in our JavaScript: a fast check, no browser.

Event text (notes, places, sources) is uploaded by users. In the browser it must only ever be
set as text (``textContent``, DOM nodes); a string that reaches an HTML sink is parsed as
markup. This module scans, with a small JavaScript tokenizer (comments, strings, template
literals and regular expressions are told apart, so a sink named in a comment or a string
does not count):

- every ``*.js`` file under ``geo/`` (``geo/js/events.js`` today), and
- every JavaScript template held in a Python string under ``geo/`` (folium/branca templates),

for these sinks:

- ``x.innerHTML = …``, ``x.outerHTML = …``, ``x.srcdoc = …`` (also ``+=`` and
  ``x["innerHTML"] = …``): the value must be string literals only (``'<svg …>' + '…'``);
- ``insertAdjacentHTML(…)``, ``document.write(…)``/``writeln``, ``createContextualFragment(…)``,
  ``setHTMLUnsafe(…)``: every argument must be string literals only;
- Leaflet's ``bindPopup``/``bindTooltip``/``setContent``/``setPopupContent``/
  ``setTooltipContent``, which put a *string* argument into ``innerHTML``: the argument must
  not be built from strings (a literal mixed with names, ``+``, or a template literal with
  ``${…}``). A variable that holds a string cannot be told from a DOM node by a tokenizer;
  that case is left to the browser tests (tests/browser/test_hostile_browser.py).

In Python templates, a string literal that holds a Jinja ``{{ … }}``/``{% … %}`` or an
f-string field is not a literal: Python fills it in.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GEO = REPO / "geo"

PROPERTY_SINKS = {"innerHTML", "outerHTML", "srcdoc"}
CALL_SINKS = {"insertAdjacentHTML", "createContextualFragment", "setHTMLUnsafe"}
DOCUMENT_SINKS = {"write", "writeln"}
LEAFLET_SINKS = {"bindPopup", "bindTooltip", "setContent", "setPopupContent", "setTooltipContent"}
ALL_SINKS = PROPERTY_SINKS | CALL_SINKS | DOCUMENT_SINKS | LEAFLET_SINKS
# A Python value filled into a template; never a literal.
PY_FIELD = "\x00py-field\x00"


@dataclass(frozen=True)
class Token:
    kind: str  # name, num, str, tmpl, regex, punct
    text: str
    line: int
    nl_before: bool  # a line break between this token and the previous one
    subst: bool = False  # a template literal with ${...}


_PUNCT = re.compile(
    r">>>=|\.\.\.|===|!==|\*\*=|<<=|>>=|>>>|&&=|\|\|=|\?\?=|=>|==|!=|<=|>=|&&|\|\||\?\?|\?\."
    r"|\+\+|--|\*\*|[+\-*/%&|^]=|<<|>>|[{}()\[\];,<>+\-*/%&|^!~?:=.@#]"
)
_NAME = re.compile(r"[A-Za-z_$\u00c0-\uffff][\w$\u00c0-\uffff]*")
_NUMBER = re.compile(r"\d[\w.]*|\.\d[\w]*")
# After these, a `/` starts a regular expression, not a division.
_REGEX_AFTER_NAMES = {"return", "typeof", "instanceof", "in", "of", "new", "delete", "void"}
_REGEX_AFTER_NAMES |= {"throw", "case", "do", "else", "yield", "await"}


class _Lexer:
    """Tokens of JavaScript source. Lenient: an unterminated string ends at the line's end."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.pos = 0
        self.line = 1
        self.tokens: list[Token] = []
        self._nl = False

    def _add(self, kind: str, text: str, line: int, subst: bool = False) -> None:
        self.tokens.append(Token(kind, text, line, self._nl, subst))
        self._nl = False

    def _regex_allowed(self) -> bool:
        if not self.tokens:
            return True
        prev = self.tokens[-1]
        if prev.kind in ("num", "str", "tmpl", "regex"):
            return False
        if prev.kind == "name":
            return prev.text in _REGEX_AFTER_NAMES
        return prev.text not in (")", "]", "}")

    def _quoted(self, quote: str) -> str:
        src, i = self.src, self.pos + 1
        while i < len(src) and src[i] != quote and src[i] != "\n":
            i += 2 if src[i] == "\\" else 1
        end = min(i + 1, len(src)) if i < len(src) and src[i] == quote else i
        return src[self.pos : end]

    def _regex(self) -> str:
        src, i, in_class = self.src, self.pos + 1, False
        while i < len(src) and src[i] != "\n":
            c = src[i]
            if c == "\\":
                i += 2
                continue
            if c == "[":
                in_class = True
            elif c == "]":
                in_class = False
            elif c == "/" and not in_class:
                i += 1
                break
            i += 1
        while i < len(src) and (src[i].isalnum() or src[i] == "_"):
            i += 1
        return src[self.pos : i]

    def _template(self) -> None:
        """A template literal; the expressions in ${...} are tokenized in place."""
        start, line = self.pos, self.line
        src, i, subst = self.src, self.pos + 1, False
        while i < len(src) and src[i] != "`":
            if src[i] == "\\":
                i += 2
            elif src.startswith("${", i):
                subst = True
                self.line += src.count("\n", start, i)
                start = i
                self.pos = i + 2
                inner = self._lex(until_brace=True)
                i = self.pos
                self.tokens.extend(inner)
            else:
                i += 1
        self.line += src.count("\n", start, i)
        self.pos = min(i + 1, len(src))
        self._add("tmpl", src[start : self.pos], line, subst)

    def _lex(self, until_brace: bool = False) -> list[Token]:
        outer, self.tokens = self.tokens, []
        saved_nl, self._nl = self._nl, False
        depth = 0
        src = self.src
        while self.pos < len(src):
            c = src[self.pos]
            if c == "\n":
                self.line += 1
                self._nl = True
                self.pos += 1
            elif c.isspace():
                self.pos += 1
            elif src.startswith("//", self.pos):
                end = src.find("\n", self.pos)
                self.pos = len(src) if end < 0 else end
            elif src.startswith("/*", self.pos):
                end = src.find("*/", self.pos + 2)
                end = len(src) if end < 0 else end + 2
                self.line += src.count("\n", self.pos, end)
                self._nl = self._nl or "\n" in src[self.pos : end]
                self.pos = end
            elif c in "'\"":
                text = self._quoted(c)
                self._add("str", text, self.line)
                self.pos += len(text)
            elif c == "`":
                self._template()
            elif c == "/" and self._regex_allowed():
                text = self._regex()
                self._add("regex", text, self.line)
                self.pos += len(text)
            elif m := _NAME.match(src, self.pos):
                self._add("name", m.group(), self.line)
                self.pos = m.end()
            elif m := _NUMBER.match(src, self.pos):
                self._add("num", m.group(), self.line)
                self.pos = m.end()
            elif m := _PUNCT.match(src, self.pos):
                text = m.group()
                if until_brace and text == "}":
                    if depth == 0:
                        self.pos = m.end()
                        break
                    depth -= 1
                elif until_brace and text == "{":
                    depth += 1
                self._add("punct", text, self.line)
                self.pos = m.end()
            else:  # a character JavaScript has no use for here (e.g. in a Jinja tag): skip it
                self.pos += 1
        inner, self.tokens, self._nl = self.tokens, outer, saved_nl
        return inner


def tokenize(src: str) -> list[Token]:
    return _Lexer(src)._lex()


# An expression goes on across a line break after (or before) one of these.
_CONTINUES = {"+", "-", "*", "/", "%", "?", ":", ".", "?.", ",", "(", "[", "{", "=", "+="}
_CONTINUES |= {"&&", "||", "??", "==", "===", "!=", "!==", "<", ">", "<=", ">="}
_OPEN, _CLOSE = {"(": ")", "[": "]", "{": "}"}, {")", "]", "}"}


def _expression(tokens: list[Token], start: int) -> list[Token]:
    """The tokens of the expression that starts at `start` (to `;`, `,`, a closing bracket or
    a line break that ends the statement)."""
    out: list[Token] = []
    depth = 0
    for i in range(start, len(tokens)):
        tok = tokens[i]
        if depth == 0:
            if tok.kind == "punct" and tok.text in (";", ",") or tok.text in _CLOSE:
                break
            if tok.nl_before and out:
                prev = out[-1]
                continues = prev.kind == "punct" and prev.text in _CONTINUES
                if not continues and not (tok.kind == "punct" and tok.text in _CONTINUES):
                    break
        if tok.kind == "punct" and tok.text in _OPEN:
            depth += 1
        elif tok.kind == "punct" and tok.text in _CLOSE:
            depth -= 1
        out.append(tok)
    return out


def _arguments(tokens: list[Token], open_paren: int) -> list[list[Token]]:
    """The arguments of the call whose `(` is at `open_paren`."""
    args: list[list[Token]] = [[]]
    depth = 0
    for tok in tokens[open_paren + 1 :]:
        if tok.kind == "punct" and tok.text in _OPEN:
            depth += 1
        elif tok.kind == "punct" and tok.text in _CLOSE:
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and tok.kind == "punct" and tok.text == ",":
            args.append([])
            continue
        args[-1].append(tok)
    return [a for a in args if a]


def _is_literal_string(tok: Token, template: bool) -> bool:
    literal = not tok.subst if tok.kind == "tmpl" else tok.kind == "str"
    if literal and template:  # Python fills these in
        literal = PY_FIELD not in tok.text and "{{" not in tok.text and "{%" not in tok.text
    return literal


def literal_only(expr: list[Token], template: bool = False) -> bool:
    """Only string literals, `+` and parentheses: static markup, no data in it."""
    strings = [t for t in expr if t.kind in ("str", "tmpl")]
    return bool(strings) and all(
        _is_literal_string(t, template) or (t.kind == "punct" and t.text in "+()") for t in expr
    )


def builds_a_string(expr: list[Token], template: bool = False) -> bool:
    """Markup made from strings: literals mixed with anything else, `+`, or `${...}`."""
    if literal_only(expr, template):
        return False
    return any(t.kind in ("str", "tmpl") or (t.kind == "punct" and t.text == "+") for t in expr)


def html_sink_findings(src: str, template: bool = False) -> list[str]:
    """Every place in `src` (JavaScript) where a non-literal value reaches an HTML sink.

    `template`: `src` is a Python-held template, in which `{{ }}`/`{% %}` and f-string fields
    inside string literals are values, not literals.
    """
    tokens = tokenize(src)
    findings: list[str] = []

    def where(tok: Token, what: str) -> str:
        return f"line {tok.line}: {what}"

    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        prev = tokens[i - 1] if i > 0 else None
        # x.innerHTML = ... / x["innerHTML"] = ...
        sink = None
        if tok.kind == "name" and tok.text in PROPERTY_SINKS and prev and prev.text in (".", "?."):
            sink, after = tok.text, i + 1
        elif (
            tok.kind == "str"
            and tok.text[1:-1] in PROPERTY_SINKS
            and prev is not None
            and prev.text == "["
            and nxt is not None
            and nxt.text == "]"
        ):
            sink, after = tok.text[1:-1], i + 2
        if sink is not None and after < len(tokens):
            op = tokens[after]
            if op.kind == "punct" and op.text in ("=", "+="):
                value = _expression(tokens, after + 1)
                if not literal_only(value, template):
                    text = " ".join(t.text for t in value)
                    findings.append(where(tok, f"{sink} {op.text} {text}"))
            continue
        # calls: name(...) preceded by "."
        if tok.kind != "name" or tok.text not in ALL_SINKS or nxt is None or nxt.text != "(":
            continue
        if prev is None or prev.text not in (".", "?."):
            continue
        args = _arguments(tokens, i + 1)
        shown = ", ".join(" ".join(t.text for t in a) for a in args)
        if tok.text in DOCUMENT_SINKS:
            obj = tokens[i - 2] if i >= 2 else None
            if obj is None or obj.text != "document":
                continue
        if tok.text in LEAFLET_SINKS:
            if args and builds_a_string(args[0], template):
                findings.append(where(tok, f"{tok.text}({shown}) with markup built from strings"))
        elif not all(literal_only(a, template) for a in args):
            findings.append(where(tok, f"{tok.text}({shown})"))
    return findings


# --------------------------------------------------------------- JavaScript held in Python

_SINK_HINT = re.compile("|".join(sorted(ALL_SINKS)))


def python_js_strings(source: str) -> list[tuple[int, str]]:
    """(line, text) of each string in a Python module that names an HTML sink.

    An f-string's fields become PY_FIELD, so a value filled in by Python is never a literal.
    """
    tree = ast.parse(source)
    parts_of_fstrings: set[int] = set()
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = ""
            for part in node.values:
                parts_of_fstrings.add(id(part))
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    text += part.value
                else:
                    text += PY_FIELD
            if _SINK_HINT.search(text):
                out.append((node.lineno, text))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in parts_of_fstrings
            and _SINK_HINT.search(node.value)
        ):
            out.append((node.lineno, node.value))
    return out


def python_template_findings(source: str) -> list[str]:
    findings = []
    for line, text in python_js_strings(source):
        for found in html_sink_findings(text, template=True):
            found = found.replace(PY_FIELD, "{python}")
            findings.append(f"string at line {line}, its {found}")
    return findings


def _rel(path: Path) -> str:
    return str(path.relative_to(REPO))


JS_FILES = sorted(GEO.rglob("*.js"))
PY_FILES = sorted(GEO.rglob("*.py"))


# ------------------------------------------------------------------------- the real code


def test_the_javascript_files_are_found():
    # The scan below must not pass by scanning nothing (e.g. after the JS moves).
    names = {p.name for p in JS_FILES}
    assert {"events.js", "timecontrol.js", "places.js"} <= names, [_rel(p) for p in JS_FILES]


@pytest.mark.parametrize("path", JS_FILES, ids=_rel)
def test_javascript_files_put_no_data_into_html_sinks(path):
    assert html_sink_findings(path.read_text(encoding="utf-8")) == []


def test_javascript_templates_in_python_assign_only_literal_markup():
    findings = {}
    for path in PY_FILES:
        if found := python_template_findings(path.read_text(encoding="utf-8")):
            findings[_rel(path)] = found
    assert findings == {}


# ------------------------------------------------------------------------ the checker itself

BAD_JS = [
    "td.innerHTML = f.label;",
    'el.innerHTML = "<b>" + name + "</b>";',
    "el.innerHTML += row;",
    "el.outerHTML = `<i>${text}</i>`;",
    'el["innerHTML"] = text;',
    "frame.srcdoc = page;",
    'el.insertAdjacentHTML("beforeend", row);',
    'el.insertAdjacentHTML("beforeend", "<td>" + e.notes + "</td>");',
    'document.write("<p>" + x);',
    "document.writeln(text)",
    "range.createContextualFragment(markup)",
    'layer.bindPopup("<b>" + e.notes + "</b>");',
    "tip.setContent(`${e.location}`);",
    "marker.bindTooltip(name + ' (' + count + ')')",
    # over several lines, the data on the last one
    "div.innerHTML = '<svg width=\"30\">' +\n  '<text>' +\n  label + '</text></svg>';",
    # the line break ends `x = a`, the next statement is the sink
    "var x = a\nel.innerHTML = x",
    "el?.innerHTML = (cond ? a : '')",
    # a group popup whose heading is markup built from the count
    "L.popup().setContent(n > 1 ? '<b>' + n + ' events</b>' : node).openOn(map);",
    "summary.innerHTML = place + ' \u00b7 ' + source;",
]

GOOD_JS = [
    'el.innerHTML = "";',
    "div.innerHTML = '<svg width=\"30\">' +\n  '<text>N</text></svg>';\nreturn div;",
    "el.innerHTML = `<b>static</b>`",
    "if (el.innerHTML === x) { el.textContent = x; }",
    "var html = el.innerHTML;",
    "// el.innerHTML = x\n/* el.outerHTML = y */ el.textContent = z;",
    "var s = \"el.innerHTML = x\"; var t = 'document.write(x)';",
    "var re = /innerHTML = x/g; var q = a / b; el.textContent = q;",
    "tip.setContent(node).setLatLng(e.latlng);",
    "popup.setContent(popupNode(this.data, i)).openOn(map);",
    "writer.write(text); stream.writeln(x);",
    'el.insertAdjacentHTML("beforeend", "<hr>");',
    "var t = `a ${b} c`; el.textContent = t;",
    # the group popup: DOM nodes filled with textContent, handed to Leaflet as a node
    "var node = many ? groupPopupNode(d, members) : popupNode(d, i);\n"
    "L.popup({ maxWidth: 400 }).setLatLng(at).setContent(node).openOn(map);",
    "span.textContent = text; summary.appendChild(span);",
]


@pytest.mark.parametrize("src", BAD_JS)
def test_the_checker_flags_data_in_an_html_sink(src):
    assert html_sink_findings(src), f"not flagged: {src!r}"


@pytest.mark.parametrize("src", GOOD_JS)
def test_the_checker_lets_text_and_literal_markup_pass(src):
    assert html_sink_findings(src) == []


def test_the_checker_reads_javascript_held_in_python_strings():
    module = '''
from branca.element import Template

ARROW = Template("""
{% macro script(this, kwargs) %}
div.innerHTML = '<svg role="img">' +
  '<text>N</text></svg>';
{% endmacro %}
""")
LABEL = Template("""
{% macro script(this, kwargs) %}
div.innerHTML = '<b>{{ this.label }}</b>';
{% endmacro %}
""")
def popup(name):
    return f"marker.bindPopup('<b>{name}</b>');"
def note(text):
    return "el.innerHTML = " + text  # a Python-built JS statement: the string alone is wrong
"""Docstrings may say innerHTML in prose, it's fine."""
'''
    assert sorted(python_template_findings(module)) == [
        "string at line 10, its line 3: innerHTML = '<b>{{ this.label }}</b>'",
        "string at line 16, its line 1: bindPopup('<b>{python}</b>') with markup built from "
        "strings",
        "string at line 18, its line 1: innerHTML = ",
    ]
