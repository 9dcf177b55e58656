"""Machine formats: the Atom feed, the sitemap, robots.txt and iCalendar files.

These are written by code rather than by theme templates: their syntax is
fixed by standards, and readers are less forgiving than browsers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from sitegen.config import SiteConfig
from sitegen.content import Texts
from sitegen.model import Event, Session
from sitegen.render.routes import Routes, route_of

#: Entries in a feed (the site's, a person's, a topic's or a series'): the newest.
FEED_ENTRIES = 50
#: Sessions in the calendar of a person, topic or series: the newest whose day is known.
CALENDAR_SESSIONS = 250
NAMED_FEED = route_of("feed")
#: The sitemap protocol's limit of URLs per file; beyond it we write an index.
SITEMAP_LIMIT = 50_000
#: Abstracts longer than this go into the feed as their summary only.
FEED_CONTENT_LIMIT = 20_000
ICS_LINE_OCTETS = 75


#: Characters of entry and VEVENT text a build keeps to reuse (``Syndication``):
#: past it, a session's text is made again for each feed holding it.
REUSE_LIMIT = 64 * 1024 * 1024


class Syndication:
    """The feeds and calendars of one build (the site's, an event's, a
    person's, a topic's or a series'). A session sits in several of them, so
    its feed entry and its VEVENT are made once and reused, up to
    ``REUSE_LIMIT`` characters in all."""

    def __init__(self, site: SiteConfig, routes: Routes, texts: Texts) -> None:
        self.site, self.routes, self.texts = site, routes, texts
        self.host = urlsplit(routes.base_url).hostname or "sitegen"
        self._entries: dict[str, str] = {}
        self._vevents: dict[str, str] = {}
        self._kept = 0

    def feed(self, sessions: Sequence[Session], *, title: str = "recent talks", route: str = NAMED_FEED, page: str = "") -> bytes:
        """An Atom feed of sessions, already chosen and ordered by the caller: the
        site's recent talks, or the newest of a person, topic or series (``route``
        is the feed's own route, ``page`` that of the page it follows). Entry ids
        are ``session_uuid``'s, the same in every feed holding the session."""
        site, routes = self.site, self.routes
        updated = max((s.updated_at for s in sessions), default=datetime(1970, 1, 1, tzinfo=UTC))
        self_url = routes.absolute(route)
        lines = [
            '<?xml version="1.0" encoding="utf-8"?>',
            f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang={quoteattr(site.language)}>',
            f"  <title>{escape(site.title)}: {escape(title)}</title>",
            f"  <subtitle>{escape(site.description)}</subtitle>",
            f'  <link rel="self" type="application/atom+xml" href={quoteattr(self_url)}/>',
            f'  <link rel="alternate" type="text/html" href={quoteattr(routes.absolute(page))}/>',
            f"  <id>{escape(self_url)}</id>",
            f"  <updated>{_rfc3339(updated)}</updated>",
            f"  <author><name>{escape(site.title)}</name></author>",
            "  <generator>sitegen</generator>",
        ]
        lines += [self._reused(self._entries, session, self._entry) for session in sessions]
        lines.append("</feed>")
        return _utf8(lines)

    def event_calendar(self, event: Event, sessions: Sequence[Session]) -> bytes:
        """An event's calendar: the event as an all-day entry, then its sessions."""
        return self.calendar(event.name, sessions, timezone=event.timezone, events=(event,))

    def calendar(self, name: str, sessions: Iterable[Session], *, timezone: str = "", events: Iterable[Event] = ()) -> bytes:
        """An RFC 5545 calendar of any sessions: each ``events`` as an all-day
        entry, then each session whose day is known (a talk known only by its day
        is an all-day entry too).

        Times are written in UTC, which every calendar app imports correctly
        without a VTIMEZONE block; DTSTAMP is the object's ``updated_at`` so the
        file only changes when the data does. UIDs come from the object's id and
        the site's host (``event_uid``, ``session_uid``), so an object has the
        same UID in every calendar, and an event's never equals a session's.
        """
        lines = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//sitegen//conference archive//EN",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            f"X-WR-CALNAME:{_ics_text(name)}",
        ]
        if timezone:
            lines.append(f"X-WR-TIMEZONE:{_ics_text(timezone)}")
        for event in events:
            lines += _event_vevent(self.routes, self.host, event, self.texts)
        # Folding is per line, so joining folded VEVENTs gives the same bytes as folding all lines at once.
        body = "".join([self._reused(self._vevents, session, self._vevent) for session in sessions])
        return (_folded(lines) + body + "END:VCALENDAR\r\n").encode("utf-8")

    def _reused(self, kept: dict[str, str], session: Session, make: Callable[[Session], str]) -> str:
        text = kept.get(session.id)
        if text is None:
            text = make(session)
            if self._kept + len(text) <= REUSE_LIMIT:
                kept[session.id] = text
                self._kept += len(text)
        return text

    def _entry(self, session: Session) -> str:
        return "\n".join(_entry(self.routes, session, self.texts))

    def _vevent(self, session: Session) -> str:
        """A session's VEVENT, folded; "" for an unscheduled one."""
        timing = _session_timing(session)
        if not timing:
            return ""
        abstract = self.texts.of(session, "abstract")
        speakers = ", ".join(p.name for p in session.speakers)
        return _folded(
            _vevent(
                uid=session_uid(session, self.host),
                stamp=session.updated_at,
                timing=timing,
                summary=session.title,
                location=", ".join(part for part in (session.room or "", _place(session.event)) if part),
                description="\n\n".join(part for part in (speakers, abstract.summary if abstract else "") if part),
                url=self.routes.absolute(route_of(session)),
            )
        )


