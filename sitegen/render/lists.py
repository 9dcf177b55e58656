"""Long lists and related talks.

``Pager`` cuts the lists of topic, person, series, year and place pages into
pages of ``[build] page_size`` items: page 1 stays at the list's own URL, the
others are ``<url>page/<n>/`` (``routes.page_route``).

``RelatedTalks`` finds a session's related talks without comparing all pairs:
its candidates are the sessions on its speakers' and topics' lists, and the
work is bounded for huge lists (see ``RELATED_WINDOW`` and ``RELATED_BUDGET``).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sitegen.model import Archive, Session, session_order
from sitegen.render.routes import page_route

#: Related talks shown on a session page.
RELATED_LIMIT = 5
#: Each speaker's and topic's list gives at most its newest this many candidates:
#: a topic with 20,000 talks costs what one with 100 does.
RELATED_WINDOW = 100
#: Candidates looked at in all, speakers' lists first, then topics' smallest
#: first (a session may have 100 topics).
RELATED_BUDGET = 500
#: Numbered links either side of the current page; the first and last are always shown.
PAGER_SPREAD = 2

T = TypeVar("T")


@dataclass(frozen=True)
class PageLink:
    """One entry of the numbered navigation; ``url(link)`` gives its URL."""

    number: int
    route: str


@dataclass(frozen=True)
class Pager:
    """Where a page stands in its list: page ``number`` of ``count``, the list at ``base``."""

    number: int
    count: int
    base: str

    def link(self, number: int) -> PageLink:
        return PageLink(number, page_route(self.base, number))

    @property
    def prev(self) -> PageLink | None:
        return self.link(self.number - 1) if self.number > 1 else None

    @property
    def next(self) -> PageLink | None:
        return self.link(self.number + 1) if self.number < self.count else None

    @property
    def links(self) -> tuple[PageLink | None, ...]:
        """The numbered links: the first, the last and those near the current
        page; None stands for a gap (shown as an ellipsis)."""
        near = range(max(1, self.number - PAGER_SPREAD), min(self.count, self.number + PAGER_SPREAD) + 1)
        numbers = sorted({1, self.count, *near})
        found: list[PageLink | None] = []
        for before, number in zip([0, *numbers], numbers, strict=False):
            if number - before > 1:
                found.append(None)
            found.append(self.link(number))
        return tuple(found)


def page_count(length: int, page_size: int) -> int:
    """Pages a list of ``length`` items takes; an empty list still has its page 1."""
    return max(1, -(-length // page_size))


def page_of(items: Sequence[T], number: int, page_size: int) -> tuple[T, ...]:
    return tuple(items[(number - 1) * page_size : number * page_size])


class RelatedTalks:
    """The related talks of each session: same speakers first (more shared
    speakers first), then most topics in common, then newest first (the
    archive's chronological order, which ends with the id, so ties are
    broken deterministically); never the session itself.

    The candidates of a session are the newest ``RELATED_WINDOW`` sessions of
    each of its speakers' and topics' lists, at most ``RELATED_BUDGET`` in all;
    a talk counts the speakers and topics in whose windows it is. Lists no
    longer than the window give the exact answer.
    """

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self._rank: Mapping[str, int] | None = None

    def prepare(self) -> None:
        """Works out the chronological rank of every session; call it before
        forking, so workers share it."""
        if self._rank is None:
            ordered = sorted(self.archive.sessions.values(), key=lambda s: (s.event.start_date, *session_order(s)))
            self._rank = {session.id: rank for rank, session in enumerate(ordered)}

    def of(self, session: Session) -> tuple[Session, ...]:
        self.prepare()
        rank = self._rank or {}
        archive = self.archive
        speakers = [archive.sessions_by_person.get(person.id, ()) for person in session.speakers]
        topics = sorted((archive.sessions_by_topic.get(topic.id, ()) for topic in session.topics), key=len)
        by_speakers = _windows(speakers, RELATED_BUDGET)
        spent = sum(len(window) for window in by_speakers)
        by_topics = _windows(topics, RELATED_BUDGET - spent)
        scores: dict[str, int] = {}
        found: dict[str, Session] = {}
        for weight, windows in ((1 << 48, by_speakers), (1 << 32, by_topics)):
            for window in windows:
                for other in window:
                    scores[other.id] = scores.get(other.id, 0) + weight
                    found[other.id] = other
        scores.pop(session.id, None)
        best = heapq.nlargest(RELATED_LIMIT, scores, key=lambda key: scores[key] + rank.get(key, 0))
        return tuple(found[key] for key in best)


def _windows(lists: Sequence[Sequence[Any]], budget: int) -> list[Sequence[Any]]:
    """The newest part of each list (lists are in chronological order), within the budget."""
    windows = []
    for items in lists:
        take = min(len(items), RELATED_WINDOW, budget)
        if take <= 0:
            break
        windows.append(items[len(items) - take :])
        budget -= take
    return windows
