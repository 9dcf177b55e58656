"""Facts of the data contract that both the model stage (which checks the
data) and the converters of other formats (``sitegen.sources``, which must
produce data that passes) need. Below both, so neither copies them."""

from __future__ import annotations

import functools
import zoneinfo

#: The most items one list field of one object may hold: a session's
#: ``speakers``, ``topics`` and ``media``, an event's ``topics``, a person's
#: ``links``. Pages repeat these lists (a talk and its speakers appear on each
#: speaker's page and each topic's page), so a longer list would make the build
#: grow with its square. Real archives stay far below: panels have 10-20 speakers.
MAX_LIST_ITEMS = 100

#: Names zoneinfo accepts that are not places: their meaning depends on the machine.
NOT_PLACE_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@functools.cache  # it lists the zone files on disk; the answer does not change during a run
def place_timezones() -> frozenset[str]:
    """IANA zone names that mean the same on every machine: the timezones the contract accepts."""
    return frozenset(
        name for name in zoneinfo.available_timezones() if name not in NOT_PLACE_ZONES and not name.startswith(("posix/", "right/"))
    )
