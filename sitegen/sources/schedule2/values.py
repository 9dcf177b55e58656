"""Single values of schedule v2 that v1 has not: ISO 8601 durations, the
object lists it keys by guid or slug, and the names of participants' roles.
Everything v1 shares (lines, keys, timestamps, URLs, Markdown, translated
text) is read by the frab and pretalx converters' helpers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sitegen.sources.frab.values import _key_text

#: ``PnDTnHnMnS`` (weeks, years and months are no length a talk has, so they are not read).
_DURATION_RE = re.compile(r"P(?:(\d{1,3})D)?(?:T(?:(\d{1,4})H)?(?:(\d{1,6})M)?(?:(\d{1,7})(?:\.\d+)?S)?)?")

#: The roles schema2 gives a participant, in the order a talk lists them; no role means SPEAKER.
ROLES = ("SPEAKER", "MODERATOR", "HOST", "GUEST", "CONTRIBUTOR")
#: How the roles besides SPEAKER are named under a talk's abstract.
ROLE_NAMES = {"MODERATOR": "Moderation", "HOST": "Host", "GUEST": "Guests", "CONTRIBUTOR": "Contributions"}
#: Entries of ``events`` that are no talk: breaks and schedule furniture ("Doors open").
META_TYPES = frozenset({"BREAK", "META"})
#: States of an event that did not take place (or never would); such events are left out.
GONE_STATES = frozenset({"CANCELED", "WITHDRAWN", "DELETED", "REJECTED"})
#: Link types that mean nothing once the conference is over.
STALE_LINK_TYPES = frozenset({"FEEDBACK"})


def _duration(value: Any) -> timedelta | None:
    """An ISO 8601 duration such as ``PT1H30M`` (schema2's, deprecated there in favour of ``end``); None for anything else."""
    match = _DURATION_RE.fullmatch(value.strip()) if isinstance(value, str) and value.strip() not in ("P", "PT") else None
    if match is None or not any(match.groups()):
        return None
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _guid(value: Any) -> str:
    """A guid as a lookup key: lower case, as UUIDs compare; "" when there is none."""
    return _key_text(value).lower()


def _by_key(items: Any, key: str) -> dict[str, Mapping[str, Any]]:
    """The objects of a list by their ``key`` (a guid or slug, lower case), the first of each; others are skipped."""
    found: dict[str, Mapping[str, Any]] = {}
    for item in items if isinstance(items, list) else ():
        if isinstance(item, Mapping) and (text := _guid(item.get(key))):
            found.setdefault(text, item)
    return found
