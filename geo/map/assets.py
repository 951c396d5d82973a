"""Leaflet, self-hosted: the one web library nkmap's maps load, and never from a CDN.

folium 0.20 links Leaflet from a CDN, and every ``folium.Map`` also links jQuery, Bootstrap,
Font Awesome and Leaflet.awesome-markers. With no internet a CDN link is a blank map (inside
``st_folium`` a zero-height iframe, with no error shown). nkmap's maps need Leaflet alone: the
vector basemap, GeoJSON layers, canvas circles and DivIcon labels are Leaflet, and the events,
time control and legend are our own JS/CSS, written into the page by ``geo.map.build``. So:

- :func:`leaflet_only` drops every other link folium.Map adds (``build_map`` does the same);
- Leaflet, at the exact version ``package.json`` / ``package-lock.json`` pin (``npm ci``), is
  copied by :func:`install` into ``settings.vendor_dir``, which Streamlit serves at
  ``settings.vendor_url``;
- :func:`localize` points a map's Leaflet links at those copies, and fails loudly
  (AssetError, naming the element and the link) on any other link: a plugin or a CDN library is
  a decision to make here (npm package, :data:`SOURCES`, :data:`ASSET_FILES`), not a silent
  dependency on the internet;
- :func:`offline_html` inlines them for self-contained exports (``geo.briefing.render``).

Run ``python -m geo.map.assets install`` after ``npm ci`` (``make setup`` does both).
"""

from __future__ import annotations

import argparse
import base64
import json
import mimetypes
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Literal

import folium
from folium.elements import JSCSSMixin
from folium.template import Template

from geo.errors import AssetError
from geo.settings import Settings, get_settings

Mode = Literal["served", "file"]

# folium's name for each asset this app loads (the first item of folium.Map's default_js /
# default_css pairs) -> the file in vendor_dir. The CDN URLs are read from folium.Map itself
# (ASSET_URLS), so this module holds no CDN address and follows the folium version installed.
ASSET_FILES: dict[str, str] = {
    "leaflet": "leaflet/dist/leaflet.js",
    "leaflet_css": "leaflet/dist/leaflet.css",
}

# CDN URL (exactly as the installed folium writes it) -> file in vendor_dir.
ASSET_URLS: dict[str, str] = {
    url: ASSET_FILES[name]
    for name, url in (*folium.Map.default_js, *folium.Map.default_css)
    if name in ASSET_FILES
}

# Written by this module (no upstream package ships it), under vendor_dir.
ICON_PATH_JS = "nkmap/leaflet-icon-path.js"


@dataclass(frozen=True)
class Source:
    """Files or folders to copy from an npm package in node_modules into vendor_dir/<package>/.

    Folders are copied whole: CSS reaches its images by relative ``url()``.
    """

    package: str
    paths: tuple[str, ...]


SOURCES: tuple[Source, ...] = (
    # dist/images: the layer control's and default marker's images, named by leaflet.css.
    Source("leaflet", ("dist/leaflet.js", "dist/leaflet.css", "dist/images", "LICENSE")),
)

# Leaflet 1.9.3 guesses its default marker image folder from leaflet.css. st_folium appends the
# stylesheets after running the scripts, so the guess falls back to the <link> href, drops
# "/images/" and every default marker is a broken image (404 .../leaflet/distmarker-icon.png).
# This script, loaded right after Leaflet by localize(), names the folder next to itself.
_ICON_PATH_JS = """/* nkmap: where Leaflet's default marker images are (geo/map/assets.py) */
(function () {
  var me = document.currentScript;
  if (window.L && L.Icon && L.Icon.Default && me && me.src) {
    L.Icon.Default.imagePath = new URL("../leaflet/dist/images/", me.src).href;
  }
})();
"""

GENERATED: dict[str, Callable[[], str]] = {ICON_PATH_JS: lambda: _ICON_PATH_JS}

_OPTIONAL = {"LICENSE"}


def _check_package(source: Source, settings: Settings) -> Path:
    """The package's folder, after checking it is installed at the version package.json pins."""
    pkg_dir = settings.root / "node_modules" / source.package
    fix = f"run `npm ci` in {settings.root}"
    if not pkg_dir.is_dir():
        raise AssetError(f"web asset package {source.package!r} is not installed ({fix})")
    manifest = settings.root / "package.json"
    if manifest.is_file():
        wanted = json.loads(manifest.read_text("utf-8")).get("dependencies", {})
        have = json.loads((pkg_dir / "package.json").read_text("utf-8")).get("version")
        if source.package in wanted and wanted[source.package] != have:
            raise AssetError(
                f"web asset package {source.package!r} is at {have}, package.json pins "
                f"{wanted[source.package]} ({fix})"
            )
    return pkg_dir


