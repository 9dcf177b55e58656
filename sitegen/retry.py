"""The one retry policy: attempts, exponential backoff, ``Retry-After``, a deadline.

Fetch (HTTP pages, schedules, the change feed) and publish (CloudFront
invalidations) retry through ``RetryPolicy.run``. An attempt returns its
result, or ``Again`` for a transient failure worth repeating (with the wait
the server asked for, if any); anything else it raises goes straight up.
The policy stops with a ``Stop`` that says why, and the caller words it for
its own error class:

* ``WaitTooLong``: the server asked for a wait over ``max_retry_after``;
* ``Expired``: the deadline passed (before an attempt, or after a failed one);
* ``Exhausted``: every attempt failed;
* ``WouldExpire``: waiting for the next attempt would end past the deadline.

The clock and the sleep are injected, so tests neither wait nor depend on time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple, TypeVar

T = TypeVar("T")

#: A ``Retry-After`` (or a ``Date``) longer than this is unreadable, not parsed.
MAX_HEADER_CHARS = 100


class Again(NamedTuple):
    """A failed attempt worth repeating: why, the fix if we give up, and the wait the
    server asked for (``Retry-After`` in seconds; None: the policy's backoff)."""

    reason: str
    fix: str
    retry_after: float | None = None


class Stop(Exception):  # noqa: N818 (a reason to stop, not an error of its own)
    """Retrying ended without a result; ``last`` is the last failure (None: none yet)."""

    def __init__(self, last: Again | None, attempts: int, wait: float = 0.0) -> None:
        super().__init__(last.reason if last else "no attempt")
        self.last, self.attempts, self.wait = last, attempts, wait


class WaitTooLong(Stop):
    """The server asked to wait ``wait`` seconds, more than ``max_retry_after``."""


class Expired(Stop):
    """The deadline has passed."""


class Exhausted(Stop):
    """All ``attempts`` failed."""


class WouldExpire(Stop):
    """Waiting ``wait`` seconds for the next attempt would end past the deadline."""


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all; the n-th wait is ``backoff * 2**(n-1)`` unless the
    server asks otherwise; no attempt starts, and no wait ends, after ``deadline``
    (a ``clock()`` reading)."""

    attempts: int
    backoff: float
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    deadline: float = math.inf
    max_retry_after: float = math.inf

    def run(self, attempt: Callable[[], T | Again], on_retry: Callable[[Again, float], None] | None = None) -> T:
        """``attempt()`` until it returns a result; ``on_retry(failure, wait)`` before each wait."""
        last: Again | None = None
        for tries in range(1, max(self.attempts, 1) + 1):
            if self.clock() >= self.deadline:
                raise Expired(last, tries - 1)
            outcome = attempt()
            if not isinstance(outcome, Again):
                return outcome
            last = outcome
            wait = self.wait(outcome, tries)
            if on_retry is not None:
                on_retry(outcome, wait)
            if wait > 0:
                self.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def wait(self, failure: Again, tries: int) -> float:
        """How long to wait after the ``tries``-th failed attempt; raises ``Stop`` when not to."""
        if failure.retry_after is not None and failure.retry_after > self.max_retry_after:
            raise WaitTooLong(failure, tries, failure.retry_after)
        if self.clock() >= self.deadline:
            raise Expired(failure, tries)
        if tries >= self.attempts:
            raise Exhausted(failure, tries)
        wait = failure.retry_after if failure.retry_after is not None else self.backoff * 2 ** (tries - 1)
        if self.clock() + wait > self.deadline:
            raise WouldExpire(failure, tries, wait)
        return wait


def parse_retry_after(value: str | None, date: str | None, now: Callable[[], datetime]) -> float | None:
    """Seconds to wait from ``Retry-After``: delay-seconds, or an HTTP date (against the response's
    ``Date`` when present, so a skewed local clock does not matter). None when absent or unreadable."""
    if value is None or len(value) > MAX_HEADER_CHARS:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if 0 <= seconds < math.inf else None
    when = http_date(value)
    if when is None:
        return None
    reference = http_date(date) or now()
    return max((when - reference).total_seconds(), 0.0)


def http_date(value: str | None) -> datetime | None:
    """An HTTP date header as an aware datetime (UTC when it names no zone); None if unreadable."""
    if not value or len(value) > MAX_HEADER_CHARS:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
