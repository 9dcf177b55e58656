"""Category folders as events: a category is one event, or one per recorded
year when neither its folder nor its title names a year (meetups such as
``chipy``). Its series is its title without the year; its days span its
talks' days (and ``start_date``/``end_date`` where the category gives them)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from sitegen.bounded import shown
from sitegen.contract import url_problem
from sitegen.sources.pyvideo.talks import Talk
from sitegen.sources.pyvideo.tree import CategoryFiles
from sitegen.sources.pyvideo.values import Warn, cut_line, day, key_id, line, without_years, years_named

_FIX = "fix category.json in the checkout"


@dataclass(frozen=True)
class Event:
    id: str
    folder: str
    name: str
    series: str  # the series' name: the category's title without its years
    year_suffix: str  # "" or "-YEAR" when a yearless category was split by year
    start_date: str
    end_date: str
    url: str | None
    description: str | None
    talks: tuple[Talk, ...]


def category_events(category: CategoryFiles, talks: list[Talk], warn: Warn) -> list[Event]:
    """The events of one category: one, or one per recorded year; none (with a warning) when nothing dates it."""
    where = f"{category.folder}/category.json"
    title = cut_line(line(category.meta.get("title")), f"{where}: title", warn)
    if not title:
        title = category.folder
        warn(f"{where}: title", "is missing or empty; the folder name is used", _FIX)
    named = years_named(category.folder, title)
    url, description = _url(category.meta, where, warn), _description(category.meta, where, warn)
    events = []
    for year, group in _by_year(talks, named):
        years = named or ([year] if year else [])
        dated = _within(group, years, where, warn)
        span = _span(category.meta, dated, years, where, warn)
        if span is None:
            continue
        name = title if year is None or str(year) in title else f"{title} {year}"
        suffix = f"-{year}" if year is not None else ""
        event_id = key_id("pyvideo:", category.folder + suffix)
        events.append(Event(event_id, category.folder, name, without_years(title), suffix, *span, url, description, tuple(dated)))
    return events


def _by_year(talks: list[Talk], named: list[int]) -> list[tuple[int | None, list[Talk]]]:
    """The talks by the event they go to: all in one (key None) when the category names its years,
    else by recorded year, undated talks with the latest."""
    years = sorted({int(talk.day[:4]) for talk in talks if talk.day})
    if named or not years:
        return [(None, talks)]
    groups: dict[int | None, list[Talk]] = defaultdict(list)
    for talk in talks:
        groups[int(talk.day[:4]) if talk.day else years[-1]].append(talk)
    return sorted(groups.items(), key=lambda item: item[0] or 0)


def _within(talks: list[Talk], years: list[int], where: str, warn: Warn) -> list[Talk]:
    """The talks, those recorded outside the years the category names without their day
    (one mistyped date would stretch the event over years); all kept when none is inside."""
    if not years:
        return talks
    inside = range(years[0], years[-1] + 1)
    if not any(talk.day and int(talk.day[:4]) in inside for talk in talks):
        if any(talk.day for talk in talks):
            warn(where, "names a year none of its talks was recorded in; the event is dated by its talks", _FIX)
        return talks
    kept = []
    for talk in talks:
        if talk.day and int(talk.day[:4]) not in inside:
            warn(f"{talk.where}: recorded {talk.day!r}", "is outside the years its category names; shown as not recorded", "fix recorded")
            talk = replace(talk, day=None)
        kept.append(talk)
    return kept


def _span(meta: dict[str, Any], talks: list[Talk], years: list[int], where: str, warn: Warn) -> tuple[str, str] | None:
    days = sorted({talk.day for talk in talks if talk.day} | {d for d in (day(meta.get("start_date")), day(meta.get("end_date"))) if d})
    if days:
        return days[0], days[-1]
    if years:
        warn(where, "has no dates and no talk with a recorded day; dated 1 January of the year it names", "add start_date to it")
        return f"{years[0]}-01-01", f"{years[0]}-01-01"
    warn(where, "has no dates, no talk with a recorded day and no year in its name; left out with its talks", "add start_date to it")
    return None


def _url(meta: dict[str, Any], where: str, warn: Warn) -> str | None:
    value = meta.get("url")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    problem = url_problem(value.strip()) if isinstance(value, str) else ("is not a string", "")
    if problem is not None:
        warn(f"{where}: url {shown(value)}", f"{problem[0]}; left out", problem[1] or _FIX)
        return None
    return str(value).strip()


def _description(meta: dict[str, Any], where: str, warn: Warn) -> str | None:
    value = meta.get("description")
    if value is not None and not isinstance(value, str):
        warn(f"{where}: description {shown(value)}", "is not a string; left out", _FIX)
        return None
    return value.strip() or None if isinstance(value, str) else None
