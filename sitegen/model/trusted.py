"""The trusted readers, for raw objects a build already found valid (``known``).

A trusted reader builds the object straight from the raw values: it checks no field
and cleans no text. It still does what depends on the rest of the archive, the
same way the fast reader does: it resolves references (a missing one raises
``_Unusual``), checks an event's timezone, and works out a session's day within
its event's dates. A raw object is known only when, in the build that first read
it, its trusted reading was identical (``known.identical``) to its checked one and
raised no problem or warning. Anything unexpected here (a missing key, a wrong
type) raises, and the object is read again with checks.

The known digests come from the cache folder, which CI restores from a cache
other branches may have written: so a trusted reader still refuses, cheaply,
what could do harm if a planted digest let a bad object through (a value of
the wrong type, a slug that is not safe in a path, a link that is not http(s),
a country code that is not one), and the object is then read with checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import iso3166

from sitegen.contract import MEDIA_KINDS, SLUG_RE, is_web_url
from sitegen.model.context import _Context, _Unusual
from sitegen.model.fast import _event_dates, _fast_reference, _fast_references, _session_times
from sitegen.model.places import city_slug
from sitegen.model.types import Event, Link, Media, Person, Series, Session, Topic, Venue


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw[key]
    if type(value) is not str:
        raise _Unusual
    return value


def _optional(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is not None and type(value) is not str:
        raise _Unusual
    return value


def _slug(raw: dict[str, Any]) -> str:
    value = raw["slug"]
    if type(value) is not str or not SLUG_RE.fullmatch(value):
        raise _Unusual
    return value


def _media_kind(item: dict[str, Any]) -> str:
    kind = item["kind"]
    if kind not in MEDIA_KINDS:
        raise _Unusual
    return str(kind)


def _url(value: Any) -> Any:
    if value is not None and (type(value) is not str or not is_web_url(value)):
        raise _Unusual
    return value


def _trusted_series(raw: dict[str, Any], ctx: _Context) -> Series:
    return Series(_text(raw, "id"), _slug(raw), _text(raw, "name"), _optional(raw, "description"), ctx.timestamp(raw.get("updated_at")))


def _trusted_venue(raw: dict[str, Any], ctx: _Context) -> Venue:
    lat, lon = raw.get("lat"), raw.get("lon")
    city, country = _text(raw, "city"), _text(raw, "country").upper()
    if country not in iso3166.countries_by_alpha2:
        raise _Unusual
    return Venue(
        _text(raw, "id"),
        _slug(raw),
        _text(raw, "name"),
        city,
        country,
        None if lat is None else float(lat),
        None if lon is None else float(lon),
        ctx.timestamp(raw.get("updated_at")),
        city_slug(city),
    )


def _trusted_topic(raw: dict[str, Any], ctx: _Context) -> Topic:
    return Topic(_text(raw, "id"), _slug(raw), _text(raw, "name"), ctx.timestamp(raw.get("updated_at")))


def _trusted_person(raw: dict[str, Any], ctx: _Context) -> Person:
    links = tuple(Link(_text(item, "kind"), _url(item["url"])) for item in raw.get("links") or ())
    return Person(
        _text(raw, "id"),
        _slug(raw),
        _text(raw, "name"),
        _optional(raw, "bio"),
        links,
        _url(raw.get("avatar_url")),
        ctx.timestamp(raw.get("updated_at")),
    )


def _trusted_event(raw: dict[str, Any], ctx: _Context) -> Event:
    start, end, timezone = _event_dates(raw, ctx)
    lookups = ctx.lookups
    series, venue = raw.get("series"), raw.get("venue")
    return Event(
        _text(raw, "id"),
        _slug(raw),
        _text(raw, "name"),
        None if series is None else _fast_reference(lookups["series"], series),
        None if venue is None else _fast_reference(lookups["venues"], venue),
        start,
        end,
        timezone,
        _url(raw.get("url")),
        _optional(raw, "description"),
        _fast_references(lookups["topics"], raw.get("topics")),
        ctx.timestamp(raw.get("updated_at")),
    )


def _trusted_session(raw: dict[str, Any], ctx: _Context) -> Session:
    lookups = ctx.lookups
    event = _fast_reference(lookups["events"], raw.get("event"))
    start, end, day, on_day = _session_times(raw, event, ctx)
    return Session(
        _text(raw, "id"),
        _slug(raw),
        event,
        _text(raw, "title"),
        _optional(raw, "abstract"),
        start,
        end,
        _optional(raw, "room"),
        _fast_references(lookups["people"], raw.get("speakers")),
        _fast_references(lookups["topics"], raw.get("topics")),
        tuple(Media(_media_kind(item), _url(item["url"]), _optional(item, "title")) for item in raw.get("media") or ()),
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
