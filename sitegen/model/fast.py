"""The fast readers, for the collections that grow with the archive (people,
events, sessions).

Nearly every object is valid, and reading it through ``_Fields`` pays for a
method call, checks and a problem branch per field. A fast reader handles
only the plain valid case, inline, and raises ``_Unusual`` at the first doubt;
``_Context.index`` then reads the object again with its checking reader
(``reader.py``), which is the specification and words every problem and
warning. So a fast reader must build the same object the checking reader
would, and give up wherever that reader would record a problem or a warning
(tests/test_model.py runs both over valid and broken objects). The trusted
readers (``trusted.py``) build the same objects with another ``Way`` of taking
the fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, NamedTuple, TypeVar

from sitegen.contract import MAX_ID_LENGTH, MAX_LINE_CHARS, MAX_LIST_ITEMS, MAX_TEXT_CHARS, MEDIA_KINDS, SLUG_RE, is_web_url
from sitegen.model.context import _Context, _Unusual
from sitegen.model.text import clean_text, one_line
from sitegen.model.types import Event, Link, Media, Person, Session

T = TypeVar("T")


class Way(NamedTuple):
    """How a reader takes each kind of field; each gives up (``_Unusual``) where it has a doubt.
    ``FAST`` checks and cleans as the checking reader would; ``trusted.TRUSTED``, for raw objects
    the last build found valid, takes the values as they are. The objects are built once, below."""

    id: Callable[[dict[str, Any]], str]
    slug: Callable[[dict[str, Any]], str]
    line: Callable[[Any], str]
    text: Callable[[Any], str | None]
    optional_line: Callable[[Any], str | None]
    url: Callable[[Any], str | None]
    links: Callable[[Any], tuple[Link, ...]]
    media: Callable[[Any], tuple[Media, ...]]


def _fast_person(raw: dict[str, Any], ctx: _Context) -> Person:
    return _person(raw, ctx, FAST)


def _fast_event(raw: dict[str, Any], ctx: _Context) -> Event:
    return _event(raw, ctx, FAST)


def _fast_session(raw: dict[str, Any], ctx: _Context) -> Session:
    return _session(raw, ctx, FAST)


def _person(raw: dict[str, Any], ctx: _Context, way: Way) -> Person:
    return Person(
        way.id(raw),
        way.slug(raw),
        way.line(raw.get("name")),
        way.text(raw.get("bio")),
        way.links(raw.get("links")),
        way.url(raw.get("avatar_url")),
        ctx.timestamp(raw.get("updated_at")),
    )


def _event(raw: dict[str, Any], ctx: _Context, way: Way) -> Event:
    start, end, timezone = _event_dates(raw, ctx)
    lookups = ctx.lookups
    series, venue = raw.get("series"), raw.get("venue")
    return Event(
        way.id(raw),
        way.slug(raw),
        way.line(raw.get("name")),
        None if series is None else _fast_reference(lookups["series"], series),
        None if venue is None else _fast_reference(lookups["venues"], venue),
        start,
        end,
        timezone,
        way.url(raw.get("url")),
        way.text(raw.get("description")),
        _fast_references(lookups["topics"], raw.get("topics")),
        ctx.timestamp(raw.get("updated_at")),
    )


def _event_dates(raw: dict[str, Any], ctx: _Context) -> tuple[date, date, str]:
    """An event's first and last days and its timezone; ``_Unusual`` at any doubt."""
    start, end = ctx.date(raw.get("start_date")), ctx.date(raw.get("end_date"))
    if end < start:
        raise _Unusual
    timezone = raw.get("timezone")
    if type(timezone) is not str or timezone not in ctx.timezones:
        raise _Unusual
    return start, end, timezone


def _session(raw: dict[str, Any], ctx: _Context, way: Way) -> Session:
    lookups = ctx.lookups
    event = _fast_reference(lookups["events"], raw.get("event"))
    start, end, day, on_day = _session_times(raw, event, ctx)
    room = raw.get("room")
    return Session(
        way.id(raw),
        way.slug(raw),
        event,
        way.line(raw.get("title")),
        way.text(raw.get("abstract")),
        start,
        end,
        None if room is None else way.optional_line(room),
        _fast_references(lookups["people"], raw.get("speakers")),
        _fast_references(lookups["topics"], raw.get("topics")),
        way.media(raw.get("media")),
        ctx.timestamp(raw.get("updated_at")),
        day,
        on_day,
    )


