"""Small readers of pretalx's values: text, lists, translated fields, the
locale, when the schedule was published, slugs from codes, and the event's
public URL."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sitegen.contract import YEARS, is_web_url, slugify


def _text(value: Any) -> str | None:
    """A non-blank string, stripped; anything else is None."""
    return value.strip() if isinstance(value, str) and value.strip() else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _i18n(value: Any, locale: str | None) -> str | None:
    """pretalx's translatable fields are ``{"en": "…", "de": "…"}`` (or a plain string):
    the event's locale, else the first language that has text."""
    if isinstance(value, Mapping):
        preferred = value.get(locale) if locale else None
        texts = [preferred, *value.values()]
        return next((text.strip() for text in texts if isinstance(text, str) and text.strip()), None)
    return _text(value)


def _locale(event: Mapping[str, Any]) -> str | None:
    locales = event.get("locales")
    first = locales[0] if isinstance(locales, list) and locales else None
    return next((value for value in (event.get("locale"), first) if isinstance(value, str)), None)


def _published(schedules: list[Any]) -> str | None:
    """When the current (latest published) schedule was released; the work in progress has no date,
    and a date outside the contract's ``YEARS`` is none."""
    moments = []
    for schedule in schedules:
        value = schedule.get("published") if isinstance(schedule, Mapping) else None
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None and moment.year in YEARS:
            moments.append(moment)
    return max(moments).isoformat() if moments else None


def _topic_order(topic: Mapping[str, Any]) -> tuple[Any, ...]:
    """Tracks, then tags, each by pretalx's id (numerically), whatever order the talks came in."""
    kind, _, key = topic["id"].partition("-")
    return (kind != "track", not key.isdigit(), int(key) if key.isdigit() else 0, key)


def _slug(code: str, kind: str) -> str:
    """The contract's slug of a pretalx code or slug (the code in lower case, in practice), else ``kind``."""
    return slugify(code) or kind


def _slug_in_url(base_url: str) -> str | None:
    segments = [part for part in urlsplit(base_url).path.split("/") if part]
    return segments[-1] if segments else None


def _public_url(base_url: str, event: Mapping[str, Any]) -> str | None:
    """The event's public pages: ``https://HOST/SLUG/`` for ``https://HOST/api/events/SLUG/``
    (or on the event's custom domain)."""
    parts = urlsplit(base_url)
    prefix, marker, slug = parts.path.rpartition("/api/events/")
    slug = slug.strip("/")
    if not marker or not slug:
        return None
    domain = _text(event.get("custom_domain"))
    if domain and is_web_url(domain):
        return f"{domain.rstrip('/')}/{slug}/"
    return urlunsplit((parts.scheme, parts.netloc, f"{prefix}/{slug}/", "", ""))
