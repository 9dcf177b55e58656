"""What each page shows: one function per page type, from the archive to a ``PageSpec``.

A spec names the template, the page's title and description, and the context
the template gets. Templates receive model objects and the small view objects
below, never raw API data. Ordering is decided here, deterministically.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sitegen.content import ContentResult, Texts
from sitegen.contract import ascii_spelling, is_latin_letter
from sitegen.model import Archive, Event, Person, Series, Session, Topic, co_speakers, country_name, event_order
from sitegen.render.lists import Pager, page_count, page_of
from sitegen.render.related import RelatedTalks
from sitegen.render.routes import city_route, country_route, page_route, route_of
from sitegen.render.templates import date_range
from sitegen.untrusted import summarize

#: How many events the home page lists in each of "upcoming" and "recent".
HOME_EVENTS = 12
#: How many upcoming and past events a topic's first page shows beside its talks.
TOPIC_EVENTS = 20


@dataclass(frozen=True)
class PageSpec:
    route: str
    template: str
    title: str
    description: str | Summary
    context: Mapping[str, Any] = field(default_factory=dict)
    #: Last change of what the page shows, for the sitemap (None for listings).
    updated: date | None = None
    #: What asked for the page, for messages (a Markdown file; else the template).
    origin: str = ""
    #: Objects whose members the page lists besides the owner's own (an event
    #: page lists the other editions of its series): a member joining or
    #: leaving one of them changes the page.
    lists: tuple[Any, ...] = ()
    #: Whether what the page shows depends on today's date (upcoming or past).
    reads_today: bool = False


@dataclass(frozen=True)
class RoomSchedule:
    room: str | None
    sessions: tuple[Session, ...]


@dataclass(frozen=True)
class ScheduleDay:
    day: date
    rooms: tuple[RoomSchedule, ...]


@dataclass(frozen=True)
class City:
    country: str
    name: str
    slug: str
    events: tuple[Event, ...]

    @property
    def route(self) -> str:
        return city_route(self.country, self.slug)


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    cities: tuple[City, ...]

    @property
    def route(self) -> str:
        return country_route(self.code)

    @property
    def events(self) -> tuple[Event, ...]:
        return tuple(sorted((e for c in self.cities for e in c.events), key=event_order))


@dataclass(frozen=True)
class Summary:
    """A page description taken from the summary of an object's Markdown text,
    else ``fallback``. Resolved when the page is rendered, so planning a page
    never renders Markdown."""

    obj: Any
    field: str
    fallback: str

    def resolve(self, texts: Texts) -> str:
        rendered = texts.of(self.obj, self.field)
        return rendered.summary if rendered and rendered.summary else summarize(self.fallback)


def archive_objects(archive: Archive) -> Iterator[Event | Session | Person | Topic | Series]:
    """The objects that have pages of their own, in a deterministic order."""
    for objects in (archive.events, archive.sessions, archive.people, archive.topics, archive.series):
        yield from objects.values()


@dataclass(frozen=True)
class Lists:
    """How long lists are shown: items per page, and each session's related talks."""

    page_size: int
    related: RelatedTalks


def object_pages_count(archive: Archive, obj: Any, page_size: int) -> int:
    """How many pages an object's page takes: its list, ``page_size`` items a page."""
    match obj:
        case Person():
            length = len(archive.sessions_by_person.get(obj.id, ()))
        case Topic():
            length = len(archive.sessions_by_topic.get(obj.id, ()))
        case Series():
            length = len(archive.events_by_series.get(obj.id, ()))
        case _:
            length = 0
    return page_count(length, page_size)


def object_page(archive: Archive, obj: Any, today: date, lists: Lists, number: int = 1) -> PageSpec:
    """Page ``number`` of one session, event, person, topic or series (venues have none)."""
    match obj:
        case Session():
            return session_page(obj, today, lists.related.of(obj))
        case Event():
            return event_page(archive, obj, Summary(obj, "description", _event_blurb(archive, obj)), today)
        case Person():
            return person_page(archive, obj, today, Summary(obj, "bio", f"Talks by {obj.name}."), number, lists.page_size)
        case Topic():
            return topic_page(archive, obj, today, number, lists.page_size)
        case Series():
            return series_page(archive, obj, number, lists.page_size)
    raise LookupError(f"no page for {obj!r}")


