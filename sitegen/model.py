"""The model stage: raw API objects in, a validated archive of frozen objects out.

Everything the contract promises is checked here, once, so later stages can
trust the data: types, slugs that are safe in a path, unique ids and slugs,
references that resolve, dates, timezones and time order. Every problem is
collected and reported together, each with the object's path in the source
(``sessions[17].speakers[0]``) and its id.

Text is untrusted. It is kept as text (escaping is the renderer's job), but
control characters and lone surrogates, which would break XML and UTF-8, are
removed here. Unsafe decorations (a ``javascript:`` link, an unknown media
kind) are dropped or demoted with a warning rather than failing the build.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import marshal
import math
import re
import unicodedata
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from datetime import date as _Date  # for annotations inside classes with a method named date
from typing import Any, TypeVar
from urllib.parse import urlsplit

import iso3166
import orjson

from sitegen.bounded import shown
from sitegen.contract import MAX_LINE_CHARS, MAX_LIST_ITEMS, MAX_TEXT_CHARS, MAX_URL_CHARS, place_timezones
from sitegen.errors import DataError, Problem

SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
MEDIA_KINDS = ("video", "slides", "audio", "notes", "code", "other")
MAX_ID_LENGTH = 200
#: Dates outside these years are data errors (and would overflow UTC arithmetic).
YEARS = range(1900, 2200)
# C0/C1 controls (but tab and newline), lone surrogates, the XML non-characters,
# and the invisible format controls that reorder or hide text (display spoofing):
# bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), the
# deprecated U+206A-U+206F and a stray byte order mark. The marks U+200E/U+200F
# and U+061C, and the joiners U+200C/U+200D, are kept: right-to-left and Indic
# text needs them, and they cannot reorder a run of text.
_UNPRINTABLE_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u206f\ud800-\udfff\ufeff\ufffe\uffff]")
#: The characters ``clean_text`` removes or changes that UTF-8 writes as a byte of their own.
_ONE_BYTE_UNPRINTABLE = bytes([*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F])  # \r (0x0d) included
#: The UTF-8 of the bidi and format controls ``clean_text`` removes (U+202A-U+202E, U+2066-U+206F).
_BIDI_BYTES_RE = re.compile(b"\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xaf]")
#: URLs ``_is_web_url`` accepts without asking urlsplit: http(s), then a plain
#: ASCII host name up to the end or the first / ? or #.
_PLAIN_WEB_URL_RE = re.compile(r"https?://[A-Za-z0-9.-]+(?:[/?#]|\Z)")


@dataclass(frozen=True, slots=True)
class Link:
    kind: str
    url: str


@dataclass(frozen=True, slots=True)
class Media:
    kind: str
    url: str
    title: str | None


@dataclass(frozen=True, slots=True)
class Series:
    id: str
    slug: str
    name: str
    description: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Venue:
    id: str
    slug: str
    name: str
    city: str
    country: str  # ISO 3166-1 alpha-2, upper case
    lat: float | None
    lon: float | None
    updated_at: datetime
    city_slug: str

    @property
    def country_name(self) -> str:
        return country_name(self.country)


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    slug: str
    name: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    slug: str
    name: str
    bio: str | None
    links: tuple[Link, ...]
    avatar_url: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    slug: str
    name: str
    series: Series | None
    venue: Venue | None
    start_date: date
    end_date: date
    timezone: str
    url: str | None
    description: str | None
    topics: tuple[Topic, ...]
    updated_at: datetime

    @property
    def year(self) -> int:
        return self.start_date.year

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    slug: str
    event: Event
    title: str
    abstract: str | None
    start: datetime | None
    end: datetime | None
    room: str | None
    speakers: tuple[Person, ...]
    topics: tuple[Topic, ...]
    media: tuple[Media, ...]
    updated_at: datetime
    #: The local day the session happens on (the event's first day if
    #: unscheduled). Worked out once here: pages ask for it over and over.
    day: date
    #: The contract's ``date``: the day of a talk whose time is unknown (None
    #: when ``start`` is given, or when neither is known).
    date_only: date | None = None

    @property
    def is_scheduled(self) -> bool:
        """Whether the session's time is known."""
        return self.start is not None

    @property
    def has_day(self) -> bool:
        """Whether the session's day is known: from its start, or from ``date``."""
        return self.start is not None or self.date_only is not None

    @property
    def local_start(self) -> datetime | None:
        return self.start.astimezone(self.event.tz) if self.start else None

    @property
    def local_end(self) -> datetime | None:
        return self.end.astimezone(self.event.tz) if self.end else None


