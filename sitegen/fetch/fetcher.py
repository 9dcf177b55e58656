"""The HTTP fetcher: every contract collection page by page, revalidated against the ETag cache,
and any other JSON document (another format's), each GET retried within the fetch's budget."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sitegen.bounded import loads_json
from sitegen.errors import SourceError
from sitegen.fetch.body import read_body
from sitegen.fetch.envelope import SERVER_FIX, Page, parse_page
from sitegen.fetch.httpcache import CacheEntry, HttpCache
from sitegen.fetch.paging import walk
from sitegen.fetch.request import get
from sitegen.fetch.session import Session
from sitegen.fetch.status import failure
from sitegen.fetch.urls import collection_url
from sitegen.retry import Again

if TYPE_CHECKING:
    import httpx


class HttpFetcher:
    """One fetch's GETs: the session (client, deadline, counters) and the ETag cache."""

    def __init__(self, session: Session, cache: HttpCache) -> None:
        self.session, self.cache = session, cache

    def full(self, names: tuple[str, ...]) -> dict[str, tuple[Mapping[str, Any], ...]]:
        """Every collection in full, then the ETag cache pruned to what this complete listing used."""
        fetched = {name: self.collection(name) for name in names}
        self.cache.prune()
        return fetched

    def collection(self, name: str, *, updated_since: datetime | None = None, use_cache: bool = True) -> tuple[Mapping[str, Any], ...]:
        """All objects of one collection (changed since ``updated_since``, if given), following
        ``next`` links until null. ``use_cache=False`` leaves the ETag cache out: an
        ``updated_since`` URL is asked once, and must not count as used by a complete listing."""
        source = self.session.source
        url = collection_url(source.url, name, source.page_size, updated_since)
        cache = self.cache if use_cache else None
        items: list[Mapping[str, Any]] = []
        for _, page in walk(url, name, lambda url, first: self.page(url, first=first, cache=cache), lambda page: page.next):
            items.extend(page.data)
        return tuple(items)

    def page(self, url: str, *, first: bool, cache: HttpCache | None) -> Page:
        """One page, revalidated against the cache when there is an entry for it."""
        cached = cache.load(url, lambda body: parse_page(body, url, "")) if cache is not None else None

        def handle(response: httpx.Response) -> Page | Again:
            return self._answer(url, response, cached, first, cache)

        return get(self.session, url, handle, cached.validators() if cached else None)

    def _answer(
        self, url: str, response: httpx.Response, cached: CacheEntry[Page] | None, first: bool, cache: HttpCache | None
    ) -> Page | Again:
        status = response.status_code
        if status == 304 and cached is not None:
            self.session.counters.not_modified += 1
            return cached.value
        if status == 200:
            body = read_body(self.session, url, response)
            page = parse_page(body, url, SERVER_FIX)
            if cache is not None:  # the body parsed, so it is UTF-8
                cache.store(url, response.headers.get("ETag"), response.headers.get("Last-Modified"), body.decode("utf-8"))
            return page
        return failure(self.session, url, response, first)

    def document(self, url: str, headers: Mapping[str, str], refused: tuple[str, str] | None = None) -> Any:
        """The parsed JSON body of one GET in any shape, with the same retries (429
        and Retry-After too), limits and budget as the contract's pages, revalidated
        against the ETag cache when the server gave validators (a 304 reuses the body).
        ``headers`` are sent besides the usual ones: another format brings its own authorisation.
        ``refused`` is what a 401 or 403 means when they carry none: (what, fix)."""
        session, source = self.session, self.session.source
        cached = self.cache.load(url, lambda body: loads_json(body, url, SourceError, ""))
        validators = cached.validators() if cached is not None else {}

        def handle(response: httpx.Response) -> Any:
            if response.status_code == 304 and cached is not None:
                session.counters.not_modified += 1
                return cached.value
            if response.status_code == 200:
                body = read_body(session, url, response)
                document = loads_json(body, url, SourceError, SERVER_FIX)  # parsed, so the body is UTF-8
                self.cache.store(url, response.headers.get("ETag"), response.headers.get("Last-Modified"), body.decode("utf-8"))
                return document
            if response.status_code == 404:
                raise SourceError.at(
                    url, "HTTP 404 Not Found", f"check [source] url = {source.url!r}: the host, the event's slug or the file's path"
                )
            if response.status_code in (401, 403) and refused is not None and "Authorization" not in headers:
                raise SourceError.at(url, f"HTTP {response.status_code}: {refused[0]}", refused[1])
            return failure(session, url, response, first=False)

        return get(session, url, handle, {**headers, **validators})
