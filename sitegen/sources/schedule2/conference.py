"""Reading one schedule v2 document: its conference (title, acronym, timezone,
dates, version, rooms, tracks, language), its ``persons``, and its ``events``
through ``events``. Into v1's parsed form (``sitegen.sources.frab.parsed``),
so ids, slugs, people and topics are given by the one code that gives them.
Only a document that is no schedule v2 at all is an error."""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urlsplit

from sitegen.errors import SourceError
from sitegen.sources.frab.markdown import _markdown
from sitegen.sources.frab.parsed import Warn, _Schedule
from sitegen.sources.frab.schedule import _conference_name, _conference_url, _dates, _updated_at, _zone_name
from sitegen.sources.frab.talks import _TalkReader
from sitegen.sources.frab.values import _mappings, _moment, _show, _web_url
from sitegen.sources.pretalx.values import _i18n
from sitegen.sources.schedule2.events import _EventReader, _Lookups
from sitegen.sources.schedule2.values import _by_key

_FIX = "point [source] url at a schedule v2 document (c3voc schema2.json), as the CCC hub exports it"


def _read_schedule2(origin: str, document: Any, warn: Warn) -> _Schedule | None:
    schedule = document.get("schedule") if isinstance(document, Mapping) else None
    conference = schedule.get("conference") if isinstance(schedule, Mapping) else None
    if not isinstance(schedule, Mapping) or not isinstance(conference, Mapping):
        raise SourceError.at(origin, "is not a c3voc schedule: it has no schedule.conference object", _FIX)
    events = _events(origin, document, warn)
    title, acronym = _conference_name(origin, conference, warn)
    zone_name = _zone_name(origin, {"time_zone_name": conference.get("time_zone_name"), "days": _day_starts(conference)}, warn)
    zone = zoneinfo.ZoneInfo(zone_name)
    base_url, url = _web_url(schedule.get("base_url")), _conference_url(origin, conference, warn)
    instance = urlsplit(base_url or url or "").netloc.lower() or acronym
    language = _language(conference)
    reader = _EventReader(
        origin, zone, _TalkReader(origin, zone, base_url, instance, warn), _lookups(document, schedule, conference, language), warn
    )
    talks = tuple(reader.events(events))
    dated = {**conference, "start": _local_date(conference.get("start"), zone), "end": _local_date(conference.get("end"), zone)}
    dates = _dates(origin, dated, talks, zone, warn)
    if dates is None:
        warn(
            f"{origin}: conference",
            "has no readable start or end, days or event times; the schedule is left out",
            "give the conference start and end",
        )
        return None
    description = _markdown(_i18n(conference.get("description"), language))
    return _Schedule(
        origin, acronym, title or acronym, zone_name, *dates, url, description, _updated_at(schedule.get("version"), zone, dates[0]), talks
    )


def _events(origin: str, document: Mapping[str, Any], warn: Warn) -> list[Any]:
    """``schedule.events`` (or, from a document that puts it there, the top-level ``events``). A v1 document (talks under ``days[].rooms``) is an error that says so;
    a document without events (a schedule not yet filled in) is an event without talks."""
    schedule, conference = document["schedule"], document["schedule"]["conference"]
    events = schedule.get("events") if "events" in schedule else document.get("events")
    if isinstance(events, list):
        return events
    if any(isinstance(day.get("rooms"), Mapping) for day in _mappings(conference.get("days"))):
        raise SourceError.at(
            origin,
            "is a schedule v1 document (its talks are under conference.days[].rooms), not v2",
            'read it as v1: [source] url = "frab:…" (or "frab+https://…")',
        )
    warn(
        f"{origin}: schedule.events",
        f"is {_show(events)}, not a list of events; the conference has no talks",
        "export the schedule with its events",
    )
    return []


def _day_starts(conference: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The conference's start and its days' starts, in the shape v1's timezone fallback reads
    (``day_start``): without an IANA name, the first UTC offset among them is the event's."""
    return [{"day_start": conference.get("start")}, *({"day_start": day.get("start")} for day in _mappings(conference.get("days")))]


def _local_date(value: Any, zone: tzinfo) -> Any:
    """A conference's start or end (a timestamp in v2) as its local date; anything else as it is, for v1's reading."""
    moment = _moment(value, zone)
    return moment.astimezone(zone).date().isoformat() if isinstance(moment, datetime) else value


def _language(conference: Mapping[str, Any]) -> str | None:
    """The language translated text is read in: the conference's default, else its first language."""
    defaults, languages = conference.get("defaults"), conference.get("languages")
    first = languages[0] if isinstance(languages, list) and languages else None
    preferred = defaults.get("language") if isinstance(defaults, Mapping) else None
    return next((value for value in (preferred, first) if isinstance(value, str)), None)


def _lookups(document: Mapping[str, Any], schedule: Mapping[str, Any], conference: Mapping[str, Any], language: str | None) -> _Lookups:
    """Rooms, tracks and persons by the keys events use. ``persons`` is beside ``events`` in
    ``schedule``; a document with it at the top level is read too."""
    persons = schedule.get("persons") if "persons" in schedule else document.get("persons")
    rooms = conference.get("rooms")
    return _Lookups(
        _by_key(rooms, "guid"), _by_key(rooms, "slug"), _by_key(conference.get("tracks"), "slug"), _by_key(persons, "guid"), language
    )
