"""House rules that keep the code base in shape."""

import ast
from pathlib import Path

GEO = Path(__file__).resolve().parent.parent / "geo"


def test_geo_never_imports_streamlit():
    """Except geo/ui.py, the one thin glue module (cached loaders, widgets, URL state)."""
    offenders = []
    for path in GEO.rglob("*.py"):
        if path.name == "ui.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] in {"streamlit", "streamlit_folium"} for n in names):
                offenders.append(path.name)
    assert offenders == []


def test_no_cdn_urls_in_code():
    root = GEO.parent
    files = [*GEO.rglob("*.py"), root / "app.py", *(root / "pages").glob("*.py")]
    for path in files:
        text = path.read_text()
        for host in ("cdn.jsdelivr", "cdnjs.cloudflare", "unpkg.com", "code.jquery", "netdna"):
            if host in text:
                raise AssertionError(f"{path.name} mentions {host}")