@dataclass(frozen=True)
class Archive:
    """The whole validated data set. Mappings are keyed by id in sorted id order;
    the ``*_by_*`` indexes hold tuples in display order."""

    series: Mapping[str, Series]
    venues: Mapping[str, Venue]
    topics: Mapping[str, Topic]
    people: Mapping[str, Person]
    events: Mapping[str, Event]
    sessions: Mapping[str, Session]
    sessions_by_event: Mapping[str, tuple[Session, ...]]
    sessions_by_person: Mapping[str, tuple[Session, ...]]
    sessions_by_topic: Mapping[str, tuple[Session, ...]]
    events_by_series: Mapping[str, tuple[Event, ...]]
    events_by_topic: Mapping[str, tuple[Event, ...]]
    events_by_year: Mapping[int, tuple[Event, ...]]


@dataclass(frozen=True)
class ModelResult:
    archive: Archive
    warnings: tuple[Problem, ...]
    #: ``object_key`` -> a digest of the raw object it was read from: what a
    #: rebuild compares to learn which objects changed.
    sources: Mapping[str, str] = field(default_factory=dict)


#: The API collection each model type is read from.
COLLECTION_OF: Mapping[type, str] = {
    Series: "series",
    Venue: "venues",
    Topic: "topics",
    Person: "people",
    Event: "events",
    Session: "sessions",
}


def object_key(obj: Series | Venue | Topic | Person | Event | Session) -> str:
    """A name for a model object that stays the same between builds: ``sessions/<id>``."""
    return f"{COLLECTION_OF[type(obj)]}/{obj.id}"


# ---------------------------------------------------------------------------
# Public helpers shared with the renderer


#: Where ISO 3166's formal name is not what people call the country, and the
#: rule in ``country_name`` (drop ", Republic of" and the like) gets it wrong.
COMMON_COUNTRY_NAMES = {
    "GB": "United Kingdom",
    "US": "United States",
    "KR": "South Korea",
    "KP": "North Korea",
    "RU": "Russia",
    "VN": "Vietnam",
    "LA": "Laos",
    "SY": "Syria",
    "CD": "DR Congo",
    "VG": "British Virgin Islands",
    "VI": "U.S. Virgin Islands",
}


@functools.cache  # pages ask for the same few countries over and over
def country_name(code: str) -> str:
    """The name a visitor expects: "Bolivia", not "Bolivia, Plurinational State of"."""
    if code in COMMON_COUNTRY_NAMES:
        return COMMON_COUNTRY_NAMES[code]
    name = iso3166.countries_by_alpha2[code].apolitical_name
    head, _, tail = name.partition(", ")
    return head if tail.endswith((" of", " of the")) else name


def city_slug(city: str) -> str:
    """A path-safe slug for a city name: ASCII-folded, or a stable hash when nothing survives."""
    folded = unicodedata.normalize("NFKD", city).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:80]
    # A name with no Latin letters (東京) still needs a stable, safe path.
    return slug or "city-" + hashlib.sha1(city.encode()).hexdigest()[:10]


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


# ---------------------------------------------------------------------------
# Building the archive


def build_archive(collections: Mapping[str, Sequence[Mapping[str, Any]]]) -> ModelResult:
    """Validate raw collections and link them into an ``Archive``.

    Raises ``DataError`` listing every problem found; returns warnings for
    anything dropped or demoted.
    """
    with _collector_paused():
        return _build_archive(collections)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector.

    This stage allocates a dozen objects per session and frees almost none, so
    the collector keeps running, and each full pass rescans all the raw data
    too: a quarter of the stage's time at 100,000 sessions. The objects made
    here hold no reference cycles; anything else waits for the next pass.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _build_archive(collections: Mapping[str, Sequence[Mapping[str, Any]]]) -> ModelResult:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    ctx = _Context(problems, warnings, place_timezones())
    series = ctx.index("series", collections.get("series", ()), _read_series)
    venues = ctx.index("venues", collections.get("venues", ()), _read_venue)
    topics = ctx.index("topics", collections.get("topics", ()), _read_topic)
    people = ctx.index("people", collections.get("people", ()), _read_person, _fast_person)
    ctx.lookups = {"series": series, "venues": venues, "topics": topics, "people": people}
    events = ctx.index("events", collections.get("events", ()), _read_event, _fast_event)
    ctx.lookups["events"] = events
    sessions = ctx.index("sessions", collections.get("sessions", ()), _read_session, _fast_session)
    _check_unique_slugs(ctx)
    if problems:
        raise DataError(f"The event data has {len(problems)} problem(s):", sorted(problems, key=_problem_order))
    archive = _link(series, venues, topics, people, events, sessions)
    return ModelResult(archive, tuple(warnings), dict(sorted(ctx.sources.items())))


