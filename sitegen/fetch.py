"""The fetch stage: read the raw event data from the JSON API or a local folder.

The result is the API's objects, untouched and in server order; checking them
against the contract is the model stage's job. Everything here is about getting
the bytes reliably: pagination, bounded retries, a budget for the whole fetch,
a size cap per response, and an on-disk ETag cache so that rebuilding against
an unchanged API costs only ``304 Not Modified`` answers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urldefrag, urlencode, urljoin, urlsplit, urlunsplit

import httpx

from sitegen import __version__
from sitegen.config import SourceConfig
from sitegen.errors import SourceError

COLLECTIONS: tuple[str, ...] = ("series", "venues", "topics", "people", "events", "sessions")

_SERVER_FIX = "the server does not follow the API contract; check [source] url or report it to the API operator"


@dataclass(frozen=True)
class FetchStats:
    requests: int = 0  # HTTP requests sent (retries included); 0 for a folder source
    not_modified: int = 0  # 304 answers served from the on-disk cache
    retries: int = 0
    bytes_received: int = 0  # response body bytes (after content decoding)


@dataclass(frozen=True)
class RawArchive:
    #: Every name in COLLECTIONS -> its objects, in server order across pages.
    collections: Mapping[str, tuple[Mapping[str, Any], ...]]
    stats: FetchStats
    source: str  # the URL or folder it came from, for messages


def fetch_archive(
    source: SourceConfig,
    *,
    root: Path,
    cache_dir: Path,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    environ: Mapping[str, str] = os.environ,
    collections: tuple[str, ...] = COLLECTIONS,
) -> RawArchive:
    """Read every collection from ``source``; raise SourceError on any failure.

    ``clock`` (monotonic) enforces the total timeout; ``now`` (wall clock) is
    used only to read a ``Retry-After`` date when the response has no ``Date``.
    """
    if not source.is_http:
        return _read_folder(root / source.url, collections)
    own_client = client is None
    http = client if client is not None else _make_client(source)
    try:
        fetcher = _HttpFetcher(source, http, _HttpCache(cache_dir / "http"), sleep, clock, now, environ.get(source.token_env) or None)
        fetched = {name: fetcher.collection(name) for name in collections}
        fetcher.cache.prune()
    finally:
        if own_client:
            http.close()
    return RawArchive(fetched, fetcher.counters.freeze(), source.url)


# --- the local folder form -------------------------------------------------------


def _read_folder(folder: Path, collections: tuple[str, ...]) -> RawArchive:
    if not folder.is_dir():
        raise SourceError.at(str(folder), "is not a folder", "point [source] url at a folder holding <collection>.json files")
    read = {name: _read_collection_file(folder / f"{name}.json") for name in collections}
    return RawArchive(read, FetchStats(), str(folder))


def _read_collection_file(path: Path) -> tuple[Mapping[str, Any], ...]:
    fix = 'write it as {"data": [...], "next": null}'
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError.at(str(path), "is missing", f"create it ({fix}) or point [source] url at the right folder") from None
    except UnicodeDecodeError as exc:
        raise SourceError.at(str(path), f"is not UTF-8 (bad byte at offset {exc.start})", "save it as UTF-8") from None
    except OSError as exc:
        raise SourceError.at(str(path), f"cannot be read: {exc.strerror or exc}", "check its permissions") from None
    page = _parse_page(text, str(path), fix)
    if page.next is not None:
        raise SourceError.at(str(path), "has a non-null 'next'; a local file holds the whole collection", 'set "next": null')
    return page.data


# --- parsing one page (shared by files, responses and the cache) -------------------


class _Page(NamedTuple):
    data: tuple[Mapping[str, Any], ...]
    next: str | None


def _parse_page(text: str, where: str, fix: str) -> _Page:
    """Check the envelope ``{"data": [object, ...], "next": str | null}``; objects stay as sent."""
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError.at(where, f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", fix) from None
    except RecursionError:  # untrusted input must not crash sitegen
        raise SourceError.at(where, "is JSON nested too deeply to read", fix) from None
    if not isinstance(body, dict):
        raise SourceError.at(where, f'must be a JSON object {{"data": [...], "next": ...}}, not {_json_type(body)}', fix)
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
    return httpx.Client(
        timeout=_timeouts(source, budget=source.total_timeout),
        follow_redirects=True,
        headers={"User-Agent": f"sitegen/{__version__}", "Accept": "application/json"},
    )


def _timeouts(source: SourceConfig, budget: float) -> httpx.Timeout:
    """The configured timeouts, each clipped to what is left of the whole fetch's budget."""
    connect, read = min(source.connect_timeout, budget), min(source.read_timeout, budget)
    return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)


