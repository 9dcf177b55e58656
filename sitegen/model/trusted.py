"""The trusted readers, for raw objects a build already found valid (``known``).

A trusted reader builds the object straight from the raw values: it checks no field
and cleans no text. It still does what depends on the rest of the archive, the
same way the fast reader does: it resolves references (a missing one raises
``_Unusual``), checks an event's timezone, and works out a session's day within
its event's dates. A raw object is known only when, in the build that first read
it, its trusted reading was identical (``known.identical``) to its checked one and
raised no problem or warning. Anything unexpected here (a missing key, a wrong
type) raises, and the object is read again with checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sitegen.model.context import _Context
from sitegen.model.fast import _event_dates, _fast_reference, _fast_references, _session_times
from sitegen.model.places import city_slug
from sitegen.model.types import Event, Link, Media, Person, Series, Session, Topic, Venue


def _trusted_series(raw: dict[str, Any], ctx: _Context) -> Series:
    return Series(raw["id"], raw["slug"], raw["name"], raw.get("description"), ctx.timestamp(raw.get("updated_at")))


def _trusted_venue(raw: dict[str, Any], ctx: _Context) -> Venue:
    lat, lon = raw.get("lat"), raw.get("lon")
    city = raw["city"]
    return Venue(
        raw["id"],
        raw["slug"],
        raw["name"],
        city,
        raw["country"].upper(),
        None if lat is None else float(lat),
        None if lon is None else float(lon),
        ctx.timestamp(raw.get("updated_at")),
        city_slug(city),
    )


def _trusted_topic(raw: dict[str, Any], ctx: _Context) -> Topic:
    return Topic(raw["id"], raw["slug"], raw["name"], ctx.timestamp(raw.get("updated_at")))


def _trusted_person(raw: dict[str, Any], ctx: _Context) -> Person:
    links = tuple(Link(item["kind"], item["url"]) for item in raw.get("links") or ())
    return Person(raw["id"], raw["slug"], raw["name"], raw.get("bio"), links, raw.get("avatar_url"), ctx.timestamp(raw.get("updated_at")))


def _trusted_event(raw: dict[str, Any], ctx: _Context) -> Event:
    start, end, timezone = _event_dates(raw, ctx)
    lookups = ctx.lookups
    series, venue = raw.get("series"), raw.get("venue")
    return Event(
        raw["id"],
        raw["slug"],
        raw["name"],
        None if series is None else _fast_reference(lookups["series"], series),
        None if venue is None else _fast_reference(lookups["venues"], venue),
        start,
        end,
        timezone,
        raw.get("url"),
        raw.get("description"),
        _fast_references(lookups["topics"], raw.get("topics")),
        ctx.timestamp(raw.get("updated_at")),
    )


def _trusted_session(raw: dict[str, Any], ctx: _Context) -> Session:
    lookups = ctx.lookups
    event = _fast_reference(lookups["events"], raw.get("event"))
    start, end, day, on_day = _session_times(raw, event, ctx)
    return Session(
        raw["id"],
        raw["slug"],
        event,
        raw["title"],
        raw.get("abstract"),
        start,
        end,
        raw.get("room"),
        _fast_references(lookups["people"], raw.get("speakers")),
        _fast_references(lookups["topics"], raw.get("topics")),
        tuple(Media(item["kind"], item["url"], item.get("title")) for item in raw.get("media") or ()),
        ctx.timestamp(raw.get("updated_at")),
        day,
        on_day,
    )


#: Each collection's trusted reader.
TRUSTED: dict[str, Callable[[dict[str, Any], _Context], Any]] = {
    "series": _trusted_series,
    "venues": _trusted_venue,
    "topics": _trusted_topic,
    "people": _trusted_person,
    "events": _trusted_event,
    "sessions": _trusted_session,
}
