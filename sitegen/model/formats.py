"""The contract's value formats: safe slugs, ids, media kinds, the years a
date may fall in, and the parsing of dates and RFC 3339 timestamps."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

# The rules themselves live in sitegen.contract, which the converters share.
from sitegen.contract import DATE_RE, MAX_ID_LENGTH, MEDIA_KINDS, SLUG_RE, YEARS

__all__ = ["DATE_RE", "MAX_ID_LENGTH", "MEDIA_KINDS", "SLUG_RE", "YEARS"]


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
