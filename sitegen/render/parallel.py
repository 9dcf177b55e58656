"""Run a function over shares of a list in forked processes, on every core.

Forking (not spawning) is the point: each child starts with the parent's
archive, compiled templates and everything else already in memory, so
nothing is pickled on the way in; only each share's small result comes back
through a pipe. The parent works on the first share itself. Output does not
depend on how the work is split.
"""

from __future__ import annotations

import gc
import os
import pickle
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sitegen.errors import Problem, SitegenError

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
    if len(shares) <= 1 or not hasattr(os, "fork"):
        return [work(share) for share in shares]
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything alive now (the archive, the templates) stays alive until the
    # workers end: move it out of the collector's sight, so no collection in a
    # child walks, and so copies, the memory it shares with the parent.
    gc.freeze()
    children: list[tuple[int, int]] = []
    try:
        for share in shares[1:]:
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: do the share, send the outcome, leave without cleanup
                os.close(read_end)
                _child(work, share, write_end)
            os.close(write_end)
            children.append((pid, read_end))
        first = work(shares[0])
    except BaseException:
        for pid, read_end in children:
            _reap(pid, read_end)
        gc.unfreeze()
        raise
    outcomes = [_collect(pid, read_end) for pid, read_end in children]
    gc.unfreeze()
    results = [first]
    for outcome in outcomes:
        results.append(_unwrap(outcome))
    return results


def _child(work: Callable[[list[T]], R], share: list[T], write_end: int) -> None:
    try:
        try:
            outcome: tuple[Any, ...] = ("ok", work(share))
        except SitegenError as exc:
            outcome = ("error", type(exc), exc.summary, exc.problems)
        except BaseException:  # noqa: BLE001 - reported to the parent, which raises it
            outcome = ("crash", traceback.format_exc())
        data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
    finally:
        os._exit(0)


def _collect(pid: int, read_end: int) -> tuple[Any, ...]:
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        code = os.waitstatus_to_exitcode(status)
        return ("crash", f"a render worker ended without a result (exit status {code}); it may have run out of memory")
    outcome: tuple[Any, ...] = pickle.loads(data)
    return outcome


def _reap(pid: int, read_end: int) -> None:
    """Kill a worker whose work is no longer wanted, and wait for it."""
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    os.close(read_end)
    os.waitpid(pid, 0)


def _unwrap(outcome: tuple[Any, ...]) -> Any:
    kind = outcome[0]
    if kind == "ok":
        return outcome[1]
    if kind == "error":
        _, error_type, summary, problems = outcome
        raise error_type(summary, problems)
    raise SitegenError("A render worker failed; this is a bug in sitegen:", [Problem("worker", outcome[1].strip(), "please report it")])
