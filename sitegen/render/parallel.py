"""Run a function over shares of a list in forked processes, on every core
(``sitegen.forked``: each child starts with the archive and the compiled
templates in memory; only each share's small result comes back). The parent
works on the first share itself. Output does not depend on how the work is split.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

from sitegen.forked import Forked, can_fork

T = TypeVar("T")
R = TypeVar("R")


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def split(items: Sequence[T], shares: int) -> list[list[T]]:
    """Deal the items out like cards, so each share gets a mix of cheap and
    costly ones (the list is in page-type order)."""
    return [list(items[start::shares]) for start in range(shares) if start < len(items)]


def fork_map(work: Callable[[list[T]], R], shares: list[list[T]]) -> list[R]:
    """``[work(share) for share in shares]``, the shares after the first in
    child processes. A SitegenError in a child is raised again here, as is."""
    if len(shares) <= 1 or not can_fork():
        return [work(share) for share in shares]
    # Everything alive now (the archive, the templates) stays alive until the
    # workers end: move it out of the collector's sight, so no collection in a
    # child walks, and so copies, the memory it shares with the parent.
    gc.freeze()
    children: list[Forked[R]] = []
    try:
        for share in shares[1:]:
            children.append(Forked(functools.partial(work, share), "render worker", name="sitegen-render"))
        first = work(shares[0])
        return [first, *(child.result() for child in children)]
    finally:
        for child in children:
            child.cancel()  # a no-op for those collected; the others are no longer wanted
        gc.unfreeze()
