"""The Source protocol: what one format of ``[source] url`` gives the fetch stage.

A format says which URLs are its (``claims``, by a prefix such as ``pretalx+``),
what is wrong with one of them (``problems``: each names the format and the fix,
checked before any work), which local files and folders it reads (``local_paths``:
``sitegen serve`` watches them, and the output folder must not overlap them), and
how it reads (``read``): from local files, or over the shared HTTP pieces that
``Reading`` opens: the client with its limits, retries and budget, and the ETag
cache; the JSON API adds the local copy for incremental fetches.

Adding a format is one module with an object that has these members, and one
entry in ``sitegen.fetch.registry.FORMATS``.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sitegen.config import SourceConfig
from sitegen.errors import Problem
from sitegen.fetch.client import open_client
from sitegen.fetch.fetcher import HttpFetcher
from sitegen.fetch.httpcache import HttpCache
from sitegen.fetch.result import COLLECTIONS, RawArchive
from sitegen.fetch.session import Session

if TYPE_CHECKING:
    import httpx

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def is_folder(path: Path) -> bool:
    """Whether ``path`` is a folder; False also when it cannot name one (too long, a NUL byte)."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def exists(path: Path) -> bool:
    """Whether something is at ``path``; False also when it cannot name a file (too long, a NUL byte)."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def scheme(url: str) -> str:
    """``url``'s scheme in lower case (``frab+https``), "" when it has none; never raises."""
    found = _SCHEME.match(url)
    return found.group(1).lower() if found else ""


@dataclass(frozen=True)
class Reading:
    """What a format reads with: the source's settings, the site root, the cache folder, and the
    injected I/O (the HTTP client or transport, the clocks, the environment)."""

    source: SourceConfig
    root: Path
    cache_dir: Path
    client: httpx.Client | None = None
    sleep: Callable[[float], None] = time.sleep
    #: Monotonic: enforces total_timeout.
    clock: Callable[[], float] = time.monotonic
    #: Wall clock: only when a response has no ``Date``.
    now: Callable[[], datetime] = _utc_now
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    collections: tuple[str, ...] = COLLECTIONS
    #: False: list everything, and leave any local copy alone.
    incremental: bool = True
    #: What a long-lived process (``sitegen serve``) keeps in memory from one read for the
    #: next, by format; None in a one-off build. A format keeps only what it checks again.
    memory: dict[str, Any] | None = None
    #: What seals the files kept in the cache folder (``kept.cache_key``); by default this
    #: read's own, so nothing kept by another is trusted.
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    @property
    def token(self) -> str | None:
        """The token from ``[source] token_env``, if set; each format sends it its own way."""
        return self.environ.get(self.source.token_env) or None

    @contextmanager
    def http(self, *, contract: bool) -> Iterator[HttpFetcher]:
        """The shared HTTP fetcher for one read: client, session (deadline, counters) and ETag cache.
        ``contract``: the JSON API's, whose token goes as ``Authorization: Bearer …`` to the source's
        origin; another format sends the token its own way, if at all."""
        with open_client(self.source, self.client) as client:
            token = self.token if contract else None
            session = Session(self.source, client, self.sleep, self.clock, self.now, token, contract=contract)
            yield HttpFetcher(session, HttpCache(self.cache_dir / "http", self.key))


class Source(Protocol):
    """One format of ``[source] url``."""

    @property
    def name(self) -> str:
        """What messages call it: "pretalx", "the JSON API"."""

    @property
    def forms(self) -> tuple[str, ...]:
        """How its URLs look, for the message about a URL no format claims."""

    def claims(self, url: str) -> bool:
        """Whether ``url`` is of this format (its prefix); the first format in the registry that claims it reads it."""

    def problems(self, url: str, root: Path, where: str) -> list[Problem]:
        """What is wrong with ``url`` for this format, each naming the format and the fix; [] when nothing."""

    def local_paths(self, url: str, root: Path) -> tuple[Path, ...]:
        """The local files and folders it reads (none over HTTP)."""

    def read(self, url: str, reading: Reading) -> RawArchive:
        """Every collection, converted to the contract's; raises SourceError on any failure."""
