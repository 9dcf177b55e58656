"""The fetch stage: read the raw event data from the JSON API or a local folder.

The result is the API's objects, untouched and in server order; checking them
against the contract is the model stage's job. Everything here is about getting
the bytes reliably: pagination, bounded retries, a budget for the whole fetch,
a size cap per response, and an on-disk ETag cache so that rebuilding against
an unchanged API costs only ``304 Not Modified`` answers.

The HTTP fetch is also incremental when the server has a change feed
(``GET B/changes?since=<cursor>``). A full fetch first reads the feed to its
end to learn the current cursor, then lists every collection, and keeps the
objects and the cursor under ``cache_dir/objects``. The next fetch reads only
the feed since that cursor, re-lists just the collections it names with
``updated_since`` (reaching back a safe margin before the last sync, by the
server's clock) and applies the deletes by id. Anything doubtful (no or a
corrupt local copy, a rejected cursor, a feed entry the listing does not
confirm) means a full fetch: the result always equals what a full fetch gives.
Without a change feed a full fetch is the only way to see deletions, and the
ETag cache already makes it cheap, so that is what happens.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from urllib.parse import parse_qsl, urldefrag, urlencode, urljoin, urlsplit, urlunsplit

from sitegen import __version__
from sitegen.atomic import write_atomically
from sitegen.bounded import (
    ACCEPT_ENCODING,
    MAX_PAGES,
    Inflater,
    TooLarge,
    UnknownEncoding,
    loads_json,
    parse_codings,
    read_file_bounded,
    shown,
)
from sitegen.config import OTHER_FORMATS, SourceConfig
from sitegen.errors import Problem, SourceError, clip
from sitegen.retry import Again, Exhausted, Expired, RetryPolicy, Stop, WaitTooLong, WouldExpire, http_date
from sitegen.retry import parse_retry_after as _parse_retry_after

if TYPE_CHECKING:  # imported when first needed: a build from a local folder never is
    import httpx

COLLECTIONS: tuple[str, ...] = ("series", "venues", "topics", "people", "events", "sessions")

#: The change feed's ``type`` for each contract collection.
FEED_TYPES: Mapping[str, str] = {
    "series": "series",
    "venues": "venue",
    "topics": "topic",
    "people": "person",
    "events": "event",
    "sessions": "session",
}

#: How far before the last sync (by the server's ``Date``) ``updated_since`` reaches back. It absorbs
#: the gap between the clock that stamps ``updated_at`` and the one that sends ``Date``, the one-second
#: resolution of ``Date``, and a feed that lags its writes; being early costs only a few objects read twice.
SYNC_OVERLAP = timedelta(minutes=5)

_SERVER_FIX = "the server does not follow the API contract; check [source] url or report it to the API operator"

#: Redirects followed for one request, each within the source's own origin.
MAX_REDIRECTS = 5
_OFF_HOST_FIX = "sitegen reads only from [source] url's own scheme, host and port; check [source] url or ask the API operator"

T = TypeVar("T")


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
        return _read_folder(root / source.url, collections, source.max_response_bytes)
    if source.kind in OTHER_FORMATS:
        return _fetch_other_format(
            source, root=root, cache_dir=cache_dir, client=client, sleep=sleep, clock=clock, now=now, environ=environ
        )
    own_client = client is None
    http = client if client is not None else _make_client(source)
    try:
        fetcher = _HttpFetcher(source, http, _HttpCache(cache_dir / "http"), sleep, clock, now, environ.get(source.token_env) or None)
        if incremental:
            fetched = _sync(fetcher, _LocalCopy(cache_dir / "objects"), collections)
        else:
            fetched = fetcher.full(collections)
    finally:
        if own_client:
            http.close()
    return RawArchive(fetched, fetcher.counters.freeze(), source.url)


# --- other formats: pretalx and frab (sitegen.sources) -----------------------------


def _fetch_other_format(
    source: SourceConfig,
    *,
    root: Path,
    cache_dir: Path,
    client: httpx.Client | None,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    now: Callable[[], datetime],
    environ: Mapping[str, str],
) -> RawArchive:
    """Read a pretalx event or frab schedules and convert them to the contract's collections."""
    if source.kind == "frab" and not source.is_http:
        from sitegen.sources import frab

        paths = frab.schedule_files(root, source.location)
        converted = frab.convert([(str(path), _read_json_file(path, source.max_response_bytes)) for path in paths])
        return RawArchive(_as_tuples(converted.collections), FetchStats(), source.url, converted.warnings)
    own_client = client is None
    http = client if client is not None else _make_client(source)
    try:
        fetcher = _HttpFetcher(source, http, _HttpCache(cache_dir / "http"), sleep, clock, now, None)
        if source.kind == "pretalx":
            from sitegen.sources import pretalx

            converted = pretalx.read(source.location, fetcher.document, environ.get(source.token_env) or None)
        else:
            from sitegen.sources import frab

            urls = [url.strip() for url in source.location.split(",") if url.strip()]
            converted = frab.convert([(url, fetcher.document(url, {})) for url in urls])
    finally:
        if own_client:
            http.close()
    return RawArchive(_as_tuples(converted.collections), fetcher.counters.freeze(), source.url, converted.warnings)


