"""Where Leaflet and its plugins' JS/CSS come from: self-hosted, never a CDN.

folium 0.20 links Leaflet, jQuery, Bootstrap, Font Awesome and the plugins from CDNs. With no
internet that is a blank map (and inside ``st_folium`` a zero-height iframe, with no error shown).
So the exact versions are installed from the npm registry (``package.json`` +
``package-lock.json``, ``npm ci``), copied by :func:`install` into ``settings.vendor_dir`` (which
Streamlit serves at ``settings.vendor_url``), and every map is pointed at them by
:func:`localize`. :func:`offline_html` inlines them for self-contained exports.

``ASSET_FILES`` is the one table from folium's asset name to local file; ``ASSET_URLS`` (CDN URL to
local file) is derived from folium's own classes. A URL missing from it is an error, not a silent
CDN link: add the asset's name (and, if needed, a :class:`Source`) here.

Run ``python -m geo.assets install`` after ``npm ci`` (``make setup`` does both).
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

# Files this module writes itself (no upstream package ships them), under vendor_dir/nkmap/.
EMPTY_CSS = "nkmap/empty.css"
ROTATE_CSS = "nkmap/leaflet.awesome.rotate.css"
ICON_PATH_JS = "nkmap/leaflet-icon-path.js"

# folium's name for each asset (the first item of its default_js / default_css pairs) -> the
# file in vendor_dir. The CDN URLs themselves are read from folium's classes (FOLIUM_ELEMENTS),
# so this module holds no CDN address and follows the folium version installed.
ASSET_FILES: dict[str, str] = {
    # folium.Map
    "leaflet": "leaflet/dist/leaflet.js",
    "leaflet_css": "leaflet/dist/leaflet.css",
    "jquery": "jquery/dist/jquery.min.js",
    "bootstrap": "bootstrap/dist/js/bootstrap.bundle.min.js",
    "bootstrap_css": "bootstrap/dist/css/bootstrap.min.css",
    # folium asks for awesome-markers 2.0.2; npm has 2.0.5 (same API, bug fixes).
    "awesome_markers": "leaflet.awesome-markers/dist/leaflet.awesome-markers.js",
    "awesome_markers_css": "leaflet.awesome-markers/dist/leaflet.awesome-markers.css",
    "awesome_markers_font_css": "@fortawesome/fontawesome-free/css/all.min.css",
    # Bootstrap 3 glyphicons only serve folium.Icon(prefix="glyphicon"), folium's default prefix.
    # Our maps use prefix="fa" (Font Awesome, shipped above), and glyphicons are not on npm at a
    # version folium names, so the link resolves to an empty local stylesheet instead of a CDN.
    "glyphicons_css": EMPTY_CSS,
    # folium links this from its GitHub repo but does not ship it in the wheel: we write it.
    "awesome_rotate_css": ROTATE_CSS,
    # plugins.MarkerCluster
    "markerclusterjs": "leaflet.markercluster/dist/leaflet.markercluster.js",
    "markerclustercss": "leaflet.markercluster/dist/MarkerCluster.css",
    "markerclusterdefaultcss": "leaflet.markercluster/dist/MarkerCluster.Default.css",
    # plugins.HeatMap: folium ships this file inside its own package.
    "leaflet-heat.js": "folium/templates/leaflet_heat.min.js",
    # plugins.TimestampedGeoJson
    "jquery3.7.1": "jquery/dist/jquery.min.js",
    # folium asks for jQuery UI 1.10.2, which predates jQuery 3 and is not on npm as a built file;
    # 1.13.3 is the closest release that supports jQuery 3.7 (TimeDimension only needs core UI).
    "jqueryui1.10.2": "jquery-ui/dist/jquery-ui.min.js",
    # The npm package has no minified build; the source file is the same code.
    "iso8601": "iso8601-js-period/iso8601.js",
    "leaflet.timedimension": "leaflet-timedimension/dist/leaflet.timedimension.min.js",
    "moment": "moment/min/moment.min.js",
    # highlight.js styles code blocks; a time-dimension map has none. Nothing to load.
    "highlight.js_css": EMPTY_CSS,
    # Installed patched: its @font-face pulls Glyphicons from a CDN (see _patch_timedimension_css).
    "leaflet.timedimension_css": "leaflet-timedimension/dist/leaflet.timedimension.control.css",
    # plugins.Fullscreen: leaflet.fullscreen 3.0.0 on npm has no .min.js; same code unminified.
    "Control.Fullscreen.js": "leaflet.fullscreen/Control.FullScreen.js",
    "Control.FullScreen.css": "leaflet.fullscreen/Control.FullScreen.css",
}


def _folium_elements() -> tuple[type, ...]:
    from folium import plugins

    return (
        folium.Map,
        plugins.MarkerCluster,
        plugins.HeatMap,
        plugins.TimestampedGeoJson,
        plugins.Fullscreen,
    )


FOLIUM_ELEMENTS: tuple[type, ...] = _folium_elements()

# CDN URL (exactly as the installed folium writes it) -> file in vendor_dir, derived from the
# classes above. A link folium adds that is not here makes localize() fail loudly.
ASSET_URLS: dict[str, str] = {
    url: ASSET_FILES[name]
    for element in FOLIUM_ELEMENTS
    for name, url in (*element.default_js, *element.default_css)
    if name in ASSET_FILES
}


@dataclass(frozen=True)
class Source:
    """Files or folders to copy from one package into ``vendor_dir/<package>/``.

    ``package`` is an npm package in ``node_modules`` or ``"folium"`` (the installed Python
    package). Folders are copied whole: CSS reaches images and fonts by relative ``url()``.
    """

    package: str
    paths: tuple[str, ...]
    transform: dict[str, Callable[[str], str]] | None = None


# Glyphicons Halflings code point -> Font Awesome 6 Free Solid code point with the same meaning.
_GLYPH_TO_FA = {
    "e071": "f04a",  # backward
    "e072": "f04b",  # play
    "e073": "f04c",  # pause
    "e074": "f04d",  # stop
    "e075": "f04e",  # forward
    "e030": "f363",  # repeat -> loop
    "e031": "f021",  # refresh -> arrows-rotate (loading)
    "e141": "f625",  # dashboard -> gauge-high (speed)
}


def _patch_timedimension_css(css: str) -> str:
    """Drop the CDN Glyphicons @font-face; draw the buttons with the local Font Awesome.

    Font Awesome is always on the page: folium.Map links it for every map.
    """
    css, count = re.subn(r"@font-face\s*\{[^}]*Glyphicons Halflings[^}]*\}", "", css)
    if count != 1:
        raise AssetError(
            "leaflet.timedimension.control.css: expected one Glyphicons @font-face to remove, "
            f"found {count}; the package changed, review geo/assets.py"
        )
    css = re.sub(
        r"""font-family:\s*["']Glyphicons Halflings["']\s*;""",
        'font-family: "Font Awesome 6 Free"; font-weight: 900;',
        css,
    )
    for glyph, fa in _GLYPH_TO_FA.items():
        css = css.replace(f'"\\{glyph}"', f'"\\{fa}"')
    return css


