"""Whole-archive checks and indexes: slugs unique in their scope, the objects
linked into an ``Archive`` with its display-order indexes, and co-speakers."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from sitegen.bounded import shown
from sitegen.errors import Problem
from sitegen.model.context import _Context
from sitegen.model.digest import zone_rules_digest
from sitegen.model.order import _chronological_order, event_order
from sitegen.model.types import Archive, Event, Person, Series, Session, Topic, Venue


def _check_unique_slugs(ctx: _Context) -> None:
    for collection, read in ctx.read.items():
        # Slugs are unique per type, but sessions' only within their event and
        # events' within their start year (their paths hold the event and the year).
        if collection == "sessions":
            scopes = [obj.event.id if obj.event else None for _, obj in read]
            scope_text = "within its event"
        elif collection == "events":
            scopes = [obj.start_date.year for _, obj in read]
            scope_text = "within the year of its start_date"
        else:
            scopes = [None] * len(read)
            scope_text = "per type"
        # One small dict per scope: quicker than one big dict keyed by (scope, slug).
        first_by_scope: dict[Any, dict[str, int]] = {}
        for scope, (position, obj) in zip(scopes, read, strict=True):
            if not obj.slug:
                continue  # already reported as unsafe
            first = first_by_scope.get(scope)
            if first is None:
                first = first_by_scope[scope] = {}
            if obj.slug in first:
                ctx.problems.append(
                    Problem(
                        f"{collection}[{position}] (id {shown(obj.id)}).slug",
                        f"{shown(obj.slug)} is already used by {collection}[{first[obj.slug]}]",
                        f"slugs must be unique {scope_text}",
                    )
                )
            else:
                first[obj.slug] = position


def _link(
    series: Mapping[str, Series],
    venues: Mapping[str, Venue],
    topics: Mapping[str, Topic],
    people: Mapping[str, Person],
    events: Mapping[str, Event],
    sessions: Mapping[str, Session],
) -> Archive:
    # Sort everything once, then deal it out: both orders are total (they end
    # with the unique id), so lists filled in that order come out sorted. In
    # one event, chronological order is ``session_order``.
    by_event: dict[str, list[Session]] = defaultdict(list)
    by_person: dict[str, list[Session]] = defaultdict(list)
    by_topic: dict[str, list[Session]] = defaultdict(list)
    ordered = sorted(sessions.values(), key=_chronological_order())
    for session in ordered:
        by_event[session.event.id].append(session)
        for person in session.speakers:
            by_person[person.id].append(session)
        for topic in session.topics:
            by_topic[topic.id].append(session)
    events_by_series, events_by_topic, events_by_year = _event_lists(events, by_event)

    def tuples(index: Mapping[Any, list[Any]]) -> dict[Any, tuple[Any, ...]]:
        return {key: tuple(items) for key, items in sorted(index.items())}

    return Archive(
        series=series,
        venues=venues,
        topics=topics,
        people=people,
        events=events,
        sessions=sessions,
        sessions_by_event=tuples(by_event),
        sessions_by_person=tuples(by_person),
        sessions_by_topic=tuples(by_topic),
        events_by_series=tuples(events_by_series),
        events_by_topic=tuples(events_by_topic),
        events_by_year=tuples(events_by_year),
        session_order=hashlib.blake2b("\n".join(session.id for session in ordered).encode(), digest_size=16).hexdigest(),
        zones=zone_rules_digest(event.timezone for event in events.values()),
    )


def _event_lists(
    events: Mapping[str, Event], by_event: Mapping[str, list[Session]]
) -> tuple[dict[str, list[Event]], dict[str, list[Event]], dict[int, list[Event]]]:
    """The events of each series, topic and year, in ``event_order``."""
    events_by_series: dict[str, list[Event]] = defaultdict(list)
    events_by_topic: dict[str, list[Event]] = defaultdict(list)
    events_by_year: dict[int, list[Event]] = defaultdict(list)
    for event in sorted(events.values(), key=event_order):
        if event.series:
            events_by_series[event.series.id].append(event)
        events_by_year[event.year].append(event)
        # An event is listed under its own topics and its sessions'.
        topic_ids = {topic.id for topic in event.topics}
        topic_ids.update(topic.id for session in by_event.get(event.id, ()) for topic in session.topics)
        for topic_id in topic_ids:
            events_by_topic[topic_id].append(event)
    return events_by_series, events_by_topic, events_by_year


def co_speakers(archive: Archive, person: Person) -> list[tuple[Person, int]]:
    """People who share sessions with ``person``, most shared first, then by name."""
    counts: Counter[str] = Counter(
        other.id for session in archive.sessions_by_person.get(person.id, ()) for other in session.speakers if other.id != person.id
    )
    ranked = sorted(counts.items(), key=lambda item: (-item[1], archive.people[item[0]].name.casefold(), item[0]))
    return [(archive.people[pid], n) for pid, n in ranked]
