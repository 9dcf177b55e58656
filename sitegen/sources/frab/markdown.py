"""HTML in schedule descriptions and bios, as the Markdown it means.

The content stage renders abstracts as Markdown with raw HTML shown as text,
which is safe but shows frab's HTML descriptions as tags. So HTML is turned
into the Markdown it means here: paragraphs, line breaks, list items and
http(s) links survive; other tags go, and <script> and <style> with their
content. Its text is escaped, so none of it becomes Markdown by accident.
Text without tags is taken as Markdown already (pretalx writes Markdown)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from sitegen.sources.frab.values import _web_url

#: A tag of the kinds schedules use: text without one is taken as Markdown (pretalx writes Markdown).
_HTML_TAG_RE = re.compile(
    r"</?(?:p|br|div|span|a|ul|ol|li|em|strong|b|i|u|h[1-6]|script|style|img|table|tr|td|th|pre|code|blockquote|hr)\b[^>]*>",
    re.IGNORECASE,
)
#: Characters that mean something in Markdown anywhere in a line (tables and strikethrough are on).
_MARKDOWN_INLINE_RE = re.compile(r"([\\`*_\[\]<>#&|~])")
#: What starts a list, a heading underline or a thematic break at the start of a line.
_MARKDOWN_LINE_START_RE = re.compile(r"\d+[.)]|[-+=]")


def _markdown(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    if not _HTML_TAG_RE.search(value):
        return value.strip()
    converter = _HtmlToMarkdown()
    converter.feed(value)
    converter.close()
    return converter.markdown() or None


def _escape_markdown(text: str, *, line_start: bool = False) -> str:
    """``text`` as Markdown that shows it as it is (CommonMark shows a backslash-escaped
    punctuation character as itself); ``line_start``: the text starts a line."""
    escaped = _MARKDOWN_INLINE_RE.sub(r"\\\1", text)
    marker = _MARKDOWN_LINE_START_RE.match(escaped) if line_start else None
    if marker is None:
        return escaped
    at = marker.end() - 1  # the marker character: "." of "1." or the "-"
    return f"{escaped[:at]}\\{escaped[at:]}"


class _HtmlToMarkdown(HTMLParser):
    _BLOCKS = frozenset(
        {
            "p",
            "div",
            "section",
            "article",
            "blockquote",
            "pre",
            "table",
            "tr",
            "ul",
            "ol",
            "dl",
            "dt",
            "dd",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "hr",
        }
    )
    _HIDDEN = frozenset({"script", "style", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0  # open <script>/<style> elements
        self.line_start = True  # whether the next text starts a line, where list and heading markers count
        self.link: tuple[str, int] | None = None  # the open <a>'s href and where its text starts in out

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self.hidden += 1
        elif tag in self._BLOCKS:
            self.emit("\n\n")
        elif tag == "br":
            self.emit("\\\n")  # a hard line break in CommonMark
        elif tag == "li":
            self.emit("\n- ")  # items on consecutive lines: a tight list, as HTML shows it
        elif tag == "a":
            href = _web_url(dict(attrs).get("href"))
            self.link = (href, len(self.out)) if href and not re.search(r"[<>\s]", href) else None

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif tag in self._BLOCKS:
            self.emit("\n\n")
        elif tag == "a" and self.link is not None:
            href, at = self.link
            text = " ".join("".join(self.out[at:]).replace("\\\n", " ").split())
            del self.out[at:]
            self.out.append(f"[{text or _escape_markdown(href)}](<{href}>)")
            self.link, self.line_start = None, False

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        text = re.sub(r"\s+", " ", data)  # HTML's whitespace: any run is one space
        if self.line_start:
            text = text.lstrip()
            if text:
                self.out.append(_escape_markdown(text, line_start=True))
                self.line_start = False
        else:
            self.out.append(_escape_markdown(text))

    def emit(self, markup: str) -> None:
        self.out.append(markup)
        self.line_start = True

    def markdown(self) -> str:
        lines = (line.strip() for line in "".join(self.out).split("\n"))
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
