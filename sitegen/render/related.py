"""Related talks: up to RELATED_LIMIT per session page, found without comparing all pairs.

Its candidates are the sessions on its speakers' and topics' lists, and the
work is bounded for huge lists (``RELATED_WINDOW`` and ``RELATED_BUDGET``).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain

from sitegen.model import Archive, Session, session_order

#: Related talks shown on a session page.
RELATED_LIMIT = 5
#: Each speaker's and topic's list gives at most its newest this many candidates:
#: a topic with 20,000 talks costs what one with 100 does.
RELATED_WINDOW = 100
#: Candidates looked at in all, speakers' lists first, then topics' smallest
#: first (a session may have 100 topics).
RELATED_BUDGET = 500


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
        """Ranks every session in chronological order; call it before forking, so workers
        share the work. Each speaker's and topic's window and members are worked out when a
        session first asks for them (``_Ranks``): a rebuild of a few pages needs a few lists."""
        if self._ready is None:
            archive = self.archive
            ordered = tuple(sorted(archive.sessions.values(), key=lambda s: (s.event.start_date, *session_order(s))))
            rank = {session.id: number for number, session in enumerate(ordered)}
            self._ready = _Ranks(ordered, rank, _Lists(archive.sessions_by_person, rank), _Lists(archive.sessions_by_topic, rank))

    def of(self, session: Session) -> tuple[Session, ...]:
        self.prepare()
        ready = self._ready
        assert ready is not None
        by_speakers = _within([ready.people.window(person.id) for person in session.speakers], RELATED_BUDGET)
        by_topics = [ready.topics.window(topic.id) for topic in session.topics]
        by_topics = _within(sorted(by_topics, key=len), RELATED_BUDGET - sum(map(len, by_speakers)))
        candidates = set(chain.from_iterable(by_speakers))
        candidates.update(chain.from_iterable(by_topics))
        candidates.discard(ready.rank[session.id])
        # Shared speakers and topics of each candidate (exact: from the whole lists), counted by set operations.
        people, topics = Counter[int](), Counter[int]()
        for person in {p.id for p in session.speakers}:
            people.update(candidates.intersection(ready.people.members(person)))
        for topic in {t.id for t in session.topics}:
            topics.update(candidates.intersection(ready.topics.members(topic)))
        # One int per candidate: shared speakers, shared topics, then its rank (newest is largest).
        shared_people, shared_topics = people.get, topics.get
        scores = [(shared_people(n, 0) << 48) | (shared_topics(n, 0) << 32) | n for n in candidates]
        return tuple(ready.ordered[score & _RANK] for score in heapq.nlargest(RELATED_LIMIT, scores))


_RANK = (1 << 32) - 1


@dataclass(frozen=True)
class _Ranks:
    ordered: tuple[Session, ...]
    rank: Mapping[str, int]
    people: _Lists
    topics: _Lists


class _Lists:
    """Speakers' or topics' lists of sessions as ranks: each list's window (its newest
    ``RELATED_WINDOW``) and its members (all of them), worked out once, when first asked."""

    def __init__(self, lists: Mapping[str, tuple[Session, ...]], rank: Mapping[str, int]) -> None:
        self.lists, self.rank = lists, rank
        self._windows: dict[str, tuple[int, ...]] = {}
        self._members: dict[str, frozenset[int]] = {}

    def window(self, key: str) -> tuple[int, ...]:
        found = self._windows.get(key)
        if found is None:
            rank = self.rank
            found = self._windows[key] = tuple(rank[s.id] for s in self.lists.get(key, ())[-RELATED_WINDOW:])
        return found

    def members(self, key: str) -> frozenset[int]:
        found = self._members.get(key)
        if found is None:
            rank = self.rank
            found = self._members[key] = frozenset(rank[s.id] for s in self.lists.get(key, ()))
        return found


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
