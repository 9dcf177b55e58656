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

from sitegen.contract import MEDIA_KINDS, is_web_url
from sitegen.model.context import _Context, _Unusual
from sitegen.model.fast import Way, _event, _fast_slug, _person, _session
from sitegen.model.places import city_slug
from sitegen.model.types import Event, Link, Media, Person, Series, Session, Topic, Venue


def _text(raw: dict[str, Any], key: str) -> str:
    return _str(raw.get(key))


def _optional(raw: dict[str, Any], key: str) -> str | None:
    return _optional_str(raw.get(key))


def _str(value: Any) -> str:
    if type(value) is not str:
        raise _Unusual
    return value


def _optional_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _url(value: Any) -> Any:
    if value is not None and (type(value) is not str or not is_web_url(value)):
        raise _Unusual
    return value


def _links(value: Any) -> tuple[Link, ...]:
    return tuple(Link(_text(item, "kind"), _url(item["url"])) for item in value or ())


def _media(value: Any) -> tuple[Media, ...]:
    media = []
    for item in value or ():
        if item["kind"] not in MEDIA_KINDS:
            raise _Unusual
        media.append(Media(item["kind"], _url(item["url"]), _optional(item, "title")))
    return tuple(media)


#: The raw values as they are, refusing only what could harm the site (module docstring).
TRUSTED_WAY = Way(lambda raw: _text(raw, "id"), _fast_slug, _str, _optional_str, _optional_str, _url, _links, _media)


def _trusted_series(raw: dict[str, Any], ctx: _Context) -> Series:
    return Series(
        _text(raw, "id"), _fast_slug(raw), _text(raw, "name"), _optional(raw, "description"), ctx.timestamp(raw.get("updated_at"))
    )


def _trusted_venue(raw: dict[str, Any], ctx: _Context) -> Venue:
    lat, lon = raw.get("lat"), raw.get("lon")
    city, country = _text(raw, "city"), _text(raw, "country").upper()
    if country not in iso3166.countries_by_alpha2:
        raise _Unusual
    return Venue(
        _text(raw, "id"),
        _fast_slug(raw),
        _text(raw, "name"),
        city,
        country,
        None if lat is None else float(lat),
        None if lon is None else float(lon),
        ctx.timestamp(raw.get("updated_at")),
        city_slug(city),
    )


def _trusted_topic(raw: dict[str, Any], ctx: _Context) -> Topic:
    return Topic(_text(raw, "id"), _fast_slug(raw), _text(raw, "name"), ctx.timestamp(raw.get("updated_at")))


def _trusted_person(raw: dict[str, Any], ctx: _Context) -> Person:
    return _person(raw, ctx, TRUSTED_WAY)


def _trusted_event(raw: dict[str, Any], ctx: _Context) -> Event:
    return _event(raw, ctx, TRUSTED_WAY)


def _trusted_session(raw: dict[str, Any], ctx: _Context) -> Session:
    return _session(raw, ctx, TRUSTED_WAY)


#: Each collection's trusted reader.
TRUSTED: dict[str, Callable[[dict[str, Any], _Context], Any]] = {
    "series": _trusted_series,
    "venues": _trusted_venue,
    "topics": _trusted_topic,
    "people": _trusted_person,
    "events": _trusted_event,
    "sessions": _trusted_session,
}
