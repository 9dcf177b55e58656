"""Retrying a fetch's requests through the one retry rule (``sitegen.retry.RetryPolicy``): backoff
or the server's Retry-After, within the retry count and the whole fetch's budget; and why it
gave up, as the one message naming the URL."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sitegen.errors import SourceError
from sitegen.fetch.session import Session
from sitegen.retry import Again, Exhausted, Expired, RetryPolicy, Stop, WaitTooLong, WouldExpire

T = TypeVar("T")


def retrying(session: Session, url: str, attempt: Callable[[], T | Again]) -> T:
    """``attempt`` until it gives an answer, retried with exponential backoff (or the server's
    Retry-After) on transient failures, within the retry count and the whole fetch's budget."""
    s = session.source
    policy = RetryPolicy(
        attempts=s.retries + 1,
        backoff=s.backoff,
        sleep=session.sleep,
        clock=session.clock,
        deadline=session.deadline,
        max_retry_after=s.max_retry_after,
    )

    def count_retry(failure: Again, wait: float) -> None:
        session.counters.retries += 1

    try:
        return policy.run(attempt, on_retry=count_retry)
    except Stop as stop:
        raise _gave_up(session, url, stop) from None


def _gave_up(session: Session, url: str, stop: Stop) -> SourceError:
    """Why retrying ended, as the one message naming the URL."""
    s, last = session.source, stop.last
    if isinstance(stop, Expired) or last is None:
        return session.too_late(url)
    if isinstance(stop, WaitTooLong):
        return SourceError.at(
            url,
            f"{last.reason} asks to wait {stop.wait:g} s (Retry-After), more than max_retry_after = {s.max_retry_after:g} s",
            "try again later, or raise [source] max_retry_after",
        )
    if isinstance(stop, WouldExpire):
        return SourceError.at(
            url,
            f"{last.reason}; waiting {stop.wait:g} s to retry would exceed total_timeout = {s.total_timeout:g} s",
            "raise [source] total_timeout, or try again when the server is healthy",
        )
    assert isinstance(stop, Exhausted)
    return SourceError.at(url, f"failed after {stop.attempts} attempt(s); last: {last.reason}", last.fix)
