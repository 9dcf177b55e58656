"""The checking readers, one per object type: the specification of what a
valid object is, wording every problem and warning (through ``_Fields``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

import iso3166

from sitegen.bounded import shown
from sitegen.contract import MEDIA_KINDS
from sitegen.model.fields import _Fields
from sitegen.model.places import city_slug
from sitegen.model.text import one_line
from sitegen.model.types import Event, Link, Media, Person, Series, Session, Topic, Venue


def _read_series(f: _Fields) -> Series | None:
    return Series(f.id(), f.slug(), f.line("name") or "", f.text("description", required=False), _updated(f))


def _read_venue(f: _Fields) -> Venue | None:
    country = f.raw.get("country")
    code = country.upper() if isinstance(country, str) else ""
    if code not in iso3166.countries_by_alpha2:
        f.problem("country", f"{shown(country)} is not an ISO 3166-1 alpha-2 country code", "use two letters such as GB or DE")
    city = f.line("city") or ""
    return Venue(
        f.id(),
        f.slug(),
        f.line("name") or "",
        city,
        code,
        f.number("lat", -90, 90),
        f.number("lon", -180, 180),
        _updated(f),
        city_slug(city),
    )


def _read_topic(f: _Fields) -> Topic | None:
    return Topic(f.id(), f.slug(), f.line("name") or "", _updated(f))


def _read_person(f: _Fields) -> Person | None:
    links = []
    for path, item in f.items("links"):
        if not isinstance(item, Mapping) or not isinstance(item.get("kind"), str):
            f.problem(path, f"{shown(item)} is not a {{kind, url}} object", 'send each link as {"kind": ..., "url": ...}')
            continue
        if not f.short_enough(f"{path}.kind", item["kind"]):
            continue
        url = f.url("url", item, f"{path}.url")
        if url:
            links.append(Link(one_line(item["kind"]) or "link", url))
    return Person(
        f.id(),
        f.slug(),
        f.line("name") or "",
        f.text("bio", required=False),
        tuple(links),
        f.url("avatar_url"),
        _updated(f),
    )


def _read_event(f: _Fields) -> Event | None:
    start, end = f.date("start_date"), f.date("end_date")
    if start and end and end < start:
        f.problem("end_date", f"{end} is before start_date {start}", "swap or correct the dates")
    return Event(
        f.id(),
        f.slug(),
        f.line("name") or "",
        f.reference("series", "series"),
        f.reference("venue", "venues"),
        start or date.min,
        end or date.min,
        f.timezone(),
        f.url("url"),
        f.text("description", required=False),
        f.references("topics", "topics"),
        _updated(f),
    )


def _read_session(f: _Fields) -> Session | None:
    event = f.reference("event", "events", required=True)
    start, end = f.timestamp("start", required=False), f.timestamp("end", required=False)
    if start and end and end < start:
        f.problem("end", f"{end.isoformat()} is before start {start.isoformat()}", "correct the times")
    if end and not start:
        f.problem("start", "is missing while end is set", "send both start and end, or neither")
    day = event.start_date if event else date.min
    on_day = _session_date(f, event) if start is None and f.raw.get("date") is not None else None
    if event and start and event.timezone:
        day = start.astimezone(event.tz).date()
        if _outside_dates(event, day):
            f.warn(
                "start",
                f"falls on {day}, outside its event's dates {event.start_date}..{event.end_date}",
                "check the session time or the event dates",
            )
    elif on_day is not None:
        day = on_day
    return Session(
        f.id(),
        f.slug(),
        event,
        f.line("title") or "",
        f.text("abstract", required=False),
        start,
        end,
        f.line("room", required=False),
        f.references("speakers", "people"),
        f.references("topics", "topics"),
        _read_media(f),
        _updated(f),
        day,
        on_day,
    )


def _session_date(f: _Fields, event: Event | None) -> date | None:
    """The day of a session whose time is unknown (the contract's ``date``)."""
    on_day = f.date("date")
    if on_day and event and _outside_dates(event, on_day):
        f.warn("date", f"{on_day} is outside its event's dates {event.start_date}..{event.end_date}", "check the date or the event dates")
    return on_day


def _outside_dates(event: Event, day: date) -> bool:
    """Whether ``day`` falls outside the dates of ``event``, when those are known (a warning)."""
    return event.start_date != date.min and not event.start_date <= day <= event.end_date


def _read_media(f: _Fields) -> tuple[Media, ...]:
    media = []
    for path, item in f.items("media"):
        if not isinstance(item, Mapping):
            f.problem(path, f"{shown(item)} is not a {{kind, url, title}} object", "send each media item as an object")
            continue
        kind = item.get("kind")
        if kind not in MEDIA_KINDS:
            f.warn(
                f"{path}.kind", f"{shown(kind)} is not one of {', '.join(MEDIA_KINDS)}; shown as 'other'", "use a kind from the contract"
            )
            kind = "other"
        url = f.url("url", item, f"{path}.url")
        title = item.get("title")
        if isinstance(title, str) and not f.short_enough(f"{path}.title", title):
            continue
        if isinstance(title, str):
            title = one_line(title) or None
        else:
            title = None
        if url:
            media.append(Media(kind, url, title))
    return tuple(media)


def _updated(f: _Fields) -> datetime:
    return f.timestamp("updated_at") or datetime.min
