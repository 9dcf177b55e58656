"""What the fetch stage hands on: the raw collections (``RawArchive``) and how they were got (``FetchStats``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sitegen.errors import Problem

COLLECTIONS: tuple[str, ...] = ("series", "venues", "topics", "people", "events", "sessions")


@dataclass(frozen=True)
class FetchStats:
    requests: int = 0  # HTTP requests sent (retries included); 0 for a folder source
    not_modified: int = 0  # 304 answers served from the on-disk cache
    retries: int = 0
    bytes_received: int = 0  # response body bytes as received (before content decoding)
    #: True when the result is the last fetch's local copy brought up to date through the change feed.
    incremental: bool = False
    #: Objects the change feed reported as upserted or deleted since the last fetch (incremental fetches only).
    changed_objects: int = 0
    #: Why an HTTP fetch read every collection in full; "" for an incremental fetch or a folder.
    full_fetch_reason: str = ""


@dataclass(frozen=True)
class RawArchive:
    #: Every name in COLLECTIONS -> its objects, in server order across pages. An incremental fetch
    #: keeps a changed object in its place and appends new ones, which is the server's order when it
    #: lists by creation; the model keys everything by id, so the site never depends on the order.
    collections: Mapping[str, tuple[Mapping[str, Any], ...]]
    stats: FetchStats
    source: str  # the URL or folder it came from, for messages
    #: What converting another format had to leave out (``sitegen.sources``).
    warnings: tuple[Problem, ...] = ()