def _as_tuples(collections: Mapping[str, list[dict[str, Any]]]) -> dict[str, tuple[Mapping[str, Any], ...]]:
    return {name: tuple(collections.get(name, ())) for name in COLLECTIONS}


def _read_json_file(path: Path, max_bytes: int) -> Any:
    fix = "check the file, or point [source] url at another"
    try:
        data = read_file_bounded(path, max_bytes, str(path), SourceError, f"{fix} (or raise [source] max_response_bytes)")
    except OSError as exc:
        raise SourceError.at(str(path), f"cannot be read: {exc.strerror or exc}", fix) from None
    return loads_json(data, str(path), SourceError, fix)


# --- incremental fetch: the local copy and the change feed ---------------------------


class _Doubt(Exception):
    """The local copy cannot be brought up to date safely; the message says why. Never
    shown as an error: it only turns an incremental fetch into a full one."""


@dataclass(frozen=True)
class _Snapshot:
    """Every collection as of a sync, and where the change feed stood then."""

    #: What was fetched, and how: a copy is only ever used for the same source, token and collections.
    identity: Mapping[str, Any]
    cursor: str
    #: The server's time when it issued ``cursor``: later changes are stamped no earlier than this.
    synced_at: datetime
    collections: Mapping[str, tuple[Mapping[str, Any], ...]]
    #: sha256 of each collection file as stored, so an unchanged collection is not rewritten.
    digests: Mapping[str, str] = dataclasses.field(default_factory=dict)


class _FeedRead(NamedTuple):
    entries: tuple[Mapping[str, Any], ...]
    cursor: str
    synced_at: datetime


def _identity(source: SourceConfig, token: str | None, names: tuple[str, ...]) -> dict[str, Any]:
    """A different URL, token (a token may see private objects) or set of collections is different data.
    Only a hash of the token is kept, never the token."""
    auth = hashlib.sha256(f"sitegen local copy\0{token}".encode()).hexdigest() if token else None
    return {"source": source.url, "auth": auth, "collections": list(names)}


def _sync(fetcher: _HttpFetcher, copy: _LocalCopy, names: tuple[str, ...]) -> dict[str, tuple[Mapping[str, Any], ...]]:
    """Bring the local copy up to date through the change feed if that can be done
    safely, else fetch everything (and start a new local copy when the server has a feed)."""
    if not set(names) <= FEED_TYPES.keys():
        fetcher.counters.full_fetch_reason = "the change feed covers only the contract's collections"
        return fetcher.full(names)
    identity = _identity(fetcher.source, fetcher.token, names)
    snapshot = copy.load(identity)
    if snapshot is None:
        reason = "no usable local copy from an earlier fetch"
    else:
        try:
            updated, changed = _catch_up(fetcher, snapshot)
        except (_Doubt, SourceError) as exc:
            reason = f"the local copy could not be brought up to date: {exc}"
        else:
            copy.save(updated)
            fetcher.counters.incremental, fetcher.counters.changed_objects = True, changed
            return dict(updated.collections)
    return _full_with_cursor(fetcher, copy, identity, reason)


def _full_with_cursor(
    fetcher: _HttpFetcher, copy: _LocalCopy, identity: Mapping[str, Any], reason: str
) -> dict[str, tuple[Mapping[str, Any], ...]]:
    """List everything and keep it with the feed's cursor, read *before* the listing so that
    a change made while listing is in the feed next time (applying it twice is harmless)."""
    try:
        feed: _FeedRead | None = fetcher.read_feed(None)
    except (_Doubt, SourceError) as exc:
        feed, reason = None, f"no change feed to fetch incrementally with: {exc}"
    fetcher.counters.full_fetch_reason = reason
    collections = fetcher.full(tuple(identity["collections"]))
    if feed is not None and all(_by_id(items) is not None for items in collections.values()):
        copy.save(_Snapshot(identity, feed.cursor, feed.synced_at, collections))
    else:  # no feed, or objects without unique ids (not mergeable by id): the next fetch is full too
        copy.discard()
    return collections


