"""The dev server's HTTP/1.1 connections: uvicorn's h11 protocol with two
bounds it lacks, so a page (or a script) cannot wear the server down:

* a request's line and headers are at most ``MAX_HEADER_BYTES``; more is
  answered ``431`` and the connection closed (h11 stops buffering there);
* a connection must complete a request's headers within ``HEADER_TIMEOUT``
  seconds of opening or of its previous response, or it is closed. Without
  this, a few hundred half-sent requests hold every connection slot
  (``limit_concurrency``) for good and every real request gets 503.

A request whose headers are in (a page loading, a reload stream) is never cut.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

#: The most bytes of a request line and headers (a browser sends a few KB).
MAX_HEADER_BYTES = 64 * 1024
#: Seconds a connection may take to send a request's headers.
HEADER_TIMEOUT = 5.0
#: Seconds an idle keep-alive connection stays open after a response.
KEEP_ALIVE = 5


class GuardedH11(H11Protocol):
    """H11Protocol with a header size limit answered 431 and a header deadline."""

    header_timeout = HEADER_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting = 0  # bytes received since the last request's headers were complete
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_request()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._in_request():
            self._waiting += len(data)
        super().data_received(data)
        if self._in_request():
            self._waiting = 0
            self._cancel_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._await_request()

    def send_400_response(self, msg: str) -> None:
        """h11 refused the request: 431 when it was refused for its size."""
        if self._waiting > MAX_HEADER_BYTES:
            self._refuse(431, b"Request Header Fields Too Large", b"request headers too large\n")
        else:
            self._refuse(400, b"Bad Request", msg.encode("ascii", "replace"))

    # --- the bounds ---------------------------------------------------------------------

    def _in_request(self) -> bool:
        """A request's headers are in and its response is not finished."""
        return self.cycle is not None and not self.cycle.response_complete

    def _await_request(self) -> None:
        self._cancel_deadline()
        self._waiting = 0
        self._deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self._in_request() and not self.transport.is_closing():
            self.transport.close()

    def _refuse(self, status: int, reason: bytes, body: bytes) -> None:
        self._cancel_deadline()
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
        try:
            for event in (h11.Response(status_code=status, headers=headers, reason=reason), h11.Data(data=body), h11.EndOfMessage()):
                self.transport.write(self.conn.send(event) or b"")
        except h11.LocalProtocolError:
            pass  # a response had begun already: just close
        self.transport.close()
