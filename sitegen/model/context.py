"""The reading context of one build: it collects problems and warnings, holds
the objects read so far (for references and the slug check), parses each
distinct date and timestamp once, and reads a collection with its fast
reader first and its checking reader when the fast one gives up
(``_Unusual``)."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from datetime import date as _Date  # for annotations inside classes with a method named date
from typing import Any, TypeVar

from sitegen.bounded import shown
from sitegen.contract import YEARS
from sitegen.errors import Problem
from sitegen.model.digest import source_digest
from sitegen.model.fields import _Fields
from sitegen.model.formats import _parse_date, _parse_timestamp


class _Unusual(Exception):
    """A value the fast path does not handle: read the object again, with checks."""


T = TypeVar("T")


class _Context:
    """Collects problems and holds the objects read so far, for reference checks."""

    def __init__(self, problems: list[Problem], warnings: list[Problem], timezones: frozenset[str]) -> None:
        self.problems = problems
        self.warnings = warnings
        self.timezones = timezones
        self.lookups: dict[str, Mapping[str, Any]] = {}
        #: collection -> [(index, object)] for the slug uniqueness check.
        self.read: dict[str, list[tuple[int, Any]]] = defaultdict(list)
        # Parsed values by their source text. Archives repeat them a lot (every
        # session of a slot starts at the same time), and sharing the immutable
        # results also saves memory.
        self.timestamps: dict[str, datetime] = {}
        self.dates: dict[str, date] = {}
        self.local_days: dict[tuple[str, str], date] = {}
        #: object_key -> digest of its raw object.
        self.sources: dict[str, str] = {}

    def index(
        self,
        collection: str,
        items: Sequence[Mapping[str, Any]],
        reader: Callable[[_Fields], T | None],
        fast_reader: Callable[[dict[str, Any], _Context], T] | None = None,
    ) -> dict[str, T]:
        found: dict[str, T] = {}
        first_at: dict[str, int] = {}
        read = self.read[collection]
        for position, raw in enumerate(items):
            obj = None
            if fast_reader is not None and type(raw) is dict:
                try:
                    obj = fast_reader(raw, self)
                except _Unusual:
                    pass  # read it again below, with every check and message
            if obj is None:
                where = f"{collection}[{position}]"
                if not isinstance(raw, Mapping):
                    self.problems.append(Problem(where, f"is a {type(raw).__name__}, not an object", "send a JSON object"))
                    continue
                obj = reader(_Fields(raw, where, self))
            obj_id: str = getattr(obj, "id", "")
            if obj is None or not obj_id:
                continue
            # An object with problems of its own still resolves references to it,
            # so one bad event does not also report each of its sessions.
            if obj_id in found:
                self.problems.append(
                    Problem(
                        f"{collection}[{position}] (id {shown(obj_id)})",
                        f"duplicate id, first used by {collection}[{first_at[obj_id]}]",
                        "ids must be unique per type",
                    )
                )
                continue
            found[obj_id] = obj
            first_at[obj_id] = position
            read.append((position, obj))
            self.sources[f"{collection}/{obj_id}"] = source_digest(raw)
        return dict(sorted(found.items()))

    def timestamp(self, value: Any) -> datetime:
        """A valid timestamp, parsed once per distinct text; ``_Unusual`` otherwise."""
        return _parsed_once(self.timestamps, value, _parse_timestamp)

    def date(self, value: Any) -> date:
        """A valid date, parsed once per distinct text; ``_Unusual`` otherwise."""
        return _parsed_once(self.dates, value, _parse_date)

    def local_day(self, text: str, moment: datetime, zone: str) -> _Date:
        """The date of ``moment`` (parsed from ``text``) in ``zone``, once per distinct pair."""
        day = self.local_days.get((text, zone))
        if day is None:
            day = self.local_days[text, zone] = moment.astimezone(zoneinfo.ZoneInfo(zone)).date()
        return day


D = TypeVar("D", date, datetime)


def _parsed_once(seen: dict[str, D], value: Any, parse: Callable[[Any], D | None]) -> D:
    """``parse(value)`` remembered by its text: archives repeat dates and times a lot."""
    parsed = seen.get(value) if type(value) is str else None
    if parsed is None:
        parsed = parse(value)
        if parsed is None or parsed.year not in YEARS:
            raise _Unusual
        seen[value] = parsed
    return parsed