SOURCES: tuple[Source, ...] = (
    Source("leaflet", ("dist/leaflet.js", "dist/leaflet.css", "dist/images", "LICENSE")),
    Source("jquery", ("dist/jquery.min.js", "LICENSE.txt")),
    Source(
        "bootstrap",
        ("dist/js/bootstrap.bundle.min.js", "dist/css/bootstrap.min.css", "LICENSE"),
    ),
    Source("@fortawesome/fontawesome-free", ("css/all.min.css", "webfonts", "LICENSE.txt")),
    Source(
        "leaflet.awesome-markers",
        (
            "dist/leaflet.awesome-markers.js",
            "dist/leaflet.awesome-markers.css",
            "dist/images",
            "LICENSE",
        ),
    ),
    Source(
        "leaflet.markercluster",
        (
            "dist/leaflet.markercluster.js",
            "dist/MarkerCluster.css",
            "dist/MarkerCluster.Default.css",
            "MIT-LICENCE.txt",
        ),
    ),
    Source(
        "leaflet-timedimension",
        ("dist/leaflet.timedimension.min.js", "dist/leaflet.timedimension.control.css"),
        transform={"dist/leaflet.timedimension.control.css": _patch_timedimension_css},
    ),
    Source("iso8601-js-period", ("iso8601.js",)),
    Source("moment", ("min/moment.min.js", "LICENSE")),
    Source("jquery-ui", ("dist/jquery-ui.min.js", "LICENSE.txt")),
    Source(
        "leaflet.fullscreen",
        ("Control.FullScreen.js", "Control.FullScreen.css", "icon-fullscreen.svg", "LICENSE"),
    ),
    Source("folium", ("templates/leaflet_heat.min.js",)),
)


def _rotate_css() -> str:
    # folium.Icon(angle=N) adds class "fa-rotate-N" to the icon; Font Awesome only defines 90/180/
    # 270, so this supplies every whole degree (what folium's hosted stylesheet is for).
    rules = [f".fa-rotate-{n}{{transform:rotate({n}deg)}}" for n in range(360)]
    return (
        "/* nkmap: rotation classes for folium.Icon(angle=...); written by geo/assets.py */\n"
        ".awesome-marker i[class*='fa-rotate-']{display:inline-block}\n" + "\n".join(rules) + "\n"
    )


