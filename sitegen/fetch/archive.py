"""``fetch_archive``: the format that ``[source] url`` names (``sitegen.fetch.registry``), its
URL checked before any work, and its reading run."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitegen.config import SourceConfig
from sitegen.fetch.registry import checked_source
from sitegen.fetch.result import COLLECTIONS, RawArchive
from sitegen.fetch.source import Reading
from sitegen.kept import cache_key as kept_cache_key

if TYPE_CHECKING:  # imported when first needed: a build from a local folder never is
    import httpx


def fetch_archive(
    source: SourceConfig,
    *,
    root: Path,
    cache_dir: Path,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    environ: Mapping[str, str] = os.environ,
    collections: tuple[str, ...] = COLLECTIONS,
    incremental: bool = True,
    memory: dict[str, Any] | None = None,
    cache_key: bytes | None = None,
) -> RawArchive:
    """Read every collection from ``source``; raise ConfigError for a URL its format refuses, and
    SourceError on any failure reading it.

    ``clock`` (monotonic) enforces the total timeout; ``now`` (wall clock) is
    used only when a response has no ``Date``: to read a ``Retry-After`` date,
    and to date a change-feed cursor. ``incremental=False`` always lists every
    collection and leaves the local copy alone. ``memory``: kept by a long-lived process
    between reads (``Reading.memory``). ``cache_key`` seals the HTTP cache and the local copy
    (default: ``kept.cache_key`` of ``environ`` and the user's home).
    """
    reader = checked_source(source.url, root)
    key = cache_key if cache_key is not None else kept_cache_key(environ)
    reading = Reading(source, root, cache_dir, client, sleep, clock, now, environ, collections, incremental, memory, key)
    return reader.read(source.url, reading)
