"""Untrusted Markdown (abstracts, bios and descriptions from the data): one renderer, for the
pages (``UntrustedMarkdown.render``: HTML and a summary) and for the search index
(``UntrustedMarkdown.text``: what a reader sees), so the two never disagree.

It goes through comrak (GitHub-flavoured CommonMark in Rust: tables, strikethrough) with
its ``escape`` option, so raw HTML such as ``<script>`` is shown as text, and its URL
filter, which empties ``javascript:`` and the like; such a link or image is then shown as
its text, as is one relative to the page. Headings move below the page's own, and links
are marked as user-supplied.
comrak is six times as fast as markdown-it-py here (``bench/markdown_choice.py``).

Three kinds of text skip comrak: one over ``MARKDOWN_LIMIT`` characters, and one whose
HTML would nest deeper than ``MAX_NESTING`` elements (``>`` a thousand times), are shown
as plain paragraphs, as is a text comrak fails on; a text with nothing ``_MARKUP`` matches
(most abstracts: paragraphs of words) is put in paragraphs directly, comrak's bytes for it.

Raw HTML is escaped by comrak, so every tag in its HTML is comrak's own: the patterns
below read that HTML, never anyone else's.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass

import comrak
from markupsafe import escape

#: Longer text is shown as plain paragraphs: escaping a hostile megabyte takes no time.
MARKDOWN_LIMIT = 100_000
#: Elements nested deeper than this are not shown as Markdown (markdown-it-py's limit, which sitegen used before).
MAX_NESTING = 20
#: Headings in untrusted text start at h3: the page owns h1 and h2.
HEADING_SHIFT = 2
SUMMARY_LENGTH = 160


@dataclass(frozen=True, slots=True)
class RenderedText:
    html: str
    #: Plain text for meta descriptions and feeds, at most SUMMARY_LENGTH characters.
    summary: str


class UntrustedMarkdown:
    """comrak with the options for untrusted text (module docstring)."""

    def __init__(self) -> None:
        self.extensions = comrak.ExtensionOptions()
        self.extensions.table = True
        self.extensions.strikethrough = True
        self.options = comrak.RenderOptions()
        self.options.escape = True

    def render(self, text: str) -> RenderedText:
        """``text`` as HTML to show inside a page, and its summary."""
        if len(text) > MARKDOWN_LIMIT:
            return render_plain(text)
        if _MARKUP.search(text) is None:
            return render_paragraphs(text)
        return self.markdown(text)

    def markdown(self, text: str) -> RenderedText:
        """``render`` through comrak, whatever the text holds."""
        read = self._read(text)
        return RenderedText(read[2], summarize(read[1])) if read is not None else render_plain(text)

    def text(self, text: str) -> str:
        """What a reader sees of ``text``, on one line, for the search index; with one
        departure: a ``__name__`` word (``__init__``) stays as written, where CommonMark
        shows a bold "name": in a talk archive it is a Python name far more often, and
        searching for it must find it."""
        if len(text) > MARKDOWN_LIMIT or _MARKUP.search(text) is None:
            return " ".join(text.split())
        kept = _DUNDER.sub(lambda word: word[0].replace("_", _UNDERSCORE), text.replace(_UNDERSCORE, ""))
        read = self._read(kept)
        return read[1].replace(_UNDERSCORE, "_") if read is not None else " ".join(text.split())

    def _read(self, text: str) -> tuple[int, str, str] | None:
        """comrak's HTML made safe (``_harden``) and read back (``_read_html``), or None when the
        text is to be shown plain."""
        try:
            read = _read_html(_harden(comrak.render_markdown(text, extension_options=self.extensions, render_options=self.options)))
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # noqa: BLE001 - a Rust panic (pyo3's PanicException) is a BaseException
            return None
        return read if read[0] <= MAX_NESTING else None


#: What can make Markdown anything but paragraphs of plain text (CommonMark with tables and
#: strikethrough, raw HTML escaped): inline markup, entities, escapes and what the HTML escapes;
#: control characters, tabs and whitespace but space and newline; a hard break (two spaces
#: before a newline); a byte order mark (comrak drops it); and at a line's start, what can
#: open a block (a list item, a setext underline, a thematic break, an indented code block).
#: A text without any of them is rendered by ``render_paragraphs``, comrak's bytes without
#: calling it (tests/test_content.py holds the two together).
_MARKUP = re.compile(r"[\\`*_~\[\]<>&|#\x00-\x09\x0b-\x1f\x7f-\x9f\ufeff]|[^\S \n]|  \n|^ *(?:[-+=]| {4}|\d{1,9}[.)](?: |$))", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n(?: *\n)+")
#: A ``__name__`` word, and what stands for its underscores while comrak reads the text (a
#: private-use character: no Markdown, and dropped from the text first).
_DUNDER = re.compile(r"(?<!\w)__(?=_*[^\W_])\w*__(?!\w)")
_UNDERSCORE = "\ue000"
#: Every tag comrak writes.
_TAG = re.compile(r"<(/?)([a-z0-9]+)[^>]*>")
_HEADING = re.compile(r"<(/?)h([1-6])>")
#: A link, and an image, as comrak writes them (links do not nest, so the first ``</a>`` closes one).
_LINK = re.compile(r'<a href="([^"]*)"([^>]*)>(.*?)</a>', re.DOTALL)
_IMAGE = re.compile(r'<img src="([^"]*)" alt="([^"]*)"[^>]*>')
#: A URL with a scheme (comrak has emptied the unsafe ones); what has none is relative to the page.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
#: Tags with no closing tag.
_VOID = frozenset(("br", "hr", "img", "input"))
#: Tags whose edges are spaces in the plain text ("a<br />b" is two words, "a<em>b</em>" one).
_SPACED = frozenset("p h1 h2 h3 h4 h5 h6 li td th tr blockquote pre ul ol table thead tbody hr br".split())


def render_paragraphs(text: str) -> RenderedText:
    """A text without ``_MARKUP``: its paragraphs (split at blank lines), each line's
    outer spaces dropped, and ``"`` escaped, as comrak renders it."""
    html = []
    for paragraph in _BLANK_LINES.split(text.strip(" \n")):
        lines = "\n".join(line.strip(" ") for line in paragraph.split("\n")).replace('"', "&quot;")
        html.append(f"<p>{lines}</p>\n")
    return RenderedText("".join(html) if text.strip(" \n") else "", summarize(text))