def _catch_up(fetcher: _HttpFetcher, snapshot: _Snapshot) -> tuple[_Snapshot, int]:
    """The snapshot with the feed's changes since its cursor applied; raises _Doubt (or
    SourceError) when that cannot be done with certainty."""
    feed = fetcher.read_feed(snapshot.cursor)
    changes = _net_changes(feed.entries, snapshot.collections.keys())
    since = snapshot.synced_at - SYNC_OVERLAP
    collections = dict(snapshot.collections)
    for name, items in snapshot.collections.items():
        ops = {oid: op for (collection, oid), op in changes.items() if collection == name}
        if not ops:
            continue
        upserts = "upsert" in ops.values()
        fresh = fetcher.collection(name, updated_since=since, use_cache=False) if upserts else ()
        collections[name] = _merge(name, items, fresh, ops)
    return dataclasses.replace(snapshot, cursor=feed.cursor, synced_at=feed.synced_at, collections=collections), len(changes)


def _net_changes(entries: Iterable[Mapping[str, Any]], names: Iterable[str]) -> dict[tuple[str, str], str]:
    """(collection, id) -> the last op the feed gave it. An entry of a shape or type the contract
    does not define is doubt: ignoring it could silently keep a stale object."""
    collection_of = {FEED_TYPES[name]: name for name in names}
    net: dict[tuple[str, str], str] = {}
    for entry in entries:
        kind, oid, op = entry.get("type"), entry.get("id"), entry.get("op")
        if kind not in FEED_TYPES.values() or not isinstance(oid, str) or op not in ("upsert", "delete"):
            raise _Doubt(f"the change feed has an entry the contract does not define: {shown(entry, 200)}")
        if kind in collection_of:  # a contract type this fetch does not read is none of its business
            net[(collection_of[kind], oid)] = op
    return net


def _merge(
    name: str, old: tuple[Mapping[str, Any], ...], fresh: tuple[Mapping[str, Any], ...], ops: Mapping[str, str]
) -> tuple[Mapping[str, Any], ...]:
    """Apply one collection's changes: what ``updated_since`` returned replaces the old object in
    place (or is appended, in server order, when new), and deleted ids go. The listing is newer
    than the feed, so it wins over a delete; but every upsert must be confirmed by it."""
    by_id = _by_id(fresh)
    if by_id is None:
        raise _Doubt(f"{name} listed with updated_since has objects without a unique string id")
    missing = sorted(oid for oid, op in ops.items() if op == "upsert" and oid not in by_id)
    if missing:
        raise _Doubt(
            f"the change feed lists {FEED_TYPES[name]} {missing[0]!r} as changed, but {name} listed with updated_since does not return it"
        )
    merged: list[Mapping[str, Any]] = []
    for item in old:
        oid = item["id"]
        if oid in by_id:
            merged.append(by_id.pop(oid))
        elif ops.get(oid) != "delete":
            merged.append(item)
    merged.extend(by_id.values())
    return tuple(merged)


def _by_id(items: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]] | None:
    """The objects keyed by id, in order; None unless every one has a string id of its own."""
    found: dict[str, Mapping[str, Any]] = {}
    for item in items:
        oid = item.get("id")
        if not isinstance(oid, str) or oid in found:
            return None
        found[oid] = item
    return found


