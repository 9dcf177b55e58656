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
from sitegen.model.known import KnownObjects, identical
from sitegen.model.types import LINKS


class _Unusual(Exception):
    """A value the fast path does not handle: read the object again, with checks."""


T = TypeVar("T")


class _Context:
    """Collects problems and holds the objects read so far, for reference checks."""

    def __init__(
        self,
        problems: list[Problem],
        warnings: list[Problem],
        timezones: frozenset[str],
        known: KnownObjects | None = None,
        earlier: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
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
        #: The raw objects known valid (read without checks), and where this build's are kept; None: none.
        self.known: KnownObjects | None = known
        #: An earlier build's valid objects by collection and digest (taken as they are when the
        #: objects they link to are this build's too), and this build's (``ModelResult.valid``).
        self.earlier: Mapping[str, Mapping[str, Any]] = earlier or {}
        self.valid: dict[str, dict[str, Any]] = defaultdict(dict)

    def index(
        self,
        collection: str,
        items: Sequence[Mapping[str, Any]],
        reader: Callable[[_Fields], T | None],
        fast_reader: Callable[[dict[str, Any], _Context], T] | None = None,
        trusted_reader: Callable[[dict[str, Any], _Context], T] | None = None,
    ) -> dict[str, T]:
        found: dict[str, T] = {}
        first_at: dict[str, int] = {}
        read = self.read[collection]
        known, still = self.known.of(collection) if self.known is not None and trusted_reader is not None else (frozenset(), set())
        earlier, valid = self.earlier.get(collection, {}), self.valid[collection]
        for position, raw in enumerate(items):
            digest = source_digest(raw)
            obj = None
            if digest in known and type(raw) is dict:
                obj = earlier.get(digest)
                if obj is None or not self._links_current(collection, obj):
                    obj = _try(trusted_reader, raw, self)
                if obj is not None:
                    still.add(digest)
                    valid[digest] = obj
            if obj is None:
                obj = self._checked(collection, position, raw, digest, (reader, fast_reader, trusted_reader))
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
            self.sources[f"{collection}/{obj_id}"] = digest
        return dict(sorted(found.items()))

    def _checked(
        self,
        collection: str,
        position: int,
        raw: Any,
        digest: str,
        readers: tuple[
            Callable[[_Fields], T | None], Callable[[dict[str, Any], _Context], T] | None, Callable[[dict[str, Any], _Context], T] | None
        ],
    ) -> T | None:
        """A raw object read with checks: the fast reader's, else the checking reader's. When it
        raised nothing and its trusted reading is identical, the next build knows it valid."""
        reader, fast_reader, trusted_reader = readers
        said = len(self.problems) + len(self.warnings)
        obj = None
        if fast_reader is not None and type(raw) is dict:
            try:
                obj = fast_reader(raw, self)
            except _Unusual:
                pass  # read it again below, with every check and message
        if obj is None:
            if not isinstance(raw, Mapping):
                self.problems.append(
                    Problem(f"{collection}[{position}]", f"is a {type(raw).__name__}, not an object", "send a JSON object")
                )
                return None
            obj = reader(_Fields(raw, f"{collection}[{position}]", self))
        known = self.known
        if obj is not None and known is not None and trusted_reader is not None and type(raw) is dict:
            if len(self.problems) + len(self.warnings) == said and identical(_try(trusted_reader, raw, self), obj):
                known.learn(collection, digest)
                self.valid[collection][digest] = obj
        return obj

    def _links_current(self, collection: str, obj: Any) -> bool:
        """Whether every object ``obj`` links to is this build's object of its id (not an earlier one)."""
        for name, target in LINKS.get(collection, ()):
            value, current = getattr(obj, name), self.lookups[target]
            if type(value) is tuple:
                if any(current.get(item.id) is not item for item in value):
                    return False
            elif value is not None and current.get(value.id) is not value:
                return False
        return True

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


#: What a trusted reader may raise on a raw object it cannot build: read it with checks.
_UNTRUSTED = (_Unusual, LookupError, TypeError, ValueError, AttributeError)


def _try(trusted_reader: Callable[[dict[str, Any], _Context], T] | None, raw: dict[str, Any], ctx: _Context) -> T | None:
    """The trusted reading of ``raw``, or None when it cannot be built that way."""
    assert trusted_reader is not None
    try:
        return trusted_reader(raw, ctx)
    except _UNTRUSTED:
        return None


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
