"""``fetch_archive``: choose the reader for ``[source]`` (a local folder, another format, or the JSON
API over HTTP, incrementally when it can) and run it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sitegen.config import OTHER_FORMATS, SourceConfig
from sitegen.fetch.client import open_client
from sitegen.fetch.fetcher import HttpFetcher
from sitegen.fetch.folder import read_folder
from sitegen.fetch.formats import fetch_other_format, read_frab_files
from sitegen.fetch.httpcache import HttpCache
from sitegen.fetch.incremental import sync
from sitegen.fetch.localcopy import LocalCopy
from sitegen.fetch.result import COLLECTIONS, RawArchive
from sitegen.fetch.session import Session

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
) -> RawArchive:
    """Read every collection from ``source``; raise SourceError on any failure.

    ``clock`` (monotonic) enforces the total timeout; ``now`` (wall clock) is
    used only when a response has no ``Date``: to read a ``Retry-After`` date,
    and to date a change-feed cursor. ``incremental=False`` always lists every
    collection and leaves the local copy alone.
    """
    if source.kind == "folder":
        return read_folder(root / source.url, collections, source.max_response_bytes)
    if source.kind == "frab" and not source.is_http:
        return read_frab_files(source, root)
    token = environ.get(source.token_env) or None
    with open_client(source, client) as http:
        # The session's bearer token is the contract's; another format sends its own (fetch_other_format).
        session = Session(source, http, sleep, clock, now, None if source.kind in OTHER_FORMATS else token)
        fetcher = HttpFetcher(session, HttpCache(cache_dir / "http"))
        if source.kind in OTHER_FORMATS:
            return fetch_other_format(fetcher, token)
        if incremental:
            fetched = sync(fetcher, LocalCopy(cache_dir / "objects"), collections)
        else:
            fetched = fetcher.full(collections)
    return RawArchive(fetched, session.counters.freeze(), source.url)