def source_digest(raw: Any) -> str:
    """A digest of a raw object's data. orjson is the quickest way to bytes; what
    it refuses (lone surrogates, huge integers, nesting past 1,024 levels) goes
    through marshal, whose version 2 writes no back-references, so equal data
    gives equal bytes however its objects are shared. What marshal refuses
    (nesting past its 2,000 levels, a Mapping of another type) is walked."""
    try:
        data = orjson.dumps(raw)
    except orjson.JSONEncodeError:
        try:
            data = marshal.dumps(raw, 2)
        except ValueError:
            return _walked_digest(raw)
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def _walked_digest(raw: Any) -> str:
    """A digest of any JSON-like value, walked with a stack of its own, so no
    nesting is too deep. Each item is tagged with its kind and length."""
    digest = hashlib.blake2b(digest_size=8)
    stack = [raw]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            digest.update(b"{%d;" % len(item))
            for key, value in reversed(list(item.items())):
                stack += (value, key)  # the key comes off the stack first
        elif isinstance(item, list | tuple):
            digest.update(b"[%d;" % len(item))
            stack.extend(reversed(item))
        elif isinstance(item, str):
            data = item.encode("utf-8", "surrogatepass")
            digest.update(b"s%d;" % len(data) + data)
        elif isinstance(item, int) and not isinstance(item, bool):
            data = item.to_bytes(item.bit_length() // 8 + 1, "big", signed=True)  # str() refuses 4,300+ digits
            digest.update(b"i%d;" % len(data) + data)
        else:  # None, booleans, floats
            data = repr(item).encode()
            digest.update(b"r%d;" % len(data) + data)
    return digest.hexdigest()


def _problem_order(problem: Problem) -> tuple[Any, ...]:
    # "sessions[17]" must sort before "sessions[100]".
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", problem.where))


T = TypeVar("T")


class _Context:
    """Collects problems and holds the objects read so far, for reference checks."""

    def __init__(self, problems: list[Problem], warnings: list[Problem], timezones: frozenset[str]) -> None:
        self.problems = problems
        self.warnings = warnings
        self.timezones = timezones
        self.lookups: dict[str, Mapping[str, Any]] = {}
        #: collection -> [(index, object)] for the slug uniqueness check.
        self.read: dict[str, list[tuple[int, Any]]] = defaultdict(list)
        # Parsed values by their source text. Archives repeat them a lot (every
        # session of a slot starts at the same time), and sharing the immutable
        # results also saves memory.
        self.timestamps: dict[str, datetime] = {}
        self.dates: dict[str, date] = {}
        self.local_days: dict[tuple[str, str], date] = {}
        #: object_key -> digest of its raw object.
        self.sources: dict[str, str] = {}

    def index(
        self,
        collection: str,
        items: Sequence[Mapping[str, Any]],
        reader: Callable[[_Fields], T | None],
        fast_reader: Callable[[dict[str, Any], _Context], T] | None = None,
    ) -> dict[str, T]:
        found: dict[str, T] = {}
        first_at: dict[str, int] = {}
        read = self.read[collection]
        for position, raw in enumerate(items):
            obj = None
            if fast_reader is not None and type(raw) is dict:
                try:
                    obj = fast_reader(raw, self)
                except _Unusual:
                    pass  # read it again below, with every check and message
            if obj is None:
                where = f"{collection}[{position}]"
                if not isinstance(raw, Mapping):
                    self.problems.append(Problem(where, f"is a {type(raw).__name__}, not an object", "send a JSON object"))
                    continue
                obj = reader(_Fields(raw, where, self))
            obj_id: str = getattr(obj, "id", "")
            if obj is None or not obj_id:
                continue
            # An object with problems of its own still resolves references to it,
            # so one bad event does not also report each of its sessions.
            if obj_id in found:
                self.problems.append(
                    Problem(
                        f"{collection}[{position}] (id {shown(obj_id)})",
                        f"duplicate id, first used by {collection}[{first_at[obj_id]}]",
                        "ids must be unique per type",
                    )
                )
                continue
            found[obj_id] = obj
            first_at[obj_id] = position
            read.append((position, obj))
            self.sources[f"{collection}/{obj_id}"] = source_digest(raw)
        return dict(sorted(found.items()))

    def timestamp(self, value: Any) -> datetime:
        """A valid timestamp, parsed once per distinct text; ``_Unusual`` otherwise."""
        return _parsed_once(self.timestamps, value, _parse_timestamp)

    def date(self, value: Any) -> date:
        """A valid date, parsed once per distinct text; ``_Unusual`` otherwise."""
        return _parsed_once(self.dates, value, _parse_date)

    def local_day(self, text: str, moment: datetime, zone: str) -> _Date:
        """The date of ``moment`` (parsed from ``text``) in ``zone``, once per distinct pair."""
        day = self.local_days.get((text, zone))
        if day is None:
            day = self.local_days[text, zone] = moment.astimezone(zoneinfo.ZoneInfo(zone)).date()
        return day


D = TypeVar("D", date, datetime)


def _parsed_once(seen: dict[str, D], value: Any, parse: Callable[[Any], D | None]) -> D:
    """``parse(value)`` remembered by its text: archives repeat dates and times a lot."""
    parsed = seen.get(value) if type(value) is str else None
    if parsed is None:
        parsed = parse(value)
        if parsed is None or parsed.year not in YEARS:
            raise _Unusual
        seen[value] = parsed
    return parsed


class _Fields:
    """Reads typed fields from one raw object, recording problems with its path."""

    def __init__(self, raw: Mapping[str, Any], where: str, ctx: _Context) -> None:
        self.raw = raw
        self.where = where
        self.ctx = ctx
        self.failed = False
        raw_id = raw.get("id")
        self.label = f"{where} (id {shown(raw_id)})" if isinstance(raw_id, str) else where

    def problem(self, key: str, what: str, fix: str) -> None:
        self.failed = True
        self.ctx.problems.append(Problem(f"{self.label}.{key}", what, fix))

    def warn(self, key: str, what: str, fix: str) -> None:
        self.ctx.warnings.append(Problem(f"{self.label}.{key}", what, fix))

    def id(self) -> str:
        value = self.raw.get("id")
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_LENGTH or value != clean_text(value):
            self.problem(
                "id",
                f"must be a non-empty string of at most {MAX_ID_LENGTH} printable characters, got {shown(value)}",
                "give every object a stable string id",
            )
            return ""
        return value

    def text(self, key: str, *, required: bool = True, limit: int = MAX_TEXT_CHARS) -> str | None:
        value = self.raw.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str):
            self.problem(key, f"must be a string, got {shown(value)}", f"send {key} as a JSON string")
            return None
        if not self.short_enough(key, value, limit):
            return None
        cleaned = clean_text(value)
        if required and not cleaned.strip():
            self.problem(key, "is empty", f"give {key} a value")
            return None
        return cleaned if cleaned.strip() else None

    def line(self, key: str, *, required: bool = True) -> str | None:
        """A one-line field (names, titles): inner whitespace runs collapse to one space."""
        value = self.text(key, required=required, limit=MAX_LINE_CHARS)
        return " ".join(value.split()) if value is not None else None

    def short_enough(self, key: str, value: str, limit: int = MAX_LINE_CHARS) -> bool:
        """Whether ``value`` is within the contract's ``limit``; records a problem if not."""
        if len(value) <= limit:
            return True
        self.problem(
            key,
            f"is {len(value):,} characters long; the contract allows at most {limit:,}",
            f"shorten it to at most {limit:,} characters (pages repeat it, so the build would grow with it)",
        )
        return False

    def slug(self, key: str = "slug") -> str:
        value = self.raw.get(key)
        if not isinstance(value, str) or not SLUG_RE.fullmatch(value):
            self.problem(
                key, f"{shown(value)} is not a safe slug", "use 1-100 characters of a-z, 0-9 and '-', starting with a letter or digit"
            )
            return ""
        return value

    def date(self, key: str) -> date | None:
        value = self.raw.get(key)
        parsed = _parse_date(value)
        if parsed is None:
            self.problem(key, f"{shown(value)} is not a date", "use YYYY-MM-DD")
            return None
        if parsed.year not in YEARS:
            self.problem(key, f"{value} is outside the years {YEARS.start}-{YEARS.stop - 1}", "correct the year")
            return None
        return parsed

    def timestamp(self, key: str, *, required: bool = True) -> datetime | None:
        value = self.raw.get(key)
        if value is None and not required:
            return None
        parsed = _parse_timestamp(value)
        if parsed is None:
            self.problem(key, f"{shown(value)} is not an RFC 3339 timestamp with an offset", "use e.g. 2024-09-12T09:30:00+01:00")
        elif parsed.year not in YEARS:
            self.problem(key, f"{value} is outside the years {YEARS.start}-{YEARS.stop - 1}", "correct the year")
            return None
        return parsed

    def timezone(self, key: str = "timezone") -> str:
        value = self.raw.get(key)
        if isinstance(value, str) and value in self.ctx.timezones:
            return value
        self.problem(key, f"{shown(value)} is not an IANA timezone", "use a name such as Europe/London")
        return ""

    def number(self, key: str, low: float, high: float) -> float | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            self.problem(key, f"{shown(value)} is not a number from {low} to {high}", f"send {key} as a JSON number or null")
            return None
        return float(value)

    def items(self, key: str) -> list[tuple[str, Any]]:
        """A list field, as (path, item) pairs; null means empty."""
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(key, f"must be a list, got {shown(value)}", f"send {key} as a JSON array")
            return []
        if len(value) > MAX_LIST_ITEMS:
            self.problem(
                key,
                f"lists {len(value):,} items; the contract allows at most {MAX_LIST_ITEMS}",
                f"list at most {MAX_LIST_ITEMS} (pages repeat this list, so the build would grow with its square)",
            )
            return []
        return [(f"{key}[{i}]", item) for i, item in enumerate(value)]

    def reference(self, key: str, collection: str, *, required: bool = False) -> Any:
        value = self.raw.get(key)
        if value is None and not required:
            return None
        return self._resolve(key, value, collection)

    def references(self, key: str, collection: str) -> tuple[Any, ...]:
        resolved = [self._resolve(path, value, collection) for path, value in self.items(key)]
        unique = dict.fromkeys(obj for obj in resolved if obj is not None)  # duplicates are harmless
        return tuple(unique)

    def _resolve(self, path: str, value: Any, collection: str) -> Any:
        target = self.ctx.lookups[collection].get(value) if isinstance(value, str) else None
        if target is None:
            self.problem(
                path, f"refers to unknown {collection} id {shown(value)}", f"add that object to {collection} or remove the reference"
            )
        return target

    def url(self, key: str, item: Any = None, path: str | None = None) -> str | None:
        """An http(s) URL; anything else is dropped with a warning."""
        value = (self.raw if item is None else item).get(key)
        if value is None:
            return None
        problem = _url_problem(value) if isinstance(value, str) else _NOT_WEB_URL
        if problem is None:
            return clean_text(value).strip()
        what, fix = problem
        self.warn(path or key, f"{shown(value)} {what}; it was left out", fix)
        return None


