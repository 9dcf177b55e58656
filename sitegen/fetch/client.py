"""The httpx client: the headers it always sends, timeouts clipped to the fetch's budget, and
closing it only when it was made here. httpx is imported when first needed: a build from a
local folder never imports it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sitegen import __version__
from sitegen.config import SourceConfig

if TYPE_CHECKING:
    import httpx


@contextmanager
def open_client(source: SourceConfig, client: httpx.Client | None) -> Iterator[httpx.Client]:
    """``client`` when one is given (its owner closes it), else a new one, closed on the way out."""
    if client is not None:
        yield client
        return
    made = make_client(source)
    try:
        yield made
    finally:
        made.close()


def make_client(source: SourceConfig) -> httpx.Client:
    import httpx

    return httpx.Client(
        timeout=timeouts(source, budget=source.total_timeout),
        follow_redirects=False,  # each hop is checked by sitegen.fetch.request
        headers={"User-Agent": f"sitegen/{__version__}", "Accept": "application/json"},
    )


def timeouts(source: SourceConfig, budget: float) -> httpx.Timeout:
    """The configured timeouts, each clipped to what is left of the whole fetch's budget."""
    import httpx

    connect, read = min(source.connect_timeout, budget), min(source.read_timeout, budget)
    return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)
