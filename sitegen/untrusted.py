"""Untrusted Markdown's renderer and what is read back from its HTML (``sitegen.content``
renders with them): comrak's options, the headings and links made safe to show inside a
page, and the HTML's depth and text.

Raw HTML in the text is escaped by comrak, so every tag in its HTML is comrak's own:
the patterns below read that HTML, never anyone else's.
"""

from __future__ import annotations

import html as html_lib
import re

import comrak

#: Headings in untrusted text start at h3: the page owns h1 and h2.
HEADING_SHIFT = 2


class UntrustedMarkdown:
    """comrak's options for untrusted text: CommonMark plus tables and strikethrough, raw
    HTML shown as text (``escape``), unsafe URLs (``javascript:``) dropped (comrak's default)."""

    def __init__(self) -> None:
        self.extensions = comrak.ExtensionOptions()
        self.extensions.table = True
        self.extensions.strikethrough = True
        self.render = comrak.RenderOptions()
        self.render.escape = True

    def html(self, text: str) -> str:
        return comrak.render_markdown(text, extension_options=self.extensions, render_options=self.render)


#: Elements nested deeper than this in untrusted text are not shown as Markdown (markdown-it-py's limit, which sitegen used before).
MAX_NESTING = 20
#: Every tag comrak writes: raw HTML is escaped, so each one is comrak's own.
_TAG = re.compile(r"<(/?)([a-z0-9]+)[^>]*>")
_HEADING = re.compile(r"<(/?)h([1-6])>")
_LINK = re.compile(r"(<a [^>]*)>")
#: A link or image with an emptied URL (links do not nest, so the first ``</a>`` closes it).
_EMPTIED_LINK = re.compile(r'<a href=""[^>]*>(.*?)</a>', re.DOTALL)
_EMPTIED_IMAGE = re.compile(r'<img src="" alt="([^"]*)"[^>]*>')
#: Tags with no closing tag.
_VOID = frozenset(("br", "hr", "img", "input"))
#: Tags whose edges are spaces in the plain text ("a<br />b" is two words, "a<em>b</em>" one).
_SPACED = frozenset("p h1 h2 h3 h4 h5 h6 li td th tr blockquote pre ul ol table thead tbody hr br".split())


def harden(html: str) -> str:
    """comrak's ``html`` with its headings moved below the page's own, its links marked as
    user-supplied, and the links and images whose URL comrak emptied (``javascript:`` and
    the like) shown as their text: an ``href=""`` would still be a link, to the page itself."""
    if ' href=""' in html or ' src=""' in html:
        html = _EMPTIED_IMAGE.sub(r"\1", _EMPTIED_LINK.sub(r"\1", html))
    return _LINK.sub(r'\1 rel="nofollow ugc noopener">', _HEADING.sub(_demoted, html))


def _demoted(match: re.Match[str]) -> str:
    return f"<{match[1]}h{min(6, int(match[2]) + HEADING_SHIFT)}>"


def read_html(html: str) -> tuple[int, str, str]:
    """How deep comrak's ``html`` nests; its text (what a reader sees, tags gone); and the
    HTML with any text outside every element put in a paragraph (an HTML block, which
    comrak's ``escape`` shows as text but in no element)."""
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
