"""frab / c3voc ``schedule.json`` files, converted to the data contract's collections.

The format (https://c3voc.de/wiki/schedule; its schema is
``validator/json/schema.json`` in github.com/voc/schedule) holds one
conference per file: ``schedule.conference`` with ``days[].rooms``, a mapping
of room name to the talks held there that day. frab, pretalx and the c3voc
tools all export it. What becomes what:

- the conference becomes one contract ``event``, named after its acronym;
- each talk becomes a ``session``, its persons ``people`` (frab's
  ``{id, public_name}`` or pretalx's ``{code, name, biography}``), its track a
  ``topic``, and its links and attachments ``media``;
- no ``series`` and no ``venues``: the format has no data for them.

A talk's moment is its ``date`` (a timestamp with an offset), kept as the
absolute time it is. Only without one is it the day's date plus ``start``
("HH:MM"), where a time before the day's ``day_start`` is after midnight, on
the next calendar day: schedules list a night's talks under the day they
began.

Doubtful data is left out or filled in with a warning that names it
(``schedule.json: days[1].rooms["Saal 1"][3] (guid …)``); only a document
that is no schedule at all is an error. Ids and slugs come from the data
alone, never from chance, so a rebuild gives the same pages.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urljoin, urlsplit

from sitegen.contract import place_timezones
from sitegen.errors import Problem, SourceError
from sitegen.sources import Converted

#: The contract's limits on ids and slugs.
MAX_ID_LENGTH = 200
MAX_SLUG_LENGTH = 100
#: Slugs are cut here before a suffix that makes them unique is added.
SLUG_BASE_LENGTH = 80
#: Years the model accepts; a timestamp outside them would fail the whole build.
YEARS = range(1900, 2200)

_FILES_FIX = 'name schedule.json files or folders of them in [source] url = "frab:…", relative to the site root and separated by commas'


# ---------------------------------------------------------------------------
# Finding the files


def schedule_files(root: Path, location: str) -> list[Path]:
    """The files ``frab:LOCATION`` names: each file as given, each folder as its
    ``*.json`` files in name order. A file named twice is read once."""
    names = [name.strip() for name in location.split(",") if name.strip()]
    if not names:
        raise SourceError.at(f"frab:{location}", "names no schedule file or folder", _FILES_FIX)
    files: dict[Path, None] = {}
    for name in names:
        for path in _files_at(root / name):
            files.setdefault(path)
    return list(files)


def _files_at(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(child for child in path.glob("*.json") if child.is_file())
        if not found:
            raise SourceError.at(
                str(path),
                "is a folder without any *.json schedule file",
                "put schedule.json files in it, or name the files themselves in [source] url",
            )
        return found
    if path.is_file():
        return [path]
    if path.exists():
        raise SourceError.at(str(path), "is not a regular file (a device, pipe or socket)", _FILES_FIX)
    raise SourceError.at(str(path), "does not exist", _FILES_FIX)


# ---------------------------------------------------------------------------
# Converting


Warn = Callable[[str, str, str], None]


@dataclass(frozen=True)
class _Person:
    id: str
    name: str
    bio: str | None
    avatar_url: str | None


@dataclass(frozen=True)
class _Talk:
    """One talk of a schedule, read and checked; ids and slugs come later, when all are known."""

    label: str  # where it is, for messages
    key: str  # its guid, else its frab id, else a digest of what it is
    slug_base: str
    slug_suffix: str  # added to the slug when another talk of the event wants the same one
    title: str
    abstract: str | None
    start: datetime | None
    end: datetime | None
    room: str | None
    speakers: tuple[_Person, ...]
    tracks: tuple[str, ...]
    media: tuple[dict[str, Any], ...]
    #: The day of a talk without a usable time, from the day it is listed on.
    on_day: date | None = None


@dataclass(frozen=True)
class _Day:
    where: str  # "days[1]"
    date: date | None
    #: The local time of day_start: talks that start earlier are after midnight.
    starts_at: timedelta | None
    rooms: Mapping[str, Any]


@dataclass(frozen=True)
class _Schedule:
    """One document's conference and its talks."""

    origin: str
    acronym: str  # slug-safe
    title: str
    timezone: str
    start_date: date
    end_date: date
    url: str | None
    description: str | None
    updated_at: datetime
    talks: tuple[_Talk, ...]


