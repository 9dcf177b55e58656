"""Reading the talks of one schedule: title, abstract, start and end (a
night's talks listed under the day they began), room, track, speakers in frab
or pretalx form, and links and attachments as media."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from sitegen.contract import NOT_WEB_URL, media_kind, web_url
from sitegen.sources.frab.ids import _bounded_id, _digest, _slug
from sitegen.sources.frab.markdown import _escape_markdown, _markdown
from sitegen.sources.frab.parsed import Warn, _Day, _Person, _Talk
from sitegen.sources.frab.values import _clock, _key_text, _line, _moment, _show, _timestamp


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
        return start, self.end(
            label, start, _moment(raw.get("end"), self.zone), _clock(raw.get("duration")), "correct the talk's end or duration"
        )

    def end(self, label: str, start: datetime, end: datetime | None, length: timedelta | None, fix: str) -> datetime | None:
        """The talk's end: ``end``, else start + ``length``, added in UTC (across a daylight saving
        change a talk lasts its length, not its wall-clock span); one before the start is left
        out, with a warning (``fix``: what to correct)."""
        if end is None and length:
            end = (start.astimezone(UTC) + length).astimezone(self.zone)
        if end is not None and end < start:
            self.warn(label, f"ends ({end.isoformat()}) before it starts ({start.isoformat()}); the end is left out", fix)
            return None
        return end

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
        return _Person(self.person_id(raw, name), name, _markdown(raw.get("biography")), self.avatar(where, raw.get("avatar")))

    def avatar(self, where: str, value: Any) -> str | None:
        """The avatar's URL (a relative one read against base_url); one the contract refuses is left out with a warning."""
        if not isinstance(value, str) or not value.strip():
            return None
        url, problem = web_url(value, self.base_url)
        if problem is not None:
            what, fix = problem
            if problem == NOT_WEB_URL:
                fix = "link the avatar with an http(s) URL, or set the schedule's base_url for relative ones"
            self.warn(f"{where}.avatar", f"{_show(value)} {what}; left out", fix)
        return url

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
                url, problem = web_url(fields.get("url"), self.base_url)
                if url is None:
                    self.warn(f"{label}.{key}[{position}]", *_left_out(item, fields.get("url"), problem))
                    continue
                title = _line(fields.get("title")) or None
                found.setdefault(url, {"kind": media_kind(url, title, fields.get("type")), "url": url, "title": title})
        return tuple(found.values())


def _left_out(item: Any, url: Any, problem: tuple[str, str] | None) -> tuple[str, str]:
    """The warning for a link or attachment left out: what is wrong with it, and the fix."""
    if problem is None or problem == NOT_WEB_URL:
        return (
            f"{_show(item)} has no http(s) URL; left out",
            "link to an http:// or https:// address, or set the schedule's base_url for relative ones",
        )
    what, fix = problem
    return f"its URL {_show(url)} {what}; left out", fix


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