def _rfc3339(moment: datetime) -> str:
    """UTC with a ``Z``, whole seconds rounded down (earlier is the safe side for ``updated_since``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class _LocalCopy:
    """The objects of the last successful fetch: ``<collection>.json`` in the local folder form
    (so ``--source`` can point at it for an offline build), and ``state.json`` with the
    cursor, the sync time and each file's sha256. The state is written last, so a crash or a
    concurrent build leaves a mismatch, which reads as no copy at all."""

    folder: Path

    STATE = "state.json"
    VERSION = 1

    def load(self, identity: Mapping[str, Any]) -> _Snapshot | None:
        """The stored snapshot, or None when it is absent, corrupt, edited or for other data."""
        try:
            state = loads_json((self.folder / self.STATE).read_bytes(), str(self.folder / self.STATE), SourceError, "")
            if state["version"] != self.VERSION or state["identity"] != identity:
                return None
            cursor, synced_at, digests = state["cursor"], datetime.fromisoformat(state["synced_at"]), state["sha256"]
            if not isinstance(cursor, str) or synced_at.tzinfo is None:
                return None
            collections = {name: self._collection(name, digests[name]) for name in identity["collections"]}
        except (OSError, ValueError, KeyError, TypeError, RecursionError, SourceError, _Doubt):
            return None
        return _Snapshot(identity, cursor, synced_at, collections, {name: digests[name] for name in collections})

    def _collection(self, name: str, digest: str) -> tuple[Mapping[str, Any], ...]:
        path = self.folder / f"{name}.json"
        raw = path.read_bytes()
        if hashlib.sha256(raw).hexdigest() != digest:
            raise _Doubt(f"{path} does not match its checksum")
        items = _parse_page(raw, str(path), "").data
        if _by_id(items) is None:
            raise _Doubt(f"{path} has objects without a unique string id")
        return items

    def save(self, snapshot: _Snapshot) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            digests = {}
            for name, items in snapshot.collections.items():
                # ASCII: a lone surrogate from a "\\ud800" escape survives the round trip, where UTF-8 fails.
                raw = json.dumps({"data": list(items), "next": None}, ensure_ascii=True, separators=(",", ":")).encode("ascii")
                digests[name] = hashlib.sha256(raw).hexdigest()
                if digests[name] != snapshot.digests.get(name):
                    write_atomically(self.folder / f"{name}.json", raw)
            state = {
                "version": self.VERSION,
                "identity": snapshot.identity,
                "cursor": snapshot.cursor,
                "synced_at": snapshot.synced_at.isoformat(),
                "sha256": digests,
            }
            write_atomically(self.folder / self.STATE, json.dumps(state, indent=1, sort_keys=True).encode("utf-8"))
        except OSError as exc:
            raise SourceError.at(
                str(self.folder), f"cannot write the local copy of the data: {exc.strerror or exc}", "make [build] cache_dir writable"
            ) from None

    def discard(self) -> None:
        """Forget the copy (its state), so that it cannot outlive the data it was a copy of."""
        try:
            (self.folder / self.STATE).unlink(missing_ok=True)
        except OSError:
            pass  # a leftover state still names its checksums and cursor: at worst it is caught up from there


# --- the local folder form -------------------------------------------------------


def _read_folder(folder: Path, collections: tuple[str, ...], max_bytes: int) -> RawArchive:
    if not folder.is_dir():
        raise SourceError.at(str(folder), "is not a folder", "point [source] url at a folder holding <collection>.json files")
    read = {name: _read_collection_file(folder / f"{name}.json", max_bytes) for name in collections}
    return RawArchive(read, FetchStats(), str(folder))


def _read_collection_file(path: Path, max_bytes: int) -> tuple[Mapping[str, Any], ...]:
    fix = 'write it as {"data": [...], "next": null}'
    try:
        text = read_file_bounded(path, max_bytes, str(path), SourceError, "split the data, or raise [source] max_response_bytes")
    except FileNotFoundError:
        raise SourceError.at(str(path), "is missing", f"create it ({fix}) or point [source] url at the right folder") from None
    except OSError as exc:
        raise SourceError.at(str(path), f"cannot be read: {exc.strerror or exc}", "check its permissions") from None
    page = _parse_page(text, str(path), fix)
    if page.next is not None:
        raise SourceError.at(str(path), "has a non-null 'next'; a local file holds the whole collection", 'set "next": null')
    return page.data


# --- parsing one page (shared by files, responses, the cache and the change feed) ----


class _Page(NamedTuple):
    data: tuple[Mapping[str, Any], ...]
    next: str | None


class _FeedPage(NamedTuple):
    page: _Page
    cursor: str | None
    date: str | None  # the response's Date header: when the server issued the cursor


def _parse_page(text: bytes | str, where: str, fix: str) -> _Page:
    """Check the envelope ``{"data": [object, ...], "next": str | null}``; objects stay as sent."""
    return _envelope(_parse_json(text, where, fix), where, fix)


def _parse_feed_page(text: bytes, date: str | None, where: str) -> _FeedPage:
    """A change feed page: the page envelope plus ``cursor``, a string (null or absent is allowed
    on pages that are not the last)."""
    body = _parse_json(text, where, _SERVER_FIX)
    page = _envelope(body, where, _SERVER_FIX)
    cursor = body.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise SourceError.at(where, f"'cursor' must be a string, not {_json_type(cursor)}", _SERVER_FIX)
    return _FeedPage(page, cursor, date)


def _parse_json(text: bytes | str, where: str, fix: str) -> dict[str, Any]:
    body = loads_json(text, where, SourceError, fix)
    if not isinstance(body, dict):
        raise SourceError.at(where, f'must be a JSON object {{"data": [...], "next": ...}}, not {_json_type(body)}', fix)
    return body


def _envelope(body: dict[str, Any], where: str, fix: str) -> _Page:
    data = body.get("data")
    if not isinstance(data, list):
        raise SourceError.at(where, f"'data' must be an array, not {_json_type(data)}", fix)
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise SourceError.at(where, f"data[{index}] must be an object, not {_json_type(item)}", fix)
    following = body.get("next")  # a missing key means null, as everywhere in the contract
    if following is not None and not isinstance(following, str):
        raise SourceError.at(where, f"'next' must be a URL string or null, not {_json_type(following)}", fix)
    return _Page(tuple(data), following)


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


# --- HTTP ---------------------------------------------------------------------------


def _make_client(source: SourceConfig) -> httpx.Client:
    import httpx

    return httpx.Client(
        timeout=_timeouts(source, budget=source.total_timeout),
        follow_redirects=False,  # each hop is checked by _HttpFetcher.attempt
        headers={"User-Agent": f"sitegen/{__version__}", "Accept": "application/json"},
    )


def _timeouts(source: SourceConfig, budget: float) -> httpx.Timeout:
    """The configured timeouts, each clipped to what is left of the whole fetch's budget."""
    import httpx

    connect, read = min(source.connect_timeout, budget), min(source.read_timeout, budget)
    return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)