def paginate(items: tuple[Any, ...], number: int, page_size: int, base: str) -> tuple[Pager, tuple[Any, ...]]:
    """The pager of page ``number`` of ``items``, and that page's items."""
    return Pager(number, page_count(len(items), page_size), base), page_of(items, number, page_size)


def paged(spec: PageSpec, pager: Pager) -> PageSpec:
    """Page ``pager.number`` of a list page: its own route, title and description.
    Counts and summaries stay on page 1, so a page changes only when its items do."""
    if pager.number == 1:
        return spec
    return replace(
        spec,
        route=page_route(spec.route, pager.number),
        title=f"{spec.title} (page {pager.number})",
        description=f"{spec.title}: page {pager.number} of {pager.count}.",
    )


def listing_pages(archive: Archive, content: ContentResult, today: date, site_description: str, page_size: int = 100) -> Iterator[PageSpec]:
    """The pages that list or count many objects, and the Markdown pages. They
    are few, so a rebuild always plans them and compares their inputs."""
    countries = places(archive)
    yield home_page(archive, today, site_description)
    years = tuple(archive.events_by_year)
    for year, events in archive.events_by_year.items():
        description = f"{len(events)} conferences and events in {year}."
        context = {"year": year, "years": years, "event_count": len(events)}
        yield from _pages(PageSpec(route_of(year), "year.html", f"Events in {year}", description, context), events, page_size)
    yield PageSpec(
        route_of("topics"),
        "topics.html",
        "Topics",
        "Every topic in the archive, with its events and talks.",
        {"groups": topic_groups(archive)},
    )
    yield PageSpec(
        route_of("series"),
        "series_index.html",
        "Conference series",
        "Every conference series in the archive.",
        {"series_list": [(s, archive.events_by_series.get(s.id, ())) for s in _by_name(archive.series.values())]},
    )
    yield PageSpec(route_of("places"), "places.html", "Places", "Conferences by country and city.", {"countries": countries})
    for country in countries:
        description = f"{len(country.events)} conferences in {country.name}, in {len(country.cities)} cities."
        spec = PageSpec(country.route, "country.html", f"Conferences in {country.name}", description, {"country": country})
        yield from _pages(spec, tuple(reversed(country.events)), page_size)
        for city in country.cities:
            description = f"{len(city.events)} conferences in {city.name}, {country.name}."
            spec = PageSpec(
                city.route, "city.html", f"Conferences in {city.name}, {country.name}", description, {"country": country, "city": city}
            )
            yield from _pages(spec, tuple(reversed(city.events)), page_size)
    for page in content.pages:
        yield PageSpec(
            route_of(page),
            page.template,
            page.title,
            page.description or page.title,
            {"content_page": page},
            origin=str(page.source),
        )


def _pages(spec: PageSpec, events: tuple[Event, ...], page_size: int) -> Iterator[PageSpec]:
    """Every page of a listing of events: its context gets the page's ``events`` and ``pager``."""
    for number in range(1, page_count(len(events), page_size) + 1):
        pager, shown = paginate(events, number, page_size, spec.route)
        yield paged(replace(spec, context={**spec.context, "events": shown, "pager": pager}), pager)


def _initial(name: str) -> str:
    """The letter A-Z a name is filed under: its first letter as the contract spells it in
    ASCII ("Łódź" under L, "Ærø" under A) when it is Latin; "#" for any other script, digits or signs."""
    first = name.strip()[:1]
    initial = ascii_spelling(first)[:1].upper() if is_latin_letter(first) else ""
    return initial if "A" <= initial <= "Z" else "#"


