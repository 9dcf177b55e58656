"""Reading a response body within bounds: decoded here from the raw stream, so that no more than
max_response_bytes of it is ever held whatever the Content-Encoding chain, and the fetch's
budget is checked as it comes."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sitegen.bounded import ACCEPT_ENCODING, Inflater, TooLarge, UnknownEncoding, parse_codings
from sitegen.errors import SourceError, clip
from sitegen.fetch.envelope import SERVER_FIX
from sitegen.fetch.session import Session

if TYPE_CHECKING:
    import httpx


def read_body(session: Session, url: str, response: httpx.Response) -> bytes:
    """The body, decoded here from the raw stream, so that no more than max_response_bytes of
    it is ever held whatever the Content-Encoding chain, and the budget is checked as it comes."""
    limit = session.source.max_response_bytes
    fix = "check [source] url, or raise [source] max_response_bytes (or lower page_size)"
    declared = response.headers.get("Content-Length", "").strip()
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise SourceError.at(url, f"the response declares {clip(declared, 20)} bytes, more than max_response_bytes = {limit}", fix)
    coding = response.headers.get("Content-Encoding")
    raw: Iterable[bytes] = response.iter_raw() if not response.is_stream_consumed else [response.content]
    if response.is_stream_consumed:  # made in memory (a mock transport): httpx has read and decoded it already
        coding = None
    inflater = _inflater(url, coding, limit)
    pieces: list[bytes] = []
    received = 0  # the encoded bytes are capped too: trailing data after a gzip stream is kept, not decoded
    try:
        for chunk in raw:
            session.counters.bytes_received += len(chunk)
            received += len(chunk)
            if received > limit:
                raise TooLarge(received)
            pieces.extend(inflater.feed(chunk))
            session.check_deadline(url)  # a trickling body must not outlive the budget
        pieces.extend(inflater.finish())
    except TooLarge:
        decoded = f" once decoded (Content-Encoding: {clip(coding or '', 40)})" if coding else ""
        raise SourceError.at(url, f"the response exceeds max_response_bytes = {limit}{decoded}", fix) from None
    except zlib.error as exc:
        raise SourceError.at(
            url, f"the {clip(coding or '', 40)} encoded body is cut short or corrupt ({clip(str(exc))})", SERVER_FIX
        ) from None
    return b"".join(pieces)


def _inflater(url: str, coding: str | None, limit: int) -> Inflater:
    try:
        return Inflater(parse_codings(coding), limit)
    except UnknownEncoding as exc:
        raise SourceError.at(
            url,
            f"the response has Content-Encoding {exc}, which sitegen does not decode",
            f"the server must answer Accept-Encoding: {ACCEPT_ENCODING} with one of those or none; report it to the API operator",
        ) from None
