"""Reading the change feed (``GET B/changes?since=<cursor>``) to its end: the entries since a cursor,
the cursor to continue from, and when the server issued it. No feed, or a refused cursor, is Doubt."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from sitegen.fetch.body import read_body
from sitegen.fetch.changes import Doubt
from sitegen.fetch.envelope import FeedPage, parse_feed_page
from sitegen.fetch.paging import walk
from sitegen.fetch.request import get
from sitegen.fetch.session import Session
from sitegen.fetch.status import failure, status_line
from sitegen.fetch.urls import api_url
from sitegen.retry import Again, http_date

if TYPE_CHECKING:
    import httpx


class FeedRead(NamedTuple):
    entries: tuple[Mapping[str, Any], ...]
    cursor: str
    synced_at: datetime


def read_feed(session: Session, since: str | None) -> FeedRead:
    """The change feed from cursor ``since`` (None: from its start) up to now, and the cursor to
    continue from next time. Raises Doubt when the server has no feed or refuses the cursor."""

    def read(url: str, first: bool) -> FeedPage:
        return get(session, url, partial(_feed_answer, session, url, since is not None))

    entries: list[Mapping[str, Any]] = []
    last: FeedPage | None = None
    start = api_url(session.source.url, "changes", [("since", since)] if since is not None else [])
    for url, feed in walk(start, "the change feed", read, lambda feed: feed.page.next):
        if since is not None:  # reading from the start only needs the cursor; keep no history in memory
            entries.extend(feed.page.data)
        if feed.page.next is None and feed.cursor is None:
            raise Doubt(f"{url}: the last page of the change feed has no 'cursor'")
        last = feed
    assert last is not None and last.cursor is not None  # walk reads at least one page, and the last one has a cursor
    return FeedRead(tuple(entries), last.cursor, http_date(last.date) or session.now())


def _feed_answer(session: Session, url: str, with_cursor: bool, response: httpx.Response) -> FeedPage | Again:
    """A change feed page; 404 (no feed) and 400/410 (cursor refused) are doubt, not errors."""
    status = response.status_code
    if status == 200:
        return parse_feed_page(read_body(session, url, response), response.headers.get("Date"), url)
    what = status_line(response)
    if status == 404:
        raise Doubt(f"{url}: {what}: the server has no change feed")
    if status in (400, 410):
        raise Doubt(f"{url}: {what}: the server refused " + ("the cursor" if with_cursor else "to read the feed from its start"))
    return failure(session, url, response, first=False)
