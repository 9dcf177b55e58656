"""The parsing of the contract's dates and RFC 3339 timestamps (their formats
and the years they may fall in are ``sitegen.contract``'s)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sitegen.contract import DATE_RE


def _parse_date(value: Any) -> date | None:
    if not isinstance(value, str) or not DATE_RE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _parse_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not DATE_RE.match(value) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