def clean_text(value: str) -> str:
    """Drop characters that break UTF-8 or XML output; normalise line ends."""
    if type(value) is str and _is_clean(value):
        return value
    return _UNPRINTABLE_RE.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def _is_clean(value: str) -> bool:
    """Whether ``clean_text`` has nothing to do. Two scans in C, several times
    quicker than the regex over an abstract; it may say False of clean text with
    rare characters, which the regex then handles.
    """
    try:
        data = value.encode()
    except UnicodeEncodeError:  # a lone surrogate
        return False
    # In UTF-8, bytes below 0x80 only ever stand for themselves.
    if len(data.translate(None, _ONE_BYTE_UNPRINTABLE)) != len(data):
        return False
    # The C1 controls are \xc2\x80-\xc2\x9f in UTF-8, U+FEFF-U+FFFF are
    # \xef\xbb\xbf-\xef\xbf\xbf, and the bidi controls \xe2\x80\xaa-\xe2\x81\xaf;
    # the regex decides for text with those lead bytes.
    if value.isascii():
        return True
    return b"\xc2" not in data and b"\xef" not in data and (b"\xe2" not in data or not _BIDI_BYTES_RE.search(data))


def _parse_date(value: Any) -> date | None:
    if not isinstance(value, str) or not DATE_RE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _parse_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not DATE_RE.match(value) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _is_web_url(value: str) -> bool:
    return _url_problem(value) is None


