"""Building the archive: every collection read and checked, problems raised
together in source order, the objects linked into an ``Archive`` (with the
garbage collector paused meanwhile)."""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sitegen.contract import place_timezones
from sitegen.errors import DataError, Problem
from sitegen.model.archive import _check_unique_slugs, _link
from sitegen.model.context import _Context
from sitegen.model.fast import _fast_event, _fast_person, _fast_session
from sitegen.model.known import KnownObjects
from sitegen.model.reader import _read_event, _read_person, _read_series, _read_session, _read_topic, _read_venue
from sitegen.model.trusted import TRUSTED
from sitegen.model.types import ModelResult


def build_archive(
    collections: Mapping[str, Sequence[Mapping[str, Any]]],
    known: KnownObjects | None = None,
    earlier: Mapping[str, Mapping[str, Any]] | None = None,
) -> ModelResult:
    """Validate raw collections and link them into an ``Archive``.

    Raises ``DataError`` listing every problem found; returns warnings for
    anything dropped or demoted. ``known``: the raw objects the last build found
    valid, read without checks (``model.known``); what this build finds is kept
    there for the next once the archive is built. ``earlier``: an earlier build's
    ``ModelResult.valid`` (``sitegen serve`` keeps it in memory), whose objects known
    valid are taken as they are when every object they link to is this build's too.
    """
    with _collector_paused():
        result = _build_archive(collections, known, earlier)
    if known is not None:
        known.save()
    return result


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector.

    This stage allocates a dozen objects per session and frees almost none, so
    the collector keeps running, and each full pass rescans all the raw data
    too: a quarter of the stage's time at 100,000 sessions. The objects made
    here hold no reference cycles; anything else waits for the next pass.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _build_archive(
    collections: Mapping[str, Sequence[Mapping[str, Any]]], known: KnownObjects | None, earlier: Mapping[str, Mapping[str, Any]] | None
) -> ModelResult:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    ctx = _Context(problems, warnings, place_timezones(), known, earlier)
    series = ctx.index("series", collections.get("series", ()), _read_series, None, TRUSTED["series"])
    venues = ctx.index("venues", collections.get("venues", ()), _read_venue, None, TRUSTED["venues"])
    topics = ctx.index("topics", collections.get("topics", ()), _read_topic, None, TRUSTED["topics"])
    people = ctx.index("people", collections.get("people", ()), _read_person, _fast_person, TRUSTED["people"])
    ctx.lookups = {"series": series, "venues": venues, "topics": topics, "people": people}
    events = ctx.index("events", collections.get("events", ()), _read_event, _fast_event, TRUSTED["events"])
    ctx.lookups["events"] = events
    sessions = ctx.index("sessions", collections.get("sessions", ()), _read_session, _fast_session, TRUSTED["sessions"])
    _check_unique_slugs(ctx)
    if problems:
        raise DataError(f"The event data has {len(problems)} problem(s):", sorted(problems, key=_problem_order))
    archive = _link(series, venues, topics, people, events, sessions)
    return ModelResult(archive, tuple(warnings), dict(sorted(ctx.sources.items())), dict(ctx.valid))


def _problem_order(problem: Problem) -> tuple[Any, ...]:
    # "sessions[17]" must sort before "sessions[100]".
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", problem.where))
