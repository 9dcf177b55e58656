"""Following ``next`` links from page to page: each on the first page's origin, no loops, at most MAX_PAGES pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from sitegen.bounded import MAX_PAGES, shown
from sitegen.errors import SourceError, clip
from sitegen.fetch.envelope import SERVER_FIX
from sitegen.fetch.urls import OFF_HOST_FIX, is_http, resolve, same_origin

P = TypeVar("P")


def walk(url: str, what: str, read: Callable[[str, bool], P], next_of: Callable[[P], str | None]) -> Iterator[tuple[str, P]]:
    """``(url, read(url, first))`` for each page of ``what`` from ``url`` on, following ``next_of(page)`` until it is None."""
    seen = {url}
    while True:
        page = read(url, len(seen) == 1)
        yield url, page
        following = next_of(page)
        if following is None:
            return
        url = follow(url, following, seen, what)


def follow(url: str, following: str, seen: set[str], what: str) -> str:
    """The absolute URL of a ``next`` link, refusing other schemes, other hosts, loops and more than MAX_PAGES pages."""
    resolved = resolve(url, following)
    if not is_http(resolved):
        raise SourceError.at(url, f"'next' is not an http(s) URL: {shown(following)}", SERVER_FIX)
    if not same_origin(resolved, url):
        raise SourceError.at(url, f"the server sent a 'next' link to another host: {shown(resolved)}", OFF_HOST_FIX)
    if resolved in seen:
        raise SourceError.at(url, f"'next' points back to {clip(resolved)}, a page of {what} already read (a loop)", SERVER_FIX)
    if len(seen) >= MAX_PAGES:
        raise SourceError.at(
            url, f"{what} has more than {MAX_PAGES:,} pages", "raise [source] page_size, or check that the server's 'next' links end"
        )
    seen.add(resolved)
    return resolved
