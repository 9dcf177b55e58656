"""What each file of a build was made from, and what a rebuild must render again.

Every file the render stage makes has an entry in the build's record:

- **An object's files** (the page of a session, event, person, topic or
  series; an event's calendar; the calendar and feed of a person, topic or
  series) record their owner, their template, and the
  objects their context holds (``deps``), by ``model.object_key``.
- **Listings** (home, years, indexes, places, Markdown pages, 404) record a
  digest of all their inputs (``render.digest``). They are few, so a rebuild
  plans every one and renders those whose digest changed.

The record also keeps a digest of every model object's raw data, of every
template (with what it pulls in), of the site-wide inputs, and today's date.
A rebuild compares them and renders an object's file again when:

- its owner, or an object in its deps, changed, was added or was deleted, or
  shows one that did (a session shows its event's name: a renamed event changes
  every list of its sessions);
- an object joined or left a list the file shows: the owner's own (an event's
  sessions, a person's talks) or one it names in ``lists``;
- its template changed, or today's date did and the file depends on it.

Different site-wide inputs (config, code, assets) render everything again.
Whatever is not rendered again keeps its entry; its file is known to be
current. ``tests/test_incremental.py`` checks, for random edits, that a
rebuild gives the same bytes as a clean build.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from sitegen.model import Archive, Event, Person, Series, Session, Topic, Venue, object_key
from sitegen.render.digest import Analysis

RECORD_FORMAT = 3
_LINKED_TYPES = frozenset({Session, Event, Person, Topic, Series, Venue})


class FileEntry(NamedTuple):
    """What one output file was made from."""

    #: object_key of the object the file belongs to; "" for a listing.
    owner: str = ""
    #: The template it was rendered with; "" when none (calendars).
    template: str = ""
    #: For listings, the digest of every input; "" for an object's files.
    digest: str = ""
    #: Objects the context holds (object_key), sorted.
    deps: tuple[str, ...] = ()
    #: Objects whose member lists the file shows besides its owner's.
    lists: tuple[str, ...] = ()
    reads_today: bool = False
    #: (route, last change as YYYY-MM-DD or "") when the file is in the sitemap.
    sitemap: tuple[str, str] | None = None


@dataclass(frozen=True)
class Record:
    """A build's record: the inputs it saw, and each file's entry."""

    inputs: str
    today: str
    templates: Mapping[str, str]
    sources: Mapping[str, str]
    files: Mapping[str, FileEntry]
    #: Template analyses by source digest (``digest.TemplateDigests``).
    analyses: Mapping[str, Analysis] = field(default_factory=dict)
    #: The archive's ``session_order``.
    order: str = ""

    def to_data(self) -> dict[str, Any]:
        """Plain data (dicts, tuples, strings), in sorted order, for ``marshal``:
        a large archive's record loads in a tenth of the time JSON takes."""
        return {
            "format": RECORD_FORMAT,
            "inputs": self.inputs,
            "today": self.today,
            "templates": dict(sorted(self.templates.items())),
            "sources": dict(sorted(self.sources.items())),
            "files": {path: tuple(entry) for path, entry in sorted(self.files.items())},
            "analyses": dict(sorted(self.analyses.items())),
            "order": self.order,
        }

    @classmethod
    def from_data(cls, data: Any) -> Record | None:
        """The record, or None when it is missing, from another format, or damaged
        (the build then renders everything, which is always right)."""
        try:
            if data.get("format") != RECORD_FORMAT:
                return None
            files = {path: FileEntry._make(entry) for path, entry in data["files"].items()}
            if not all(isinstance(e.owner, str) and isinstance(e.deps, tuple) for e in files.values()):
                return None
            analyses = {digest: (tuple(refs), bool(today)) for digest, (refs, today) in data["analyses"].items()}
            order = data["order"]
            if not isinstance(order, str):
                return None
            return cls(data["inputs"], data["today"], dict(data["templates"]), dict(data["sources"]), files, analyses, order)
        except (AttributeError, KeyError, TypeError, ValueError):
            return None


