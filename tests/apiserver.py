"""A real HTTP server speaking the event data API contract, for tests.

Standard library only: a ``ThreadingHTTPServer`` on 127.0.0.1 (a free port)
in a background thread. It serves collections from memory with pagination
(``page_size``/``page``; ``next`` links rotate through absolute, root-relative,
path-relative and query-only forms so clients must resolve them properly),
strong ETags with ``304`` on ``If-None-Match``, optional ``Last-Modified``,
``updated_since`` filtering by ``updated_at``, an optional change feed
(``/changes?since=<cursor>``, paginated, cursors that can be expired), an
optional bearer token, and programmable faults per collection (the feed's
faults are under the name ``"changes"``). Every request is recorded.

    from apiserver import ApiServer, Fault

    with ApiServer({"events": [{"id": "e1"}]}) as api:
        api.add_fault("events", Fault(status=503, times=2))
        fetch(api.url)                      # e.g. http://127.0.0.1:40123/api/v1
        assert api.count("/api/v1/events") == 3

Collections the server was not given are served empty, so a client that reads
all six contract collections works with only the ones a test cares about.

The change feed records every change made through ``upsert``, ``delete`` and
``set_collection`` (the initial data counts as upserted), so a test changes the
data the way an API user would and the feed stays truthful:

    with ApiServer(data, change_feed=True, clock=lambda: now[0]) as api:
        api.upsert("sessions", {"id": "x1", "title": "New"})   # stamps updated_at
        api.delete("people", "p2")
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

CONTRACT_COLLECTIONS = ("series", "venues", "topics", "people", "events", "sessions")
#: The change feed's ``type`` per collection (the contract's singular names).
FEED_TYPES = {"series": "series", "venues": "venue", "topics": "topic", "people": "person", "events": "event", "sessions": "session"}


@dataclass
class Fault:
    """How to misbehave for the next ``times`` requests of one collection (``times=None``: forever).

    Faults of a collection are used in the order they were added; each one is
    consumed request by request, then the next applies, then normal service.
    """

    times: int | None = 1
    #: Answer with this status (and a small JSON error body) instead of the page.
    status: int | None = None
    #: ``Retry-After`` value to send with it, e.g. ``"2"`` or an HTTP date.
    retry_after: str | None = None
    #: Sleep this long before answering (to trip a client's read timeout).
    delay: float = 0.0
    #: Send these bytes as the body instead of the page (status 200 unless ``status`` is set).
    body: bytes | None = None
    content_type: str = "application/json"
    #: More headers to send with it, e.g. ``{"Content-Encoding": "gzip"}``.
    headers: Mapping[str, str] = field(default_factory=dict)
    #: Send the body chunked, without Content-Length.
    chunked: bool = False
    #: Make the page's ``next`` point back to the first page of the collection.
    loop: bool = False


@dataclass
class RecordedRequest:
    """One request, recorded when it arrives (so a client that gave up is still counted)."""

    method: str
    #: Path and query as sent, e.g. ``/api/v1/events?page_size=2``.
    target: str
    #: Header names lower-cased.
    headers: Mapping[str, str]
    #: The status answered; None while the answer is still pending (e.g. a slow fault).
    status: int | None = None

    @property
    def path(self) -> str:
        return urlsplit(self.target).path


@dataclass
class _State:
    collections: dict[str, list[dict[str, Any]]]
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: The change feed: (type, id, op), oldest first; a cursor is a position in it.
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    #: Cursors before this position are expired (410), as after the server compacted its log.
    horizon: int = 0


class ApiServer:
    """The contract server; use it as a context manager (it starts on ``__enter__``)."""

    def __init__(
        self,
        collections: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
        *,
        base_path: str = "/api/v1",
        default_page_size: int = 100,
        token: str | None = None,
        last_modified: str | None = None,
        change_feed: bool = False,
        feed_page_size: int = 100,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.base_path = "/" + base_path.strip("/")
        self.default_page_size = default_page_size
        #: When set, every request must carry ``Authorization: Bearer <token>`` or gets 401.
        self.token = token
        #: When set, pages carry this ``Last-Modified`` and honour ``If-Modified-Since``.
        self.last_modified = last_modified
        #: Serve ``/changes``; without it that path is a 404, as the contract says for a server without a feed.
        self.change_feed = change_feed
        self.feed_page_size = feed_page_size
        #: The server's clock: the ``Date`` header and the ``updated_at`` that ``upsert`` stamps.
        self.clock = clock
        #: Cursors name this server instance, so one from another server is refused (400).
        self._epoch = secrets.token_hex(4)
        #: Called with each request before it is answered, e.g. to change the data mid-fetch.
        self.on_request: Callable[[RecordedRequest], None] | None = None
        data: dict[str, list[dict[str, Any]]] = {name: [] for name in CONTRACT_COLLECTIONS}
        data.update({name: [dict(item) for item in items] for name, items in (collections or {}).items()})
        self._state = _State(data)
        for name, items in data.items():
            self._state.changes.extend(_feed_entries(name, items, "upsert"))
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --

    def __enter__(self) -> ApiServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"api": self})
        self._httpd = _QuietServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            assert self._thread is not None
            self._thread.join(timeout=5)
            self._httpd = self._thread = None

    # -- addresses --

    @property
    def origin(self) -> str:
        assert self._httpd is not None, "the server is not running"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def url(self) -> str:
        """The API base URL, without a trailing slash."""
        return self.origin + self.base_path

    # -- programming it --

    def set_collection(self, name: str, items: Iterable[Mapping[str, Any]]) -> None:
        """Replace a collection as is; the feed gets a delete for each id that went and an
        upsert for each one that is new or different."""
        new = [dict(item) for item in items]
        with self._state.lock:
            old = {item.get("id"): item for item in self._state.collections.get(name, [])}
            ids = {item.get("id") for item in new}
            self._state.changes.extend(_feed_entries(name, [item for oid, item in old.items() if oid not in ids], "delete"))
            self._state.changes.extend(_feed_entries(name, [item for item in new if old.get(item.get("id")) != item], "upsert"))
            self._state.collections[name] = new

    def upsert(self, name: str, item: Mapping[str, Any], *, stamp: bool = True) -> dict[str, Any]:
        """Change the object with this id in place (or append it) and record the change. With
        ``stamp``, ``updated_at`` becomes the server clock's now, as a real API would set it."""
        new = dict(item)
        if stamp:
            new["updated_at"] = self.clock().astimezone(UTC).isoformat().replace("+00:00", "Z")
        with self._state.lock:
            items = self._state.collections.setdefault(name, [])
            at = next((i for i, old in enumerate(items) if old.get("id") == new["id"]), None)
            if at is None:
                items.append(new)
            else:
                items[at] = new
            self._state.changes.extend(_feed_entries(name, [new], "upsert"))
        return new

    def delete(self, name: str, item_id: str) -> None:
        with self._state.lock:
            items = self._state.collections[name]
            gone = [item for item in items if item.get("id") == item_id]
            assert gone, f"no {name} with id {item_id!r}"
            items[:] = [item for item in items if item.get("id") != item_id]
            self._state.changes.extend(_feed_entries(name, gone, "delete"))

    def expire_cursors(self) -> None:
        """Every cursor handed out so far is answered with 410 Gone from now on."""
        with self._state.lock:
            self._state.horizon = len(self._state.changes)

    def add_fault(self, name: str, fault: Fault) -> None:
        with self._state.lock:
            self._state.faults.setdefault(name, []).append(fault)

    # -- what happened --

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    def count(self, path: str | None = None, status: int | None = None) -> int:
        """How many requests had this exact path (any query) and/or this status."""
        return sum(1 for r in self.requests if (path is None or r.path == path) and (status is None or r.status == status))

    def clear_requests(self) -> None:
        with self._state.lock:
            self._state.requests.clear()

    # -- used by the handler --

    def _take_fault(self, name: str) -> Fault | None:
        with self._state.lock:
            queue = self._state.faults.get(name, [])
            while queue:
                fault = queue[0]
                if fault.times is None:
                    return fault
                if fault.times > 0:
                    fault.times -= 1
                    return fault
                queue.pop(0)
            return None

    def _page(self, name: str, page: int, size: int, since: datetime | None = None) -> tuple[list[dict[str, Any]], bool] | None:
        """One page of the collection (of objects updated at or after ``since``), and whether more follow."""
        with self._state.lock:
            items = self._state.collections.get(name)
            if items is None:
                return None
            chosen = [item for item in items if since is None or _updated_since(item, since)]
            return chosen[(page - 1) * size : page * size], page * size < len(chosen)

    def _changes(self, since: str | None) -> tuple[int, dict[str, Any]]:
        """The change feed page starting at cursor ``since``: (status, body)."""
        with self._state.lock:
            log, horizon = self._state.changes, self._state.horizon
            if since is None:  # from the start of what the server still keeps
                start = horizon
            else:
                epoch, _, position = since.partition("-")
                if epoch != self._epoch or not position.isdigit() or int(position) > len(log):
                    return 400, {"error": f"not a cursor of this server: {since!r}"}
                start = int(position)
            if start < horizon:
                return 410, {"error": "the cursor has expired; read everything again"}
            end = min(start + self.feed_page_size, len(log))
            data = [{"type": kind, "id": oid, "op": op} for kind, oid, op in log[start:end]]
        cursor = f"{self._epoch}-{end}"
        following = self.base_path + "/changes?" + urlencode({"since": cursor}) if end < len(log) else None
        return 200, {"data": data, "next": following, "cursor": cursor}

    def _record(self, request: RecordedRequest) -> None:
        with self._state.lock:
            self._state.requests.append(request)

    def _next_link(self, name: str, page: int, size: int, since: str | None = None) -> str:
        """Link to ``page``, in one of four forms chosen by the page number."""
        query = "?" + urlencode({"page_size": size, "page": page, **({"updated_since": since} if since else {})})
        collection_path = f"{self.base_path}/{name}"
        forms = (self.origin + collection_path + query, collection_path + query, name + query, query)
        return forms[page % len(forms)]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out and hang up are expected here, not failures of the server