def convert(documents: Sequence[tuple[str, Any]]) -> Converted:
    """The contract's collections from parsed schedule documents, each given with
    its origin (a path or URL, for messages). Raises SourceError only for a
    document that is not a schedule at all."""
    warnings: list[Problem] = []

    def warn(where: str, what: str, fix: str) -> None:
        warnings.append(Problem(where, what, fix))

    schedules = [schedule for origin, document in documents if (schedule := _read_schedule(origin, document, warn))]
    collections = _Collections()
    for event_id, schedule in zip(_event_ids(schedules, warn), schedules, strict=True):
        collections.add(event_id, schedule, warn)
    return Converted(collections.finish(), tuple(warnings))


class _Collections:
    """The contract's objects as schedules are added; people and topics are
    shared by every schedule that names them."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.sessions: list[dict[str, Any]] = []
        self.people: dict[str, _Person] = {}
        self.topics: dict[str, str] = {}  # id -> name
        #: id -> the latest updated_at of the schedules a person or topic is in.
        self.updated: dict[str, datetime] = {}

    def add(self, event_id: str, schedule: _Schedule, warn: Warn) -> None:
        updated_at = schedule.updated_at.isoformat()
        self.events.append(
            {
                "id": event_id,
                "slug": event_id,
                "name": schedule.title,
                "series": None,
                "venue": None,
                "start_date": schedule.start_date.isoformat(),
                "end_date": schedule.end_date.isoformat(),
                "timezone": schedule.timezone,
                "url": schedule.url,
                "description": schedule.description,
                "topics": [],
                "updated_at": updated_at,
            }
        )
        talks = _unique_talks(event_id, schedule.talks, warn)
        slugs = _unique_slugs({sid: talk.slug_base for sid, talk in talks.items()}, lambda sid: talks[sid].slug_suffix)
        for session_id, talk in talks.items():
            self.sessions.append(
                {
                    "id": session_id,
                    "slug": slugs[session_id],
                    "event": event_id,
                    "title": talk.title,
                    "abstract": talk.abstract,
                    "start": _timestamp(talk.start),
                    "end": _timestamp(talk.end),
                    "date": talk.on_day.isoformat() if talk.on_day else None,
                    "room": talk.room,
                    "speakers": [self.person(p, schedule.updated_at) for p in talk.speakers],
                    "topics": [self.topic(name, schedule.updated_at) for name in talk.tracks],
                    "media": list(talk.media),
                    "updated_at": updated_at,
                }
            )

    def person(self, person: _Person, updated_at: datetime) -> str:
        """The person's id. The first mention gives the name; a bio or avatar
        comes from the first mention that has one."""
        known = self.people.get(person.id)
        if known is not None:
            person = _Person(known.id, known.name, known.bio or person.bio, known.avatar_url or person.avatar_url)
        self.people[person.id] = person
        self._touch(person.id, updated_at)
        return person.id

    def topic(self, name: str, updated_at: datetime) -> str:
        # Tracks of the same name are one topic across conferences; case and
        # spacing do not make a track different.
        topic_id = _bounded_id("track:" + " ".join(name.casefold().split()))
        self.topics.setdefault(topic_id, name)
        self._touch(topic_id, updated_at)
        return topic_id

    def _touch(self, key: str, updated_at: datetime) -> None:
        if key not in self.updated or self.updated[key] < updated_at:
            self.updated[key] = updated_at

    def finish(self) -> dict[str, list[dict[str, Any]]]:
        people_slugs = _unique_slugs({pid: _slug(p.name) or "person" for pid, p in self.people.items()}, _digest)
        topic_slugs = _unique_slugs({tid: _slug(name) or "topic" for tid, name in self.topics.items()}, _digest)
        return {
            "series": [],
            "venues": [],
            "topics": [
                {"id": tid, "slug": topic_slugs[tid], "name": name, "updated_at": self.updated[tid].isoformat()}
                for tid, name in self.topics.items()
            ],
            "people": [
                {
                    "id": pid,
                    "slug": people_slugs[pid],
                    "name": p.name,
                    "bio": p.bio,
                    "links": [],
                    "avatar_url": p.avatar_url,
                    "updated_at": self.updated[pid].isoformat(),
                }
                for pid, p in self.people.items()
            ],
            "events": self.events,
            "sessions": self.sessions,
        }


def _unique_talks(event_id: str, talks: Sequence[_Talk], warn: Warn) -> dict[str, _Talk]:
    """Session id -> talk. The id is the event's plus the talk's guid (or frab
    id), so the same talk in two schedules cannot collide; a talk listed twice
    in one schedule is kept once."""
    found: dict[str, _Talk] = {}
    for talk in talks:
        session_id = _bounded_id(f"{event_id}:{talk.key}")
        if session_id in found:
            warn(
                talk.label,
                f"repeats {found[session_id].label} (the same guid or id); left out",
                "list each talk once, or give the two different guids",
            )
            continue
        found[session_id] = talk
    return found


def _event_ids(schedules: Sequence[_Schedule], warn: Warn) -> list[str]:
    """Each conference's id, also its slug: the acronym; the acronym and the
    start date when several schedules share the acronym (two years of one
    conference); and a number in document order, with a warning, when they
    share the start date too."""
    bases = _unique_slugs(
        {str(i): s.acronym for i, s in enumerate(schedules)}, lambda i: schedules[int(i)].start_date.isoformat(), fallback=None
    )
    ids: list[str] = []
    first: dict[str, int] = {}
    for position, schedule in enumerate(schedules):
        base = bases[str(position)]
        event_id, number = base, 1
        while event_id in first:
            number += 1
            event_id = _joined(base, str(number))
        if number > 1:
            warn(
                f"{schedule.origin}: conference.acronym",
                f"{schedule.acronym!r} starting {schedule.start_date} is also the conference of {schedules[first[base]].origin}; "
                f"read as a separate event {event_id!r}",
                "give each conference its own acronym, or read each schedule once",
            )
        first.setdefault(base, position)
        first[event_id] = position
        ids.append(event_id)
    return ids


# ---------------------------------------------------------------------------
# Reading one schedule


def _read_schedule(origin: str, document: Any, warn: Warn) -> _Schedule | None:
    schedule = document.get("schedule") if isinstance(document, Mapping) else None
    conference = schedule.get("conference") if isinstance(schedule, Mapping) else None
    if not isinstance(schedule, Mapping) or not isinstance(conference, Mapping):
        raise SourceError.at(
            origin,
            "is not a frab/c3voc schedule: it has no schedule.conference object",
            "point [source] url at a schedule.json as frab, pretalx or the c3voc tools export it",
        )
    title = _line(conference.get("title"))
    acronym = _slug(conference.get("acronym")) or _slug(title) or _slug(PurePosixPath(urlsplit(origin).path).stem) or "conference"
    if not title:
        warn(
            f"{origin}: conference.title",
            f"is {_show(conference.get('title'))}; the event is called {acronym!r}",
            "give the conference a title in the schedule",
        )
    zone_name = _zone_name(origin, conference, warn)
    zone = zoneinfo.ZoneInfo(zone_name)
    base_url = _web_url(schedule.get("base_url"))
    instance = urlsplit(base_url or _web_url(conference.get("url")) or "").netloc.lower() or acronym
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
        _web_url(conference.get("url")),
        _markdown(conference.get("description")),
        _updated_at(schedule.get("version"), zone, dates[0]),
        talks,
    )


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


# ---------------------------------------------------------------------------
# Reading talks


class _TalkReader:
    """Reads the talks of one schedule, with what they need of it: its timezone,
    its base_url, and who issued its person numbers."""

    def __init__(self, origin: str, zone: tzinfo, base_url: str | None, instance: str, warn: Warn) -> None:
        self.origin = origin
        self.zone = zone
        self.base_url = base_url
        #: Who issued frab person ids and pretalx codes: the same number elsewhere is someone else.
        self.instance = instance
        self.warn = warn

    def day(self, day: _Day) -> Iterator[_Talk]:
        for room, talks in day.rooms.items():
            where = f"{self.origin}: {day.where}.rooms[{json.dumps(room, ensure_ascii=False)}]"
            if not isinstance(talks, list):
                self.warn(where, f"is {_show(talks)}, not a list of talks; left out", "list the room's talks in an array")
                continue
            for position, raw in enumerate(talks):
                talk = self.talk(f"{where}[{position}]", day, room, raw)
                if talk is not None:
                    yield talk

    def talk(self, where: str, day: _Day, room: str, raw: Any) -> _Talk | None:
        if not isinstance(raw, Mapping):
            self.warn(where, f"{_show(raw)} is not a talk object; left out", "send each talk as an object")
            return None
        label = where + _identified(raw)
        title = _line(raw.get("title"))
        if not title:
            self.warn(label, f"has no title ({_show(raw.get('title'))}); left out", "give the talk a title in the schedule, or remove it")
            return None
        start, end = self.times(label, raw, day)
        frab_id = _key_text(raw.get("id"))
        key = _key_text(raw.get("guid")).lower() or frab_id or _digest(f"{title}\0{_timestamp(start)}\0{room}")
        return _Talk(
            label,
            key,
            _slug(raw.get("slug")) or _slug(title) or "talk",
            _slug(frab_id) or _digest(key),
            title,
            _abstract(raw),
            start,
            end,
            _line(raw.get("room")) or _line(room) or None,
            self.speakers(label, raw.get("persons")),
            (track,) if (track := _line(raw.get("track"))) else (),
            self.media(label, raw),
            day.date if start is None else None,
        )

    def times(self, label: str, raw: Mapping[str, Any], day: _Day) -> tuple[datetime | None, datetime | None]:
        start = _moment(raw.get("date"), self.zone) or self.clock_start(raw.get("start"), day)
        if start is None:
            shown_as = f"shown on its day, {day.date}, without a time" if day.date else "shown as not yet scheduled"
            self.warn(
                label,
                f"has no usable date ({_show(raw.get('date'))}) or start ({_show(raw.get('start'))}); {shown_as}",
                "give the talk a date with an offset, or a start HH:MM on a day with a date",
            )
            return None, None
        end = _moment(raw.get("end"), self.zone)
        duration = _clock(raw.get("duration"))
        if end is None and duration:
            # Added in UTC: across a daylight saving change a talk lasts its duration, not its wall-clock span.
            end = (start.astimezone(UTC) + duration).astimezone(self.zone)
        if end is not None and end < start:
            self.warn(
                label,
                f"ends ({end.isoformat()}) before it starts ({start.isoformat()}); the end is left out",
                "correct the talk's end or duration",
            )
            end = None
        return start, end

    def clock_start(self, value: Any, day: _Day) -> datetime | None:
        """``start`` on the talk's day, or the next calendar day when it is before
        the day's start; a full timestamp (as newer exports send) as it is."""
        clock = _clock(value)
        if clock is None or clock >= timedelta(days=1):
            return _moment(value, self.zone)
        if day.date is None:
            return None
        after_midnight = day.starts_at is not None and clock < day.starts_at
        local = datetime.combine(day.date + timedelta(days=after_midnight), time()) + clock
        return local.replace(tzinfo=self.zone)

    def speakers(self, label: str, persons: Any) -> tuple[_Person, ...]:
        if persons is None:
            return ()
        if not isinstance(persons, list):
            self.warn(f"{label}.persons", f"is {_show(persons)}, not a list; the talk has no speakers", "list the persons in an array")
            return ()
        found = (self.person(f"{label}.persons[{i}]", raw) for i, raw in enumerate(persons))
        return tuple({person.id: person for person in found if person}.values())

    def person(self, where: str, raw: Any) -> _Person | None:
        """A person in frab form (``id``, ``public_name``) or pretalx form (``code``
        or ``guid``, ``name``, ``biography``, ``avatar``)."""
        name = (_line(raw.get("public_name")) or _line(raw.get("name"))) if isinstance(raw, Mapping) else ""
        if not isinstance(raw, Mapping) or not name:
            self.warn(
                where, f"{_show(raw)} has no name; left out of the speakers", 'give the person a "public_name" (frab) or "name" (pretalx)'
            )
            return None
        avatar = raw.get("avatar")
        return _Person(
            self.person_id(raw, name),
            name,
            _markdown(raw.get("biography")),
            _web_url(avatar, self.base_url) if isinstance(avatar, str) else None,
        )

    def person_id(self, raw: Mapping[str, Any], name: str) -> str:
        """A guid is the same person everywhere; a pretalx code or frab id only
        within the system that issued it; a bare name is hashed."""
        if guid := _key_text(raw.get("guid")).lower():
            return _bounded_id(f"guid:{guid}")
        if code := _key_text(raw.get("code")):
            return _bounded_id(f"pretalx:{self.instance}:{code}")
        if number := _key_text(raw.get("id")):
            return _bounded_id(f"frab:{self.instance}:{number}")
        return "name:" + _digest(" ".join(name.casefold().split()))

    def media(self, label: str, raw: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
        """Links and attachments, each once: strings or ``{url, title, type?}``;
        relative URLs are read against the schedule's base_url."""
        found: dict[str, dict[str, Any]] = {}
        for key in ("links", "attachments"):
            items = raw.get(key)
            if items is not None and not isinstance(items, list):
                self.warn(f"{label}.{key}", f"is {_show(items)}, not a list; left out", f"send {key} as an array")
                continue
            for position, item in enumerate(items or ()):
                fields = item if isinstance(item, Mapping) else {"url": item}
                url, title = _web_url(fields.get("url"), self.base_url), _line(fields.get("title")) or None
                if url is None:
                    self.warn(
                        f"{label}.{key}[{position}]",
                        f"{_show(item)} has no http(s) URL; left out",
                        "link to an http:// or https:// address, or set the schedule's base_url for relative ones",
                    )
                    continue
                found.setdefault(url, {"kind": _media_kind(url, title, fields.get("type")), "url": url, "title": title})
        return tuple(found.values())


def _identified(raw: Mapping[str, Any]) -> str:
    """`` (guid …)`` or `` (id …)`` after a talk's path, so a message finds it after the schedule changes."""
    guid, number = _key_text(raw.get("guid")), _key_text(raw.get("id"))
    return f" (guid {guid})" if guid else f" (id {number})" if number else ""


def _abstract(raw: Mapping[str, Any]) -> str | None:
    """The subtitle (in italics), the abstract and the description, as Markdown.
    frab often repeats the abstract at the start of the description: then it is shown once."""
    subtitle = _line(raw.get("subtitle"))
    abstract, description = _markdown(raw.get("abstract")), _markdown(raw.get("description"))
    if abstract and description and description.startswith(abstract):
        abstract = None
    parts = [f"*{_escape_markdown(subtitle)}*" if subtitle else None, abstract, description]
    return "\n\n".join(part for part in parts if part) or None


# ---------------------------------------------------------------------------
# Media kinds

_KIND_OF_TYPE = {"slides": "slides", "media": "video"}  # the c3voc reference types that name a contract kind
_KIND_OF_EXTENSION = {
    **dict.fromkeys((".pdf", ".odp", ".ppt", ".pptx", ".key"), "slides"),
    **dict.fromkeys((".mp4", ".webm", ".mkv", ".mov", ".m4v"), "video"),
    **dict.fromkeys((".mp3", ".opus", ".ogg", ".oga", ".m4a", ".flac", ".wav"), "audio"),
    **dict.fromkeys((".txt", ".md"), "notes"),
}
_KIND_OF_HOST = {
    **dict.fromkeys(("media.ccc.de", "youtube.com", "youtu.be", "vimeo.com"), "video"),
    **dict.fromkeys(("speakerdeck.com", "slideshare.net", "slides.com"), "slides"),
    **dict.fromkeys(("github.com", "gitlab.com", "codeberg.org", "git.sr.ht", "bitbucket.org"), "code"),
}
_KIND_OF_WORD = {
    "video": "video",
    "recording": "video",
    "slides": "slides",
    "folien": "slides",
    "audio": "audio",
    "podcast": "audio",
    "notes": "notes",
    "code": "code",
    "source": "code",
}


def _media_kind(url: str, title: str | None, declared: Any) -> str:
    """The contract's kind for a link: from its declared type, its file
    extension, its host, or a word of its title; else "other"."""
    if declared in _KIND_OF_TYPE:
        return _KIND_OF_TYPE[declared]
    parts = urlsplit(url)
    if kind := _KIND_OF_EXTENSION.get(PurePosixPath(parts.path).suffix.lower()):
        return kind
    host = (parts.hostname or "").removeprefix("www.")
    if kind := next((kind for known, kind in _KIND_OF_HOST.items() if host == known or host.endswith("." + known)), None):
        return kind
    words = re.findall(r"[a-z]+", (title or "").casefold())
    return next((_KIND_OF_WORD[word] for word in words if word in _KIND_OF_WORD), "other")


# ---------------------------------------------------------------------------
# Text: HTML in descriptions becomes Markdown
#
# The content stage renders abstracts as Markdown with raw HTML shown as text,
# which is safe but shows frab's HTML descriptions as tags. So HTML is turned
# into the Markdown it means here: paragraphs, line breaks, list items and
# http(s) links survive; other tags go, and <script> and <style> with their
# content. Its text is escaped, so none of it becomes Markdown by accident.

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


# ---------------------------------------------------------------------------
# Values


def _line(value: Any) -> str:
    """A one-line text (a title, a name); "" for anything else."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def _key_text(value: Any) -> str:
    """An identifier from the data as text: a string or an integer; "" otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return "".join(char for char in value.strip() if char.isprintable())
    return ""


def _bounded_id(text: str) -> str:
    """An id within the contract's length, still unique: a long one ends in a digest of itself."""
    return text if len(text) <= MAX_ID_LENGTH else f"{text[: MAX_ID_LENGTH - 17]}~{_digest(text, 16)}"


def _digest(text: str, length: int = 8) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:length]