def _entry(routes: Routes, session: Session, texts: Texts) -> list[str]:
    url = routes.absolute(route_of(session))
    lines = [
        "  <entry>",
        f"    <title>{escape(session.title)}</title>",
        f'    <link rel="alternate" type="text/html" href={quoteattr(url)}/>',
        f"    <id>urn:uuid:{session_uuid(routes, session)}</id>",
        f"    <updated>{_rfc3339(session.updated_at)}</updated>",
    ]
    if session.start:
        lines.append(f"    <published>{_rfc3339(session.start)}</published>")
    elif session.date_only:
        lines.append(f"    <published>{session.date_only.isoformat()}T00:00:00Z</published>")
    lines += [f"    <author><name>{escape(p.name)}</name></author>" for p in session.speakers]
    lines += [f"    <category term={quoteattr(t.slug)} label={quoteattr(t.name)}/>" for t in session.topics]
    abstract = texts.of(session, "abstract")
    summary = f"{session.event.name}, {session.day.isoformat()}"
    lines.append(f"    <summary>{escape(abstract.summary if abstract else summary)}</summary>")
    if abstract and len(abstract.html) <= FEED_CONTENT_LIMIT:
        lines.append(f'    <content type="html">{escape(abstract.html)}</content>')
    lines.append("  </entry>")
    return lines


