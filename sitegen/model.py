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

import hashlib
import re
import unicodedata
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import iso3166

from sitegen.errors import DataError, Problem

SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
MEDIA_KINDS = ("video", "slides", "audio", "notes", "code", "other")
MAX_ID_LENGTH = 200
#: Dates outside these years are data errors (and would overflow UTC arithmetic).
YEARS = range(1900, 2200)
#: Names zoneinfo accepts that are not places: their meaning depends on the machine.
NOT_PLACE_ZONES = {"localtime", "posixrules", "Factory"}
# C0/C1 controls (but tab and newline), lone surrogates and the XML non-characters.
_UNPRINTABLE_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


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

    @property
    def is_scheduled(self) -> bool:
        return self.start is not None

    @property
    def local_start(self) -> datetime | None:
        return self.start.astimezone(self.event.tz) if self.start else None

    @property
    def local_end(self) -> datetime | None:
        return self.end.astimezone(self.event.tz) if self.end else None

    @property
    def day(self) -> date:
        """The local day the session happens on (the event's first day if unscheduled)."""
        local = self.local_start
        return local.date() if local else self.event.start_date


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


# ---------------------------------------------------------------------------
# Public helpers shared with the renderer


#: Where ISO 3166's formal name is not what people call the country, and the
#: rule in ``country_name`` (drop ", Republic of" and the like) gets it wrong.
COMMON_COUNTRY_NAMES = {
    "GB": "United Kingdom", "US": "United States", "KR": "South Korea", "KP": "North Korea",
    "RU": "Russia", "VN": "Vietnam", "LA": "Laos", "SY": "Syria", "CD": "DR Congo",
    "VG": "British Virgin Islands", "VI": "U.S. Virgin Islands",
}


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
    """Schedule order: scheduled first by time and room, then unscheduled by title."""
    start = session.start.timestamp() if session.start else 0.0
    return (session.start is None, start, session.room or "", session.title.casefold(), session.id)


def event_order(event: Event) -> tuple[Any, ...]:
    return (event.start_date, event.name.casefold(), event.id)


# ---------------------------------------------------------------------------
# Building the archive


def build_archive(collections: Mapping[str, Sequence[Mapping[str, Any]]]) -> ModelResult:
    """Validate raw collections and link them into an ``Archive``.

    Raises ``DataError`` listing every problem found; returns warnings for
    anything dropped or demoted.
    """
    problems: list[Problem] = []
    warnings: list[Problem] = []
    ctx = _Context(problems, warnings, place_timezones())
    series = ctx.index("series", collections.get("series", ()), _read_series)
    venues = ctx.index("venues", collections.get("venues", ()), _read_venue)
    topics = ctx.index("topics", collections.get("topics", ()), _read_topic)
    people = ctx.index("people", collections.get("people", ()), _read_person)
    ctx.lookups = {"series": series, "venues": venues, "topics": topics, "people": people}
    events = ctx.index("events", collections.get("events", ()), _read_event)
    ctx.lookups["events"] = events
    sessions = ctx.index("sessions", collections.get("sessions", ()), _read_session)
    _check_unique_slugs(ctx, collections)
    if problems:
        raise DataError(f"The event data has {len(problems)} problem(s):", sorted(problems, key=_problem_order))
    archive = _link(series, venues, topics, people, events, sessions)
    return ModelResult(archive, tuple(warnings))


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

    def index(
        self,
        collection: str,
        items: Sequence[Mapping[str, Any]],
        reader: Callable[[_Fields], T | None],
    ) -> dict[str, T]:
        found: dict[str, T] = {}
        first_at: dict[str, int] = {}
        for position, raw in enumerate(items):
            where = f"{collection}[{position}]"
            if not isinstance(raw, Mapping):
                self.problems.append(Problem(where, f"is a {type(raw).__name__}, not an object", "send a JSON object"))
                continue
            fields = _Fields(raw, where, self)
            obj = reader(fields)
            obj_id: str = getattr(obj, "id", "")
            if obj is None or not obj_id:
                continue
            # An object with problems of its own still resolves references to it,
            # so one bad event does not also report each of its sessions.
            if obj_id in found:
                self.problems.append(
                    Problem(f"{where} (id {obj_id!r})", f"duplicate id, first used by {collection}[{first_at[obj_id]}]", "ids must be unique per type")
                )
                continue
            found[obj_id] = obj
            first_at[obj_id] = position
            self.read[collection].append((position, obj))
        return dict(sorted(found.items()))


