"""The contract's collections from the events read: ids and slugs from the
data alone (so two runs give the same site), people and topics shared across
the checkout by name (compared without case), and slugs made unique where
names, files or titles share one."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

from sitegen.contract import ascii_spelling, slugify
from sitegen.sources.frab.ids import _unique_slugs
from sitegen.sources.pyvideo.events import Event
from sitegen.sources.pyvideo.talks import Talk
from sitegen.sources.pyvideo.values import YEAR_RE, Warn, digest, key_id

#: Every object's ``updated_at``: the checkout has no change times of its own (git sets a
#: file's time to when it was checked out), and a constant keeps an unchanged checkout's site unchanged.
UPDATED_AT = "2026-01-01T00:00:00+00:00"


class _Names:
    """People or topics by name compared without case; the spelling used most names each."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.spellings: dict[str, dict[str, int]] = {}
        self.ids: dict[str, str] = {}

    def id_of(self, name: str) -> str:
        key = name.casefold()
        spellings = self.spellings.setdefault(key, {})
        spellings[name] = spellings.get(name, 0) + 1
        if key not in self.ids:
            self.ids[key] = key_id(f"pyvideo:{self.kind}:", key)
        return self.ids[key]

    def objects(self, extra: dict[str, Any]) -> list[dict[str, Any]]:
        names = {key: min(counts.items(), key=lambda item: (-item[1], item[0]))[0] for key, counts in self.spellings.items()}
        slugs = _slugs({key: slugify(name) for key, name in names.items()}, self.kind)
        objects = [{"id": self.ids[key], "slug": slugs[key], "name": name, **extra} for key, name in names.items()]
        return sorted(({**item, "updated_at": UPDATED_AT} for item in objects), key=lambda item: item["id"])


def _slugs(bases: dict[str, str], kind: str) -> dict[str, str]:
    """key -> a unique slug: its base (a digest of the key when nothing of it folds to a-z0-9),
    with a digest of the key added on every key that shares a base."""
    bases = {key: base or f"{kind}-{digest(key, 8)}" for key, base in bases.items()}
    return _unique_slugs(bases, lambda key: digest(key, 6))


def collections(events: list[Event], warn: Warn) -> dict[str, list[dict[str, Any]]]:
    people, topics = _Names("person"), _Names("topic")
    series: dict[str, dict[str, Any]] = {}
    sessions: list[dict[str, Any]] = []
    for event in events:  # in folder order: the latest edition names its series
        series[event.series.casefold()] = {"id": key_id("pyvideo:series:", event.series.casefold()), "name": event.series}
        slugs = _session_slugs(event, warn)
        sessions += [_session(event, talk, slugs[talk.stem], people, topics) for talk in event.talks]
    series_slugs = _slugs({key: slugify(item["name"]) for key, item in series.items()}, "series")
    return {
        "series": sorted(({**item, "slug": series_slugs[key], "updated_at": UPDATED_AT} for key, item in series.items()), key=_id),
        "venues": [],
        "topics": topics.objects({}),
        "people": people.objects({"bio": None, "links": [], "avatar_url": None}),
        "events": sorted((_event(event, slug) for event, slug in _event_slugs(events)), key=_id),
        "sessions": sorted(sessions, key=_id),
    }


def _id(item: dict[str, Any]) -> str:
    return str(item["id"])


def _event_slugs(events: list[Event]) -> list[tuple[Event, str]]:
    """Each event with its slug: its folder without the year, unique among the events of its start year."""
    by_year: dict[str, dict[str, str]] = defaultdict(dict)
    for event in events:
        by_year[event.start_date[:4]][event.id] = slugify(YEAR_RE.sub(" ", event.folder)) or slugify(event.series)
    slugs = {event_id: slug for bases in by_year.values() for event_id, slug in _slugs(bases, "event").items()}
    return [(event, slugs[event.id]) for event in events]


def _event(event: Event, slug: str) -> dict[str, Any]:
    return {
        "id": event.id,
        "slug": slug,
        "name": event.name,
        "series": key_id("pyvideo:series:", event.series.casefold()),
        "venue": None,
        "start_date": event.start_date,
        "end_date": event.end_date,
        "timezone": "UTC",  # pyvideo records days, not times: all-day events
        "url": event.url,
        "description": event.description,
        "topics": [],
        "updated_at": UPDATED_AT,
    }


def _session_slugs(event: Event, warn: Warn) -> dict[str, str]:
    """File stem -> the talk's slug within its event: its ``slug`` (else file name), else its title."""
    bases = {talk.stem: slugify(talk.slug) or slugify(talk.title) for talk in event.talks}
    # Only slugs the same in full are the data's doing: bases cut short (room for a suffix) may meet too.
    whole = {talk.stem: _uncut(talk.slug) or _uncut(talk.title) for talk in event.talks}
    shared = Counter(whole.values())
    for talk in event.talks:
        if whole[talk.stem] and shared[whole[talk.stem]] > 1:
            where = f"{talk.where} (slug {whole[talk.stem]!r})"
            warn(where, "shares its slug with another talk of its event; a suffix keeps them apart", "give each talk its own slug")
    return _slugs(bases, "talk")


def _uncut(text: str) -> str:
    """``text`` spelled as a slug is, but not cut to a slug's length."""
    return re.sub(r"[^a-z0-9]+", "-", ascii_spelling(text).lower()).strip("-")


def _session(event: Event, talk: Talk, slug: str, people: _Names, topics: _Names) -> dict[str, Any]:
    return {
        "id": key_id(f"{event.id}/", talk.stem),
        "slug": slug,
        "event": event.id,
        "title": talk.title,
        "abstract": talk.abstract,
        "date": talk.day,  # pyvideo records the day only: a date-only session
        "start": None,
        "end": None,
        "room": None,
        "speakers": [people.id_of(name) for name in talk.speakers],
        "topics": [topics.id_of(tag) for tag in talk.tags],
        "media": list(talk.media),
        "language": talk.language,
        "updated_at": UPDATED_AT,
    }
