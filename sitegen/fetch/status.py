"""What an HTTP status the fetch did not expect means: an error naming the URL and its fix, or
``Again`` for the transient ones (429 and 5xx; 429 and 503 with their Retry-After)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sitegen.errors import SourceError, clip
from sitegen.fetch.envelope import SERVER_FIX
from sitegen.fetch.session import Session
from sitegen.retry import Again, parse_retry_after

if TYPE_CHECKING:
    import httpx


def failure(session: Session, url: str, response: httpx.Response, first: bool) -> Again:
    """Any other answer: an error, or ``Again`` for the transient ones (429 and 503 with their Retry-After)."""
    status = response.status_code
    what = status_line(response)
    if status in (401, 403) and not session.contract:
        raise SourceError.at(url, f"{what}: the server refused access", "check [source] url, or ask the server's operator")
    if status in (401, 403):
        env = session.source.token_env
        fix = f"check the token in ${env}" if session.token else f"set the environment variable {env} to an API token"
        raise SourceError.at(url, f"{what}: the API refused access", fix)
    if status == 429 or status >= 500:
        wait = None
        if status in (429, 503):
            wait = parse_retry_after(response.headers.get("Retry-After"), response.headers.get("Date"), session.now)
        return Again(what, "check the server's health, or raise [source] retries or backoff", wait)
    if status == 404 and first:
        raise SourceError.at(
            url,
            what,
            f"the base URL [source] url = {session.source.url!r} is probably wrong; it must be the API root, with /series, /events… below it",
        )
    raise SourceError.at(url, f"unexpected {what}", SERVER_FIX)


def status_line(response: httpx.Response) -> str:
    """``HTTP 503 Service Unavailable``, the server's reason phrase clipped."""
    return f"HTTP {response.status_code} {clip(response.reason_phrase, 60)}".rstrip()