def _url_problem(value: str) -> tuple[str, str] | None:
    """Why the contract refuses ``value`` as a URL (what is wrong, the fix), or
    None. Besides http(s) with a host, it must be read the same by browsers
    (the WHATWG URL standard) and by ``urlsplit``, which labels a link with its
    host and picks a video player: so no backslash (a browser reads it as "/"),
    no control character, and no space or percent-escape in the host."""
    if len(value) > MAX_URL_CHARS:
        return (
            f"is {len(value):,} characters long, longer than the limit of {MAX_URL_CHARS:,}",
            f"shorten it to at most {MAX_URL_CHARS:,} characters",
        )
    return _short_url_problem(value)


@functools.lru_cache(maxsize=1 << 16)  # the same URLs recur across objects; at most 2,000 characters each
def _short_url_problem(value: str) -> tuple[str, str] | None:
    if _PLAIN_WEB_URL_RE.match(value) and not _URL_AMBIGUOUS_RE.search(value):
        # urlsplit would find the scheme and this host name: nothing before the
        # host is stripped or removed, and the host ends where urlsplit ends it.
        return None
    value = value.strip()
    if "\\" in value:
        return _BACKSLASH_URL
    if _URL_CONTROL_RE.search(value):
        return _CONTROL_URL
    try:
        parts = urlsplit(value)
    except ValueError:
        return _NOT_WEB_URL
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return _NOT_WEB_URL
    host = parts.netloc.rpartition("@")[2]
    if "%" in host or any(char.isspace() for char in host):
        return _ODD_HOST_URL
    return None


