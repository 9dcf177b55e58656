"""One GET of a fetch: the headers it sends (the token only to the source's own origin), the
redirects it follows itself, each checked and at most MAX_REDIRECTS, and network failures as
``Again``, retried through ``retrying``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from sitegen.bounded import ACCEPT_ENCODING, shown
from sitegen.errors import SourceError, clip
from sitegen.fetch.client import timeouts
from sitegen.fetch.envelope import SERVER_FIX
from sitegen.fetch.retrying import retrying
from sitegen.fetch.session import Session
from sitegen.fetch.urls import redirect_target, same_origin
from sitegen.retry import Again

if TYPE_CHECKING:
    import httpx

    from sitegen.config import SourceConfig

#: Redirects followed for one request, each within the source's own origin.
MAX_REDIRECTS = 5

T = TypeVar("T")


def request_headers(session: Session, url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """What every GET sends: JSON, the encodings sitegen decodes (which ``extra`` cannot change),
    the contract's token (never to another host), and ``extra``: the cache's validators, or
    another format's own headers."""
    headers = {"Accept": "application/json", **(extra or {}), "Accept-Encoding": ACCEPT_ENCODING}
    if session.token and same_origin(url, session.source.url):  # never hand the token to another host
        headers["Authorization"] = f"Bearer {session.token}"
    return headers


def get(session: Session, url: str, handle: Callable[[httpx.Response], T | Again], extra: Mapping[str, str] | None = None) -> T:
    """GET ``url`` with ``request_headers`` until ``handle`` gives an answer, retried within the
    fetch's retries and budget; ``handle`` reads each response while it streams."""
    headers = request_headers(session, url, extra)
    return retrying(session, url, lambda: _attempt(session, url, handle, headers))


def _attempt(session: Session, url: str, handle: Callable[[httpx.Response], T | Again], headers: Mapping[str, str]) -> T | Again:
    """One request, its redirects followed here."""
    import httpx

    session.counters.requests += 1
    sent = dict(headers)
    current = url
    try:
        for _ in range(MAX_REDIRECTS + 1):  # redirects are followed here, each checked, never by httpx
            timeout = timeouts(session.source, budget=max(session.deadline - session.clock(), 0.001))
            with session.client.stream("GET", current, headers=sent, timeout=timeout, follow_redirects=False) as response:
                if not response.has_redirect_location:
                    return handle(response)
                current = redirect_target(url, current, response)
        raise SourceError.at(url, f"redirects more than {MAX_REDIRECTS} times", SERVER_FIX)
    except httpx.TransportError as exc:
        return _transport_failure(session.source, exc)
    except (httpx.RequestError, httpx.InvalidURL) as exc:  # redirect loops, bad URLs: retrying won't help
        raise SourceError.at(url, f"request failed: {clip(str(exc), 200)}", SERVER_FIX) from None


def _transport_failure(s: SourceConfig, exc: httpx.TransportError) -> Again:
    import httpx

    if isinstance(exc, (httpx.ReadTimeout, httpx.WriteTimeout)):
        return Again(f"no answer within read_timeout = {s.read_timeout:g} s", "check the server, or raise [source] read_timeout or retries")
    if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
        return Again(
            f"could not connect within connect_timeout = {s.connect_timeout:g} s",
            "check that the server is reachable, or raise [source] connect_timeout or retries",
        )
    return Again(
        # What the server sent (a hostile header line) is escaped and capped.
        f"{type(exc).__name__}: {shown(str(exc)) if str(exc) else 'connection failed'}",
        "check that [source] url is right and the server is up, or raise [source] retries",
    )
