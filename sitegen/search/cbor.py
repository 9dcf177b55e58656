"""The little CBOR Pagefind writes (RFC 8949, definite lengths only): unsigned
and negative integers, byte and text strings, arrays, maps, and the simple
values false, true and null. Enough to read and rewrite Pagefind's filter and
meta files (``search.bundle``); bounded in depth and item count, as the bytes
come from a program we run, not from us."""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 16
MAX_ITEMS = 10_000_000


class CborError(ValueError):
    """Bytes that are not the CBOR this module reads."""


def decode(data: bytes) -> Any:
    """The one item ``data`` holds."""
    reader = _Reader(data)
    value = reader.item(0)
    if reader.pos != len(data):
        raise CborError(f"{len(data) - reader.pos} trailing byte(s)")
    return value


def decode_prefix(data: bytes) -> tuple[Any, int]:
    """The first item of ``data``, and where it ends."""
    reader = _Reader(data)
    return reader.item(0), reader.pos


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos, self.items = data, 0, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise CborError("truncated")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def head(self) -> tuple[int, int]:
        byte = self.take(1)[0]
        major, info = byte >> 5, byte & 0x1F
        if info < 24:
            return major, info
        if info in (24, 25, 26, 27):
            return major, int.from_bytes(self.take(1 << (info - 24)), "big")
        raise CborError(f"unsupported additional information {info}")

    def item(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise CborError("nested too deeply")
        self.items += 1
        if self.items > MAX_ITEMS:
            raise CborError("too many items")
        major, arg = self.head()
        if major == 0:
            return arg
        if major == 1:
            return -1 - arg
        if major == 2:
            return self.take(arg)
        if major == 3:
            return self.take(arg).decode("utf-8")
        if major == 4:
            return [self.item(depth + 1) for _ in range(self._count(arg))]
        if major == 5:
            return dict(self._pair(depth) for _ in range(self._count(arg)))
        if major == 7 and arg in _SIMPLE:
            return _SIMPLE[arg]
        raise CborError(f"unsupported major type {major}")

    def _count(self, arg: int) -> int:
        if arg > len(self.data) - self.pos:  # every item takes a byte at least
            raise CborError("a length past the end")
        return arg

    def _pair(self, depth: int) -> tuple[Any, Any]:
        key = self.item(depth + 1)
        if isinstance(key, (list, dict)):
            raise CborError("a map key that is not a scalar")
        return key, self.item(depth + 1)


_SIMPLE: dict[int, Any] = {20: False, 21: True, 22: None}


def encode(value: Any) -> bytes:
    """CBOR for ``value``, with the shortest heads (as Pagefind writes them)."""
    out = bytearray()
    _encode(value, out, 0)
    return bytes(out)


def encode_text(value: str) -> bytes:
    """``encode`` of a string (a word: most are short), without the general walk."""
    raw = value.encode("utf-8")
    if len(raw) < len(_TEXTS):
        return _TEXTS[len(raw)] + raw
    head = bytearray()
    _head(3, len(raw), head)
    return bytes(head) + raw


def _head(major: int, arg: int, out: bytearray) -> None:
    if arg < 24:
        out.append(major << 5 | arg)
        return
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * size):
            out.append(major << 5 | info)
            out += arg.to_bytes(size, "big")
            return
    raise CborError("an integer too large for CBOR")


def _encode(value: Any, out: bytearray, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise CborError("nested too deeply")
    if value is False or value is True or value is None:
        out.append(0xE0 | {False: 20, True: 21, None: 22}[value])
    elif isinstance(value, int):
        _head(0, value, out) if value >= 0 else _head(1, -1 - value, out)
    elif isinstance(value, bytes):
        _head(2, len(value), out)
        out += value
    elif isinstance(value, str):
        raw = value.encode("utf-8")
        _head(3, len(raw), out)
        out += raw
    elif isinstance(value, list):
        _head(4, len(value), out)
        for item in value:
            _encode(item, out, depth + 1)
    elif isinstance(value, dict):
        _head(5, len(value), out)
        for key, item in value.items():
            _encode(key, out, depth + 1)
            _encode(item, out, depth + 1)
    else:
        raise CborError(f"cannot encode a {type(value).__name__}")


#: The encodings of the small integers and array heads, for the index's long lists of locations.
def _heads(major: int, count: int) -> list[bytes]:
    """The heads of this major type for 0 .. count - 1 (count at most 65,536), made in three
    runs: the module's import is on every build's start, and one general step each took 25 ms."""
    kind = major << 5
    return (
        [bytes((kind | _i,)) for _i in range(min(count, 24))]
        + [bytes((kind | 24, _i)) for _i in range(24, min(count, 256))]
        + [bytes((kind | 25,)) + _i.to_bytes(2, "big") for _i in range(256, count)]
    )


_SMALL = _heads(0, 65536)
_NEGATIVE = _heads(1, 256)
_INTS = dict(enumerate(_SMALL))
_INTS.update({-1 - _i: _b for _i, _b in enumerate(_NEGATIVE)})
_TEXTS = _heads(3, 256)
_ARRAYS = _heads(4, 65536)


def encode_int(value: int) -> bytes:
    found = _INTS.get(value)
    if found is not None:
        return found
    return b"\x1a" + value.to_bytes(4, "big") if 0 <= value < 1 << 32 else encode(value)


def array_head(length: int) -> bytes:
    if length < 65536:
        return _ARRAYS[length]
    out = bytearray()
    _head(4, length, out)
    return bytes(out)


def encode_ints(values: list[int]) -> bytes:
    """``encode(values)`` for a list of integers, faster."""
    try:
        return array_head(len(values)) + b"".join(map(_INTS.__getitem__, values))
    except KeyError:  # page numbers past 65,535 (a large archive's filters)
        return array_head(len(values)) + b"".join([_INTS.get(v) or encode_int(v) for v in values])