def session_uuid(routes: Routes, session: Session) -> uuid.UUID:
    """A session's feed entry id: from the site and the session's id alone, so
    it is stable across builds, slugs and feeds."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{routes.base_url}#session/{session.id}")


def sitemaps(routes: Routes, pages: Iterable[tuple[str, date | None]]) -> dict[str, bytes]:
    """``sitemap.xml`` (an index once past the protocol's limit) and its parts, by route."""
    entries = sorted(pages, key=lambda item: item[0])
    chunks = [entries[i : i + SITEMAP_LIMIT] for i in range(0, len(entries), SITEMAP_LIMIT)] or [[]]
    if len(chunks) == 1:
        return {route_of("sitemap"): _urlset(routes, chunks[0])}
    files = {f"sitemap-{n}.xml": _urlset(routes, chunk) for n, chunk in enumerate(chunks, start=1)}
    index = ['<?xml version="1.0" encoding="utf-8"?>', '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    index += [f"  <sitemap><loc>{escape(routes.absolute(name))}</loc></sitemap>" for name in files]
    index.append("</sitemapindex>")
    return {route_of("sitemap"): _utf8(index), **files}


def _urlset(routes: Routes, entries: Sequence[tuple[str, date | None]]) -> bytes:
    lines = ['<?xml version="1.0" encoding="utf-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for route, updated in entries:
        lastmod = f"<lastmod>{updated.isoformat()}</lastmod>" if updated else ""
        lines.append(f"  <url><loc>{escape(routes.absolute(route))}</loc>{lastmod}</url>")
    lines.append("</urlset>")
    return _utf8(lines)


def robots_txt(routes: Routes) -> bytes:
    return _utf8(
        [
            "User-agent: *",
            "Allow: /",
            "",
            f"Sitemap: {routes.absolute(route_of('sitemap'))}",
        ]
    )


def session_uid(session: Session, host: str) -> str:
    """``<id>@<host>``: ids are unique among sessions."""
    return f"{session.id}@{host}"


def event_uid(event: Event, host: str) -> str:
    """``<id>@event.<host>``: an event and a session may share an id, and ids may
    hold any character; but a session's UID has "@" right before the host, an
    event's ".", so the two never meet."""
    return f"{event.id}@event.{host}"


def _event_vevent(routes: Routes, host: str, event: Event, texts: Texts) -> list[str]:
    description = texts.of(event, "description")
    return _vevent(
        uid=event_uid(event, host),
        stamp=event.updated_at,
        timing=_all_day(event.start_date, event.end_date),
        summary=event.name,
        location=_place(event),
        description=description.summary if description else "",
        url=routes.absolute(route_of(event)),
    )


def _session_timing(session: Session) -> list[str]:
    """DTSTART and DTEND (or a zero DURATION when the end is unknown); all day
    for a talk known only by its day; nothing for an unscheduled one."""
    if session.start:
        end = f"DTEND:{_ics_utc(session.end)}" if session.end else "DURATION:PT0S"
        return [f"DTSTART:{_ics_utc(session.start)}", end]
    if session.date_only:
        return _all_day(session.date_only, session.date_only)
    return []


def _all_day(first: date, last: date) -> list[str]:
    return [f"DTSTART;VALUE=DATE:{first:%Y%m%d}", f"DTEND;VALUE=DATE:{last + timedelta(days=1):%Y%m%d}"]


def _place(event: Event) -> str:
    venue = event.venue
    return ", ".join(part for part in (venue.name, venue.city, venue.country_name) if part) if venue else ""


def _vevent(*, uid: str, stamp: datetime, timing: list[str], summary: str, location: str, description: str, url: str) -> list[str]:
    lines = ["BEGIN:VEVENT", f"UID:{_ics_text(uid)}", f"DTSTAMP:{_ics_utc(stamp)}", *timing, f"SUMMARY:{_ics_text(summary)}"]
    if location:
        lines.append(f"LOCATION:{_ics_text(location)}")
    if description:
        lines.append(f"DESCRIPTION:{_ics_text(description)}")
    lines += [f"URL:{url}", "END:VEVENT"]
    return lines


def _ics_text(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    return escaped.replace("\r", "")  # a bare CR would end the content line


def _ics_utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Fold at 75 octets (RFC 5545 §3.1) without splitting a UTF-8 character."""
    data = line.encode("utf-8")
    if len(data) <= ICS_LINE_OCTETS:
        return line
    parts: list[str] = []
    start, limit = 0, ICS_LINE_OCTETS
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # inside a character: cut before it
            end -= 1
        parts.append(data[start:end].decode("utf-8"))
        # Continuation lines start with a space, which counts towards their 75.
        start, limit = end, ICS_LINE_OCTETS - 1
    return "\r\n ".join(parts)


def _folded(lines: Iterable[str]) -> str:
    return "".join(_fold(line) + "\r\n" for line in lines)


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utf8(lines: Iterable[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")
