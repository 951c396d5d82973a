"""A report's plain text and its sentences, with character offsets into that text.

Bytes are decoded as an uploaded CSV is (geo.ingest.read.decode: Latin-1 and Azerbaijani
Windows-1254 files read right). HTML is reduced to its visible text with the standard
library's parser (scripts, styles and navigation dropped, block elements as line breaks);
nothing in it is rendered or run. Sentences come from pysbd's rule-based segmenter, which
knows "Oct. 1", "U.S." and "Mr." and gives each sentence's span, so a candidate's evidence is a
pair of offsets into the text the user sees.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser

from geo.errors import InputError
from geo.ingest.read import decode

# Enough for any report; a bigger paste is a mistake (a whole site, a PDF's bytes).
MAX_REPORT_CHARS = 200_000

_BLOCK = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
    "section", "article", "blockquote", "header", "footer", "pre", "dd", "dt", "figcaption",
}  # fmt: skip
_HIDDEN = {"script", "style", "noscript", "template", "nav", "svg", "head", "iframe", "form"}


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCK:
            self.parts.append("\n\n" if tag != "br" else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def looks_like_html(text: str) -> bool:
    head = text[:2000].lstrip().lower()
    return head.startswith(("<!doctype html", "<html")) or bool(
        re.search(r"<(p|div|article|body|br)\b[^>]*>", head)
    )


def html_to_text(markup: str) -> str:
    """The visible text of an HTML page, one blank line between blocks."""
    parser = _TextOf()
    parser.feed(markup)
    parser.close()
    text = html.unescape("".join(parser.parts))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def normalise_text(text: str) -> str:
    """Unix line ends, no trailing spaces, no control characters: the text offsets refer to."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    text = "".join(ch for ch in text if ch in "\n\t" or ch >= " ")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def report_text(data: bytes | str, name: str = "report") -> str:
    """The plain text of a report given as bytes or text, plain or HTML.

    Raises InputError (naming the file) for bytes that are not text or a report too long to be
    one."""
    if isinstance(data, bytes):
        if b"\x00" in data[:4096]:
            raise InputError("this is not a text or HTML file", column="file", value=name)
        try:  # the upload's own decoding: UTF-8, then Windows-1252/1254, then a detector
            data, _ = decode(data)
        except InputError as exc:
            raise InputError(exc.reason, column="file", value=name) from None
    if len(data) > MAX_REPORT_CHARS:
        raise InputError(
            f"a report may be at most {MAX_REPORT_CHARS:,} characters; this one has {len(data):,}",
            column="file",
            value=name,
        )
    text = html_to_text(data) if looks_like_html(data) else data
    return normalise_text(text)


@dataclass(frozen=True)
class Sentence:
    start: int  # offsets into the report text: text[start:end] is the sentence
    end: int
    text: str
    paragraph: int


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def _blocks(text: str) -> list[tuple[int, int, int]]:
    """(start, end, paragraph) of each run of lines read as one. A blank line starts a new
    paragraph; within a paragraph a line break ends the block (a dateline, a heading, a
    one-sentence line) unless the next line goes on in lower case or the line ends in a comma
    or hyphen, as hard-wrapped text does."""
    blocks: list[tuple[int, int, int]] = []
    lines, offset = [], 0
    for line in text.split("\n"):
        lines.append((offset, offset + len(line)))
        offset += len(line) + 1
    paragraph, start, end, prev_blank = 0, None, 0, False
    for k, (a, b) in enumerate(lines):
        line = text[a:b]
        if not line.strip():
            if start is not None:
                blocks.append((start, end, paragraph))
                start = None
            prev_blank = True
            continue
        if prev_blank and blocks:
            paragraph += 1
        prev_blank = False
        if start is None:
            start = a
        end = b
        following = text[slice(*lines[k + 1])] if k + 1 < len(lines) else ""
        goes_on = following[:1].islower() or line.rstrip().endswith((",", "-", "\u2013"))
        if not goes_on or not following.strip():
            blocks.append((start, end, paragraph))
            start = None
    if start is not None:
        blocks.append((start, end, paragraph))
    return blocks


def sentences(text: str) -> list[Sentence]:
    """The report's sentences in order, with the paragraph each belongs to."""
    out: list[Sentence] = []
    for start, end, paragraph in _blocks(text):
        block = text[start:end].replace("\n", " ")  # same length: offsets still hold
        for span in _segmenter().segment(block):
            raw = span.sent
            stripped = raw.strip()
            if not stripped:
                continue
            first = start + span.start + (len(raw) - len(raw.lstrip()))
            out.append(Sentence(first, first + len(stripped), stripped, paragraph))
    return out
