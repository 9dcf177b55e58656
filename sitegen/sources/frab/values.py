"""Single values of the schedule format, read leniently: a one-line text, an
identifier, a date, a timestamp, a clock time, an http(s) URL; None or "" for
anything unusable. ``_show`` quotes a value in a message."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sitegen.contract import DATE_RE, YEARS, web_url


def _line(value: Any) -> str:
    """A one-line text (a title, a name); "" for anything else."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def _key_text(value: Any) -> str:
    """An identifier from the data as text: a string or an integer; "" otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        return text if text.isprintable() else "".join(char for char in text if char.isprintable())
    return ""


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _date(value: Any) -> date | None:
    """A date, or the date of a timestamp (the conference's start may be one)."""
    if not isinstance(value, str) or not DATE_RE.match(value):
        return None
    try:
        parsed = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return parsed if parsed.year in YEARS else None


def _moment(value: Any, zone: tzinfo | None) -> datetime | None:
    """An ISO 8601 timestamp; one without an offset is local time in ``zone``
    (None: it is not accepted). A date alone is no moment."""
    if not isinstance(value, str) or not re.match(r"\d{4}-\d{2}-\d{2}[T ]\d", value.strip()):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        if zone is None:
            return None
        parsed = parsed.replace(tzinfo=zone)
    return parsed if parsed.year in YEARS else None


def _clock(value: Any) -> timedelta | None:
    """ "HH:MM" (or "HH:MM:SS") as a duration: a start time of day, or a talk's length."""
    match = re.fullmatch(r"(\d{1,3}):([0-5]\d)(?::([0-5]\d))?", value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def _timestamp(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _web_url(value: Any, base: str | None = None) -> str | None:
    """An http(s) URL the contract accepts, relative ones read against ``base``; None for anything else."""
    return web_url(value, base)[0]


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