def _remote_css_refs(css: str) -> list[str]:
    """``url(...)`` / ``@import`` targets in CSS text that point off the machine."""
    refs = []
    for match in re.finditer(r"""url\(\s*(['"]?)([^'")]*)\1\s*\)""", css):
        refs.append(match.group(2).strip())
    for match in re.finditer(r"""@import\s+(?:url\()?\s*['"]?([^'")\s;]+)""", css):
        refs.append(match.group(1).strip())
    return [ref for ref in refs if _is_remote(ref)]


def _is_remote(ref: str) -> bool:
    return bool(re.match(r"(?i)^\s*(https?:)?//", ref))


def install(settings: Settings | None = None) -> list[Path]:
    """Copy every vendor file the map needs from node_modules into vendor_dir.

    The new tree is built in a temporary folder next to ``vendor_dir`` and renamed into place,
    so a half-copied tree is never served. Returns the installed files (sorted).
    Raises AssetError naming the package and the fix when node_modules lacks something, or when
    an installed stylesheet would still fetch anything from the internet.
    """
    settings = settings or get_settings()
    vendor_dir = settings.vendor_dir
    package_dirs = [_check_package(source, settings) for source in SOURCES]
    vendor_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{vendor_dir.name}-new-", dir=vendor_dir.parent))
    try:
        for source, pkg_dir in zip(SOURCES, package_dirs, strict=True):
            for rel in source.paths:
                src = pkg_dir / rel
                dest = staging / source.package / rel
                if not src.exists():
                    if rel in _OPTIONAL:
                        continue
                    raise AssetError(
                        f"web asset package {source.package!r} lacks {rel} "
                        f"(run `npm ci` in {settings.root})"
                    )
                dest.parent.mkdir(parents=True, exist_ok=True)
                if src.is_dir():
                    shutil.copytree(src, dest)
                else:
                    shutil.copy2(src, dest)
        for rel, make in GENERATED.items():
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            (staging / rel).write_text(make(), "utf-8")
        for rel in sorted(set(ASSET_FILES.values())):
            if not (staging / rel).is_file():
                raise AssetError(f"ASSET_FILES names {rel}, which no Source installs")
        for css_file in staging.rglob("*.css"):
            remote = _remote_css_refs(css_file.read_text("utf-8"))
            if remote:
                raise AssetError(
                    f"{css_file.relative_to(staging)} still loads {remote[0]} from the internet"
                )
        _swap_into_place(staging, vendor_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(p for p in vendor_dir.rglob("*") if p.is_file())


def _swap_into_place(staging: Path, vendor_dir: Path) -> None:
    old = None
    if vendor_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{vendor_dir.name}-old-", dir=vendor_dir.parent))
        old.rmdir()
        vendor_dir.rename(old)
    staging.rename(vendor_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Pointing maps at the local copies


def leaflet_only(leaflet_map: folium.Map) -> folium.Map:
    """Drop every link folium.Map adds besides Leaflet's JS and CSS (on the instance only).

    Call before the map is first rendered: a render copies the links into the page header,
    where localize() would then refuse them.
    """
    leaflet_map.default_js = [(n, u) for n, u in leaflet_map.default_js if n in ASSET_FILES]
    leaflet_map.default_css = [(n, u) for n, u in leaflet_map.default_css if n in ASSET_FILES]
    return leaflet_map


def _base_url(mode: Mode, settings: Settings) -> str:
    if mode == "served":
        return settings.vendor_url.rstrip("/")
    if mode == "file":
        return settings.vendor_dir.resolve().as_uri()
    raise ValueError(f"mode must be 'served' or 'file', not {mode!r}")


def _walk(element: Any) -> Iterator[Any]:
    """The element and all its descendants (iteratively: maps can have 10,000s of children)."""
    seen: set[int] = set()
    stack = [element]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        children = getattr(node, "_children", None)
        if children:
            stack.extend(reversed(list(children.values())))
        # Figure keeps header/html/script as attributes, not children.
        for part in ("header", "html", "script"):
            sub = getattr(node, part, None)
            if sub is not None and hasattr(sub, "_children"):
                stack.append(sub)


def _local_path_of(url: str, settings: Settings) -> str | None:
    """The vendor-relative path for a CDN URL or an already-localized URL, else None."""
    if url in ASSET_URLS:
        return ASSET_URLS[url]
    known = set(ASSET_URLS.values()) | set(GENERATED)
    for mode in ("served", "file"):
        prefix = _base_url(mode, settings) + "/"  # type: ignore[arg-type]
        if url.startswith(prefix) and url[len(prefix) :] in known:
            return url[len(prefix) :]
    return None


# The links folium.Map adds that nkmap does not load (jQuery, Bootstrap, Font Awesome,
# awesome-markers, ...), read from folium so that the refusal can say where they come from.
_MAP_EXTRAS = {n for n, _ in (*folium.Map.default_js, *folium.Map.default_css)} - set(ASSET_FILES)


def _refuse(owner: str, name: str, url: str) -> AssetError:
    if name in _MAP_EXTRAS:
        fix = (
            "folium.Map adds it by default, so call geo.map.assets.leaflet_only(map) before "
            "the map is rendered or localized (build_map does)"
        )
    else:
        fix = (
            "draw with Leaflet alone, or self-host it: its npm package in package.json, "
            "a Source and its name in ASSET_FILES (geo/map/assets.py)"
        )
    return AssetError(
        f"{owner} links {name!r} from {url}: refused, nkmap's maps load only Leaflet from "
        f"the self-hosted vendor folder (a CDN link is a blank map offline); {fix}"
    )


def localize(element: Any, mode: Mode = "served", settings: Settings | None = None) -> Any:
    """Point the Leaflet links of a folium map (or Figure) and its descendants at vendor_dir.

    ``mode="served"``: URLs under ``settings.vendor_url`` (Streamlit static serving, st_folium).
    ``mode="file"``: ``file://`` URLs into ``settings.vendor_dir`` (an HTML file opened locally).
    Sets instance-level ``default_js`` / ``default_css``; folium's class attributes are left
    alone. Idempotent. Returns the element.

    Raises AssetError, naming the element and the link, for any link that is not Leaflet's
    (for folium.Map's own extras: call :func:`leaflet_only` first), and for a ``folium.Icon``,
    which draws with awesome-markers and Font Awesome.
    """
    settings = settings or get_settings()
    base = _base_url(mode, settings)

    def local(owner: str, name: str, url: str) -> str:
        rel = _local_path_of(url, settings)
        if rel is None:
            raise _refuse(owner, name, url)
        return f"{base}/{rel}"

    roots = [element]
    get_root = getattr(element, "get_root", None)
    if callable(get_root) and get_root() is not element:
        roots.append(get_root())
    maps = []
    for root in roots:
        for node in _walk(root):
            owner = type(node).__name__
            if isinstance(node, folium.Map):
                maps.append(node)
            if isinstance(node, folium.Icon):
                raise AssetError(
                    "folium.Icon draws with Leaflet.awesome-markers, Font Awesome and Bootstrap, "
                    "which nkmap's maps do not load; use folium.DivIcon or folium.CircleMarker"
                )
            for attr in ("default_js", "default_css"):
                links = getattr(node, attr, None)
                if links:
                    setattr(node, attr, [(n, local(owner, n, url)) for n, url in links])
            # Links already rendered into a Figure's header (a map rendered before localize()).
            header = getattr(node, "header", None)
            for n, link in getattr(header, "_children", {}).items():
                url = getattr(link, "url", None)
                if type(link).__name__ in {"JavascriptLink", "CssLink"} and isinstance(url, str):
                    link.url = local(f"{type(link).__name__} in the page header", n, url)
    for leaflet_map in maps:
        icon_path = _LeafletIconPath()
        icon_path.default_js = [("nkmap_leaflet_icon_path", f"{base}/{ICON_PATH_JS}")]
        # A fixed name: localizing again replaces the child instead of adding another.
        leaflet_map.add_child(icon_path, name="nkmap_leaflet_icon_path")
    return element


class _LeafletIconPath(JSCSSMixin):
    """Loads ICON_PATH_JS after Leaflet (see _ICON_PATH_JS); renders nothing itself."""

    _template = Template("")


# ---------------------------------------------------------------------------------------------
# Self-contained HTML

_SCRIPT_SRC = re.compile(
    r"""<script\b[^>]*\bsrc=(["'])(?P<url>[^"']*)\1[^>]*>\s*</script\s*>""", re.I
)
_CSS_LINK = re.compile(r"""<link\b[^>]*\bhref=(["'])(?P<url>[^"']*)\1[^>]*>""", re.I)


def escape_inline_js(js: str) -> str:
    """JS made safe to sit between ``<script>`` and ``</script>``.

    ``</script`` would end the element early and ``<!--`` can switch the HTML parser into a
    mode where ``</script>`` no longer ends it. Both are rewritten to JS-equivalent spellings
    (valid inside strings, regular expressions and comments, where they occur in practice).
    """
    js = re.sub(r"(?i)</script", lambda m: "<\\/" + m.group(0)[2:], js)
    return js.replace("<!--", "\\x3C!--")


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css(css_path: Path, vendor_dir: Path) -> str:
    css = css_path.read_text("utf-8")

    def replace(match: re.Match[str]) -> str:
        ref = match.group(2).strip()
        if not ref or ref.startswith(("data:", "#")) or _is_remote(ref):
            return match.group(0)  # remote ones are caught by the final check
        target = (css_path.parent / re.split(r"[?#]", ref)[0]).resolve()
        if not target.is_relative_to(vendor_dir.resolve()) or not target.is_file():
            raise AssetError(f"{css_path.name} refers to {ref}, not found in {vendor_dir}")
        return f'url("{_data_uri(target)}")'

    css = re.sub(r"""url\(\s*(['"]?)([^'")]*)\1\s*\)""", replace, css)
    if re.search(r"(?i)</style", css):
        raise AssetError(f"{css_path.name} contains '</style' and cannot be inlined")
    return css


def _icon_default_fix(vendor_dir: Path) -> str:
    # Leaflet finds its default marker images through the CSS url(); with data: URIs that
    # detection yields a broken path, so hand the images to L.Icon.Default directly.
    images = vendor_dir / "leaflet" / "dist" / "images"
    opts = {
        "iconUrl": _data_uri(images / "marker-icon.png"),
        "iconRetinaUrl": _data_uri(images / "marker-icon-2x.png"),
        "shadowUrl": _data_uri(images / "marker-shadow.png"),
    }
    return f"L.Icon.Default.imagePath = '';\nL.Icon.Default.mergeOptions({json.dumps(opts)});\n"


class _ExternalRefFinder(HTMLParser):
    """Collects src/href targets of loading tags and url()/@import targets of inline CSS."""

    _LOADING = {"script", "link", "img", "iframe", "source", "embed", "object", "audio", "video"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            loads = tag in self._LOADING and name in {"src", "href", "data", "srcset"}
            if loads and _is_remote(value):
                self.refs.append(f"<{tag} {name}={value}>")
            if name == "style":
                self.refs.extend(_remote_css_refs(value))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.refs.extend(_remote_css_refs(data))


def external_refs(html: str) -> list[str]:
    """Every reference in an HTML document that a browser would fetch from another machine.

    Looks at src/href of loading tags and url()/@import in CSS; text, links (``<a>``) and
    script bodies are not references.
    """
    finder = _ExternalRefFinder()
    finder.feed(html)
    finder.close()
    return finder.refs


def offline_html(element: Any, settings: Settings | None = None) -> str:
    """A self-contained HTML document of the map: every JS/CSS inlined, images as data: URIs.

    Localizes the map (mode "served") as a side effect. Raises AssetError if a vendor file is
    missing (run ``python -m geo.map.assets install``) or if anything would still be fetched from
    the internet.
    """
    settings = settings or get_settings()
    localize(element, "served", settings)
    html = element.get_root().render()
    vendor_dir = settings.vendor_dir
    prefix = _base_url("served", settings) + "/"

    def vendor_file(url: str) -> Path | None:
        if not url.startswith(prefix):
            return None
        path = vendor_dir / url[len(prefix) :]
        if not path.is_file():
            raise AssetError(f"{path} is missing; run `python -m geo.map.assets install`")
        return path

    def script(match: re.Match[str]) -> str:
        path = vendor_file(match.group("url"))
        if path is None:
            return match.group(0)
        js = path.read_text("utf-8")
        js = re.sub(r"(?m)^//# sourceMappingURL=.*$", "", js)
        if path.name == "leaflet.js":
            js += "\n" + _icon_default_fix(vendor_dir)
        return f"<script>/* {path.relative_to(vendor_dir)} */\n{escape_inline_js(js)}\n</script>"

    def stylesheet(match: re.Match[str]) -> str:
        if not re.search(r"""\brel=(["']?)stylesheet\1""", match.group(0), re.I):
            return match.group(0)
        path = vendor_file(match.group("url"))
        if path is None:
            return match.group(0)
        css = _inline_css(path, vendor_dir)
        css = re.sub(r"/\*# sourceMappingURL=.*?\*/", "", css)
        return f"<style>/* {path.relative_to(vendor_dir)} */\n{css}\n</style>"

    html = _SCRIPT_SRC.sub(script, html)
    html = _CSS_LINK.sub(stylesheet, html)
    remote = external_refs(html)
    if remote:
        raise AssetError(f"offline HTML still loads from the internet: {', '.join(remote[:5])}")
    return html


def main(argv: list[str] | None = None) -> int:
    """``python -m geo.map.assets install``: copy vendor files into place; prints where."""
    parser = argparse.ArgumentParser(prog="python -m geo.map.assets", description=__doc__)
    parser.add_argument("command", choices=["install"])
    args = parser.parse_args(argv)
    if args.command == "install":
        try:
            files = install()
        except AssetError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"installed {len(files)} files into {get_settings().vendor_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