_NOT_WEB_URL = ("is not an http(s) URL", "send an absolute http:// or https:// URL")
_BACKSLASH_URL = (
    "contains a backslash, which browsers read as '/' (the link could open another host than it shows)",
    "use '/' in the URL, or write a backslash as %5C",
)
_CONTROL_URL = (
    "contains a tab, line break or other control character, which browsers drop or refuse",
    "remove it, or percent-encode it",
)
_ODD_HOST_URL = ("has a space or a %-escape in its host name", "write the host name plainly, such as www.example.org")
#: Characters that make browsers and urlsplit read a URL differently.
_URL_AMBIGUOUS_RE = re.compile(r"[\\\x00-\x1f\x7f]")
_URL_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


# ---------------------------------------------------------------------------
# One reader per object type


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
            links.append(Link(" ".join(clean_text(item["kind"]).split()) or "link", url))
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
        if event.start_date != date.min and not event.start_date <= day <= event.end_date:
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
    if on_day and event and event.start_date != date.min and not event.start_date <= on_day <= event.end_date:
        f.warn("date", f"{on_day} is outside its event's dates {event.start_date}..{event.end_date}", "check the date or the event dates")
    return on_day


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
            title = " ".join(clean_text(title).split()) or None
        else:
            title = None
        if url:
            media.append(Media(kind, url, title))
    return tuple(media)


def _updated(f: _Fields) -> datetime:
    return f.timestamp("updated_at") or datetime.min


# ---------------------------------------------------------------------------
# Fast readers for the collections that grow with the archive
#
# Nearly every object is valid, and reading it through ``_Fields`` pays for a
# method call, checks and a problem branch per field. A fast reader handles
# only the plain valid case, inline, and raises ``_Unusual`` at the first doubt;
# ``_Context.index`` then reads the object again with the reader above, which
# is the specification and words every problem and warning. So a fast reader
# must build the same object the checking reader would, and give up wherever
# that reader would record a problem or a warning (tests/test_model.py runs
# both over valid and broken objects).


class _Unusual(Exception):
    """A value the fast path does not handle: read the object again, with checks."""


def _fast_person(raw: dict[str, Any], ctx: _Context) -> Person:
    return Person(
        _fast_id(raw),
        _fast_slug(raw),
        _fast_line(raw.get("name")),
        _fast_text(raw.get("bio")),
        _fast_links(raw.get("links")),
        _fast_url(raw.get("avatar_url")),
        ctx.timestamp(raw.get("updated_at")),
    )


