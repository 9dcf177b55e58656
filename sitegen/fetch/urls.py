"""The API's URLs, and the one same-origin rule for what the server points at (``next`` links,
redirects) and for where the token may go: the source's own scheme, host and port."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urldefrag, urlencode, urljoin, urlsplit, urlunsplit

from sitegen.bounded import shown
from sitegen.errors import SourceError

if TYPE_CHECKING:
    import httpx

OFF_HOST_FIX = "sitegen reads only from [source] url's own scheme, host and port; check [source] url or ask the API operator"


def api_url(base: str, name: str, params: Iterable[tuple[str, str]] = ()) -> str:
    """``<base>/<name>?<params>``, whether or not ``base`` ends in '/' or has a query."""
    parts = urlsplit(base)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params])
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/" + name, query, ""))


def collection_url(base: str, name: str, page_size: int, updated_since: datetime | None = None) -> str:
    since = [("updated_since", _rfc3339(updated_since))] if updated_since is not None else []
    return api_url(base, name, [("page_size", str(page_size)), *since])


def _rfc3339(moment: datetime) -> str:
    """UTC with a ``Z``, whole seconds rounded down (earlier is the safe side for ``updated_since``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def resolve(base: str, link: str) -> str:
    """``link`` made absolute against ``base``, without its fragment (a fragment is never sent, so it
    cannot hide a loop); "" when it cannot be parsed."""
    try:
        return urldefrag(urljoin(base, link)).url
    except ValueError:
        return ""


def is_http(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")


def same_origin(url: str, other: str) -> bool:
    return _origin(url) == _origin(other)


def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port (the default one filled in); a URL without a valid port has no origin."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:
        return ("", "", None)
    return scheme, (parts.hostname or "").lower(), port


def redirect_target(url: str, current: str, response: httpx.Response) -> str:
    """Where a 3xx sends ``current`` (on the way to ``url``), refused unless it is on ``url``'s origin."""
    location: str = response.headers.get("Location", "")
    target = resolve(current, location)
    if not is_http(target) or not same_origin(target, url):
        raise SourceError.at(url, f"HTTP {response.status_code}: the server redirected to another host: {shown(location)}", OFF_HOST_FIX)
    return target
