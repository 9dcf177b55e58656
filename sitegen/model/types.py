"""The model's frozen object types (series, venues, topics, people, events,
sessions, with their links and media), the ``Archive`` that holds them with
its indexes, and ``object_key``, the name an object keeps between builds."""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sitegen.errors import Problem
from sitegen.model.places import country_name


@dataclass(frozen=True, slots=True)
class Link:
    kind: str
    url: str


@dataclass(frozen=True, slots=True)
class Media:
    kind: str
    url: str
    title: str | None


@dataclass(frozen=True, slots=True)
class Series:
    id: str
    slug: str
    name: str
    description: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Venue:
    id: str
    slug: str
    name: str
    city: str
    country: str  # ISO 3166-1 alpha-2, upper case
    lat: float | None
    lon: float | None
    updated_at: datetime
    city_slug: str

    @property
    def country_name(self) -> str:
        return country_name(self.country)


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    slug: str
    name: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    slug: str
    name: str
    bio: str | None
    links: tuple[Link, ...]
    avatar_url: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    slug: str
    name: str
    series: Series | None
    venue: Venue | None
    start_date: date
    end_date: date
    timezone: str
    url: str | None
    description: str | None
    topics: tuple[Topic, ...]
    updated_at: datetime

    @property
    def year(self) -> int:
        return self.start_date.year

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    slug: str
    event: Event
    title: str
    abstract: str | None
    start: datetime | None
    end: datetime | None
    room: str | None
    speakers: tuple[Person, ...]
    topics: tuple[Topic, ...]
    media: tuple[Media, ...]
    updated_at: datetime
    #: The local day the session happens on (the event's first day if
    #: unscheduled). Worked out once here: pages ask for it over and over.
    day: date
    #: The contract's ``date``: the day of a talk whose time is unknown (None
    #: when ``start`` is given, or when neither is known).
    date_only: date | None = None

    @property
    def is_scheduled(self) -> bool:
        """Whether the session's time is known."""
        return self.start is not None

    @property
    def has_day(self) -> bool:
        """Whether the session's day is known: from its start, or from ``date``."""
        return self.start is not None or self.date_only is not None

    @property
    def local_start(self) -> datetime | None:
        return self.start.astimezone(self.event.tz) if self.start else None

    @property
    def local_end(self) -> datetime | None:
        return self.end.astimezone(self.event.tz) if self.end else None


@dataclass(frozen=True)
class Archive:
    """The whole validated data set. Mappings are keyed by id in sorted id order;
    the ``*_by_*`` indexes hold tuples in display order."""

    series: Mapping[str, Series]
    venues: Mapping[str, Venue]
    topics: Mapping[str, Topic]
    people: Mapping[str, Person]
    events: Mapping[str, Event]
    sessions: Mapping[str, Session]
    sessions_by_event: Mapping[str, tuple[Session, ...]]
    sessions_by_person: Mapping[str, tuple[Session, ...]]
    sessions_by_topic: Mapping[str, tuple[Session, ...]]
    events_by_series: Mapping[str, tuple[Event, ...]]
    events_by_topic: Mapping[str, tuple[Event, ...]]
    events_by_year: Mapping[int, tuple[Event, ...]]
    #: A digest of every session's place in the chronological order (their ids in that
    #: order), which every list of sessions follows: the same when no session moved.
    session_order: str = ""
    #: A digest of the rules of the archive's time zones (``digest.zone_rules_digest``), which
    #: give every local day and time: what the pages and the search records depend on beside the raw data.
    zones: str = ""


@dataclass(frozen=True)
class ModelResult:
    archive: Archive
    warnings: tuple[Problem, ...]
    #: ``object_key`` -> a digest of the raw object it was read from: what a
    #: rebuild compares to learn which objects changed.
    sources: Mapping[str, str] = field(default_factory=dict)
    #: collection -> digest -> the object: those read with no problem and no warning,
    #: which a later build of the same process may take as they are (``build_archive``'s ``earlier``).
    valid: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


#: The fields of each collection's objects that hold other objects, with those objects' collection.
LINKS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "events": (("series", "series"), ("venue", "venues"), ("topics", "topics")),
    "sessions": (("event", "events"), ("speakers", "people"), ("topics", "topics")),
}

#: The API collection each model type is read from.
COLLECTION_OF: Mapping[type, str] = {
    Series: "series",
    Venue: "venues",
    Topic: "topics",
    Person: "people",
    Event: "events",
    Session: "sessions",
}


def object_key(obj: Series | Venue | Topic | Person | Event | Session) -> str:
    """A name for a model object that stays the same between builds: ``sessions/<id>``."""
    return f"{COLLECTION_OF[type(obj)]}/{obj.id}"