def _fast_event(raw: dict[str, Any], ctx: _Context) -> Event:
    start, end = ctx.date(raw.get("start_date")), ctx.date(raw.get("end_date"))
    if end < start:
        raise _Unusual
    lookups = ctx.lookups
    timezone = raw.get("timezone")
    if type(timezone) is not str or timezone not in ctx.timezones:
        raise _Unusual
    series, venue = raw.get("series"), raw.get("venue")
    return Event(
        _fast_id(raw),
        _fast_slug(raw),
        _fast_line(raw.get("name")),
        None if series is None else _fast_reference(lookups["series"], series),
        None if venue is None else _fast_reference(lookups["venues"], venue),
        start,
        end,
        timezone,
        _fast_url(raw.get("url")),
        _fast_text(raw.get("description")),
        _fast_references(lookups["topics"], raw.get("topics")),
        ctx.timestamp(raw.get("updated_at")),
    )


def _fast_session(raw: dict[str, Any], ctx: _Context) -> Session:
    lookups = ctx.lookups
    event = _fast_reference(lookups["events"], raw.get("event"))
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
    room = raw.get("room")
    return Session(
        _fast_id(raw),
        _fast_slug(raw),
        event,
        _fast_line(raw.get("title")),
        _fast_text(raw.get("abstract")),
        start,
        end,
        None if room is None else _fast_optional_line(room),
        _fast_references(lookups["people"], raw.get("speakers")),
        _fast_references(lookups["topics"], raw.get("topics")),
        _fast_media(raw.get("media")),
        ctx.timestamp(raw.get("updated_at")),
        day,
        on_day,
    )


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
    if type(value) is str and _is_plain_line(value):
        return value
    text = _fast_text(_short_line(value))
    if text is None:
        raise _Unusual
    return " ".join(text.split())


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
    if type(value) is str and _is_web_url(value):
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


def _fast_references(lookup: Mapping[str, T], value: Any) -> tuple[T, ...]:
    if value is None:
        return ()
    if type(value) is not list or len(value) > MAX_LIST_ITEMS:
        raise _Unusual
    # Duplicates are dropped by id, not by object: ids and objects correspond
    # one to one, and hashing a frozen dataclass hashes every field.
    found: dict[str, T] = {}
    get = lookup.get
    for key in value:
        target = get(key) if type(key) is str else None
        if target is None:
            raise _Unusual
        found[key] = target
    return tuple(found.values())


def _fast_links(value: Any) -> tuple[Link, ...]:
    if value is None:
        return ()
    if type(value) is not list or len(value) > MAX_LIST_ITEMS:
        raise _Unusual
    if not value:
        return ()
    links = []
    for item in value:
        kind = item.get("kind") if type(item) is dict else None
        if type(kind) is not str or len(kind) > MAX_LINE_CHARS:
            raise _Unusual
        url = _fast_url(item.get("url"))
        if url:
            links.append(Link(" ".join(clean_text(kind).split()) or "link", url))
    return tuple(links)


def _fast_media(value: Any) -> tuple[Media, ...]:
    if value is None:
        return ()
    if type(value) is not list or len(value) > MAX_LIST_ITEMS:
        raise _Unusual
    if not value:
        return ()
    media = []
    for item in value:
        if type(item) is not dict or item.get("kind") not in MEDIA_KINDS:
            raise _Unusual
        url = _fast_url(item.get("url"))
        title = item.get("title")
        if type(title) is str and _is_plain_line(title):
            pass
        elif isinstance(title, str):
            _short_line(title)
            title = " ".join(clean_text(title).split()) or None
        else:
            title = None
        if url:
            media.append(Media(item["kind"], url, title))
    return tuple(media)


# ---------------------------------------------------------------------------
# Whole-archive checks and indexes


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
    for session in sorted(sessions.values(), key=_chronological_order()):
        by_event[session.event.id].append(session)
        for person in session.speakers:
            by_person[person.id].append(session)
        for topic in session.topics:
            by_topic[topic.id].append(session)
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
    )


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


def co_speakers(archive: Archive, person: Person) -> list[tuple[Person, int]]:
    """People who share sessions with ``person``, most shared first, then by name."""
    counts: Counter[str] = Counter(
        other.id for session in archive.sessions_by_person.get(person.id, ()) for other in session.speakers if other.id != person.id
    )
    ranked = sorted(counts.items(), key=lambda item: (-item[1], archive.people[item[0]].name.casefold(), item[0]))
    return [(archive.people[pid], n) for pid, n in ranked]
