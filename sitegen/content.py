"""The content stage: Markdown, rendered once.

Two kinds of Markdown come in, and they are trusted differently:

* Text from the API (abstracts, bios, descriptions) is untrusted. It goes
  through ``sitegen.untrusted`` (comrak, raw HTML shown as text, unsafe links
  shown as their text). Each text is rendered once, when a page first asks for it.
* Pages under ``content/pages/`` are written by the site's editors. They go
  through Python-Markdown with the usual extensions (tables, fenced code, a
  table of contents), raw HTML allowed, and carry TOML (``+++``) or YAML
  (``---``) front matter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitegen.bounded import read_file_bounded, shown
from sitegen.config import TYPE_NAMES
from sitegen.contract import SLUG_RE
from sitegen.errors import ContentError, Problem
from sitegen.frontmatter import parse_front_matter
from sitegen.model import Archive
from sitegen.untrusted import MARKDOWN_LIMIT, RenderedText, UntrustedMarkdown

#: A page template is a file name in the theme's templates/ folder.
TEMPLATE_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*(/[A-Za-z0-9_][A-Za-z0-9_-]*)*\.html")
#: The largest Markdown page file read: a page is text someone wrote.
MAX_PAGE_BYTES = 16 * 1024 * 1024
PAGE_KEYS = {"title": str, "description": str, "template": str, "menu": bool, "weight": int, "draft": bool}


class Texts:
    """Rendered Markdown fields of archive objects, each rendered on first use
    and kept for the rest of the build.

    Rendering on demand means an incremental build renders only the texts of
    the pages it re-renders, and parallel workers each render the texts of
    their own pages. Ids are unique only per type, so the key includes the
    object's type. ``earlier``: the texts of an earlier build of this process
    (``sitegen serve``), reused where the text is the same.
    """

    def __init__(self, earlier: Texts | None = None) -> None:
        self._md = UntrustedMarkdown()
        #: By key: the text, and what it rendered to.
        self._rendered: dict[tuple[str, str, str], tuple[str | None, RenderedText | None]] = {}
        self._earlier: dict[tuple[str, str, str], tuple[str | None, RenderedText | None]] = (
            {**earlier._earlier, **earlier._rendered} if earlier is not None else {}
        )

    def of(self, obj: Any, field: str) -> RenderedText | None:
        key = _text_key(obj, field)
        found = self._rendered.get(key)
        if found is None:
            text = getattr(obj, field)
            found = self._earlier.get(key)
            if found is None or found[0] != text:
                found = (text, self._render(text))
            self._rendered[key] = found
        return found[1]

    def _render(self, text: str | None) -> RenderedText | None:
        return self._md.render(text) if text else None


def _text_key(obj: Any, field: str) -> tuple[str, str, str]:
    return (type(obj).__name__, obj.id, field)


@dataclass(frozen=True, slots=True)
class Page:
    """A Markdown page from content/pages."""

    #: For messages only; not shown, so not an input of the page (render.digest skips it).
    source: Path = field(metadata={"shown": False})
    #: Path below the site root, without slashes at either end ("about", "about/team").
    path: str
    title: str
    description: str
    template: str
    menu: bool
    weight: int
    html: str


@dataclass(frozen=True)
class ContentResult:
    texts: Texts
    pages: tuple[Page, ...]
    warnings: tuple[Problem, ...] = ()


def build_content(archive: Archive, content_dir: Path, earlier: Texts | None = None) -> ContentResult:
    """The archive's texts (rendered as pages ask for them; ``earlier``: an earlier build's, reused) and the Markdown pages."""
    texts, warnings = render_archive_texts(archive, earlier)
    return ContentResult(texts, load_pages(content_dir / "pages"), warnings)


# ---------------------------------------------------------------------------
# Untrusted text from the API


#: Every Markdown field of the archive, as (collection, objects, field name).
def _text_fields(archive: Archive) -> Iterable[tuple[str, Iterable[Any], str]]:
    return (
        ("series", archive.series.values(), "description"),
        ("people", archive.people.values(), "bio"),
        ("events", archive.events.values(), "description"),
        ("sessions", archive.sessions.values(), "abstract"),
    )


def render_archive_texts(archive: Archive, earlier: Texts | None = None) -> tuple[Texts, tuple[Problem, ...]]:
    """Texts to render on demand, and a warning for each text too long for Markdown.

    The warnings come from the lengths alone, so every build reports them,
    however few pages it re-renders.
    """
    warnings: list[Problem] = []
    for collection, objects, name in _text_fields(archive):
        for obj in objects:
            text = getattr(obj, name)
            if text and len(text) > MARKDOWN_LIMIT:
                warnings.append(
                    Problem(
                        f"{collection} id {shown(obj.id)}.{name}",
                        f"is {len(text):,} characters long; shown as plain text, not Markdown",
                        f"keep it to {MARKDOWN_LIMIT:,} characters or fewer",
                    )
                )
    return Texts(earlier), tuple(warnings)


def count_texts(archive: Archive) -> int:
    return sum(1 for _, objects, name in _text_fields(archive) for obj in objects if getattr(obj, name))


# ---------------------------------------------------------------------------
# Editor-written pages


def load_pages(pages_dir: Path) -> tuple[Page, ...]:
    """Every ``*.md`` under ``pages_dir``; ``index.md`` stands for its folder."""
    if not pages_dir.is_dir():
        return ()
    problems: list[Problem] = []
    pages: list[Page] = []
    for source in sorted(pages_dir.rglob("*.md")):
        if any(part.startswith(".") for part in source.relative_to(pages_dir).parts):
            continue
        try:
            page = _load_page(source, pages_dir)
        except ContentError as exc:
            problems += exc.problems
            continue
        if page is not None:
            pages.append(page)
    if problems:
        raise ContentError(f"The Markdown pages have {len(problems)} problem(s):", problems)
    return tuple(pages)


def _load_page(source: Path, pages_dir: Path) -> Page | None:
    try:
        text = read_file_bounded(source, MAX_PAGE_BYTES, str(source), ContentError, "split it into smaller pages").decode("utf-8")
    except OSError as exc:
        raise ContentError.at(str(source), f"cannot be read: {exc.strerror or exc}", "make it a readable file") from None
    except UnicodeDecodeError as exc:
        raise ContentError.at(str(source), f"is not UTF-8 (bad byte at offset {exc.start})", "save it as UTF-8 text") from None
    meta, body = _split_front_matter(source, text)
    meta = _check_meta(source, meta)
    if meta.get("draft", False):
        return None
    relative = source.relative_to(pages_dir).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "index" else relative.parts
    for part in parts:
        if not SLUG_RE.fullmatch(part):
            raise ContentError.at(str(source), f"the path part {shown(part)} is not a safe URL segment", "rename it with a-z, 0-9 and '-'")
    import markdown  # only sites with Markdown pages pay for importing it

    html = markdown.markdown(
        body,
        extensions=["tables", "fenced_code", "toc", "attr_list", "sane_lists", "smarty"],
        extension_configs={"toc": {"permalink": False}},
        output_format="html",
    )
    return Page(
        source=source,
        path="/".join(parts),
        title=meta["title"],
        description=meta.get("description", ""),
        template=meta.get("template", "page.html"),
        menu=meta.get("menu", False),
        weight=meta.get("weight", 0),
        html=html,
    )


_FENCES = {"+++": "toml", "---": "yaml"}


def _split_front_matter(source: Path, text: str) -> tuple[dict[str, Any], str]:
    """Return (metadata, body)."""
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0].strip()
    if first not in _FENCES:
        raise ContentError.at(str(source), "has no front matter", 'start the file with +++, a line title = "…", and +++ again')
    match = re.compile(rf"\A{re.escape(first)}[ \t]*\n(.*?)^{re.escape(first)}[ \t]*$\n?", re.S | re.M).match(text)
    if not match:
        raise ContentError.at(str(source), f"front matter opened with {first} is never closed", f"add a line {first} after it")
    raw, body = match.group(1), text[match.end() :]
    meta = parse_front_matter(source, raw, _FENCES[first])
    if not isinstance(meta, dict):
        raise ContentError.at(str(source), "front matter must be a table of keys", 'write title = "…"')
    return meta, body


def _check_meta(source: Path, meta: Mapping[str, Any]) -> dict[str, Any]:
    problems = [
        Problem(str(source), f"unknown front matter key {shown(key)}", f"known keys: {', '.join(sorted(PAGE_KEYS))}")
        for key in sorted((key for key in meta if key not in PAGE_KEYS), key=shown)
    ]
    for key, kind in PAGE_KEYS.items():
        value = meta.get(key)
        if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
            problems.append(
                Problem(str(source), f"front matter {key} = {shown(value)} is not {TYPE_NAMES[kind]}", f"give {key} {TYPE_NAMES[kind]}")
            )
    title = meta.get("title")
    if title is None or (isinstance(title, str) and not title.strip()):  # another type is reported above
        problems.append(Problem(str(source), "front matter has no title", 'add title = "…"'))
    template = meta.get("template")
    if isinstance(template, str) and not TEMPLATE_RE.fullmatch(template):
        problems.append(
            Problem(str(source), f"front matter template = {shown(template)} is not a template file name", 'use a name such as "page.html"')
        )
    if problems:
        raise ContentError(f"{source}: bad front matter", problems)
    return dict(meta)
