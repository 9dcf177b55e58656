"""The build's memory report: the sum of PSS across its processes (``sitegen.memory``)."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest
from conftest import TODAY

from sitegen.build import build_site
from sitegen.config import load_config
from sitegen.memory import PssSampler

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/smaps_rollup"), reason="PSS is read from Linux's /proc")


def _hold(megabytes: int, ready: multiprocessing.synchronize.Event, done: multiprocessing.synchronize.Event) -> None:
    held = bytearray(os.urandom(1024) * 1024 * megabytes)  # written, so its own pages, not the parent's
    ready.set()
    done.wait(30)
    del held


def test_the_sampler_counts_a_forked_childs_own_memory() -> None:
    """A child (and its child) holding 60 MB each of their own raises the sampled sum by about 120 MB."""
    context = multiprocessing.get_context("fork")
    with PssSampler(interval=0.05) as sampler:
        before = sampler.sample()
        events = [(context.Event(), context.Event()) for _ in range(2)]
        first = context.Process(target=_hold, args=(60, *events[0]))
        first.start()
        events[0][0].wait(30)
        grandchild = context.Process(target=_spawn_and_hold, args=events[1])
        grandchild.start()
        events[1][0].wait(30)
        time.sleep(0.3)
        for _, done in events:
            done.set()
        first.join()
        grandchild.join()
    assert sampler.peak_kb - before >= 100 * 1024
    assert sampler.peak_kb - before < 400 * 1024  # shared pages are not counted once per process


def _spawn_and_hold(ready: multiprocessing.synchronize.Event, done: multiprocessing.synchronize.Event) -> None:
    inner = multiprocessing.get_context("fork").Process(target=_hold, args=(60, ready, done))
    inner.start()
    inner.join()


def test_a_build_reports_the_sum_across_its_processes(minimal_site) -> None:
    report = build_site(load_config(minimal_site), today=TODAY)
    assert report.peak_pss_sum_mb > 0 and report.peak_rss_mb > 0


def test_the_settled_collector_is_put_back_as_it_was_even_after_a_failure():
    """``settled_collector``: inside, ``settle()`` freezes what exists and the thresholds
    are the build's; on leaving (also by an exception) nothing stays frozen and Python's
    thresholds are back; cycles made meanwhile are still collected."""
    import gc

    from sitegen.memory import SETTLED_THRESHOLDS, settled_collector

    before = gc.get_threshold()
    for failing in (False, True):
        try:
            with settled_collector() as settle:
                assert gc.get_threshold() == SETTLED_THRESHOLDS
                settle()
                assert gc.get_freeze_count() > 0
                if failing:
                    raise RuntimeError("a failed build")
        except RuntimeError:
            assert failing
        assert gc.get_freeze_count() == 0 and gc.get_threshold() == before
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1
