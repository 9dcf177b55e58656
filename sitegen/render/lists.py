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
from itertools import chain
from typing import TypeVar

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
    each candidate's score counts all the speakers and topics it shares with the
    session, however it was found. Lists no longer than the window give the
    exact answer.
    """

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self._ready: _Ranks | None = None

    def prepare(self) -> None:
        """Ranks every session in chronological order, and keeps the ranks of each
        list's window; call it before forking, so workers share the work."""
        if self._ready is None:
            archive = self.archive
            ordered = tuple(sorted(archive.sessions.values(), key=lambda s: (s.event.start_date, *session_order(s))))
            rank = {session.id: number for number, session in enumerate(ordered)}

            def windows(lists: Mapping[str, tuple[Session, ...]]) -> dict[str, tuple[int, ...]]:
                return {key: tuple(rank[s.id] for s in items[-RELATED_WINDOW:]) for key, items in lists.items()}

            people = tuple(tuple(p.id for p in s.speakers) for s in ordered)
            topics = tuple(tuple(t.id for t in s.topics) for s in ordered)
            by_person, by_topic = windows(archive.sessions_by_person), windows(archive.sessions_by_topic)
            self._ready = _Ranks(ordered, rank, by_person, by_topic, people, topics)

    def of(self, session: Session) -> tuple[Session, ...]:
        self.prepare()
        ready = self._ready
        assert ready is not None
        by_speakers = _within([ready.by_person.get(person.id, ()) for person in session.speakers], RELATED_BUDGET)
        by_topics = [ready.by_topic.get(topic.id, ()) for topic in session.topics]
        by_topics = _within(sorted(by_topics, key=len), RELATED_BUDGET - sum(map(len, by_speakers)))
        candidates = set(chain.from_iterable(by_speakers))
        candidates.update(chain.from_iterable(by_topics))
        candidates.discard(ready.rank[session.id])
        # One int per candidate: shared speakers, shared topics (both exact), then its rank (newest is largest).
        own_people, own_topics = frozenset(p.id for p in session.speakers), frozenset(t.id for t in session.topics)
        people, topics = ready.people, ready.topics
        scores = [(len(own_people.intersection(people[n])) << 48) | (len(own_topics.intersection(topics[n])) << 32) | n for n in candidates]
        return tuple(ready.ordered[score & _RANK] for score in heapq.nlargest(RELATED_LIMIT, scores))


_RANK = (1 << 32) - 1


@dataclass(frozen=True)
class _Ranks:
    ordered: tuple[Session, ...]
    rank: Mapping[str, int]
    by_person: Mapping[str, tuple[int, ...]]
    by_topic: Mapping[str, tuple[int, ...]]
    #: The speakers' and topics' ids of each session, by rank.
    people: tuple[tuple[str, ...], ...]
    topics: tuple[tuple[str, ...], ...]


def _within(windows: Sequence[tuple[int, ...]], budget: int) -> list[tuple[int, ...]]:
    """The newest part of each window (they are in chronological order), within the budget."""
    kept = []
    for window in windows:
        take = min(len(window), budget)
        if take <= 0:
            break
        kept.append(window[len(window) - take :])
        budget -= take
    return kept