def _api_url(base: str, name: str, params: Iterable[tuple[str, str]] = ()) -> str:
    """``<base>/<name>?<params>``, whether or not ``base`` ends in '/' or has a query."""
    parts = urlsplit(base)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params])
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/" + name, query, ""))


def _collection_url(base: str, name: str, page_size: int, updated_since: datetime | None = None) -> str:
    since = [("updated_since", _rfc3339(updated_since))] if updated_since is not None else []
    return _api_url(base, name, [("page_size", str(page_size)), *since])


def _follow(url: str, following: str, seen: set[str], what: str) -> str:
    """The absolute URL of a ``next`` link, refusing other schemes, other hosts, loops and more than MAX_PAGES pages."""
    try:
        resolved = urldefrag(urljoin(url, following)).url  # a fragment is never sent, so it cannot hide a loop
    except ValueError:
        resolved = ""
    if urlsplit(resolved).scheme not in ("http", "https"):
        raise SourceError.at(url, f"'next' is not an http(s) URL: {shown(following)}", _SERVER_FIX)
    if _origin(resolved) != _origin(url):
        raise SourceError.at(url, f"the server sent a 'next' link to another host: {shown(resolved)}", _OFF_HOST_FIX)
    if resolved in seen:
        raise SourceError.at(url, f"'next' points back to {clip(resolved)}, a page of {what} already read (a loop)", _SERVER_FIX)
    if len(seen) >= MAX_PAGES:
        raise SourceError.at(
            url, f"{what} has more than {MAX_PAGES:,} pages", "raise [source] page_size, or check that the server's 'next' links end"
        )
    seen.add(resolved)
    return resolved


def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port (the default one filled in); a URL without a valid port has no origin."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:
        return ("", "", None)
    return scheme, (parts.hostname or "").lower(), port


def _redirect_target(url: str, current: str, response: httpx.Response) -> str:
    """Where a 3xx sends ``current`` (on the way to ``url``), refused unless it is on ``url``'s origin."""
    location: str = response.headers.get("Location", "")
    try:
        target = urldefrag(urljoin(current, location)).url
    except ValueError:
        target = ""
    if urlsplit(target).scheme not in ("http", "https") or _origin(target) != _origin(url):
        raise SourceError.at(url, f"HTTP {response.status_code}: the server redirected to another host: {shown(location)}", _OFF_HOST_FIX)
    return target


@dataclass
class _Counters:
    requests: int = 0
    not_modified: int = 0
    retries: int = 0
    bytes_received: int = 0
    incremental: bool = False
    changed_objects: int = 0
    full_fetch_reason: str = ""

    def freeze(self) -> FetchStats:
        return FetchStats(**dataclasses.asdict(self))


class _CacheEntry(NamedTuple):
    etag: str | None
    last_modified: str | None
    page: _Page