class _Fields:
    """Reads typed fields from one raw object, recording problems with its path."""

    def __init__(self, raw: Mapping[str, Any], where: str, ctx: _Context) -> None:
        self.raw = raw
        self.where = where
        self.ctx = ctx
        self.failed = False
        raw_id = raw.get("id")
        self.label = f"{where} (id {raw_id!r})" if isinstance(raw_id, str) else where

    def problem(self, key: str, what: str, fix: str) -> None:
        self.failed = True
        self.ctx.problems.append(Problem(f"{self.label}.{key}", what, fix))

    def warn(self, key: str, what: str, fix: str) -> None:
        self.ctx.warnings.append(Problem(f"{self.label}.{key}", what, fix))

    def id(self) -> str:
        value = self.raw.get("id")
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_LENGTH or value != clean_text(value):
            self.problem(
                "id", f"must be a non-empty string of at most {MAX_ID_LENGTH} printable characters, got {_show(value)}",
                "give every object a stable string id",
            )
            return ""
        return value

    def text(self, key: str, *, required: bool = True) -> str | None:
        value = self.raw.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str):
            self.problem(key, f"must be a string, got {_show(value)}", f"send {key} as a JSON string")
            return None
        cleaned = clean_text(value)
        if required and not cleaned.strip():
            self.problem(key, "is empty", f"give {key} a value")
            return None
        return cleaned if cleaned.strip() else None

    def line(self, key: str, *, required: bool = True) -> str | None:
        """A one-line field (names, titles): inner whitespace runs collapse to one space."""
        value = self.text(key, required=required)
        return " ".join(value.split()) if value is not None else None

    def slug(self, key: str = "slug") -> str:
        value = self.raw.get(key)
        if not isinstance(value, str) or not SLUG_RE.fullmatch(value):
            self.problem(key, f"{_show(value)} is not a safe slug", "use 1-100 characters of a-z, 0-9 and '-', starting with a letter or digit")
            return ""
        return value

    def date(self, key: str) -> date | None:
        value = self.raw.get(key)
        if isinstance(value, str) and DATE_RE.fullmatch(value):
            try:
                parsed = date.fromisoformat(value)
            except ValueError:
                pass
            else:
                if parsed.year in YEARS:
                    return parsed
                self.problem(key, f"{value} is outside the years {YEARS.start}-{YEARS.stop - 1}", "correct the year")
                return None
        self.problem(key, f"{_show(value)} is not a date", "use YYYY-MM-DD")
        return None

    def timestamp(self, key: str, *, required: bool = True) -> datetime | None:
        value = self.raw.get(key)
        if value is None and not required:
            return None
        parsed = _parse_timestamp(value)
        if parsed is None:
            self.problem(key, f"{_show(value)} is not an RFC 3339 timestamp with an offset", "use e.g. 2024-09-12T09:30:00+01:00")
        elif parsed.year not in YEARS:
            self.problem(key, f"{value} is outside the years {YEARS.start}-{YEARS.stop - 1}", "correct the year")
            return None
        return parsed

    def timezone(self, key: str = "timezone") -> str:
        value = self.raw.get(key)
        if isinstance(value, str) and value in self.ctx.timezones:
            return value
        self.problem(key, f"{_show(value)} is not an IANA timezone", "use a name such as Europe/London")
        return ""

    def number(self, key: str, low: float, high: float) -> float | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            self.problem(key, f"{_show(value)} is not a number from {low} to {high}", f"send {key} as a JSON number or null")
            return None
        return float(value)

    def items(self, key: str) -> list[tuple[str, Any]]:
        """A list field, as (path, item) pairs; null means empty."""
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(key, f"must be a list, got {_show(value)}", f"send {key} as a JSON array")
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
            self.problem(path, f"refers to unknown {collection} id {_show(value)}", f"add that object to {collection} or remove the reference")
        return target

    def url(self, key: str, item: Any = None, path: str | None = None) -> str | None:
        """An http(s) URL; anything else is dropped with a warning."""
        value = (self.raw if item is None else item).get(key)
        if value is None:
            return None
        if isinstance(value, str) and _is_web_url(value):
            return clean_text(value).strip()
        self.warn(path or key, f"{_show(value)} is not an http(s) URL; it was left out", "send an absolute http:// or https:// URL")
        return None


