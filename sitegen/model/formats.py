"""The contract's value formats: safe slugs, ids, media kinds, the years a
date may fall in, and the parsing of dates and RFC 3339 timestamps."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
MEDIA_KINDS = ("video", "slides", "audio", "notes", "code", "other")
MAX_ID_LENGTH = 200
#: Dates outside these years are data errors (and would overflow UTC arithmetic).
YEARS = range(1900, 2200)


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
