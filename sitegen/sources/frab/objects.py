"""The contract's collections from the schedules read: an event per
conference, a session per talk, people and topics shared by every schedule
that names them; ids and slugs unique, and the same on every run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sitegen.sources.frab.ids import _bounded_id, _digest, _joined, _slug, _unique_slugs
from sitegen.sources.frab.parsed import Warn, _Person, _Schedule, _Talk
from sitegen.sources.frab.values import _timestamp


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