def topic_groups(archive: Archive) -> tuple[tuple[str, tuple[tuple[Topic, int], ...]], ...]:
    """Topics by initial, A to Z (accents folded; "#" for the rest, last), by name in each, with their talk counts."""
    groups: dict[str, list[tuple[Topic, int]]] = defaultdict(list)
    for topic in _by_name(archive.topics.values()):
        groups[_initial(topic.name)].append((topic, len(archive.sessions_by_topic.get(topic.id, ()))))
    return tuple((letter, tuple(groups[letter])) for letter in sorted(groups, key=lambda letter: (letter == "#", letter)))


def session_page(session: Session, today: date, related: tuple[Session, ...] = ()) -> PageSpec:
    speakers = ", ".join(p.name for p in session.speakers)
    blurb = f"{session.title}{' by ' + speakers if speakers else ''}, at {session.event.name}."
    # A talk with neither time nor day is "not yet scheduled" until its event ends.
    undated = not session.has_day
    return PageSpec(
        route_of(session),
        "session.html",
        f"{session.title} — {session.event.name}",
        Summary(session, "abstract", blurb),
        {"session": session, "event": session.event, "related": related, "event_over": undated and session.event.end_date < today},
        session.updated_at.date(),
        reads_today=undated,
        # Its related talks come from its speakers' and topics' lists.
        lists=(*session.speakers, *session.topics),
    )


def series_page(archive: Archive, series: Series, number: int = 1, page_size: int = 100) -> PageSpec:
    events = archive.events_by_series.get(series.id, ())
    pager, shown = paginate(tuple(reversed(events)), number, page_size, route_of(series))
    spec = PageSpec(
        route_of(series),
        "series.html",
        series.name,
        Summary(series, "description", f"Every edition of {series.name}: {len(events)} events."),
        {"series": series, "events": shown, "pager": pager},
        series.updated_at.date(),
    )
    return paged(spec, pager)


def home_page(archive: Archive, today: date, description: str) -> PageSpec:
    events = sorted(archive.events.values(), key=event_order)
    upcoming = [e for e in events if e.end_date >= today][:HOME_EVENTS]
    recent = [e for e in reversed(events) if e.end_date < today][:HOME_EVENTS]
    topics = sorted(archive.topics.values(), key=lambda t: (-len(archive.sessions_by_topic.get(t.id, ())), t.name.casefold(), t.id))
    return PageSpec(
        route_of("home"),
        "home.html",
        "",
        description,
        {
            "upcoming": upcoming,
            "recent": recent,
            "years": tuple(archive.events_by_year),
            "popular_topics": topics[:20],
            "counts": {"events": len(archive.events), "sessions": len(archive.sessions), "people": len(archive.people)},
        },
    )


def event_page(archive: Archive, event: Event, description: str | Summary, today: date) -> PageSpec:
    sessions = archive.sessions_by_event.get(event.id, ())
    unscheduled = tuple(s for s in sessions if not s.has_day)
    speakers = _by_name({p.id: p for s in sessions for p in s.speakers}.values())
    other_editions = tuple(e for e in archive.events_by_series.get(event.series.id, ()) if e.id != event.id) if event.series else ()
    return PageSpec(
        route_of(event),
        "event.html",
        event.name if str(event.year) in event.name else f"{event.name} ({event.year})",
        description,
        {
            "event": event,
            "schedule": schedule(sessions),
            "unscheduled": unscheduled,
            "event_over": bool(unscheduled) and event.end_date < today,
            "speakers": speakers,
            "session_count": len(sessions),
            "other_editions": other_editions,
        },
        event.updated_at.date(),
        lists=(event.series,) if event.series else (),
        reads_today=bool(unscheduled),
    )


