"""Subscriptions: a calendar and an Atom feed for every person, topic and series.

They sit beside the owner's page (``people/ada/calendar.ics``,
``people/ada/feed.atom``) and are the owner's files in the build's record,
like an event's calendar: ``deps`` are the sessions (and, for a series, the
events) they hold, and a series also lists its events' sessions
(``lists``), so a session joining or leaving one of them renders them again.
The formats are ``formats.Syndication``'s, shared with the event calendars
and the site feed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sitegen.model import Archive, Event, Person, Series, Session, Topic, object_key
from sitegen.render import formats
from sitegen.render.record import FileEntry
from sitegen.render.routes import calendar_route, feed_route, route_of

Owner = Person | Topic | Series
SUBSCRIBABLE = (Person, Topic, Series)


def owner_sessions(archive: Archive, owner: Owner) -> tuple[Session, ...]:
    """The owner's sessions in chronological order (the archive's indexes are)."""
    if type(owner) is Person:
        return archive.sessions_by_person.get(owner.id, ())
    if type(owner) is Topic:
        return archive.sessions_by_topic.get(owner.id, ())
    return tuple(s for event in series_events(archive, owner) for s in archive.sessions_by_event.get(event.id, ()))


def series_events(archive: Archive, owner: Owner) -> tuple[Event, ...]:
    return archive.events_by_series.get(owner.id, ()) if type(owner) is Series else ()


def title(owner: Owner) -> str:
    """What the calendar and the feed are called (after the site's title)."""
    match owner:
        case Person():
            return f"talks by {owner.name}"
        case Topic():
            return f"talks about {owner.name}"
    return f"talks at {owner.name}"


def calendar_file(archive: Archive, syndication: formats.Syndication, owner: Owner) -> tuple[FileEntry, bytes]:
    """The newest ``formats.CALENDAR_SESSIONS`` sessions whose day is known, and
    a series' events as all-day entries."""
    dated = [s for s in owner_sessions(archive, owner) if s.has_day]
    sessions = dated[-formats.CALENDAR_SESSIONS :]
    events = series_events(archive, owner)[-formats.CALENDAR_SESSIONS :]
    data = syndication.calendar(f"{syndication.site.title}: {title(owner)}", sessions, events=events)
    return _entry(archive, owner, sessions, events), data


def feed_file(archive: Archive, syndication: formats.Syndication, owner: Owner) -> tuple[FileEntry, bytes]:
    """The newest ``formats.FEED_ENTRIES`` sessions, newest first."""
    sessions = owner_sessions(archive, owner)[-formats.FEED_ENTRIES :][::-1]
    data = syndication.feed(sessions, title=title(owner), route=feed_route(owner), page=route_of(owner))
    return _entry(archive, owner, sessions, ()), data


def _entry(archive: Archive, owner: Owner, sessions: Sequence[Session], events: Sequence[Event]) -> FileEntry:
    shown: set[Any] = {owner, *sessions, *events}
    return FileEntry(
        owner=object_key(owner),
        deps=tuple(sorted(object_key(o) for o in shown)),
        lists=tuple(sorted(object_key(e) for e in series_events(archive, owner))),
    )


def files_of(owner: Owner) -> tuple[tuple[str, str], ...]:
    """(route, what) of the owner's subscription files, for the planner."""
    return ((calendar_route(owner), "calendar"), (feed_route(owner), "feed"))