def clean_text(value: str) -> str:
    """Drop characters that break UTF-8 or XML output; normalise line ends."""
    return _UNPRINTABLE_RE.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _parse_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not DATE_RE.match(value) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def place_timezones() -> frozenset[str]:
    """IANA zone names that mean the same on every machine."""
    return frozenset(
        name for name in zoneinfo.available_timezones()
        if name not in NOT_PLACE_ZONES and not name.startswith(("posix/", "right/"))
    )


def _is_web_url(value: str) -> bool:
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and len(value) <= 2000


# ---------------------------------------------------------------------------
# One reader per object type


def _read_series(f: _Fields) -> Series | None:
    return Series(f.id(), f.slug(), f.line("name") or "", f.text("description", required=False), _updated(f))


def _read_venue(f: _Fields) -> Venue | None:
    country = f.raw.get("country")
    code = country.upper() if isinstance(country, str) else ""
    if code not in iso3166.countries_by_alpha2:
        f.problem("country", f"{_show(country)} is not an ISO 3166-1 alpha-2 country code", "use two letters such as GB or DE")
    city = f.line("city") or ""
    return Venue(
        f.id(), f.slug(), f.line("name") or "", city, code,
        f.number("lat", -90, 90), f.number("lon", -180, 180), _updated(f), city_slug(city),
    )


def _read_topic(f: _Fields) -> Topic | None:
    return Topic(f.id(), f.slug(), f.line("name") or "", _updated(f))


def _read_person(f: _Fields) -> Person | None:
    links = []
    for path, item in f.items("links"):
        if not isinstance(item, Mapping) or not isinstance(item.get("kind"), str):
            f.problem(path, f"{_show(item)} is not a {{kind, url}} object", "send each link as {\"kind\": ..., \"url\": ...}")
            continue
        url = f.url("url", item, f"{path}.url")
        if url:
            links.append(Link(" ".join(clean_text(item["kind"]).split()) or "link", url))
    return Person(
        f.id(), f.slug(), f.line("name") or "", f.text("bio", required=False), tuple(links),
        f.url("avatar_url"), _updated(f),
    )


def _read_event(f: _Fields) -> Event | None:
    start, end = f.date("start_date"), f.date("end_date")
    if start and end and end < start:
        f.problem("end_date", f"{end} is before start_date {start}", "swap or correct the dates")
    return Event(
        f.id(), f.slug(), f.line("name") or "",
        f.reference("series", "series"), f.reference("venue", "venues"),
        start or date.min, end or date.min, f.timezone(), f.url("url"),
        f.text("description", required=False), f.references("topics", "topics"), _updated(f),
    )


def _read_session(f: _Fields) -> Session | None:
    event = f.reference("event", "events", required=True)
    start, end = f.timestamp("start", required=False), f.timestamp("end", required=False)
    if start and end and end < start:
        f.problem("end", f"{end.isoformat()} is before start {start.isoformat()}", "correct the times")
    if end and not start:
        f.problem("start", "is missing while end is set", "send both start and end, or neither")
    if event and start and event.timezone and event.start_date != date.min:
        day = start.astimezone(event.tz).date()
        if not event.start_date <= day <= event.end_date:
            f.warn("start", f"falls on {day}, outside its event's dates {event.start_date}..{event.end_date}", "check the session time or the event dates")
    return Session(
        f.id(), f.slug(), event, f.line("title") or "", f.text("abstract", required=False), start, end,
        f.line("room", required=False), f.references("speakers", "people"), f.references("topics", "topics"),
        _read_media(f), _updated(f),
    )


