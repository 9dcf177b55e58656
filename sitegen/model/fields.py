"""``_Fields``: reads typed fields (ids, text, lines, slugs, dates, numbers,
lists, references, URLs) from one raw object, recording every problem and
warning with the object's path."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from datetime import date as _Date  # for annotations inside a class with a method named date
from typing import TYPE_CHECKING, Any

from sitegen.bounded import shown
from sitegen.contract import MAX_ID_LENGTH, MAX_LINE_CHARS, MAX_LIST_ITEMS, MAX_TEXT_CHARS, NOT_WEB_URL, SLUG_RE, YEARS, url_problem
from sitegen.errors import Problem
from sitegen.model.formats import _parse_date, _parse_timestamp
from sitegen.model.text import clean_text

if TYPE_CHECKING:
    from sitegen.model.context import _Context


class _Fields:
    """Reads typed fields from one raw object, recording problems with its path."""

    def __init__(self, raw: Mapping[str, Any], where: str, ctx: _Context) -> None:
        self.raw = raw
        self.where = where
        self.ctx = ctx
        self.failed = False
        raw_id = raw.get("id")
        self.label = f"{where} (id {shown(raw_id)})" if isinstance(raw_id, str) else where

    def problem(self, key: str, what: str, fix: str) -> None:
        self.failed = True
        self.ctx.problems.append(Problem(f"{self.label}.{key}", what, fix))

    def warn(self, key: str, what: str, fix: str) -> None:
        self.ctx.warnings.append(Problem(f"{self.label}.{key}", what, fix))

    def id(self) -> str:
        value = self.raw.get("id")
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_LENGTH or value != clean_text(value):
            self.problem(
                "id",
                f"must be a non-empty string of at most {MAX_ID_LENGTH} printable characters, got {shown(value)}",
                "give every object a stable string id",
            )
            return ""
        return value

    def text(self, key: str, *, required: bool = True, limit: int = MAX_TEXT_CHARS) -> str | None:
        value = self.raw.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str):
            self.problem(key, f"must be a string, got {shown(value)}", f"send {key} as a JSON string")
            return None
        if not self.short_enough(key, value, limit):
            return None
        cleaned = clean_text(value)
        if required and not cleaned.strip():
            self.problem(key, "is empty", f"give {key} a value")
            return None
        return cleaned if cleaned.strip() else None

    def line(self, key: str, *, required: bool = True) -> str | None:
        """A one-line field (names, titles): inner whitespace runs collapse to one space."""
        value = self.text(key, required=required, limit=MAX_LINE_CHARS)
        return " ".join(value.split()) if value is not None else None

    def short_enough(self, key: str, value: str, limit: int = MAX_LINE_CHARS) -> bool:
        """Whether ``value`` is within the contract's ``limit``; records a problem if not."""
        if len(value) <= limit:
            return True
        self.problem(
            key,
            f"is {len(value):,} characters long; the contract allows at most {limit:,}",
            f"shorten it to at most {limit:,} characters (pages repeat it, so the build would grow with it)",
        )
        return False

    def slug(self, key: str = "slug") -> str:
        value = self.raw.get(key)
        if not isinstance(value, str) or not SLUG_RE.fullmatch(value):
            self.problem(
                key, f"{shown(value)} is not a safe slug", "use 1-100 characters of a-z, 0-9 and '-', starting with a letter or digit"
            )
            return ""
        return value

    def date(self, key: str) -> date | None:
        value = self.raw.get(key)
        parsed = _parse_date(value)
        if parsed is None:
            self.problem(key, f"{shown(value)} is not a date", "use YYYY-MM-DD")
            return None
        return parsed if self.in_years(key, value, parsed) else None

    def timestamp(self, key: str, *, required: bool = True) -> datetime | None:
        value = self.raw.get(key)
        if value is None and not required:
            return None
        parsed = _parse_timestamp(value)
        if parsed is None:
            self.problem(key, f"{shown(value)} is not an RFC 3339 timestamp with an offset", "use e.g. 2024-09-12T09:30:00+01:00")
        elif not self.in_years(key, value, parsed):
            return None
        return parsed

    def in_years(self, key: str, value: Any, parsed: _Date) -> bool:
        """Whether ``parsed`` (a date or a timestamp) falls in ``YEARS``; records a problem if not."""
        if parsed.year in YEARS:
            return True
        self.problem(key, f"{value} is outside the years {YEARS.start}-{YEARS.stop - 1}", "correct the year")
        return False

    def timezone(self, key: str = "timezone") -> str:
        value = self.raw.get(key)
        if isinstance(value, str) and value in self.ctx.timezones:
            return value
        self.problem(key, f"{shown(value)} is not an IANA timezone", "use a name such as Europe/London")
        return ""

    def number(self, key: str, low: float, high: float) -> float | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            self.problem(key, f"{shown(value)} is not a number from {low} to {high}", f"send {key} as a JSON number or null")
            return None
        return float(value)

    def items(self, key: str) -> list[tuple[str, Any]]:
        """A list field, as (path, item) pairs; null means empty."""
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(key, f"must be a list, got {shown(value)}", f"send {key} as a JSON array")
            return []
        if len(value) > MAX_LIST_ITEMS:
            self.problem(
                key,
                f"lists {len(value):,} items; the contract allows at most {MAX_LIST_ITEMS}",
                f"list at most {MAX_LIST_ITEMS} (pages repeat this list, so the build would grow with its square)",
            )
            return []
        return [(f"{key}[{i}]", item) for i, item in enumerate(value)]

    def reference(self, key: str, collection: str, *, required: bool = False) -> Any:
        value = self.raw.get(key)
        if value is None and not required:
            return None
        return self._resolve(key, value, collection)

    def references(self, key: str, collection: str) -> tuple[Any, ...]:
        resolved = [self._resolve(path, value, collection) for path, value in self.items(key)]
        unique = dict.fromkeys(obj for obj in resolved if obj is not None)  # duplicates are harmless
        return tuple(unique)

    def _resolve(self, path: str, value: Any, collection: str) -> Any:
        target = self.ctx.lookups[collection].get(value) if isinstance(value, str) else None
        if target is None:
            self.problem(
                path, f"refers to unknown {collection} id {shown(value)}", f"add that object to {collection} or remove the reference"
            )
        return target

    def url(self, key: str, item: Any = None, path: str | None = None) -> str | None:
        """An http(s) URL; anything else is dropped with a warning."""
        value = (self.raw if item is None else item).get(key)
        if value is None:
            return None
        problem = url_problem(value) if isinstance(value, str) else NOT_WEB_URL
        if problem is None:
            return clean_text(value).strip()
        what, fix = problem
        self.warn(path or key, f"{shown(value)} {what}; it was left out", fix)
        return None