def _session_times(raw: dict[str, Any], event: Event, ctx: _Context) -> tuple[datetime | None, datetime | None, date, date | None]:
    """A session's start, end, local day and date-only day (the contract's ``date``), in its event's
    timezone and dates; ``_Unusual`` wherever the checking reader would word a problem or a warning."""
    start_text, end_text = raw.get("start"), raw.get("end")
    start = None if start_text is None else ctx.timestamp(start_text)
    end = None if end_text is None else ctx.timestamp(end_text)
    if end is not None and (start is None or end < start):
        raise _Unusual
    day = event.start_date
    if start_text is not None and start is not None and event.timezone and event.start_date != date.min:
        day = ctx.local_day(start_text, start, event.timezone)
        if not event.start_date <= day <= event.end_date:
            raise _Unusual  # a warning
    elif start is not None:
        raise _Unusual  # an event without a usable timezone or dates: read it again, with messages
    on_day = raw.get("date")
    if on_day is not None and start is None:
        on_day = day = ctx.date(on_day)
        if not event.start_date <= day <= event.end_date:
            raise _Unusual  # a warning
    else:
        on_day = None
    return start, end, day, on_day


def _fast_id(raw: dict[str, Any]) -> str:
    value = raw.get("id")
    if type(value) is str and 0 < len(value) <= MAX_ID_LENGTH and not value.isspace():
        if value.isprintable() or value == clean_text(value):  # the first is quicker, and enough for most ids
            return value
    raise _Unusual


def _fast_slug(raw: dict[str, Any]) -> str:
    value = raw.get("slug")
    if type(value) is str and SLUG_RE.fullmatch(value):
        return value
    raise _Unusual


def _fast_text(value: Any) -> str | None:
    """``_Fields.text(required=False)``."""
    if value is None:
        return None
    if type(value) is not str or len(value) > MAX_TEXT_CHARS:
        raise _Unusual
    cleaned = clean_text(value)
    return cleaned if cleaned.strip() else None


def _fast_line(value: Any) -> str:
    """``_Fields.line`` of a required field."""
    line = _fast_optional_line(value)
    if line is None:
        raise _Unusual
    return line


def _is_plain_line(value: str) -> bool:
    """Whether ``_Fields.line`` would keep ``value`` as it is (most names and titles).

    Printable text has nothing for ``clean_text`` to remove, and no whitespace
    but " ", so only leading, trailing or double spaces would collapse.
    """
    return (
        len(value) <= MAX_LINE_CHARS
        and value.isprintable()
        and value[:1] != " "
        and value[-1:] != " "
        and "  " not in value
        and value != ""
    )


def _short_line(value: Any) -> Any:
    """``value``, unless it is a string longer than the contract allows a line."""
    if type(value) is str and len(value) > MAX_LINE_CHARS:
        raise _Unusual
    return value


def _fast_optional_line(value: Any) -> str | None:
    """``_Fields.line`` of an optional field."""
    if type(value) is str and _is_plain_line(value):
        return value
    text = _fast_text(_short_line(value))
    return None if text is None else " ".join(text.split())


def _fast_url(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is str and is_web_url(value):
        # Printable text has nothing to clean and no whitespace to strip but " ".
        if value.isprintable() and value[:1] != " " and value[-1:] != " ":
            return value
        return clean_text(value).strip()
    raise _Unusual  # a warning


def _fast_reference(lookup: Mapping[str, T], value: Any) -> T:
    target = lookup.get(value) if type(value) is str else None
    if target is None:
        raise _Unusual
    return target


def _fast_list(value: Any) -> list[Any]:
    """``_Fields.items`` without the paths: null is empty; not a list, or too long, is unusual."""
    if value is None:
        return []
    if type(value) is not list or len(value) > MAX_LIST_ITEMS:
        raise _Unusual
    return value


def _fast_references(lookup: Mapping[str, T], value: Any) -> tuple[T, ...]:
    # Duplicates are dropped by id, not by object: ids and objects correspond
    # one to one, and hashing a frozen dataclass hashes every field.
    found: dict[str, T] = {}
    get = lookup.get
    for key in _fast_list(value):
        target = get(key) if type(key) is str else None
        if target is None:
            raise _Unusual
        found[key] = target
    return tuple(found.values())


def _fast_links(value: Any) -> tuple[Link, ...]:
    links = []
    for item in _fast_list(value):
        kind = item.get("kind") if type(item) is dict else None
        if type(kind) is not str or len(kind) > MAX_LINE_CHARS:
            raise _Unusual
        url = _fast_url(item.get("url"))
        if url:
            links.append(Link(one_line(kind) or "link", url))
    return tuple(links)


def _fast_media(value: Any) -> tuple[Media, ...]:
    media = []
    for item in _fast_list(value):
        if type(item) is not dict or item.get("kind") not in MEDIA_KINDS:
            raise _Unusual
        url = _fast_url(item.get("url"))
        title = item.get("title")
        if type(title) is str and _is_plain_line(title):
            pass
        elif isinstance(title, str):
            _short_line(title)
            title = one_line(title) or None
        else:
            title = None
        if url:
            media.append(Media(item["kind"], url, title))
    return tuple(media)


FAST = Way(_fast_id, _fast_slug, _fast_line, _fast_text, _fast_optional_line, _fast_url, _fast_links, _fast_media)
