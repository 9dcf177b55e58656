"""frab / c3voc ``schedule.json`` files, converted to the data contract's collections.

The format (https://c3voc.de/wiki/schedule; its schema is
``validator/json/schema.json`` in github.com/voc/schedule) holds one
conference per file: ``schedule.conference`` with ``days[].rooms``, a mapping
of room name to the talks held there that day. frab, pretalx and the c3voc
tools all export it. What becomes what:

- the conference becomes one contract ``event``, named after its acronym;
- each talk becomes a ``session``, its persons ``people`` (frab's
  ``{id, public_name}`` or pretalx's ``{code, name, biography}``), its track a
  ``topic``, and its links and attachments ``media``;
- no ``series`` and no ``venues``: the format has no data for them.

A talk's moment is its ``date`` (a timestamp with an offset), kept as the
absolute time it is. Only without one is it the day's date plus ``start``
("HH:MM"), where a time before the day's ``day_start`` is after midnight, on
the next calendar day: schedules list a night's talks under the day they
began.

Doubtful data is left out or filled in with a warning that names it
(``schedule.json: days[1].rooms["Saal 1"][3] (guid …)``); only a document
that is no schedule at all is an error. Ids and slugs come from the data
alone, never from chance, so a rebuild gives the same pages.

The package, one module per concern:

- ``files``: finding the files ``frab:FILE,FOLDER`` names;
- ``parsed``: a schedule as read (conference, days, talks, persons), before ids;
- ``schedule``: reading one document's conference, timezone, days and dates;
- ``talks``: reading its talks: times, speakers, links and attachments;
- ``objects``: the contract's collections from the schedules read: ids, slugs,
  people and topics shared across schedules;
- ``markdown``: HTML in descriptions and bios, as the Markdown it means;
- ``ids``: ids within the contract's length, and unique slugs;
- ``values``: single values of the format (lines, keys, dates, times, URLs).

Slugs, media kinds and the URL rule are the contract's (``sitegen.contract``),
shared with every converter and the model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sitegen.errors import Problem
from sitegen.sources import Converted
from sitegen.sources.frab.files import schedule_files
from sitegen.sources.frab.objects import _Collections, _event_ids
from sitegen.sources.frab.parsed import Warn, _Schedule
from sitegen.sources.frab.schedule import _read_schedule

__all__ = ["convert", "convert_with", "schedule_files"]


def convert(documents: Sequence[tuple[str, Any]]) -> Converted:
    """The contract's collections from parsed schedule documents, each given with
    its origin (a path or URL, for messages). Raises SourceError only for a
    document that is not a schedule at all."""
    return convert_with(_read_schedule, documents)


#: Reads one document (origin, parsed JSON, warn) into frab's parsed form, or None to skip it.
ReadOne = Callable[[str, Any, Warn], "_Schedule | None"]


def convert_with(read_one: ReadOne, documents: Sequence[tuple[str, Any]]) -> Converted:
    """The contract's collections from documents ``read_one`` puts into frab's parsed form
    (v1's own reader, or schedule v2's): ids, people, topics and warnings made once."""
    warnings: list[Problem] = []

    def warn(where: str, what: str, fix: str) -> None:
        warnings.append(Problem(where, what, fix))

    schedules = [schedule for origin, document in documents if (schedule := read_one(origin, document, warn))]
    collections = _Collections()
    for event_id, schedule in zip(_event_ids(schedules, warn), schedules, strict=True):
        collections.add(event_id, schedule, warn)
    return Converted(collections.finish(), tuple(warnings))
