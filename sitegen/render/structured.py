"""Structured data for machines: schema.org JSON-LD for event, session and
person pages, written so that no text can end the ``<script>`` element.

Every value comes from the model (API text is hostile); ``script_json``
escapes ``<``, ``>``, ``&`` and U+2028/U+2029 as ``\\u`` escapes, so a title
holding ``</script>`` or ``<!--`` is inert and the JSON still parses to the
same text. Fields are present only when the data has them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from markupsafe import Markup

from sitegen.model import Event, Person, Session, Venue
from sitegen.render.media import first_video, session_media
from sitegen.render.routes import Routes, route_of

#: ``route_of``-able object -> its absolute URL.
Absolute = Callable[[Any], str]

#: What a script element's JSON must not hold as it is (UTF-8 bytes, and their JSON escapes).
_SCRIPT_ESCAPES = tuple(
    (char.encode("utf-8"), escaped.encode("ascii"))
    for char, escaped in {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}.items()
)
_OFFLINE = "https://schema.org/OfflineEventAttendanceMode"
_SCHEDULED = "https://schema.org/EventScheduled"


def template_globals(routes: Routes) -> dict[str, Any]:
    """``jsonld(obj, description)`` (the script element for an event, session
    or person), ``session_media(session)`` and ``first_video(session)``."""

    def absolute(obj: Any) -> str:
        return routes.absolute(route_of(obj))

    def jsonld(obj: Event | Session | Person, description: str = "") -> Markup:
        match obj:
            case Session():
                return script_json(session_data(obj, absolute, description))
            case Event():
                return script_json(event_data(obj, absolute, description))
        return script_json(person_data(obj, absolute, description))

    return {"jsonld": jsonld, "session_media": session_media, "first_video": first_video}


def script_json(data: Any) -> Markup:
    """A ``<script type="application/ld+json">`` element holding ``data``."""
    raw = orjson.dumps(data)  # compact, non-ASCII as it is: json.dumps's bytes, 3x faster
    for char, escaped in _SCRIPT_ESCAPES:  # bytes.replace, not str.translate's lookup per character
        if char in raw:
            raw = raw.replace(char, escaped)
    text = raw.decode("utf-8")
    return Markup(f'<script type="application/ld+json">{text}</script>')


def event_data(event: Event, absolute: Absolute, description: str = "") -> dict[str, Any]:
    """An ``Event`` with what Google asks for: name, startDate, location, and
    endDate, eventStatus, eventAttendanceMode, organizer where known."""
    data: dict[str, Any] = {"@context": "https://schema.org", **_event_reference(event, absolute), "eventStatus": _SCHEDULED}
    if description:
        data["description"] = description
    if event.venue:
        data["eventAttendanceMode"] = _OFFLINE
        data["location"] = _place(event.venue)
    if event.series:
        # The data names no organiser but the series: it is who runs the editions.
        data["organizer"] = {"@type": "Organization", "name": event.series.name, "url": event.url or absolute(event.series)}
        data["superEvent"] = {"@type": "EventSeries", "name": event.series.name, "url": absolute(event.series)}
    elif event.url:
        data["sameAs"] = event.url
    return data


def _event_reference(event: Event, absolute: Absolute) -> dict[str, Any]:
    """An event as schema.org names it: on its own page, and as a session's ``superEvent``."""
    return {
        "@type": "Event",
        "@id": absolute(event),
        "name": event.name,
        "url": absolute(event),
        "startDate": event.start_date.isoformat(),
        "endDate": event.end_date.isoformat(),
    }


def session_data(session: Session, absolute: Absolute, description: str = "") -> dict[str, Any]:
    """An ``Event`` within its event (``superEvent``), with its speakers
    (``performer``) and its first playable video (``recordedIn``)."""
    event = session.event
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "@id": absolute(session),
        "name": session.title,
        "url": absolute(session),
        "eventStatus": _SCHEDULED,
    }
    if session.start:
        data["startDate"] = session.start.isoformat()
    elif session.date_only:
        data["startDate"] = session.date_only.isoformat()  # a talk known only by its day
    if session.end:
        data["endDate"] = session.end.isoformat()
    if description:
        data["description"] = description
    if event.venue:
        data["eventAttendanceMode"] = _OFFLINE
        data["location"] = _place(event.venue, session.room)
    data["superEvent"] = _event_reference(event, absolute)
    if session.speakers:
        data["performer"] = [{"@type": "Person", "name": p.name, "url": absolute(p)} for p in session.speakers]
    if session.topics:
        data["keywords"] = ", ".join(t.name for t in session.topics)
    video = first_video(session)
    if video:
        data["recordedIn"] = _video(session, video.share, video.thumbnail, video.mime)
    return data


def person_data(person: Person, absolute: Absolute, description: str = "") -> dict[str, Any]:
    data: dict[str, Any] = {"@context": "https://schema.org", "@type": "Person", "@id": absolute(person), "name": person.name}
    data["url"] = absolute(person)
    if description:
        data["description"] = description
    if person.avatar_url:
        data["image"] = person.avatar_url
    if person.links:
        data["sameAs"] = [link.url for link in person.links]
    return data


def _video(session: Session, share: str, thumbnail: str, mime: str) -> dict[str, Any]:
    video: dict[str, Any] = {"@type": "VideoObject", "name": session.title}
    video["contentUrl" if mime else "embedUrl"] = share
    if mime:
        video["encodingFormat"] = mime
    if thumbnail:
        video["thumbnailUrl"] = thumbnail
    if session.start:
        # The data has no upload date; a recording is not public before the talk.
        video["uploadDate"] = session.start.isoformat()
    return video


def _place(venue: Venue, room: str | None = None) -> dict[str, Any]:
    address = {"@type": "PostalAddress", "addressLocality": venue.city, "addressCountry": venue.country}
    place: dict[str, Any] = {"@type": "Place", "name": f"{room}, {venue.name}" if room else venue.name, "address": address}
    if venue.lat is not None and venue.lon is not None:
        place["geo"] = {"@type": "GeoCoordinates", "latitude": venue.lat, "longitude": venue.lon}
    return place
