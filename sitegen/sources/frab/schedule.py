"""Reading one schedule document: its conference (title, acronym, timezone,
dates, version) and its days; the talks are read by ``talks``. Only a document
that is no schedule at all is an error; the rest degrades with a warning."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from sitegen.contract import place_timezones, web_url
from sitegen.errors import SourceError
from sitegen.sources.frab.ids import _slug
from sitegen.sources.frab.markdown import _markdown
from sitegen.sources.frab.parsed import Warn, _Day, _Schedule, _Talk
from sitegen.sources.frab.talks import _TalkReader
from sitegen.sources.frab.values import _date, _line, _mappings, _moment, _show, _web_url


def _read_schedule(origin: str, document: Any, warn: Warn) -> _Schedule | None:
    schedule = document.get("schedule") if isinstance(document, Mapping) else None
    conference = schedule.get("conference") if isinstance(schedule, Mapping) else None
    if not isinstance(schedule, Mapping) or not isinstance(conference, Mapping):
        raise SourceError.at(
            origin,
            "is not a frab/c3voc schedule: it has no schedule.conference object",
            "point [source] url at a schedule.json as frab, pretalx or the c3voc tools export it",
        )
    title, acronym = _conference_name(origin, conference, warn)
    zone_name = _zone_name(origin, conference, warn)
    zone = zoneinfo.ZoneInfo(zone_name)
    base_url, url = _web_url(schedule.get("base_url")), _conference_url(origin, conference, warn)
    instance = urlsplit(base_url or url or "").netloc.lower() or acronym
    reader = _TalkReader(origin, zone, base_url, instance, warn)
    talks = tuple(talk for day in _days(origin, conference, zone, warn) for talk in reader.day(day))
    dates = _dates(origin, conference, talks, zone, warn)
    if dates is None:
        warn(
            f"{origin}: conference",
            "has no readable start or end, days or talk times; the schedule is left out",
            "give the conference start and end as YYYY-MM-DD",
        )
        return None
    return _Schedule(
        origin,
        acronym,
        title or acronym,
        zone_name,
        *dates,
        url,
        _markdown(conference.get("description")),
        _updated_at(schedule.get("version"), zone, dates[0]),
        talks,
    )


def _conference_name(origin: str, conference: Mapping[str, Any], warn: Warn) -> tuple[str | None, str]:
    """The conference's title (None, with a warning, when it has none) and its acronym: its
    own, else from the title, else the document's file name (v1 and v2 alike)."""
    title = _line(conference.get("title"))
    acronym = _slug(conference.get("acronym")) or _slug(title) or _slug(PurePosixPath(urlsplit(origin).path).stem) or "conference"
    if not title:
        warn(
            f"{origin}: conference.title",
            f"is {_show(conference.get('title'))}; the event is called {acronym!r}",
            "give the conference a title in the schedule",
        )
    return title, acronym


def _conference_url(origin: str, conference: Mapping[str, Any], warn: Warn) -> str | None:
    """The conference's link; one the contract refuses is left out with a warning."""
    value = conference.get("url")
    url, problem = web_url(value)
    if problem is not None and isinstance(value, str) and value.strip():
        warn(f"{origin}: conference.url", f"{_show(value)} {problem[0]}; the event is shown without its link", problem[1])
    return url


def _zone_name(origin: str, conference: Mapping[str, Any], warn: Warn) -> str:
    """The conference's IANA timezone. Without one, the fixed offset of its first
    day (``Etc/GMT-1`` for +01:00) keeps local times right but for a daylight
    saving change during the conference; an offset no Etc zone has is UTC."""
    name = conference.get("time_zone_name")
    if isinstance(name, str) and name in place_timezones():
        return name
    offset = _first_offset(conference.get("days"))
    fallback = _fixed_offset_zone(offset)
    if offset is None:
        why = "its days give no UTC offset either"
    elif fallback == "UTC" and offset:
        why = f"no fixed-offset zone has its first day's UTC offset {_show_offset(offset)}"
    else:
        why = f"its first day's UTC offset {_show_offset(offset)}, without daylight saving changes"
    warn(
        f"{origin}: conference.time_zone_name",
        f"{_show(name)} is not an IANA timezone; times are shown in {fallback} ({why})",
        'set time_zone_name in the schedule to a name such as "Europe/Berlin"',
    )
    return fallback


def _first_offset(days: Any) -> timedelta | None:
    for day in days if isinstance(days, list) else ():
        moment = _moment(day.get("day_start"), None) if isinstance(day, Mapping) else None
        if moment is not None:
            return moment.utcoffset()
    return None


def _fixed_offset_zone(offset: timedelta | None) -> str:
    hours, rest = divmod(int(offset.total_seconds()), 3600) if offset is not None else (0, 0)
    if hours == 0 or rest or not -12 <= hours <= 14:
        return "UTC"
    return f"Etc/GMT{-hours:+d}"  # the Etc zones count the other way: Etc/GMT-1 is UTC+01:00


def _show_offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _days(origin: str, conference: Mapping[str, Any], zone: tzinfo, warn: Warn) -> Iterator[_Day]:
    days = conference.get("days")
    if not isinstance(days, list):
        warn(
            f"{origin}: conference.days", f"is {_show(days)}, not a list; the conference has no talks", "export the schedule with its days"
        )
        return
    for position, day in enumerate(days):
        where = f"days[{position}]"
        if not isinstance(day, Mapping) or not isinstance(day.get("rooms"), Mapping):
            warn(
                f"{origin}: {where}",
                "is not a day with a rooms object; its talks are left out",
                'give each day "rooms": {"room name": [talks]}',
            )
            continue
        day_start = _moment(day.get("day_start"), zone)
        local_start = day_start.astimezone(zone) if day_start else None
        starts_at = timedelta(hours=local_start.hour, minutes=local_start.minute) if local_start else None
        yield _Day(where, _date(day.get("date")) or (local_start.date() if local_start else None), starts_at, day["rooms"])


def _dates(origin: str, conference: Mapping[str, Any], talks: Sequence[_Talk], zone: tzinfo, warn: Warn) -> tuple[date, date] | None:
    """The conference's start and end date; without them, its days' dates or its talks'."""
    start, end = _date(conference.get("start")), _date(conference.get("end"))
    if start and end and start <= end:
        return start, end
    days = sorted(day for day in (_date(d.get("date")) for d in _mappings(conference.get("days"))) if day)
    local = sorted(talk.start.astimezone(zone).date() for talk in talks if talk.start)
    found = days or local
    if found:
        warn(
            f"{origin}: conference.start",
            f"start {_show(conference.get('start'))} and end {_show(conference.get('end'))} "
            f"are not dates in order; the event's dates come from its {'days' if days else 'talks'}",
            "set the conference start and end as YYYY-MM-DD",
        )
        return found[0], found[-1]
    return None


def _updated_at(version: Any, zone: tzinfo, start: date) -> datetime:
    """When the data last changed, as far as the schedule tells: its version when
    that is a timestamp (pretalx and many tools write one), else the first day."""
    return _moment(version, zone) or datetime.combine(start, time(), zone)
