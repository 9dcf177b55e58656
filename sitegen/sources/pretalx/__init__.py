"""pretalx: one event read through pretalx's REST API, as the contract's collections.

Written against API version ``v1`` (pretalx 2025.1 and later; checked with
2025.2.2), which is asked for by name with the ``Pretalx-Version`` header, so a
newer server keeps answering in the shapes this mapping knows. Three reads:

- ``B`` (the event): name, dates, timezone, locale;
- ``B/schedules/``: when the current schedule was published, which dates every
  object (``updated_at``), so a rebuild against an unchanged schedule changes
  nothing;
- ``B/submissions/?state=confirmed&expand=…``: the talks, with their speakers,
  slots and rooms, track, tags and resources expanded in place, page by page
  along ``next``. Anonymously pretalx lists only the talks of the published
  schedule; with a token it lists every submission, hence ``state=confirmed``.
  Speakers come from these talks rather than ``B/speakers/``, which with a
  token would also list the speakers of rejected proposals.

Older servers ignore the version header and answer in the legacy shapes
(``slot`` instead of ``slots``, ``avatar`` instead of ``avatar_url``, the track
as a name beside ``track_id``); those are read too.

Ids and slugs come from pretalx's codes, which never change, so pages keep
their URLs when a title is edited: a session is its submission code (a talk
given more than once adds ``-2``, ``-3`` in time order), a person the speaker
code, a topic ``track-<id>`` or ``tag-<id>``. Private tags (organisers' own
labels, which pretalx also shows anonymously) are left out.

Missing data degrades with a warning naming the object (``submissions[ABCDEF]:
no title``); checking what is left is the model stage's job.

The package: ``api`` talks to pretalx (the headers, pages along ``next``, kept
on the event's origin); ``mapping`` turns its answers into the contract's
collections, with the small readers of pretalx's values in ``values``. Slugs,
media kinds and the URL rule are the contract's (``sitegen.contract``), shared
with frab.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sitegen.errors import SourceError
from sitegen.sources import Converted, GetJson
from sitegen.sources.pretalx.api import _URL_FIX, API_VERSION, EXPAND, PAGE_SIZE, _Api
from sitegen.sources.pretalx.mapping import _Converter

__all__ = ["API_VERSION", "EXPAND", "PAGE_SIZE", "convert", "read"]


def read(base_url: str, get: GetJson, token: str | None) -> Converted:
    """Read the event at ``base_url`` (``https://HOST/api/events/SLUG/``) and convert it.

    ``token`` is optional for a published schedule; when given it is sent as
    ``Authorization: Token …``, to the event's own origin only.
    """
    api = _Api(base_url, get, token)
    event = api.one(api.base)
    if not isinstance(event, Mapping):
        raise SourceError.at(api.base, "is not a pretalx event (no JSON object)", _URL_FIX)
    schedules = api.listing("schedules/")
    submissions = api.listing("submissions/", {"state": "confirmed", "expand": EXPAND, "page_size": str(PAGE_SIZE)})
    converted = convert(event, submissions, schedules, base_url=api.base)
    return Converted(converted.collections, (*api.warnings, *converted.warnings))


def convert(event: Mapping[str, Any], submissions: list[Any], schedules: list[Any], *, base_url: str) -> Converted:
    """The contract's collections from pretalx's answers (``base_url`` resolves relative links)."""
    return _Converter(event, schedules, base_url).run(submissions)