def person_page(
    archive: Archive, person: Person, today: date, description: str | Summary, number: int = 1, page_size: int = 100
) -> PageSpec:
    """Upcoming talks (soonest first), then past ones (newest first), as one paginated list;
    the counts, co-speakers and topics are on page 1."""
    sessions = archive.sessions_by_person.get(person.id, ())
    upcoming = tuple(s for s in sessions if s.day >= today)
    pager, shown = paginate(upcoming + tuple(reversed([s for s in sessions if s.day < today])), number, page_size, route_of(person))
    first = number == 1
    context = {
        "person": person,
        "pager": pager,
        "upcoming": tuple(s for s in shown if s.day >= today),
        "past": tuple(s for s in shown if s.day < today),
        "co_speakers": co_speakers(archive, person)[:10] if first else [],
        "topics": _by_name({t.id: t for s in sessions for t in s.topics}.values()) if first else (),
        "event_count": len({s.event.id for s in sessions}) if first else None,
        "session_count": len(sessions) if first else None,
    }
    return paged(
        PageSpec(route_of(person), "person.html", person.name, description, context, person.updated_at.date(), reads_today=True), pager
    )


def topic_page(archive: Archive, topic: Topic, today: date, number: int = 1, page_size: int = 100) -> PageSpec:
    """Its talks, newest first, paginated; page 1 also has the counts and the
    nearest upcoming and latest past events (at most ``TOPIC_EVENTS`` each)."""
    events = archive.events_by_topic.get(topic.id, ())
    sessions = archive.sessions_by_topic.get(topic.id, ())
    pager, shown = paginate(tuple(reversed(sessions)), number, page_size, route_of(topic))
    first = number == 1
    upcoming = tuple(e for e in events if e.end_date >= today) if first else ()
    past = tuple(reversed([e for e in events if e.end_date < today])) if first else ()
    context = {
        "topic": topic,
        "pager": pager,
        "sessions": shown,
        "session_count": len(sessions) if first else None,
        "upcoming": upcoming[:TOPIC_EVENTS],
        "past": past[:TOPIC_EVENTS],
        "more_events": len(upcoming) + len(past) - len(upcoming[:TOPIC_EVENTS]) - len(past[:TOPIC_EVENTS]),
    }
    description = f"{len(events)} events and {len(sessions)} talks about {topic.name}."
    return paged(
        PageSpec(route_of(topic), "topic.html", topic.name, description, context, topic.updated_at.date(), reads_today=True), pager
    )


def schedule(sessions: Iterable[Session]) -> tuple[ScheduleDay, ...]:
    """Sessions whose day is known, by local day, then by room (rooms in order of their first session)."""
    days: dict[date, dict[str | None, list[Session]]] = defaultdict(dict)
    for session in sessions:  # already in schedule order
        if session.has_day:
            days[session.day].setdefault(session.room, []).append(session)
    return tuple(
        ScheduleDay(day, tuple(RoomSchedule(room, tuple(items)) for room, items in rooms.items())) for day, rooms in sorted(days.items())
    )


def places(archive: Archive) -> tuple[Country, ...]:
    """Countries and cities that have events, by name."""
    by_city: dict[tuple[str, str], list[Event]] = defaultdict(list)
    names: dict[tuple[str, str], set[str]] = defaultdict(set)
    for event in archive.events.values():
        if event.venue:
            key = (event.venue.country, event.venue.city_slug)
            by_city[key].append(event)
            names[key].add(event.venue.city)
    cities: dict[str, list[City]] = defaultdict(list)
    for (code, slug), events in by_city.items():
        # Spellings that fold to one slug ("Zurich", "Zürich") are one city; show the richest.
        name = max(sorted(names[(code, slug)]), key=len)
        cities[code].append(City(code, name, slug, tuple(sorted(events, key=event_order))))
    countries = [
        Country(code, country_name(code), tuple(sorted(found, key=lambda c: (c.name.casefold(), c.slug)))) for code, found in cities.items()
    ]
    return tuple(sorted(countries, key=lambda c: (c.name.casefold(), c.code)))


def _event_blurb(archive: Archive, event: Event) -> str:
    where = f" in {event.venue.city}, {event.venue.country_name}" if event.venue else ""
    count = len(archive.sessions_by_event.get(event.id, ()))
    return f"{event.name}, {date_range(event.start_date, event.end_date)}{where}. {count} sessions."


def _by_name(items: Iterable[Person | Topic | Series]) -> tuple[Any, ...]:
    return tuple(sorted(items, key=lambda item: (item.name.casefold(), item.id)))