def context_objects(context: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys of the model objects a page context holds, however deep in lists
    and view objects; not the objects those link to (changes spread to them
    through ``Changes``)."""
    found: dict[int, str] = {}
    fields: dict[type, tuple[str, ...]] = {}
    pending: list[Any] = list(context.values())
    while pending:
        value = pending.pop()
        kind = type(value)
        if kind in _SCALARS:
            continue
        if kind in _LINKED_TYPES:
            if id(value) not in found:
                found[id(value)] = object_key(value)
        elif kind is tuple or kind is list:
            pending.extend(value)
        elif isinstance(value, Mapping):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            names = fields.get(kind)
            if names is None:
                names = fields[kind] = tuple(f.name for f in dataclasses.fields(value))
            pending.extend(getattr(value, name) for name in names)
    return tuple(sorted(set(found.values())))


#: Values that hold no model object, skipped at once.
_SCALARS = frozenset({str, int, float, bool, type(None), date, datetime})


def forward_links(obj: Any) -> tuple[Any, ...]:
    """The objects a model object links to, whose names and such it shows."""
    if type(obj) is Session:
        return (obj.event, *obj.speakers, *obj.topics)
    if type(obj) is Event:
        return tuple(o for o in (obj.series, obj.venue, *obj.topics) if o is not None)
    return ()


@dataclass(frozen=True)
class Changes:
    """What changed between the last build's record and this build's data."""

    #: Objects changed, added or deleted, and those that show one (keys).
    shown: frozenset[str]
    #: Objects whose member lists changed: those a changed object links to.
    lists: frozenset[str]
    templates: frozenset[str]
    today: bool

    @classmethod
    def between(cls, previous: Record, archive: Archive, sources: Mapping[str, str], templates: Mapping[str, str], today: str) -> Changes:
        changed = {key for key, digest in sources.items() if previous.sources.get(key) != digest}
        deleted = set(previous.sources) - set(sources)
        objects = _objects_by_key(archive, changed)
        settled = _settled(previous, archive, objects)
        moving = [obj for obj in objects if object_key(obj) not in settled]
        lists = {object_key(target) for obj in moving for target in forward_links(obj)}
        lists |= _moved_in_lists(previous, archive, moving, (changed - settled) | deleted)
        return cls(
            frozenset(changed | deleted | _showing(archive, objects)),
            frozenset(lists),
            frozenset(name for name, digest in templates.items() if not digest or previous.templates.get(name) != digest),
            previous.today != today,
        )

    def touch(self, entry: FileEntry) -> bool:
        """Whether the file of this entry must be rendered again."""
        return bool(
            entry.template in self.templates
            or (entry.reads_today and self.today)
            or entry.owner in self.shown
            or entry.owner in self.lists
            or not self.shown.isdisjoint(entry.deps)
            or not self.lists.isdisjoint(entry.lists)
        )


def _settled(previous: Record, archive: Archive, objects: list[Any]) -> set[str]:
    """The changed sessions whose change moves nothing in any list, so it reaches only the
    files that show them (their ``deps``): no session moved in the archive's order (the
    order every list of sessions follows, and the related talks' ranks) and each is on the
    lists its page was made with (the same event, speakers and topics). A related talks
    list is chosen by ranks and shared speakers and topics only, so no other is changed."""
    if not previous.order or previous.order != archive.session_order:
        return set()
    sessions: dict[str, Session] = {object_key(obj): obj for obj in objects if type(obj) is Session}
    pages: dict[str, list[FileEntry]] = {}
    for entry in previous.files.values():
        if entry.owner in sessions:
            pages.setdefault(entry.owner, []).append(entry)
    settled = set()
    for key, session in sessions.items():
        links = {*map(object_key, session.speakers), *map(object_key, session.topics)}
        event = {object_key(session.event)}
        made = pages.get(key, [])
        if made and all(set(e.lists) == links and {d for d in e.deps if d.startswith("events/")} == event for e in made):
            settled.add(key)
    return settled


def _moved_in_lists(previous: Record, archive: Archive, objects: list[Any], gone: set[str]) -> set[str]:
    """Lists whose order or members changed beyond the new links of changed objects:
    the lists a changed or deleted session was on (its page's ``lists`` in the last
    build), and those of the sessions of a changed event (its dates order them).
    A session page's related talks come from such lists."""
    found = {key for entry in previous.files.values() if entry.owner in gone and entry.owner.startswith("sessions/") for key in entry.lists}
    for event in objects:
        if type(event) is Event:
            for session in archive.sessions_by_event.get(event.id, ()):
                found.update(object_key(person) for person in session.speakers)
                found.update(object_key(topic) for topic in session.topics)
    return found


def _objects_by_key(archive: Archive, keys: Iterable[str]) -> list[Any]:
    collections = {
        "sessions": archive.sessions,
        "events": archive.events,
        "people": archive.people,
        "topics": archive.topics,
        "series": archive.series,
        "venues": archive.venues,
    }
    found = []
    for key in keys:
        collection, _, obj_id = key.partition("/")
        obj = collections[collection].get(obj_id)
        if obj is not None:
            found.append(obj)
    return found


def _showing(archive: Archive, changed: list[Any]) -> set[str]:
    """Objects that show a changed one through their links: the sessions of a
    changed event, person or topic; the events of a changed series, venue or
    topic, and then their sessions."""
    events = {obj.id for obj in changed if type(obj) is Event}
    series = {obj.id for obj in changed if type(obj) is Series}
    venues = {obj.id for obj in changed if type(obj) is Venue}
    topics = {obj.id for obj in changed if type(obj) is Topic}
    if series or venues or topics:
        for event in archive.events.values():
            if (
                (event.series and event.series.id in series)
                or (event.venue and event.venue.id in venues)
                or any(t.id in topics for t in event.topics)
            ):
                events.add(event.id)
    sessions: set[str] = set()
    for event_id in events:
        sessions.update(object_key(s) for s in archive.sessions_by_event.get(event_id, ()))
    for obj in changed:
        if type(obj) is Person:
            sessions.update(object_key(s) for s in archive.sessions_by_person.get(obj.id, ()))
        elif type(obj) is Topic:
            sessions.update(object_key(s) for s in archive.sessions_by_topic.get(obj.id, ()))
    return sessions | {object_key(archive.events[event_id]) for event_id in events}
