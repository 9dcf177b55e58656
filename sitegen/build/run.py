"""A build's bookkeeping: the report it returns (and writes beside the site), the
injected clocks, and ``_Run``, what its stages share (the config, the reporter, the
report being filled in, and whether to give up: ``Superseded``)."""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sitegen import __version__
from sitegen.config import Config
from sitegen.content import Texts
from sitegen.errors import DataError, Problem
from sitegen.memory import PssSampler
from sitegen.progress import Reporter
from sitegen.render.record import Record
from sitegen.write import Committed


@dataclass
class BuildReport:
    source: str
    today: str
    built_at: str
    pages: int = 0
    assets: int = 0
    files_written: int = 0
    files_unchanged: int = 0
    files_deleted: int = 0
    #: Pages and calendars rendered by this build; the rest were unchanged since the last.
    files_rendered: int = 0
    #: Records in the search index, and whether this build wrote it (False: the last index was kept).
    search_records: int = 0
    #: Of those, the records this build made (the others' fingerprints were kept from the last build).
    search_made: int = 0
    search_indexed: bool = False
    #: Whether the last index was kept without a look at the records (``index_later``): a later build updates it.
    search_left: bool = False
    #: The index job's own wall seconds (it overlaps rendering; 0 when the last index was kept).
    search_seconds: float = 0.0
    #: The index job's peak resident size, MB (it counts the pages it shares with the build).
    search_peak_rss_mb: float = 0.0
    #: The largest single process's peak resident size, and the peak of the sum of every
    #: build process's PSS (sampled, ``memory.PssSampler``; 0: unknown), in MB.
    peak_rss_mb: float = 0.0
    peak_pss_sum_mb: float = 0.0
    api_requests: int = 0
    api_not_modified: int = 0
    api_retries: int = 0
    api_bytes: int = 0
    warnings: list[str] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)
    written: bool = False
    sitegen_version: str = __version__

    @property
    def total_seconds(self) -> float:
        return sum(self.stages.values())

    def to_json(self) -> bytes:
        data = asdict(self) | {"total_seconds": round(self.total_seconds, 4)}
        return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


class Superseded(Exception):
    """A build gave up before writing because ``stop_if`` said so (``sitegen serve``: an edit
    came during the search index's catch-up build). ``build/`` is as the last build left it."""


@dataclass(frozen=True)
class Clocks:
    """Injected time: a timer for stage timings, a monotonic clock and sleep for
    the fetch's retries and budget, and the wall clock for the report."""

    timer: Callable[[], float] = time.perf_counter
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


@dataclass
class Warm:
    """What a long-lived process (``sitegen serve``) keeps in memory from one build for
    the next, so a rebuild does not read back or render again what the last one made:
    the objects the model found valid (``ModelResult.valid``, taken as they are where
    the raw object is the same), the Markdown it rendered (``content.Texts``, reused
    where a text is the same), the state it committed (taken instead of reading
    ``build/.sitegen/`` while the state check there is still the one it wrote), and
    what the source's format keeps between reads (pyvideo/data: its talks). Not
    shared between threads: one build at a time uses it."""

    valid: Mapping[str, Mapping[str, Any]] | None = None
    texts: Texts | None = None
    committed: Committed | None = None
    #: What the source's format keeps between reads (``fetch.Reading.memory``).
    fetched: dict[str, Any] = field(default_factory=dict)
    #: The render record committed last, as its plain data (the very object the state
    #: holds) and as the record it was made from, which the next render takes as it is.
    record: tuple[Any, Record] | None = None


@dataclass
class _Run:
    """One build's bookkeeping, shared by its stages: the config, where progress
    and warnings go, the clocks, and the report being filled in."""

    config: Config
    reporter: Reporter
    clocks: Clocks
    report: BuildReport
    memory: PssSampler
    #: Takes what the build has made so far out of the cyclic collector's reach (``memory.settled_collector``).
    settle: Callable[[], None] = lambda: None
    #: Whether to give up before writing (``build_site``'s ``stop_if``); None: never.
    stop_if: Callable[[], bool] | None = None
    #: What this process kept from its last build (``build_site``'s ``warm``); None: nothing.
    warm: Warm | None = None
    #: What seals the files the build keeps in the cache folder (``kept.cache_key``).
    key: bytes = b""

    def carry_on(self) -> None:
        """Raise ``Superseded`` if the build is to give up: nothing is written yet."""
        if self.stop_if is not None and self.stop_if():
            raise Superseded("a newer request made this build moot; nothing was written")

    @contextmanager
    def stage(self, name: str) -> Iterator[dict[str, str]]:
        """Time a named stage and tell the reporter; the stage sets ``["detail"]``."""
        self.reporter.stage_started(name)
        started = self.clocks.timer()
        outcome = {"detail": ""}
        yield outcome
        self.report.stages[name] = round(self.clocks.timer() - started, 4)
        self.reporter.stage_finished(name, self.report.stages[name], outcome["detail"])

    def warn(self, warnings: tuple[Problem, ...]) -> None:
        """Report a stage's warnings; with ``[build] strict``, fail on them instead."""
        if warnings and self.config.build.strict:
            raise DataError(f"{len(warnings)} warning(s), and [build] strict is on:", warnings)
        for warning in warnings:
            self.notice(warning)

    def notice(self, warning: Problem) -> None:
        """Report a warning about the build itself (not the data): ``strict`` does not fail on it."""
        self.report.warnings.append(str(warning))
        self.reporter.warning(warning)


def peak_rss_mb() -> float:
    """The largest resident size of this process or any worker it waited for, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, workers) / 1024, 1)  # Linux reports KiB