def render_plain(text: str) -> RenderedText:
    """``text`` as paragraphs of escaped text, Markdown and all."""
    paragraphs = [" ".join(part.split()) for part in text.split("\n\n")]
    html = "".join(f"<p>{escape(part)}</p>\n" for part in paragraphs if part)
    return RenderedText(html, summarize(text))


def summarize(text: str, limit: int = SUMMARY_LENGTH) -> str:
    """Cut plain text at a word boundary to fit ``limit`` characters, marking the cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "…"


def _harden(html: str) -> str:
    """comrak's ``html`` with its headings moved below the page's own and its links marked as
    user-supplied; a link or image that leads nowhere from an archive page is shown as its
    text: one whose URL comrak emptied (``javascript:`` and the like: ``href=""`` would still
    be a link, to the page itself), and one relative to the page (``slides.pdf``, which
    would point into this site, not the speaker's)."""
    html = _HEADING.sub(_demoted, html)
    if "<img " in html:
        html = _IMAGE.sub(lambda image: image[0] if _SCHEME.match(image[1]) else image[2], html)
    if "<a " in html:
        html = _LINK.sub(_link, html)
    return html


def _link(link: re.Match[str]) -> str:
    if not _SCHEME.match(link[1]):
        return link[3]
    return f'<a href="{link[1]}"{link[2]} rel="nofollow ugc noopener">{link[3]}</a>'


def _demoted(match: re.Match[str]) -> str:
    return f"<{match[1]}h{min(6, int(match[2]) + HEADING_SHIFT)}>"


def _read_html(html: str) -> tuple[int, str, str]:
    """How deep comrak's ``html`` nests; its text (what a reader sees, tags gone, on one
    line); and the HTML with any text outside every element put in a paragraph (an HTML
    block, which comrak's ``escape`` shows as text but in no element)."""
    parts: list[str] = []
    shown: list[str] = []
    depth = deepest = pos = 0
    for tag in _TAG.finditer(html):
        text = html[pos : tag.start()]
        parts.append(text)
        shown += (_paragraph(text) if depth == 0 and text and not text.isspace() else text, tag[0])
        pos = tag.end()
        name = tag[2]
        if name in _SPACED:
            parts.append(" ")
        if name not in _VOID:
            depth += -1 if tag[1] else 1
            deepest = max(deepest, depth)
    tail = html[pos:]
    parts.append(tail)
    shown.append(_paragraph(tail) if tail and not tail.isspace() else tail)
    return deepest, " ".join(html_lib.unescape("".join(parts)).split()), "".join(shown)


def _paragraph(text: str) -> str:
    shown = text.lstrip()
    return f"{text[: len(text) - len(shown)]}<p>{shown.rstrip()}</p>\n"
