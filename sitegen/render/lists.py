"""Long lists: ``Pager`` cuts the lists of topic, person, series, year and
place pages into pages of ``[build] page_size`` items: page 1 stays at the
list's own URL, the others are ``<url>page/<n>/`` (``routes.page_route``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from sitegen.render.routes import page_route

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
