"""A schedule as read and checked, before ids and slugs are given: the
conference, its days, its talks and their persons; and ``Warn``, how every
reader reports what it left out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

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
