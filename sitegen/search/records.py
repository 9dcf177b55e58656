"""The search index's records, made from the model (never by crawling build/).

One record per session, person, event and Markdown page: its URL (root-relative,
as the site links it), its plain text (what a query matches and excerpts are
cut from), the meta a result shows, its filters (the facets) and sort keys.
Records come out in a fixed order (by kind, then id), so the same archive gives
the same index, byte for byte.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from sitegen.untrusted import UntrustedMarkdown

if TYPE_CHECKING:  # the index job reads records without the model (a lighter start)
    from sitegen.content import ContentResult
    from sitegen.model import Archive, Event, Person, Session

#: The root-relative URL of a model object or Markdown page (``render.routes.Routes.url``), injected by the orchestrator.
UrlOf = Callable[[Any], str]

#: At most this many characters of one text field go into the index: a search
#: needs the words, and a hostile megabyte of abstract would make a megabyte fragment.
MAX_FIELD = 20_000
#: The facets of sessions, in the order the search page shows them.
FACETS = ("year", "series", "event", "topic", "speaker", "country", "media")
#: What each kind of record is called in the ``kind`` meta and filter.
KINDS = ("talk", "person", "event", "page")


@dataclass(frozen=True)
class SearchRecord:
    url: str
    content: str
    meta: dict[str, str]
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: dict[str, str] = field(default_factory=dict)

    def data(self) -> dict[str, object]:
        return {"url": self.url, "content": self.content, "meta": self.meta, "filters": self.filters, "sort": self.sort}


#: What a reader sees of a Markdown field (``plain_from_markdown``, or ``plains.PlainTexts`` reusing the last build's).
PlainOf = Callable[["str | None"], str]


#: A record to make: the model objects it is made from (None for a Markdown page, which is
#: not kept between builds), its URL, and what makes it.
Planned = tuple[tuple[Any, ...] | None, str, Callable[[], SearchRecord]]
_NOTHING: dict[str, Any] = {}


class Deferred(dict[str, Any]):
    """A record not made yet, as the writer reads every record: its URL and its meta fields
    (``meta``: their names, the values empty; shared, never changed). The read pass makes it
    (``make``) when its batch is read again."""

    def __init__(self, url: str, meta: dict[str, str], make: Callable[[], dict[str, Any]]) -> None:
        super().__init__(url=url, content="", meta=meta, filters=_NOTHING, sort=_NOTHING)
        self.make = make


def search_records(archive: Archive, content: ContentResult, url: UrlOf, plain: PlainOf | None = None) -> Iterator[SearchRecord]:
    """Every record of the index: sessions, people, events, then Markdown pages."""
    for _, _, make in planned_records(archive, content, url, plain):
        yield make()


def planned_records(archive: Archive, content: ContentResult, url: UrlOf, plain: PlainOf | None = None) -> Iterator[Planned]:
    """``search_records``, each with the objects it is made from, made when asked. Each names
    the objects its maker reads: a record made from others than those named would be kept
    when one of them changed (``recordmemo``; tests/test_incremental.py holds them together)."""
    text = plain or plain_from_markdown
    for session in archive.sessions.values():
        event = session.event
        made_of = (session, event, event.series, event.venue, *session.speakers, None, *session.topics)
        yield made_of, url(session), partial(session_record, session, url, text)
    for person in archive.people.values():
        yield (person,), url(person), partial(person_record, person, url, text)
    for event in archive.events.values():
        yield (event, event.series, event.venue), url(event), partial(event_record, event, url, text)
    for page in sorted(content.pages, key=lambda p: p.path):
        yield None, url(page), partial(_page_record, page, url)


def _page_record(page: Any, url: UrlOf) -> SearchRecord:
    text = plain_from_html(page.html)
    return SearchRecord(url(page), _join(page.title, page.description, text), {"title": page.title, "kind": "page"}, {"kind": ["page"]})


def session_record(session: Session, url: UrlOf, plain: PlainOf) -> SearchRecord:
    event = session.event
    speakers = [p.name for p in session.speakers]
    topics = [t.name for t in session.topics]
    kinds = sorted({m.kind for m in session.media if m.kind in ("video", "slides")})
    filters = {
        "kind": ["talk"],
        "year": [str(event.year)],
        "series": [event.series.name] if event.series else [],
        "event": [event.name],
        "topic": topics,
        "speaker": speakers,
        "country": [event.venue.country_name] if event.venue else [],
        "media": [f"has {kind}" for kind in kinds],
    }
    text = _join(session.title, ", ".join(speakers), event.name, plain(session.abstract), ", ".join(topics), session.room)
    meta = {
        "title": session.title,
        "kind": "talk",
        "speakers": ", ".join(speakers),
        "event": event.name,
        "date": session.day.isoformat(),
    }
    return SearchRecord(url(session), text, meta, {k: v for k, v in filters.items() if v}, {"date": _sort_date(session)})


def person_record(person: Person, url: UrlOf, plain: PlainOf) -> SearchRecord:
    return SearchRecord(url(person), _join(person.name, plain(person.bio)), {"title": person.name, "kind": "person"}, {"kind": ["person"]})


def event_record(event: Event, url: UrlOf, plain: PlainOf) -> SearchRecord:
    venue = event.venue
    place = ", ".join(p for p in (venue.name, venue.city, venue.country_name) if p) if venue else ""
    meta = {"title": event.name, "kind": "event", "date": event.start_date.isoformat()}
    if place:
        meta["place"] = place
    text = _join(event.name, event.series.name if event.series else None, plain(event.description), place)
    return SearchRecord(url(event), text, meta, {"kind": ["event"]}, {"date": event.start_date.isoformat()})


def _sort_date(session: Session) -> str:
    start = session.start  # strftime's "%Y-%m-%dT%H:%M" for the contract's four-digit years, in a fifth of its time
    return start.isoformat()[:16] if start else session.day.isoformat()


def _join(*parts: str | None) -> str:
    return "\n".join(part[:MAX_FIELD] for part in parts if part)


_TAG = re.compile(r"<[^>]{0,2000}>")
_SPACE = re.compile(r"[ \t]+")


def plain_from_markdown(text: str | None) -> str:
    """What a reader sees of an untrusted Markdown field, as the site renders it, on one line
    (``UntrustedMarkdown.text``: link targets, marks and tags go; ``__init__`` stays)."""
    return UntrustedMarkdown().text(text) if text else ""


def plain_from_html(markup: str) -> str:
    """The text of a trusted Markdown page's HTML."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", markup[: MAX_FIELD * 4]))).strip()[:MAX_FIELD]
