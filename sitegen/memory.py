"""A build's memory across its processes: the sum of their proportional set
sizes (PSS), sampled, beside the largest single process's peak.

A build forks render workers and the index job (which forks a pool of its
own). They share the parent's pages until they write to them, so adding
their resident sizes counts shared pages again and again; PSS charges each
shared page to its sharers in equal parts, so the sum across processes is
what the machine actually holds. Linux keeps no peak of it, so a thread
samples ``/proc/<pid>/smaps_rollup`` for the build and every descendant
(found through ``/proc/<pid>/task/<tid>/children``) a few times a second.
Elsewhere (no ``/proc``) the sum stays 0, which the report shows as unknown.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType

#: Seconds between samples: a build's peaks last seconds.
INTERVAL = 0.2
#: Descendants followed at most (a fork pool is a handful).
MAX_PROCESSES = 256
#: The collector's thresholds during a build (Python's are 700, 10, 10): a build makes
#: millions of objects that live as long as it does, and few cycles.
SETTLED_THRESHOLDS = (50_000, 20, 100)


class PssSampler:
    """``with PssSampler() as sampler: …``, then ``sampler.peak_mb``."""

    def __init__(self, pid: int | None = None, interval: float = INTERVAL) -> None:
        self.pid = pid if pid is not None else os.getpid()
        self.interval = interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sitegen-pss", daemon=True)

    @property
    def peak_mb(self) -> float:
        return round(self.peak_kb / 1024, 1)

    def __enter__(self) -> PssSampler:
        if os.path.exists(f"/proc/{self.pid}/smaps_rollup"):
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.sample()  # the end state too: a short build may finish between two samples

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> int:
        """The PSS of the build's processes now, in KiB (and the peak updated)."""
        total = sum(_pss_kb(pid) for pid in _family(self.pid))
        self.peak_kb = max(self.peak_kb, total)
        return total


def _family(pid: int) -> list[int]:
    """The process and its descendants, as far as ``/proc`` shows them."""
    found, queue = [pid], [pid]
    while queue and len(found) < MAX_PROCESSES:
        parent = queue.pop()
        try:
            threads = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for thread in threads:
            try:
                with open(f"/proc/{parent}/task/{thread}/children", encoding="ascii") as listing:
                    children = [int(child) for child in listing.read().split()]
            except (OSError, ValueError):
                continue
            found += children
            queue += children
    return found[:MAX_PROCESSES]


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return 0  # gone between listing and reading: it holds nothing now
    return 0


@contextmanager
def settled_collector() -> Iterator[Callable[[], None]]:
    """``with settled_collector() as settle: …``: ``settle()`` takes every object made so far
    out of the cyclic collector's reach (``gc.freeze``), for the rest of the block.

    A build holds millions of long-lived objects (the raw data, the model, the last build's
    record) and makes millions more; each full collection walked them all again (1.2 s of a
    pyvideo rebuild, 0.55 s of a 10,000-session one), and in a forked worker the walk also
    copies the pages it touches. Objects freed by their reference counts are freed as ever;
    on leaving, the collector sees everything again, as before."""
    thresholds = gc.get_threshold()
    gc.set_threshold(*SETTLED_THRESHOLDS)
    try:
        yield gc.freeze
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
