"""The data contract's rules, in one place for the model stage (which checks
the data) and every converter of another format (``sitegen.sources``, which
must produce data that passes). Below every stage, so none copies them:

- ``limits``: lengths of ids, slugs and text, list sizes, years, dates, timezones;
- ``slugs``: the one slug of a name (one transliteration, ``anyascii``);
- ``media``: the media kinds and the one guess of a link's kind;
- ``urls``: the one rule for web URLs.

Import the names from here; the modules are how they are kept apart."""

from __future__ import annotations

from sitegen.contract.limits import (
    DATE_RE,
    MAX_ID_LENGTH,
    MAX_LINE_CHARS,
    MAX_LIST_ITEMS,
    MAX_SLUG_LENGTH,
    MAX_TEXT_CHARS,
    MAX_URL_CHARS,
    NOT_PLACE_ZONES,
    SLUG_RE,
    YEARS,
    place_timezones,
)
from sitegen.contract.media import MEDIA_KINDS, media_kind
from sitegen.contract.slugs import SLUG_BASE_LENGTH, ascii_spelling, is_latin_letter, slugify
from sitegen.contract.urls import NOT_WEB_URL, is_web_url, url_problem, web_url

__all__ = [
    "DATE_RE",
    "MAX_ID_LENGTH",
    "MAX_LINE_CHARS",
    "MAX_LIST_ITEMS",
    "MAX_SLUG_LENGTH",
    "MAX_TEXT_CHARS",
    "MAX_URL_CHARS",
    "MEDIA_KINDS",
    "NOT_PLACE_ZONES",
    "NOT_WEB_URL",
    "SLUG_BASE_LENGTH",
    "SLUG_RE",
    "YEARS",
    "ascii_spelling",
    "is_latin_letter",
    "is_web_url",
    "media_kind",
    "place_timezones",
    "slugify",
    "url_problem",
    "web_url",
]