#: Letters that Unicode does not decompose into ASCII but that have a usual spelling in it.
_ASCII_SPELLING = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "þ": "th",
        "Þ": "Th",
    }
)


def _slug(value: Any) -> str:
    """A path-safe slug (a-z, 0-9, -), ASCII-folded; "" when nothing survives."""
    if not isinstance(value, str):
        return ""
    folded = unicodedata.normalize("NFKD", value.translate(_ASCII_SPELLING)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:SLUG_BASE_LENGTH].strip("-")


def _joined(base: str, suffix: str) -> str:
    return f"{base[: MAX_SLUG_LENGTH - len(suffix) - 1].rstrip('-')}-{suffix}"


def _unique_slugs(
    bases: Mapping[str, str], suffix: Callable[[str], str], fallback: Callable[[str], str] | None = _digest
) -> dict[str, str]:
    """key -> its base slug, made unique: every key of a shared base gets its
    suffix, so no slug depends on which key came first. A suffixed slug that
    still meets another gets the ``fallback`` (a digest of its key) instead."""
    shared = Counter(bases.values())
    slugs = {key: base if shared[base] == 1 else _joined(base, _slug(suffix(key)) or _digest(key)) for key, base in bases.items()}
    if fallback is not None:
        taken = Counter(slugs.values())
        slugs = {key: slug if taken[slug] == 1 else _joined(bases[key], fallback(key)) for key, slug in slugs.items()}
    return slugs


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _date(value: Any) -> date | None:
    """A date, or the date of a timestamp (the conference's start may be one)."""
    if not isinstance(value, str) or not re.match(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        parsed = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return parsed if parsed.year in YEARS else None


def _moment(value: Any, zone: tzinfo | None) -> datetime | None:
    """An ISO 8601 timestamp; one without an offset is local time in ``zone``
    (None: it is not accepted). A date alone is no moment."""
    if not isinstance(value, str) or not re.match(r"\d{4}-\d{2}-\d{2}[T ]\d", value.strip()):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        if zone is None:
            return None
        parsed = parsed.replace(tzinfo=zone)
    return parsed if parsed.year in YEARS else None


def _clock(value: Any) -> timedelta | None:
    """ "HH:MM" (or "HH:MM:SS") as a duration: a start time of day, or a talk's length."""
    match = re.fullmatch(r"(\d{1,3}):([0-5]\d)(?::([0-5]\d))?", value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def _timestamp(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _web_url(value: Any, base: str | None = None) -> str | None:
    """An absolute http(s) URL, relative ones read against ``base``; None for anything else."""
    if not isinstance(value, str) or not value.strip() or len(value) > 2000:
        return None
    url = value.strip()
    try:
        if base and not urlsplit(url).scheme:
            url = urljoin(base, url)
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
