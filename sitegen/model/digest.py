"""``source_digest``: a short digest of a raw object's data, what a rebuild
compares to learn which objects changed; ``zone_rules_digest``: what else an
object's local times come from."""

from __future__ import annotations

import hashlib
import marshal
import os
import zoneinfo
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

import orjson


def source_digest(raw: Any) -> str:
    """A digest of a raw object's data. orjson is the quickest way to bytes; what
    it refuses (lone surrogates, huge integers, nesting past 1,024 levels) goes
    through marshal, whose version 2 writes no back-references, so equal data
    gives equal bytes however its objects are shared. What marshal refuses
    (nesting past its 2,000 levels, a Mapping of another type) is walked."""
    try:
        data = orjson.dumps(raw)
    except orjson.JSONEncodeError:
        try:
            data = marshal.dumps(raw, 2)
        except ValueError:
            return _walked_digest(raw)
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _walked_digest(raw: Any) -> str:
    """A digest of any JSON-like value, walked with a stack of its own, so no
    nesting is too deep. Each item is tagged with its kind and length."""
    digest = hashlib.blake2b(digest_size=16)
    stack = [raw]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            digest.update(b"{%d;" % len(item))
            for key, value in reversed(list(item.items())):
                stack += (value, key)  # the key comes off the stack first
        elif isinstance(item, list | tuple):
            digest.update(b"[%d;" % len(item))
            stack.extend(reversed(item))
        elif isinstance(item, str):
            data = item.encode("utf-8", "surrogatepass")
            digest.update(b"s%d;" % len(data) + data)
        elif isinstance(item, int) and not isinstance(item, bool):
            data = item.to_bytes(item.bit_length() // 8 + 1, "big", signed=True)  # str() refuses 4,300+ digits
            digest.update(b"i%d;" % len(data) + data)
        else:  # None, booleans, floats
            data = repr(item).encode()
            digest.update(b"r%d;" % len(data) + data)
    return digest.hexdigest()


#: The most bytes read of one zone's rules (the largest IANA zone file is a few kilobytes).
_MAX_ZONE_BYTES = 1 << 20


def zone_rules_digest(names: Iterable[str]) -> str:
    """A digest of the rules of these IANA zones as this machine has them: the files
    ``zoneinfo`` reads (``zoneinfo.TZPATH``'s, else the ``tzdata`` package's). A session's
    local day and time come from them, not from its raw data: an update of the zone
    database must render and index again what it moves. ``names`` are zones the contract
    accepted (``contract.limits.place_timezones``)."""
    hasher = hashlib.blake2b(digest_size=16)
    for name in sorted(set(names)):
        hasher.update(f"{len(name)}:{name}".encode("utf-8", "surrogatepass") + _zone_bytes(name))
    return hasher.hexdigest()


def _zone_bytes(name: str) -> bytes:
    parts = name.split("/")
    if not name or name.startswith("/") or any(part in ("", ".", "..") for part in parts):
        return b"-"  # (not a zone key; the contract accepts none such)
    for folder in zoneinfo.TZPATH:
        try:
            with open(os.path.join(folder, *parts), "rb") as file:
                data = file.read(_MAX_ZONE_BYTES)
        except OSError:
            continue
        return b"%d:" % len(data) + data
    try:
        data = resources.files("tzdata.zoneinfo").joinpath(*parts).read_bytes()[:_MAX_ZONE_BYTES]
    except (ImportError, OSError, ValueError):
        return b"?"
    return b"t%d:" % len(data) + data
