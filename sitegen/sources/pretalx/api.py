"""Talking to pretalx's REST API: the headers every request carries (the API
version, the token), and paginated listings read along ``next`` links, which
are kept on the event's own origin and may not loop or run on without end."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from sitegen.bounded import MAX_PAGES
from sitegen.errors import Problem, SourceError
from sitegen.sources import GetJson

#: The API version this mapping was written against, sent as ``Pretalx-Version``.
API_VERSION = "v1"
#: Everything a talk page needs, in the one listing.
EXPAND = "speakers,slots,slots.room,track,tags,resources"
#: Talks per page: pretalx's own cap by default (``max_pagination_limit``, 250), so an event of
#: up to 250 talks is three requests (event, schedules, talks); a server with a lower cap says so
#: through ``next``, which is followed. pretalx's API sends no ETag or Last-Modified, so an
#: unchanged event is read again in full (and renders nothing); a server that sends them gets 304s.
PAGE_SIZE = 250

_URL_FIX = "check [source] url: it must be a pretalx event's API URL, pretalx+https://HOST/api/events/SLUG/"


class _Api:
    """The requests: the headers every one carries, and ``next`` links followed safely."""

    def __init__(self, base_url: str, get: GetJson, token: str | None) -> None:
        self.base = base_url if base_url.endswith("/") else base_url + "/"
        self.get = get
        self.headers = {"Pretalx-Version": API_VERSION}
        if token:
            self.headers["Authorization"] = f"Token {token}"
        self.warnings: list[Problem] = []

    def one(self, url: str) -> Any:
        return self.get(url, self.headers)

    def listing(self, path: str, params: Mapping[str, str] | None = None) -> list[Any]:
        """Every item of a paginated listing (``{count, next, previous, results}``)."""
        url = self.base + path + (f"?{urlencode(params, safe=',')}" if params else "")
        items: list[Any] = []
        seen: set[str] = set()
        while url:
            if url in seen:
                self.warnings.append(
                    Problem(
                        url,
                        "the listing's next link leads back to a page already read; stopped there",
                        "report it to the pretalx server's operator",
                    )
                )
                break
            if len(seen) >= MAX_PAGES:
                raise SourceError.at(
                    url,
                    f"the listing has more than {MAX_PAGES:,} pages",
                    "check that the pretalx server's next links end, or report it to its operator",
                )
            seen.add(url)
            page = self.one(url)
            if isinstance(page, list):  # an unpaginated answer is the whole listing
                return items + page
            if not isinstance(page, Mapping) or not isinstance(page.get("results"), list):
                raise SourceError.at(url, "is not a pretalx listing ({count, next, previous, results})", _URL_FIX)
            items.extend(page["results"])
            url = self.same_origin(page.get("next"))
        return items

    def same_origin(self, link: Any) -> str:
        """``next`` moved onto the event's own scheme and host. Behind a proxy pretalx often
        writes its links as ``http://``, and the token must never go to another host."""
        if not isinstance(link, str) or not link:
            return ""
        try:
            target, base = urlsplit(urljoin(self.base, link)), urlsplit(self.base)
        except ValueError:  # a malformed link ("http://[::1") ends the listing like a missing one
            return ""
        return urlunsplit((base.scheme, base.netloc, target.path, target.query, ""))
