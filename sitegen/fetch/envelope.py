"""Parsing one page of the API: the envelope ``{"data": [...], "next": ...}`` (and a change feed
page's ``cursor``), shared by local files, responses, the HTTP cache, the local copy and the feed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from sitegen.bounded import loads_json
from sitegen.errors import SourceError

#: The fix for anything the server sends that breaks the API contract.
SERVER_FIX = "the server does not follow the API contract; check [source] url or report it to the API operator"


class Page(NamedTuple):
    data: tuple[Mapping[str, Any], ...]
    next: str | None


class FeedPage(NamedTuple):
    page: Page
    cursor: str | None
    date: str | None  # the response's Date header: when the server issued the cursor


def parse_page(text: bytes | str, where: str, fix: str) -> Page:
    """Check the envelope ``{"data": [object, ...], "next": str | null}``; objects stay as sent."""
    return _envelope(_parse_json(text, where, fix), where, fix)


def parse_feed_page(text: bytes, date: str | None, where: str) -> FeedPage:
    """A change feed page: the page envelope plus ``cursor``, a string (null or absent is allowed
    on pages that are not the last)."""
    body = _parse_json(text, where, SERVER_FIX)
    page = _envelope(body, where, SERVER_FIX)
    cursor = body.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise SourceError.at(where, f"'cursor' must be a string, not {_json_type(cursor)}", SERVER_FIX)
    return FeedPage(page, cursor, date)


def _parse_json(text: bytes | str, where: str, fix: str) -> dict[str, Any]:
    body = loads_json(text, where, SourceError, fix)
    if not isinstance(body, dict):
        raise SourceError.at(where, f'must be a JSON object {{"data": [...], "next": ...}}, not {_json_type(body)}', fix)
    return body


def _envelope(body: dict[str, Any], where: str, fix: str) -> Page:
    if "data" not in body:
        raise SourceError.at(where, 'has no \'data\' key: it must be a JSON object {"data": [...], "next": ...}', fix)
    data = body["data"]
    if not isinstance(data, list):
        raise SourceError.at(where, f"'data' must be an array, not {_json_type(data)}", fix)
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise SourceError.at(where, f"data[{index}] must be an object, not {_json_type(item)}", fix)
    following = body.get("next")  # a missing key means null, as everywhere in the contract
    if following is not None and not isinstance(following, str):
        raise SourceError.at(where, f"'next' must be a URL string or null, not {_json_type(following)}", fix)
    return Page(tuple(data), following)


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
