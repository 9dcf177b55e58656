"""The incremental fetch: bring the local copy up to date through the change feed when that can be
done with certainty, else list everything (and keep it, with the feed's cursor, for next time).
The result always equals what a full fetch gives."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sitegen.config import SourceConfig
from sitegen.errors import SourceError
from sitegen.fetch.changes import FEED_TYPES, Doubt, by_id, merge, net_changes
from sitegen.fetch.feed import FeedRead, read_feed
from sitegen.fetch.fetcher import HttpFetcher
from sitegen.fetch.localcopy import LocalCopy, Snapshot

#: How far before the last sync (by the server's ``Date``) ``updated_since`` reaches back. It absorbs
#: the gap between the clock that stamps ``updated_at`` and the one that sends ``Date``, the one-second
#: resolution of ``Date``, and a feed that lags its writes; being early costs only a few objects read twice.
SYNC_OVERLAP = timedelta(minutes=5)


def sync(fetcher: HttpFetcher, copy: LocalCopy, names: tuple[str, ...]) -> dict[str, tuple[Mapping[str, Any], ...]]:
    """Bring the local copy up to date through the change feed if that can be done
    safely, else fetch everything (and start a new local copy when the server has a feed)."""
    counters = fetcher.session.counters
    if not set(names) <= FEED_TYPES.keys():
        counters.full_fetch_reason = "the change feed covers only the contract's collections"
        return fetcher.full(names)
    identity = _identity(fetcher.session.source, fetcher.session.token, names)
    snapshot = copy.load(identity)
    if snapshot is None:
        reason = "no usable local copy from an earlier fetch"
    else:
        try:
            updated, changed = _catch_up(fetcher, snapshot)
        except (Doubt, SourceError) as exc:
            reason = f"the local copy could not be brought up to date: {exc}"
        else:
            copy.save(updated)
            counters.incremental, counters.changed_objects = True, changed
            return dict(updated.collections)
    return _full_with_cursor(fetcher, copy, identity, reason)


def _identity(source: SourceConfig, token: str | None, names: tuple[str, ...]) -> dict[str, Any]:
    """A different URL, token (a token may see private objects) or set of collections is different data.
    Only a hash of the token is kept, never the token."""
    auth = hashlib.sha256(f"sitegen local copy\0{token}".encode()).hexdigest() if token else None
    return {"source": source.url, "auth": auth, "collections": list(names)}


def _full_with_cursor(
    fetcher: HttpFetcher, copy: LocalCopy, identity: Mapping[str, Any], reason: str
) -> dict[str, tuple[Mapping[str, Any], ...]]:
    """List everything and keep it with the feed's cursor, read *before* the listing so that
    a change made while listing is in the feed next time (applying it twice is harmless)."""
    try:
        feed: FeedRead | None = read_feed(fetcher.session, None)
    except (Doubt, SourceError) as exc:
        feed, reason = None, f"no change feed to fetch incrementally with: {exc}"
    fetcher.session.counters.full_fetch_reason = reason
    collections = fetcher.full(tuple(identity["collections"]))
    if feed is not None and all(by_id(items) is not None for items in collections.values()):
        copy.save(Snapshot(identity, feed.cursor, feed.synced_at, collections))
    else:  # no feed, or objects without unique ids (not mergeable by id): the next fetch is full too
        copy.discard()
    return collections


def _catch_up(fetcher: HttpFetcher, snapshot: Snapshot) -> tuple[Snapshot, int]:
    """The snapshot with the feed's changes since its cursor applied; raises Doubt (or
    SourceError) when that cannot be done with certainty."""
    feed = read_feed(fetcher.session, snapshot.cursor)
    changes = net_changes(feed.entries, snapshot.collections.keys())
    since = snapshot.synced_at - SYNC_OVERLAP
    collections = dict(snapshot.collections)
    for name, items in snapshot.collections.items():
        ops = {oid: op for (collection, oid), op in changes.items() if collection == name}
        if not ops:
            continue
        upserts = "upsert" in ops.values()
        fresh = fetcher.collection(name, updated_since=since, use_cache=False) if upserts else ()
        collections[name] = merge(name, items, fresh, ops)
    return dataclasses.replace(snapshot, cursor=feed.cursor, synced_at=feed.synced_at, collections=collections), len(changes)
