"""The contract's one rule for web URLs (links, media, avatars): what the model
accepts and what every converter keeps."""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from sitegen.contract.limits import MAX_URL_CHARS


def web_url(value: Any, base: str | None = None) -> tuple[str | None, tuple[str, str] | None]:
    """For a converter: (the URL, None) when the contract accepts ``value``
    (stripped; a relative one read against ``base``), else (None, why it is
    refused and the fix). An absolute URL is never joined: ``urljoin`` would
    drop a tab or line break in it, and publish a URL the data does not hold."""
    if not isinstance(value, str) or not value.strip():
        return None, NOT_WEB_URL
    url = value.strip()
    try:
        if base and not urlsplit(url).scheme:
            url = urljoin(base, url)
    except ValueError:  # malformed, e.g. "http://[::1"
        return None, NOT_WEB_URL
    problem = url_problem(url)
    return (url, None) if problem is None else (None, problem)


def is_web_url(value: str) -> bool:
    """Whether the contract accepts ``value`` as a link (see ``url_problem``)."""
    return url_problem(value) is None


def url_problem(value: str) -> tuple[str, str] | None:
    """Why the contract refuses ``value`` as a URL (what is wrong, the fix), or
    None. Besides http(s) with a host, it must be read the same by browsers
    (the WHATWG URL standard) and by ``urlsplit``, which labels a link with its
    host and picks a video player: so no backslash (a browser reads it as "/"),
    no control character, and no space or percent-escape in the host. Leading
    and trailing whitespace is allowed (the model strips it)."""
    if len(value) > MAX_URL_CHARS:
        return (
            f"is {len(value):,} characters long, longer than the limit of {MAX_URL_CHARS:,}",
            f"shorten it to at most {MAX_URL_CHARS:,} characters",
        )
    return _short_url_problem(value)


#: ``url_problem``'s answer for what is not an http(s) URL at all.
NOT_WEB_URL = ("is not an http(s) URL", "send an absolute http:// or https:// URL")
_BACKSLASH_URL = (
    "contains a backslash, which browsers read as '/' (the link could open another host than it shows)",
    "use '/' in the URL, or write a backslash as %5C",
)
_CONTROL_URL = (
    "contains a tab, line break or other control character, which browsers drop or refuse",
    "remove it, or percent-encode it",
)
_ODD_HOST_URL = ("has a space or a %-escape in its host name", "write the host name plainly, such as www.example.org")
#: URLs accepted without asking urlsplit: http(s), then a plain ASCII host
#: name up to the end or the first / ? or #.
_PLAIN_WEB_URL_RE = re.compile(r"https?://[A-Za-z0-9.-]+(?:[/?#]|\Z)")
#: Characters that make browsers and urlsplit read a URL differently.
_URL_AMBIGUOUS_RE = re.compile(r"[\\\x00-\x1f\x7f]")
_URL_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


@functools.lru_cache(maxsize=1 << 16)  # the same URLs recur across objects; at most 2,000 characters each
def _short_url_problem(value: str) -> tuple[str, str] | None:
    if _PLAIN_WEB_URL_RE.match(value) and not _URL_AMBIGUOUS_RE.search(value):
        # urlsplit would find the scheme and this host name: nothing before the
        # host is stripped or removed, and the host ends where urlsplit ends it.
        return None
    value = value.strip()
    if "\\" in value:
        return _BACKSLASH_URL
    if _URL_CONTROL_RE.search(value):
        return _CONTROL_URL
    try:
        parts = urlsplit(value)
    except ValueError:
        return NOT_WEB_URL
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return NOT_WEB_URL
    host = parts.netloc.rpartition("@")[2]
    if "%" in host or any(char.isspace() for char in host):
        return _ODD_HOST_URL
    return None
