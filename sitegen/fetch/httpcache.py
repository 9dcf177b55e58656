"""The on-disk ETag cache: one sealed file per request URL (named by its sha256) holding the body (a
contract page, or another format's document) and its validators, so that a fetch of an unchanged
source costs only ``304 Not Modified`` answers; unreadable entries count as absent, and a complete
fetch prunes what it did not use."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, NamedTuple, TypeVar

from sitegen.errors import SourceError
from sitegen.kept import load_kept, save_kept

T = TypeVar("T")


class CacheEntry(NamedTuple, Generic[T]):
    etag: str | None
    last_modified: str | None
    #: The stored body as its reader parsed it (a page, a document).
    value: T

    def validators(self) -> dict[str, str]:
        """The conditional request headers that ask the server for a 304 if the page is unchanged."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


#: The largest entry kept (a page's body, JSON-escaped).
MAX_ENTRY_BYTES = 1 << 30
#: What the entries are, for their seal (``kept.save_kept``): another format is not read.
ENTRY_FORMAT = "http-cache-1"


@dataclass(frozen=True)
class HttpCache:
    """One file per request URL, named by the URL's sha256, sealed under ``key`` with the URL
    (``kept.save_kept``): an entry planted in the cache folder, damaged, of another URL, or not a
    regular file counts as absent, and the page is fetched without validators."""

    folder: Path
    key: bytes
    #: Files this fetch read or wrote; after a complete fetch everything else is stale.
    used: set[Path] = dataclasses.field(default_factory=set)

    def path(self, url: str) -> Path:
        path = self.folder / f"{hashlib.sha256(url.encode('utf-8')).hexdigest()}.json"
        self.used.add(path)
        return path

    def prune(self) -> None:
        """Delete entries that the complete fetch did not use, so that a changed page_size
        or cursor-style ``next`` links do not grow the cache forever."""
        try:
            stale = [p for p in self.folder.iterdir() if p.suffix == ".json" and p not in self.used]
            for path in stale:
                path.unlink(missing_ok=True)
        except OSError:
            pass  # the cache is only an optimisation; a stale file costs disk space, not correctness

    def load(self, url: str, parse: Callable[[str], T]) -> CacheEntry[T] | None:
        """The entry for ``url``, its body read by ``parse`` (which raises SourceError or ValueError
        for a body it refuses); None when absent or unusable."""
        try:
            path = self.path(url)
            entry = load_kept(path, MAX_ENTRY_BYTES, ENTRY_FORMAT, url, self.key)
            if not isinstance(entry, dict):
                return None
            etag, last_modified, body = entry["etag"], entry["last_modified"], entry["body"]
            if entry["url"] != url or not isinstance(body, str) or not (etag or last_modified):
                return None
            if not all(v is None or isinstance(v, str) for v in (etag, last_modified)):
                return None
            return CacheEntry(etag, last_modified, parse(body))
        except (OSError, ValueError, KeyError, TypeError, SourceError):
            return None  # absent, corrupt or too deep: fetch unconditionally and overwrite it

    def store(self, url: str, etag: str | None, last_modified: str | None, body: str) -> None:
        """Keep the page for a conditional request next time (best effort: an entry that cannot
        be written only costs a full GET)."""
        path = self.path(url)
        if not (etag or last_modified):
            try:
                path.unlink(missing_ok=True)  # an old validator would only make the server answer 200 anyway
            except OSError:
                pass
            return
        entry = {"url": url, "etag": etag, "last_modified": last_modified, "body": body}
        save_kept(path, MAX_ENTRY_BYTES, ENTRY_FORMAT, url, entry, self.key)