class _Handler(BaseHTTPRequestHandler):
    api: ApiServer  # set on the subclass made per server
    protocol_version = "HTTP/1.1"
    #: Buffer the answer so headers and body leave in one write (else Nagle + delayed ACK cost ~40 ms each).
    wbufsize = -1

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header, from the server's (injectable) clock."""
        return formatdate(self.api.clock().timestamp() if timestamp is None else timestamp, usegmt=True)

    def do_GET(self) -> None:
        self._record = RecordedRequest("GET", self.path, {k.lower(): v for k, v in self.headers.items()})
        self.api._record(self._record)
        if self.api.on_request is not None:
            self.api.on_request(self._record)
        self._serve()

    def _serve(self) -> int:
        """Answer the request; returns the status sent."""
        api = self.api
        parts = urlsplit(self.path)
        prefix = api.base_path + "/"
        name = parts.path[len(prefix) :] if parts.path.startswith(prefix) else None
        if api.token is not None and self.headers.get("Authorization") != f"Bearer {api.token}":
            return self._send(401, _error("missing or wrong bearer token"), headers={"WWW-Authenticate": "Bearer"})
        fault = api._take_fault(name) if name else None
        if fault and fault.delay:
            time.sleep(fault.delay)
        if fault and (fault.status is not None or fault.body is not None):
            headers = {**fault.headers, **({"Retry-After": fault.retry_after} if fault.retry_after is not None else {})}
            body = fault.body if fault.body is not None else _error(f"injected {fault.status}")
            return self._send(fault.status or 200, body, fault.content_type, headers, chunked=fault.chunked)
        query = parse_qs(parts.query)
        if name == "changes" and api.change_feed:
            status, feed = api._changes(query["since"][0] if "since" in query else None)
            return self._send(status, json.dumps(feed).encode("utf-8"))
        size = int(query.get("page_size", [api.default_page_size])[0])
        page = int(query.get("page", ["1"])[0])
        since_text = query["updated_since"][0] if "updated_since" in query else None
        since = _timestamp(since_text) if since_text is not None else None
        if since_text is not None and since is None:
            return self._send(400, _error(f"updated_since is not an RFC 3339 timestamp: {since_text!r}"))
        found = api._page(name, page, size, since) if name else None
        if found is None or name is None:
            return self._send(404, _error(f"no collection at {parts.path}"))
        items, more = found
        if fault and fault.loop:
            following: str | None = api._next_link(name, 1, size, since_text)
        else:
            following = api._next_link(name, page + 1, size, since_text) if more else None
        body = json.dumps({"data": items, "next": following}).encode("utf-8")
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {"ETag": etag, **({"Last-Modified": api.last_modified} if api.last_modified else {})}
        if self._not_modified(etag):
            return self._send(304, b"", headers=headers)
        return self._send(200, body, headers=headers, chunked=bool(fault and fault.chunked))

    def _not_modified(self, etag: str) -> bool:
        match = self.headers.get("If-None-Match")
        if match is not None:  # If-None-Match wins over If-Modified-Since (RFC 9110)
            return match.strip() == "*" or etag in (tag.strip() for tag in match.split(","))
        since = self.headers.get("If-Modified-Since")
        return since is not None and since == self.api.last_modified

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
        chunked: bool = False,
    ) -> int:
        self._record.status = status
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if status == 304:
            self.end_headers()
            return status
        self.send_header("Content-Type", content_type)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(body), 16384):
                piece = body[start : start + 16384]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        return status


def _error(message: str) -> bytes:
    return json.dumps({"error": message}).encode("utf-8")


def _feed_entries(name: str, items: Iterable[Mapping[str, Any]], op: str) -> list[tuple[str, str, str]]:
    """Feed entries for objects of a contract collection (others, like the API extension's, have no feed)."""
    kind = FEED_TYPES.get(name)
    return [(kind, item["id"], op) for item in items if kind and isinstance(item.get("id"), str)]


def _timestamp(text: Any) -> datetime | None:
    """An RFC 3339 timestamp with an offset, else None."""
    try:
        moment = datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def _updated_since(item: Mapping[str, Any], since: datetime) -> bool:
    """``updated_at >= since``; an object without a readable ``updated_at`` is always listed, as the cautious reading."""
    updated = _timestamp(item.get("updated_at"))
    return updated is None or updated >= since
