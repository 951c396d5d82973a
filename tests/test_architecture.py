"""House rules that keep the code base in shape (docs/architecture.md)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GEO = REPO / "geo"
PAGES = [REPO / "app.py", *sorted((REPO / "app_pages").glob("*.py"))]
PAGE_BUDGET = 80

# core <- store <- places <- ingest <- map <- briefing <- ui, cli: a module imports only from
# its own package or from a package with a lower level.
CORE = {
    "schema",
    "errors",
    "settings",
    "text",
    "region",
    "view",
    "auth",
    "layers",
    "provenance",
    "proximity",
    "export",
}
LEVEL = {
    "store": 1,
    "places": 2,
    "ingest": 3,
    "extract": 4,
    "map": 4,
    "briefing": 5,
    "ui": 6,
    "cli": 6,
}


def _unit(module: str) -> str:
    """`geo.map.build` -> "map"; `geo.schema` -> "schema" (a core module)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _level(unit: str) -> int:
    if unit in CORE or unit == "":
        return 0
    if unit not in LEVEL:
        raise AssertionError(f"geo.{unit} has no place in the plan: add it to docs/architecture.md")
    return LEVEL[unit]


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _geo_imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names if a.name.startswith("geo.")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "geo":
                names += [f"geo.{a.name}" for a in node.names]
            elif node.module.startswith("geo."):
                names.append(node.module)
    return names


def test_every_module_has_a_place_in_the_plan():
    for path in GEO.rglob("*.py"):
        unit = _unit(_module_name(path))
        if unit:
            _level(unit)


def test_imports_go_one_way():
    wrong = []
    for path in GEO.rglob("*.py"):
        me = _unit(_module_name(path))
        for target in _geo_imports(path):
            other = _unit(target)
            if other == me or other == "":
                continue
            if _level(other) > _level(me) or (
                _level(other) == _level(me) and _level(me) > 0 and me != other
            ):
                wrong.append(f"{_module_name(path)} imports {target}")
    assert wrong == []


def test_only_geo_store_touches_sql():
    sql = re.compile(
        r"\b(import sqlite3|sqlite3\.|psycopg|SELECT\s+\S.*\s+FROM\s|INSERT\s+INTO\s|"
        r"CREATE\s+(TABLE|INDEX)|DELETE\s+FROM\s|UPDATE\s+\w+\s+SET\s)"
    )
    offenders = [
        str(path.relative_to(REPO))
        for path in GEO.rglob("*.py")
        if "store" not in path.relative_to(GEO).parts[:1]
        and sql.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_only_geo_ui_imports_streamlit():
    offenders = []
    for path in GEO.rglob("*.py"):
        if path == GEO / "ui.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] in {"streamlit", "streamlit_folium"} for n in names):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def test_pages_are_thin():
    fat = {
        p.name: n
        for p in PAGES
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > PAGE_BUDGET
    }
    assert fat == {}, f"pages over {PAGE_BUDGET} lines: move logic into geo/ (geo/ui.py glue)"


def test_no_cdn_urls_in_code():
    for path in [*GEO.rglob("*.py"), *PAGES]:
        text = path.read_text(encoding="utf-8")
        for host in ("cdn.jsdelivr", "cdnjs.cloudflare", "unpkg.com", "code.jquery", "netdna"):
            if host in text:
                raise AssertionError(f"{path.name} mentions {host}")


def test_map_scripts_and_styles_hold_no_template_opener():
    """branca renders every element's output through Jinja a second time: a "{{", "{%" or
    "{#" in our own JS or CSS would be evaluated (or break every map)."""
    files = [*GEO.rglob("*.js"), *GEO.rglob("*.css")]
    assert files, "the map's scripts and stylesheet were not found"
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\{[{%#]", text), path


def test_importing_the_map_patches_nothing():
    """Reusing compiled templates is the dashboard's opt-in (geo.ui), not a side effect."""
    code = (
        "import jinja2, geo.map, geo.briefing; "
        "assert not getattr(jinja2.Environment.compile, '_nk_cached', False)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
