"""The contract's limits and formats: the lengths of ids, slugs and text, the
years dates may fall in, the size of list fields, and the timezones it accepts."""

from __future__ import annotations

import functools
import re
import zoneinfo

#: The most characters of an id (of any object).
MAX_ID_LENGTH = 200
#: The most characters of a slug; a slug is a-z, 0-9 and "-", starting with a letter or digit.
MAX_SLUG_LENGTH = 100
SLUG_RE = re.compile(rf"[a-z0-9][a-z0-9-]{{0,{MAX_SLUG_LENGTH - 1}}}")
#: A date: YYYY-MM-DD.
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Dates outside these years are data errors (and would overflow UTC arithmetic).
YEARS = range(1900, 2200)

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
