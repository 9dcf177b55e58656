"""c3voc schedule v2 documents, converted to the data contract's collections.

The format (``validator/json/schema2.json`` in github.com/voc/schedule; the
CCC hub exports it) holds one conference per document, as v1 does, but lists
its talks flat: ``schedule.events``, each with absolute ``start`` and ``end``
timestamps, a reference to one of ``conference.rooms`` (by guid) and of
``conference.tracks`` (by slug), and ``participants`` with a role (SPEAKER,
MODERATOR, HOST, GUEST, CONTRIBUTOR) whose biography and avatar are in
``schedule.persons``. Text may be translated (``{"en": …, "de": …}``).

What becomes what is v1's mapping (``sitegen.sources.frab``), whose parsed
form this reader produces, so ids, slugs, people, topics and media kinds come
from the one place that gives them: the conference is an event, each event a
session (breaks, META entries and cancelled or withdrawn talks are left out),
each participant a person, each track a topic, links and attachments media.
The contract has one way to tie a person to a talk, ``speakers``: every
participant is in it, speakers first, and the others are named by role under
the abstract ("Contributions: …").

Doubtful data is left out or filled in with a warning that names the document
and the object (``schedule.json: events[3] (guid …)``); only a document that
is no schedule at all, or a v1 one, is an error.

- ``conference``: the document's conference, persons and lookups;
- ``events``: its events as talks;
- ``values``: the values v1 has not (ISO durations, guid lookups, roles).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sitegen.sources import Converted
from sitegen.sources.frab import convert_with
from sitegen.sources.frab.files import schedule_files
from sitegen.sources.schedule2.conference import _read_schedule2

__all__ = ["convert", "schedule_files"]


def convert(documents: Sequence[tuple[str, Any]]) -> Converted:
    """The contract's collections from parsed schedule v2 documents, each given with its
    origin (a path or URL, for messages). Raises SourceError only for a document that
    is no schedule, or a v1 one."""
    return convert_with(_read_schedule2, documents)
