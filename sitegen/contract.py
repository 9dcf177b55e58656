"""Facts of the data contract that both the model stage (which checks the
data) and the converters of other formats (``sitegen.sources``, which must
produce data that passes) need. Below both, so neither copies them."""

from __future__ import annotations

import functools
import re
import zoneinfo
from urllib.parse import urlsplit

#: The most characters of an id (of any object).
MAX_ID_LENGTH = 200
#: The most characters of a slug; a slug is a-z, 0-9 and "-", starting with a letter or digit.
MAX_SLUG_LENGTH = 100
SLUG_RE = re.compile(rf"[a-z0-9][a-z0-9-]{{0,{MAX_SLUG_LENGTH - 1}}}")
#: A date: YYYY-MM-DD.
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Dates outside these years are data errors (and would overflow UTC arithmetic).
YEARS = range(1900, 2200)
#: The kinds a session's media item may have.
MEDIA_KINDS = ("video", "slides", "audio", "notes", "code", "other")

#: The most items one list field of one object may hold: a session's
#: ``speakers``, ``topics`` and ``media``, an event's ``topics``, a person's
#: ``links``. Pages repeat these lists (a talk and its speakers appear on each
#: speaker's page and each topic's page), so a longer list would make the build
#: grow with its square. Real archives stay far below: panels have 10-20 speakers.
MAX_LIST_ITEMS = 100

#: The most characters of a one-line text field: a name, title, room, city, a
#: link's kind or a media title. Pages repeat these (a speaker's name is on every
#: page that lists their talks), so they must stay short; real ones are far shorter.
MAX_LINE_CHARS = 500
#: The most characters of a Markdown field (an abstract, bio or description).
#: Each appears in full on one page only; past 100,000 it is shown as plain text.
MAX_TEXT_CHARS = 2_000_000
#: The most characters of a URL; a longer one is left out with a warning.
MAX_URL_CHARS = 2000

#: Names zoneinfo accepts that are not places: their meaning depends on the machine.
NOT_PLACE_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@functools.cache  # it lists the zone files on disk; the answer does not change during a run
def place_timezones() -> frozenset[str]:
    """IANA zone names that mean the same on every machine: the timezones the contract accepts."""
    return frozenset(
        name for name in zoneinfo.available_timezones() if name not in NOT_PLACE_ZONES and not name.startswith(("posix/", "right/"))
    )


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
