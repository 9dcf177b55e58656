"""``source_digest``: a short digest of a raw object's data, what a rebuild
compares to learn which objects changed."""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Mapping
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
