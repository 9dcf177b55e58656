"""The model stage: raw API objects in, a validated archive of frozen objects out.

Everything the contract promises is checked here, once, so later stages can
trust the data: types, slugs that are safe in a path, unique ids and slugs,
references that resolve, dates, timezones and time order. Every problem is
collected and reported together, each with the object's path in the source
(``sessions[17].speakers[0]``) and its id.

Text is untrusted. It is kept as text (escaping is the renderer's job), but
control characters and lone surrogates, which would break XML and UTF-8, are
removed here. Unsafe decorations (a ``javascript:`` link, an unknown media
kind) are dropped or demoted with a warning rather than failing the build.

One module per concern; what other stages use is importable from here (the
contract's own formats and limits are ``sitegen.contract``'s):

- ``types``: the frozen object types, ``Archive``, ``ModelResult``, ``object_key`` (``COLLECTION_OF``)
- ``places``, ``order``: country names and city slugs (the contract's one slug of a name,
  as the converters make theirs); display orders (shared with the renderer)
- ``build``: ``build_archive``, reading every collection and linking the result
- ``digest``: ``source_digest`` of a raw object, ``zone_rules_digest`` of the zones' rules
- ``context``: the reading context (problems, lookups, parse-once caches) and ``index``
- ``fields``, ``reader``: the checking readers, field by field and type by type
- ``fast``: the fast readers, which mirror the checking readers for valid objects
- ``known``, ``trusted``: the raw objects the last build found valid, and the readers that build
  them without checks (a rebuild checks only what changed)
- ``formats``, ``text``: the contract's date and timestamp formats, and the rule for text
  (the URL rule, shared with the converters, is ``sitegen.contract.url_problem``)
- ``archive``: whole-archive checks and indexes (unique slugs, linking, co-speakers)
"""

from __future__ import annotations

from sitegen.model.archive import co_speakers
from sitegen.model.build import build_archive
from sitegen.model.digest import source_digest, zone_rules_digest
from sitegen.model.known import KnownObjects
from sitegen.model.order import event_order, session_order
from sitegen.model.places import city_slug, country_name
from sitegen.model.text import clean_text
from sitegen.model.types import Archive, Event, Link, Media, ModelResult, Person, Series, Session, Topic, Venue, object_key

__all__ = [
    "Archive",
    "Event",
    "KnownObjects",
    "Link",
    "Media",
    "ModelResult",
    "Person",
    "Series",
    "Session",
    "Topic",
    "Venue",
    "build_archive",
    "city_slug",
    "clean_text",
    "co_speakers",
    "country_name",
    "event_order",
    "object_key",
    "session_order",
    "source_digest",
    "zone_rules_digest",
]