def _collection_url(base: str, name: str, page_size: int) -> str:
    """``<base>/<name>?page_size=N``, whether or not ``base`` ends in '/' or has a query."""
    parts = urlsplit(base)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), ("page_size", str(page_size))])
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/" + name, query, ""))


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class _Retry(NamedTuple):
    """A failed attempt worth repeating: why, how long the server asked us to wait, the fix if we give up."""

    reason: str
    wait: float | None
    fix: str


@dataclass
class _Counters:
    requests: int = 0
    not_modified: int = 0
    retries: int = 0
    bytes_received: int = 0

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
            entry = json.loads(self.path(url).read_text(encoding="utf-8"))
            etag, last_modified, body = entry["etag"], entry["last_modified"], entry["body"]
            if entry["url"] != url or not isinstance(body, str) or not (etag or last_modified):
                return None
            if not all(v is None or isinstance(v, str) for v in (etag, last_modified)):
                return None
            return _CacheEntry(etag, last_modified, _parse_page(body, url, ""))
        except (OSError, ValueError, KeyError, TypeError, RecursionError, SourceError):
            return None  # absent or corrupt: fetch unconditionally and overwrite it

    def store(self, url: str, etag: str | None, last_modified: str | None, body: str) -> None:
        path = self.path(url)
        try:
            if not (etag or last_modified):
                path.unlink(missing_ok=True)  # an old validator would only make the server answer 200 anyway
                return
            self.folder.mkdir(parents=True, exist_ok=True)
            entry = {"url": url, "etag": etag, "last_modified": last_modified, "body": body}
            fd, temp = tempfile.mkstemp(dir=self.folder, prefix=f".{path.stem}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as file:
                    json.dump(entry, file, ensure_ascii=False, sort_keys=True)
                os.replace(temp, path)  # readers see the old entry or the new one, never half of one
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise SourceError.at(str(path), f"cannot write the HTTP cache: {exc.strerror or exc}", "make [build] cache_dir writable") from None


class _HttpFetcher:
    """One fetch: the client, the deadline for the whole run, the cache and the counters."""

    def __init__(self, source: SourceConfig, client: httpx.Client, cache: _HttpCache,
                 sleep: Callable[[float], None], clock: Callable[[], float], now: Callable[[], datetime],
                 token: str | None) -> None:
        self.source, self.client, self.cache = source, client, cache
        self.sleep, self.clock, self.now, self.token = sleep, clock, now, token
        self.deadline = clock() + source.total_timeout
        self.counters = _Counters()

    def collection(self, name: str) -> tuple[Mapping[str, Any], ...]:
        """All objects of one collection, following ``next`` links until null."""
        url = _collection_url(self.source.url, name, self.source.page_size)
        seen = {url}
        items: list[Mapping[str, Any]] = []
        while True:
            page = self.page(url, first=len(seen) == 1)
            items.extend(page.data)
            if page.next is None:
                return tuple(items)
            following = urldefrag(urljoin(url, page.next)).url  # a fragment is never sent, so it cannot hide a loop
            if urlsplit(following).scheme not in ("http", "https"):
                raise SourceError.at(url, f"'next' is not an http(s) URL: {page.next!r}", _SERVER_FIX)
            if following in seen:
                raise SourceError.at(url, f"'next' points back to {following}, a page of {name} already read (a loop)", _SERVER_FIX)
            seen.add(following)
            url = following

    def page(self, url: str, *, first: bool) -> _Page:
        """One page, retried with exponential backoff (or the server's Retry-After) on transient failures."""
        cached = self.cache.load(url)
        attempt = 0
        while True:
            self.check_deadline(url)
            outcome = self.attempt(url, cached, first)
            if isinstance(outcome, _Page):
                return outcome
            self.check_deadline(url)
            if attempt >= self.source.retries:
                raise SourceError.at(url, f"failed after {attempt + 1} attempt(s); last: {outcome.reason}", outcome.fix)
            wait = outcome.wait if outcome.wait is not None else self.source.backoff * 2**attempt
            if self.clock() + wait > self.deadline:
                raise SourceError.at(
                    url, f"{outcome.reason}; waiting {wait:g} s to retry would exceed total_timeout = {self.source.total_timeout:g} s",
                    "raise [source] total_timeout, or try again when the server is healthy")
            if wait > 0:
                self.sleep(wait)
            attempt += 1
            self.counters.retries += 1

    def check_deadline(self, url: str) -> None:
        if self.clock() >= self.deadline:
            raise SourceError.at(url, f"the fetch took longer than total_timeout = {self.source.total_timeout:g} s",
                                 "raise [source] total_timeout, or check why the server is slow")

    def headers(self, url: str, cached: _CacheEntry | None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.token and _origin(url) == _origin(self.source.url):  # never hand the token to another host
            headers["Authorization"] = f"Bearer {self.token}"
        if cached and cached.etag:
            headers["If-None-Match"] = cached.etag
        if cached and cached.last_modified:
            headers["If-Modified-Since"] = cached.last_modified
        return headers

    def attempt(self, url: str, cached: _CacheEntry | None, first: bool) -> _Page | _Retry:
        self.counters.requests += 1
        timeout = _timeouts(self.source, budget=max(self.deadline - self.clock(), 0.001))
        try:
            with self.client.stream("GET", url, headers=self.headers(url, cached), timeout=timeout) as response:
                return self.answer(url, response, cached, first)
        except httpx.TransportError as exc:
            return self.transport_failure(exc)
        except (httpx.RequestError, httpx.InvalidURL) as exc:  # bad encoding, redirect loops, bad URLs: retrying won't help
            raise SourceError.at(url, f"request failed: {exc}", _SERVER_FIX) from None

    def transport_failure(self, exc: httpx.TransportError) -> _Retry:
        s = self.source
        if isinstance(exc, (httpx.ReadTimeout, httpx.WriteTimeout)):
            return _Retry(f"no answer within read_timeout = {s.read_timeout:g} s", None,
                          "check the server, or raise [source] read_timeout or retries")
        if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
            return _Retry(f"could not connect within connect_timeout = {s.connect_timeout:g} s", None,
                          "check that the server is reachable, or raise [source] connect_timeout or retries")
        return _Retry(f"{type(exc).__name__}: {str(exc) or 'connection failed'}", None,
                      "check that [source] url is right and the server is up, or raise [source] retries")

    def answer(self, url: str, response: httpx.Response, cached: _CacheEntry | None, first: bool) -> _Page | _Retry:
        status = response.status_code
        what = f"HTTP {status} {response.reason_phrase}".rstrip()
        if status == 304 and cached is not None:
            self.counters.not_modified += 1
            return cached.page
        if status == 200:
            text = self.read_text(url, response)
            page = _parse_page(text, url, _SERVER_FIX)
            self.cache.store(url, response.headers.get("ETag"), response.headers.get("Last-Modified"), text)
            return page
        if status in (401, 403):
            env = self.source.token_env
            fix = f"check the token in ${env}" if self.token else f"set the environment variable {env} to an API token"
            raise SourceError.at(url, f"{what}: the API refused access", fix)
        if status == 429 or status >= 500:
            return _Retry(what, self.retry_after(url, response, what), "check the server's health, or raise [source] retries or backoff")
        if status == 404 and first:
            raise SourceError.at(url, what, f"the base URL [source] url = {self.source.url!r} is probably wrong; "
                                 "it must be the API root, with /series, /events… below it")
        raise SourceError.at(url, f"unexpected {what}", _SERVER_FIX)

    def retry_after(self, url: str, response: httpx.Response, what: str) -> float | None:
        """The server's requested wait for 429/503 (None: use our backoff); too long a wait fails at once."""
        if response.status_code not in (429, 503):
            return None
        wait = _parse_retry_after(response.headers.get("Retry-After"), response.headers.get("Date"), self.now)
        if wait is not None and wait > self.source.max_retry_after:
            raise SourceError.at(url, f"{what} asks to wait {wait:g} s (Retry-After), more than max_retry_after = {self.source.max_retry_after:g} s",
                                 "try again later, or raise [source] max_retry_after")
        return wait

    def read_text(self, url: str, response: httpx.Response) -> str:
        """The body, streamed so an oversized one is refused before it fills memory."""
        limit = self.source.max_response_bytes
        fix = "check [source] url, or raise [source] max_response_bytes (or lower page_size)"
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise SourceError.at(url, f"the response declares {declared} bytes, more than max_response_bytes = {limit}", fix)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            self.counters.bytes_received += len(chunk)
            if size > limit:
                raise SourceError.at(url, f"the response exceeds max_response_bytes = {limit}", fix)
            self.check_deadline(url)  # a trickling body must not outlive the budget
            chunks.append(chunk)
        try:
            return b"".join(chunks).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SourceError.at(url, f"the body is not UTF-8 (bad byte at offset {exc.start})", _SERVER_FIX) from None


def _parse_retry_after(value: str | None, date: str | None, now: Callable[[], datetime]) -> float | None:
    """Seconds to wait from ``Retry-After``: delay-seconds, or an HTTP date (against the response's
    ``Date`` when present, so a skewed local clock does not matter). None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if 0 <= seconds < float("inf") else None
    when = _http_date(value)
    if when is None:
        return None
    reference = _http_date(date) or now()
    return max((when - reference).total_seconds(), 0.0)


def _http_date(value: str | None) -> datetime | None:
    try:
        moment = parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=timezone.utc)
