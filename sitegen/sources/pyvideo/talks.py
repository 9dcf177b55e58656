"""One video file of pyvideo/data as a talk: its title, abstract, day,
speakers, tags and links, each field read leniently, with a warning naming
the file and field for what is missing or odd."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sitegen.bounded import shown
from sitegen.contract import MAX_LIST_ITEMS, media_kind, url_problem
from sitegen.sources.pyvideo.values import Warn, cut_line, day, line

#: Speaker names that name nobody.
PLACEHOLDER_SPEAKERS = frozenset({"various", "unknown", "tbd", "tba", "n/a", "none", "anonymous", "et al", "et al."})
#: The fields joined, in this order, into the abstract (a repeat is left out).
ABSTRACT_FIELDS = ("summary", "description", "abstract")
_FIX = "fix the file in the checkout"
_T = TypeVar("_T")


@dataclass(frozen=True)
class Talk:
    where: str  # the file, relative to the checkout
    stem: str  # the file name without .json
    slug: str  # the video's ``slug``, else its file name
    title: str
    abstract: str | None
    day: str | None
    speakers: tuple[str, ...]
    tags: tuple[str, ...]
    media: tuple[dict[str, str], ...]
    language: str | None


def read_talk(stem: str, where: str, video: dict[str, Any], warn: Warn) -> Talk:
    title = _text(video, "title", where, warn)
    if not title:
        title = stem.replace("-", " ").strip() or stem
        if video.get("title") is None or isinstance(video.get("title"), str):  # else _text said why
            warn(f"{where}: title", "is missing or empty; the file name is used", _FIX)
    recorded = day(video.get("recorded"))
    if recorded is None:
        warn(f"{where}: recorded {shown(video.get('recorded'))}", "is not a day (YYYY-MM-DD); shown as not recorded", _FIX)
    slug = video.get("slug")
    language = video.get("language")
    return Talk(
        where,
        stem,
        slug.strip() if isinstance(slug, str) and slug.strip() else stem,
        title,
        _abstract(video),
        recorded,
        _speakers(video, where, warn),
        _tags(video, where, warn),
        _media(video, where, warn),
        language if isinstance(language, str) and len(language) <= 16 else None,
    )


def _text(video: dict[str, Any], key: str, where: str, warn: Warn) -> str:
    value = video.get(key)
    if value is not None and not isinstance(value, str):
        warn(f"{where}: {key} {shown(value)}", "is not a string; left out", _FIX)
    return cut_line(line(value), f"{where}: {key}", warn)


def _list(video: dict[str, Any], key: str, where: str, warn: Warn) -> list[Any]:
    value = video.get(key)
    if value is None or isinstance(value, list):
        return value or []
    warn(f"{where}: {key} {shown(value)}", "is not a list; left out", _FIX)
    return []


def _abstract(video: dict[str, Any]) -> str | None:
    parts: list[str] = []
    for key in ABSTRACT_FIELDS:
        text = video.get(key)
        if isinstance(text, str) and text.strip() and not any(text.strip() in part for part in parts):
            parts.append(text.strip())
    return "\n\n".join(parts) or None


def _speakers(video: dict[str, Any], where: str, warn: Warn) -> tuple[str, ...]:
    names: dict[str, str] = {}  # casefolded -> as written
    for index, raw in enumerate(_list(video, "speakers", where, warn)):
        at = f"{where}: speakers[{index}]"
        name = cut_line(line(raw), at, warn)
        if not isinstance(raw, str):
            warn(f"{at} {shown(raw)}", "is not a string; left out", _FIX)
        elif not name or name.casefold() in PLACEHOLDER_SPEAKERS:
            warn(f"{at} {shown(raw)}", "is empty or a placeholder, not a name; left out", "remove it, or write the speaker's name")
        elif name.casefold() in names:
            warn(f"{at} {shown(raw)}", "names a speaker the talk already lists; listed once", "remove the repeat")
        else:
            names[name.casefold()] = name
    return _at_most(tuple(names.values()), f"{where}: speakers", warn)


def _tags(video: dict[str, Any], where: str, warn: Warn) -> tuple[str, ...]:
    tags: dict[str, str] = {}
    for index, raw in enumerate(_list(video, "tags", where, warn)):
        tag = cut_line(line(raw), f"{where}: tags[{index}]", warn)
        if not tag:
            warn(f"{where}: tags[{index}] {shown(raw)}", "is not a tag (empty, or not a string); left out", _FIX)
        else:
            tags.setdefault(tag.casefold(), tag)  # "Django" and "django" are one topic
    return _at_most(tuple(tags.values()), f"{where}: tags", warn)


def _media(video: dict[str, Any], where: str, warn: Warn) -> tuple[dict[str, str], ...]:
    """``videos`` as video media, then ``related_urls`` as media of the kind their URL and label suggest; each URL once."""
    links: list[tuple[str, Any, str, str]] = []  # (field path, url, label, declared kind)
    for index, item in enumerate(_list(video, "videos", where, warn)):
        links.append((f"videos[{index}]", item.get("url") if isinstance(item, dict) else item, "", "video"))
    for index, item in enumerate(_list(video, "related_urls", where, warn)):
        url, label = (item.get("url"), line(item.get("label"))) if isinstance(item, dict) else (item, "")
        links.append((f"related_urls[{index}]", url, label, ""))
    media: dict[str, dict[str, str]] = {}
    for path, url, label, kind in links:
        problem = url_problem(url.strip()) if isinstance(url, str) and url.strip() else ("is not a URL", "")
        if problem is not None:
            warn(f"{where}: {path} {shown(url)}", f"{problem[0]}; left out", problem[1] or _FIX)
            continue
        url = url.strip()
        if url in media:
            continue  # the same link twice (a video also given as a related URL): one medium
        item = {"kind": kind or media_kind(url, label), "url": url}
        if label and label != url:
            item["title"] = cut_line(label, f"{where}: {path}.label", warn)
        media[url] = item
    return _at_most(tuple(media.values()), f"{where}: media", warn)


def _at_most(items: tuple[_T, ...], where: str, warn: Warn) -> tuple[_T, ...]:
    if len(items) > MAX_LIST_ITEMS:
        warn(where, f"has more than the contract's {MAX_LIST_ITEMS} items; the rest are left out", _FIX)
    return items[:MAX_LIST_ITEMS]