def _read_media(f: _Fields) -> tuple[Media, ...]:
    media = []
    for path, item in f.items("media"):
        if not isinstance(item, Mapping):
            f.problem(path, f"{_show(item)} is not a {{kind, url, title}} object", "send each media item as an object")
            continue
        kind = item.get("kind")
        if kind not in MEDIA_KINDS:
            f.warn(f"{path}.kind", f"{_show(kind)} is not one of {', '.join(MEDIA_KINDS)}; shown as 'other'", "use a kind from the contract")
            kind = "other"
        url = f.url("url", item, f"{path}.url")
        title = item.get("title")
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
# Whole-archive checks and indexes


def _check_unique_slugs(ctx: _Context, collections: Mapping[str, Sequence[Any]]) -> None:
    def scope_of(collection: str, obj: Any) -> tuple[Any, ...]:
        if collection == "sessions":
            return (obj.event.id if obj.event else None,)
        if collection == "events":
            return (obj.start_date.year,)
        return ()

    scope_text = {"sessions": "within its event", "events": "within the year of its start_date"}
    for collection, read in ctx.read.items():
        first: dict[tuple[Any, ...], int] = {}
        for position, obj in read:
            key = (*scope_of(collection, obj), obj.slug)
            if not obj.slug:
                continue  # already reported as unsafe
            if key in first:
                ctx.problems.append(
                    Problem(
                        f"{collection}[{position}] (id {obj.id!r}).slug",
                        f"{obj.slug!r} is already used by {collection}[{first[key]}]",
                        f"slugs must be unique {scope_text.get(collection, 'per type')}",
                    )
                )
            else:
                first[key] = position


def _link(
    series: Mapping[str, Series],
    venues: Mapping[str, Venue],
    topics: Mapping[str, Topic],
    people: Mapping[str, Person],
    events: Mapping[str, Event],
    sessions: Mapping[str, Session],
) -> Archive:
    by_event: dict[str, list[Session]] = defaultdict(list)
    by_person: dict[str, list[Session]] = defaultdict(list)
    by_topic: dict[str, list[Session]] = defaultdict(list)
    for session in sessions.values():
        by_event[session.event.id].append(session)
        for person in session.speakers:
            by_person[person.id].append(session)
        for topic in session.topics:
            by_topic[topic.id].append(session)
    events_by_series: dict[str, list[Event]] = defaultdict(list)
    events_by_topic: dict[str, set[str]] = defaultdict(set)
    events_by_year: dict[int, list[Event]] = defaultdict(list)
    for event in events.values():
        if event.series:
            events_by_series[event.series.id].append(event)
        events_by_year[event.year].append(event)
        for topic in event.topics:
            events_by_topic[topic.id].add(event.id)
    for topic_id, topic_sessions in by_topic.items():
        events_by_topic[topic_id].update(s.event.id for s in topic_sessions)

    def chronological(items: Iterable[Session]) -> tuple[Session, ...]:
        return tuple(sorted(items, key=lambda s: (s.event.start_date, *session_order(s))))

    return Archive(
        series=series, venues=venues, topics=topics, people=people, events=events, sessions=sessions,
        sessions_by_event={k: tuple(sorted(v, key=session_order)) for k, v in sorted(by_event.items())},
        sessions_by_person={k: chronological(v) for k, v in sorted(by_person.items())},
        sessions_by_topic={k: chronological(v) for k, v in sorted(by_topic.items())},
        events_by_series={k: tuple(sorted(v, key=event_order)) for k, v in sorted(events_by_series.items())},
        events_by_topic={
            k: tuple(sorted((events[i] for i in v), key=event_order)) for k, v in sorted(events_by_topic.items())
        },
        events_by_year={k: tuple(sorted(v, key=event_order)) for k, v in sorted(events_by_year.items())},
    )


def co_speakers(archive: Archive, person: Person) -> list[tuple[Person, int]]:
    """People who share sessions with ``person``, most shared first, then by name."""
    counts: Counter[str] = Counter(
        other.id
        for session in archive.sessions_by_person.get(person.id, ())
        for other in session.speakers
        if other.id != person.id
    )
    ranked = sorted(counts.items(), key=lambda item: (-item[1], archive.people[item[0]].name.casefold(), item[0]))
    return [(archive.people[pid], n) for pid, n in ranked]
