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
        """Ranks every session in chronological order, and keeps the ranks of each
        list's window; call it before forking, so workers share the work."""
        if self._ready is None:
            archive = self.archive
            ordered = tuple(sorted(archive.sessions.values(), key=lambda s: (s.event.start_date, *session_order(s))))
            rank = {session.id: number for number, session in enumerate(ordered)}

            def windows(lists: Mapping[str, tuple[Session, ...]]) -> dict[str, tuple[int, ...]]:
                return {key: tuple(rank[s.id] for s in items[-RELATED_WINDOW:]) for key, items in lists.items()}

            def members(lists: Mapping[str, tuple[Session, ...]]) -> dict[str, frozenset[int]]:
                return {key: frozenset(rank[s.id] for s in items) for key, items in lists.items()}

            people, topics = archive.sessions_by_person, archive.sessions_by_topic
            self._ready = _Ranks(ordered, rank, windows(people), windows(topics), members(people), members(topics))

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
        # Shared speakers and topics of each candidate (exact: from the whole lists), counted by set operations.
        people, topics = Counter[int](), Counter[int]()
        for person in {p.id for p in session.speakers}:
            people.update(candidates.intersection(ready.person_members.get(person, ())))
        for topic in {t.id for t in session.topics}:
            topics.update(candidates.intersection(ready.topic_members.get(topic, ())))
        # One int per candidate: shared speakers, shared topics, then its rank (newest is largest).
        shared_people, shared_topics = people.get, topics.get
        scores = [(shared_people(n, 0) << 48) | (shared_topics(n, 0) << 32) | n for n in candidates]
        return tuple(ready.ordered[score & _RANK] for score in heapq.nlargest(RELATED_LIMIT, scores))


_RANK = (1 << 32) - 1


@dataclass(frozen=True)
class _Ranks:
    ordered: tuple[Session, ...]
    rank: Mapping[str, int]
    by_person: Mapping[str, tuple[int, ...]]
    by_topic: Mapping[str, tuple[int, ...]]
    #: The ranks of every session of each speaker and topic.
    person_members: Mapping[str, frozenset[int]]
    topic_members: Mapping[str, frozenset[int]]


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