@dataclass(frozen=True)
class _HttpCache:
    """One JSON file per request URL, named by the URL's sha256; unreadable entries count as absent."""

    folder: Path
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

    def load(self, url: str) -> _CacheEntry | None:
        try:
            path = self.path(url)
            entry = loads_json(path.read_bytes(), str(path), SourceError, "")
            etag, last_modified, body = entry["etag"], entry["last_modified"], entry["body"]
            if entry["url"] != url or not isinstance(body, str) or not (etag or last_modified):
                return None
            if not all(v is None or isinstance(v, str) for v in (etag, last_modified)):
                return None
            return _CacheEntry(etag, last_modified, _parse_page(body, url, ""))
        except (OSError, ValueError, KeyError, TypeError, SourceError):
            return None  # absent, corrupt or too deep: fetch unconditionally and overwrite it

    def store(self, url: str, etag: str | None, last_modified: str | None, body: str) -> None:
        path = self.path(url)
        try:
            if not (etag or last_modified):
                path.unlink(missing_ok=True)  # an old validator would only make the server answer 200 anyway
                return
            entry = {"url": url, "etag": etag, "last_modified": last_modified, "body": body}
            write_atomically(path, json.dumps(entry, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        except OSError as exc:
            raise SourceError.at(
                str(path), f"cannot write the HTTP cache: {exc.strerror or exc}", "make [build] cache_dir writable"
            ) from None


class _HttpFetcher:
    """One fetch: the client, the deadline for the whole run, the cache and the counters."""

    def __init__(
        self,
        source: SourceConfig,
        client: httpx.Client,
        cache: _HttpCache,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        now: Callable[[], datetime],
        token: str | None,
    ) -> None:
        self.source, self.client, self.cache = source, client, cache
        self.sleep, self.clock, self.now, self.token = sleep, clock, now, token
        self.deadline = clock() + source.total_timeout
        self.counters = _Counters()

    def full(self, names: tuple[str, ...]) -> dict[str, tuple[Mapping[str, Any], ...]]:
        """Every collection in full, then the ETag cache pruned to what this complete listing used."""
        fetched = {name: self.collection(name) for name in names}
        self.cache.prune()
        return fetched

    def collection(self, name: str, *, updated_since: datetime | None = None, use_cache: bool = True) -> tuple[Mapping[str, Any], ...]:
        """All objects of one collection (changed since ``updated_since``, if given), following
        ``next`` links until null. ``use_cache=False`` leaves the ETag cache out: an
        ``updated_since`` URL is asked once, and must not count as used by a complete listing."""
        url = _collection_url(self.source.url, name, self.source.page_size, updated_since)
        seen = {url}
        items: list[Mapping[str, Any]] = []
        while True:
            page = self.page(url, first=len(seen) == 1, cache=self.cache if use_cache else None)
            items.extend(page.data)
            if page.next is None:
                return tuple(items)
            url = _follow(url, page.next, seen, name)

    def document(self, url: str, headers: Mapping[str, str]) -> Any:
        """The parsed JSON body of one GET in any shape, with the same retries (429
        and Retry-After too), limits and budget as the contract's pages.
        ``headers`` are sent as given: another format brings its own authorisation."""

        def handle(response: httpx.Response) -> Any:
            if response.status_code == 200:
                return loads_json(self.read_body(url, response), url, SourceError, _SERVER_FIX)
            if response.status_code == 404:
                raise SourceError.at(
                    url, "HTTP 404 Not Found", f"check [source] url = {self.source.url!r}: the host, the event's slug or the file's path"
                )
            if response.status_code in (401, 403) and self.source.kind == "pretalx" and "Authorization" not in headers:
                # pretalx shows an event's talks to everyone only once its schedule is published.
                raise SourceError.at(
                    url,
                    f"HTTP {response.status_code}: pretalx shows nothing without a token",
                    f"publish the event's schedule in pretalx, or set {self.source.token_env} to an API token",
                )
            return self.failure(url, response, first=False)

        sent = {"Accept": "application/json", **headers, "Accept-Encoding": ACCEPT_ENCODING}
        return self.retrying(url, lambda: self.attempt(url, handle, request_headers=sent))

    def read_feed(self, since: str | None) -> _FeedRead:
        """The change feed from cursor ``since`` (None: from its start) up to now, and the cursor to
        continue from next time. Raises _Doubt when the server has no feed or refuses the cursor."""
        url = _api_url(self.source.url, "changes", [("since", since)] if since is not None else [])
        seen = {url}
        entries: list[Mapping[str, Any]] = []
        while True:
            answer = partial(self.feed_answer, url, since is not None)
            feed = self.retrying(url, partial(self.attempt, url, answer))
            if since is not None:  # reading from the start only needs the cursor; keep no history in memory
                entries.extend(feed.page.data)
            if feed.page.next is None:
                if feed.cursor is None:
                    raise _Doubt(f"{url}: the last page of the change feed has no 'cursor'")
                return _FeedRead(tuple(entries), feed.cursor, http_date(feed.date) or self.now())
            url = _follow(url, feed.page.next, seen, "the change feed")

    def page(self, url: str, *, first: bool, cache: _HttpCache | None) -> _Page:
        """One page, revalidated against the cache when there is an entry for it."""
        cached = cache.load(url) if cache is not None else None

        def handle(response: httpx.Response) -> _Page | Again:
            return self.answer(url, response, cached, first, cache)

        return self.retrying(url, lambda: self.attempt(url, handle, cached))

    def retrying(self, url: str, attempt: Callable[[], T | Again]) -> T:
        """``attempt`` until it gives an answer, retried with exponential backoff (or the server's
        Retry-After) on transient failures, within the retry count and the whole fetch's budget."""
        s = self.source
        policy = RetryPolicy(
            attempts=s.retries + 1,
            backoff=s.backoff,
            sleep=self.sleep,
            clock=self.clock,
            deadline=self.deadline,
            max_retry_after=s.max_retry_after,
        )
        try:
            return policy.run(attempt, on_retry=self.count_retry)
        except Stop as stop:
            raise self.gave_up(url, stop) from None

    def count_retry(self, failure: Again, wait: float) -> None:
        self.counters.retries += 1

    def gave_up(self, url: str, stop: Stop) -> SourceError:
        """Why retrying ended, as the one message naming the URL."""
        s, last = self.source, stop.last
        if isinstance(stop, Expired) or last is None:
            return self.too_late(url)
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

    def too_late(self, url: str) -> SourceError:
        return SourceError.at(
            url,
            f"the fetch took longer than total_timeout = {self.source.total_timeout:g} s",
            "raise [source] total_timeout, or check why the server is slow",
        )

    def check_deadline(self, url: str) -> None:
        if self.clock() >= self.deadline:
            raise self.too_late(url)

    def headers(self, url: str, cached: _CacheEntry | None) -> dict[str, str]:
        headers = {"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING}
        if self.token and _origin(url) == _origin(self.source.url):  # never hand the token to another host
            headers["Authorization"] = f"Bearer {self.token}"
        if cached and cached.etag:
            headers["If-None-Match"] = cached.etag
        if cached and cached.last_modified:
            headers["If-Modified-Since"] = cached.last_modified
        return headers

    def attempt(
        self,
        url: str,
        handle: Callable[[httpx.Response], T | Again],
        cached: _CacheEntry | None = None,
        request_headers: Mapping[str, str] | None = None,
    ) -> T | Again:
        """One request; ``handle`` reads the response while it streams."""
        import httpx

        self.counters.requests += 1
        headers = dict(request_headers) if request_headers is not None else self.headers(url, cached)
        current = url
        try:
            for _ in range(MAX_REDIRECTS + 1):  # redirects are followed here, each checked, never by httpx
                timeout = _timeouts(self.source, budget=max(self.deadline - self.clock(), 0.001))
                with self.client.stream("GET", current, headers=headers, timeout=timeout, follow_redirects=False) as response:
                    if not response.has_redirect_location:
                        return handle(response)
                    current = _redirect_target(url, current, response)
            raise SourceError.at(url, f"redirects more than {MAX_REDIRECTS} times", _SERVER_FIX)
        except httpx.TransportError as exc:
            return self.transport_failure(exc)
        except (httpx.RequestError, httpx.InvalidURL) as exc:  # redirect loops, bad URLs: retrying won't help
            raise SourceError.at(url, f"request failed: {clip(str(exc), 200)}", _SERVER_FIX) from None

    def transport_failure(self, exc: httpx.TransportError) -> Again:
        import httpx

        s = self.source
        if isinstance(exc, (httpx.ReadTimeout, httpx.WriteTimeout)):
            return Again(
                f"no answer within read_timeout = {s.read_timeout:g} s", "check the server, or raise [source] read_timeout or retries"
            )
        if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
            return Again(
                f"could not connect within connect_timeout = {s.connect_timeout:g} s",
                "check that the server is reachable, or raise [source] connect_timeout or retries",
            )
        return Again(
            # What the server sent (a hostile header line) is escaped and capped.
            f"{type(exc).__name__}: {shown(str(exc)) if str(exc) else 'connection failed'}",
            "check that [source] url is right and the server is up, or raise [source] retries",
        )

    def answer(
        self, url: str, response: httpx.Response, cached: _CacheEntry | None, first: bool, cache: _HttpCache | None
    ) -> _Page | Again:
        status = response.status_code
        if status == 304 and cached is not None:
            self.counters.not_modified += 1
            return cached.page
        if status == 200:
            body = self.read_body(url, response)
            page = _parse_page(body, url, _SERVER_FIX)
            if cache is not None:  # the body parsed, so it is UTF-8
                cache.store(url, response.headers.get("ETag"), response.headers.get("Last-Modified"), body.decode("utf-8"))
            return page
        return self.failure(url, response, first)

    def feed_answer(self, url: str, with_cursor: bool, response: httpx.Response) -> _FeedPage | Again:
        """A change feed page; 404 (no feed) and 400/410 (cursor refused) are doubt, not errors."""
        status = response.status_code
        if status == 200:
            return _parse_feed_page(self.read_body(url, response), response.headers.get("Date"), url)
        what = _status(response)
        if status == 404:
            raise _Doubt(f"{url}: {what}: the server has no change feed")
        if status in (400, 410):
            raise _Doubt(f"{url}: {what}: the server refused " + ("the cursor" if with_cursor else "to read the feed from its start"))
        return self.failure(url, response, first=False)

    def failure(self, url: str, response: httpx.Response, first: bool) -> Again:
        """Any other answer: an error, or ``Again`` for the transient ones (429 and 503 with their Retry-After)."""
        status = response.status_code
        what = _status(response)
        if status in (401, 403) and self.source.kind != "api":
            raise SourceError.at(url, f"{what}: the server refused access", "check [source] url, or ask the server's operator")
        if status in (401, 403):
            env = self.source.token_env
            fix = f"check the token in ${env}" if self.token else f"set the environment variable {env} to an API token"
            raise SourceError.at(url, f"{what}: the API refused access", fix)
        if status == 429 or status >= 500:
            wait = None
            if status in (429, 503):
                wait = _parse_retry_after(response.headers.get("Retry-After"), response.headers.get("Date"), self.now)
            return Again(what, "check the server's health, or raise [source] retries or backoff", wait)
        if status == 404 and first:
            raise SourceError.at(
                url,
                what,
                f"the base URL [source] url = {self.source.url!r} is probably wrong; "
                "it must be the API root, with /series, /events… below it",
            )
        raise SourceError.at(url, f"unexpected {what}", _SERVER_FIX)

    def read_body(self, url: str, response: httpx.Response) -> bytes:
        """The body, decoded here from the raw stream, so that no more than max_response_bytes of
        it is ever held whatever the Content-Encoding chain, and the budget is checked as it comes."""
        limit = self.source.max_response_bytes
        fix = "check [source] url, or raise [source] max_response_bytes (or lower page_size)"
        declared = response.headers.get("Content-Length", "").strip()
        if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
            raise SourceError.at(url, f"the response declares {clip(declared, 20)} bytes, more than max_response_bytes = {limit}", fix)
        coding = response.headers.get("Content-Encoding")
        raw: Iterable[bytes] = response.iter_raw() if not response.is_stream_consumed else [response.content]
        if response.is_stream_consumed:  # made in memory (a mock transport): httpx has read and decoded it already
            coding = None
        inflater = self.inflater(url, coding, limit)
        pieces: list[bytes] = []
        received = 0  # the encoded bytes are capped too: trailing data after a gzip stream is kept, not decoded
        try:
            for chunk in raw:
                self.counters.bytes_received += len(chunk)
                received += len(chunk)
                if received > limit:
                    raise TooLarge(received)
                pieces.extend(inflater.feed(chunk))
                self.check_deadline(url)  # a trickling body must not outlive the budget
            pieces.extend(inflater.finish())
        except TooLarge:
            decoded = f" once decoded (Content-Encoding: {clip(coding or '', 40)})" if coding else ""
            raise SourceError.at(url, f"the response exceeds max_response_bytes = {limit}{decoded}", fix) from None
        except zlib.error as exc:
            raise SourceError.at(
                url, f"the {clip(coding or '', 40)} encoded body is cut short or corrupt ({clip(str(exc))})", _SERVER_FIX
            ) from None
        return b"".join(pieces)

    def inflater(self, url: str, coding: str | None, limit: int) -> Inflater:
        try:
            return Inflater(parse_codings(coding), limit)
        except UnknownEncoding as exc:
            raise SourceError.at(
                url,
                f"the response has Content-Encoding {exc}, which sitegen does not decode",
                f"the server must answer Accept-Encoding: {ACCEPT_ENCODING} with one of those or none; report it to the API operator",
            ) from None


def _status(response: httpx.Response) -> str:
    """``HTTP 503 Service Unavailable``, the server's reason phrase clipped."""
    return f"HTTP {response.status_code} {clip(response.reason_phrase, 60)}".rstrip()
