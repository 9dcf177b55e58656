"""The display orders: sessions in schedule order, events by date, and the
quicker chronological key the archive's indexes are sorted with."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from sitegen.model.types import Event, Session


def session_order(session: Session) -> tuple[Any, ...]:
    """Schedule order: by time and room (a talk known only by its day at the
    start of that day), then the unscheduled by title."""
    return (_sort_time(session), session.room or "", session.title.casefold(), session.id)


def _sort_time(session: Session) -> float:
    """When a session sorts: its start; the start of its day (in its event's
    timezone) when only the day is known; infinitely late when neither is."""
    if session.start is not None:
        return session.start.timestamp()
    if session.date_only is not None:
        return datetime.combine(session.date_only, time(0), tzinfo=session.event.tz).timestamp()
    return math.inf


def event_order(event: Event) -> tuple[Any, ...]:
    return (event.start_date, event.name.casefold(), event.id)


def _chronological_order() -> Callable[[Session], tuple[Any, ...]]:
    """A sort key that orders sessions as ``(event.start_date, *session_order(s))`` does.

    It is quicker to compute and to compare: the day is an int (list.sort has
    a fast path for an int first item), "unscheduled, then by start" is one
    float (unscheduled is infinitely late), and each distinct start's
    timestamp is computed once, as the sessions of a slot share their start.
    """
    timestamps: dict[datetime, float] = {}

    def key(session: Session) -> tuple[Any, ...]:
        start = session.start
        if start is None:
            timestamp = math.inf if session.date_only is None else _sort_time(session)
        else:
            timestamp = timestamps.get(start)  # type: ignore[assignment]
            if timestamp is None:
                timestamp = timestamps[start] = start.timestamp()
        return (session.event.start_date.toordinal(), timestamp, session.room or "", session.title.casefold(), session.id)

    return key