# Leaflet 1.9.3 guesses its default marker image folder from leaflet.css. st_folium appends the
# stylesheets after running the scripts, so the guess falls back to the <link> href, drops
# "/images/" and every default marker is a broken image (404 .../leaflet/distmarker-icon.png).
# This script, loaded right after Leaflet by localize(), names the folder next to itself.
_ICON_PATH_JS = """/* nkmap: where Leaflet's default marker images are; written by geo/assets.py */
(function () {
  var me = document.currentScript;
  if (window.L && L.Icon && L.Icon.Default && me && me.src) {
    L.Icon.Default.imagePath = new URL("../leaflet/dist/images/", me.src).href;
  }
})();
"""

GENERATED: dict[str, Callable[[], str]] = {
    ICON_PATH_JS: lambda: _ICON_PATH_JS,
    EMPTY_CSS: lambda: (
        "/* nkmap: intentionally empty. folium links a CDN stylesheet this app does not use\n"
        "   (Bootstrap 3 glyphicons, highlight.js); see ASSET_URLS in geo/assets.py. */\n"
    ),
    ROTATE_CSS: _rotate_css,
}

_OPTIONAL = {"LICENSE", "LICENSE.txt", "MIT-LICENCE.txt"}


def _package_dir(package: str, settings: Settings) -> Path:
    if package == "folium":
        import folium  # the installed Python package ships some plugin files itself

        return Path(folium.__file__).resolve().parent
    return settings.root / "node_modules" / package


def _check_package(source: Source, settings: Settings) -> Path:
    """The package's folder, after checking it is installed at the version package.json pins."""
    pkg_dir = _package_dir(source.package, settings)
    fix = f"run `npm ci` in {settings.root}" if source.package != "folium" else "reinstall folium"
    if not pkg_dir.is_dir():
        raise AssetError(f"web asset package {source.package!r} is not installed ({fix})")
    if source.package == "folium":
        return pkg_dir
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
    """Copy every vendor file the map needs from node_modules (and folium) into vendor_dir.

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
                elif source.transform and rel in source.transform:
                    dest.write_text(source.transform[rel](src.read_text("utf-8")), "utf-8")
                else:
                    shutil.copy2(src, dest)
        for rel, make in GENERATED.items():
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            (staging / rel).write_text(make(), "utf-8")
        for rel in sorted(set(ASSET_URLS.values())):
            if not (staging / rel).is_file():
                raise AssetError(f"ASSET_URLS names {rel}, which no Source installs")
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


def localize(element: Any, mode: Mode = "served", settings: Settings | None = None) -> Any:
    """Point every JS/CSS link of a folium map (or Figure) and its descendants at vendor_dir.

    ``mode="served"``: URLs under ``settings.vendor_url`` (Streamlit static serving, st_folium).
    ``mode="file"``: ``file://`` URLs into ``settings.vendor_dir`` (an HTML file opened locally).
    Sets instance-level ``default_js`` / ``default_css``; folium's class attributes are left
    alone. Idempotent. Raises AssetError naming the element class and the URL for any link that
    has no local copy. Returns the element.
    """
    settings = settings or get_settings()
    base = _base_url(mode, settings)

    def local(node: Any, url: str) -> str:
        rel = _local_path_of(url, settings)
        if rel is None:
            raise AssetError(
                f"{type(node).__name__} links {url}, which has no local copy; "
                "add it to ASSET_FILES in geo/assets.py"
            )
        return f"{base}/{rel}"

    roots = [element]
    get_root = getattr(element, "get_root", None)
    if callable(get_root) and get_root() is not element:
        roots.append(get_root())
    maps = []
    for root in roots:
        for node in _walk(root):
            if isinstance(node, folium.Map):
                maps.append(node)
            for attr in ("default_js", "default_css"):
                links = getattr(node, attr, None)
                if links:
                    setattr(node, attr, [(name, local(node, url)) for name, url in links])
            # Links already rendered into a Figure header (a map rendered before localize()).
            url = getattr(node, "url", None)
            if type(node).__name__ in {"JavascriptLink", "CssLink"} and isinstance(url, str):
                node.url = local(node, url)
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
    # Browsers use the first font format they support; every browser we target takes woff2,
    # so the TrueType fallbacks would only triple the size of the export.
    css = re.sub(r""",\s*url\([^)]*\.ttf\)\s*format\(["']truetype["']\)""", "", css)

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
    """A self-contained HTML document of the map: every JS/CSS inlined, fonts/images as data:.

    Localizes the map (mode "served") as a side effect. Raises AssetError if a vendor file is
    missing (run ``python -m geo.assets install``) or if anything would still be fetched from
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
            raise AssetError(f"{path} is missing; run `python -m geo.assets install`")
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
    """``python -m geo.assets install``: copy vendor files into place; prints where."""
    parser = argparse.ArgumentParser(prog="python -m geo.assets", description=__doc__)
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
