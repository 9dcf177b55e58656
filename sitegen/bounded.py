"""Reading what comes from outside within bounds: one place for each limit.

Everything sitegen reads from outside (API pages, folder files, schedules,
the change feed, ``fragments load`` files, the deploy manifest read back from
S3, HTTP headers) is hostile until checked. These helpers are how every
entry point reads it:

* ``clip`` and ``shown`` cap what an error message echoes, so a 2 MB id or
  a value nested 1,000 deep gives a short line, never a huge one or a crash.
* ``loads_json`` parses JSON with a nesting limit, and turns every way the
  parse can fail into the caller's ``SitegenError`` naming the file or URL.
* ``read_file_bounded`` reads a local file of at most ``max_bytes``, and
  refuses a device, pipe or folder before reading a byte of it.
* ``Inflater`` decodes a ``Content-Encoding`` chain (or a gzip file) chunk
  by chunk, never holding more than ``max_bytes`` of decoded output.
"""

from __future__ import annotations

import errno
import json
import os
import reprlib
import stat
import zlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, BinaryIO

import orjson

# ``clip`` lives with the error tree, which clips every message it renders;
# it is re-exported here beside ``shown``, where callers look for it.
from sitegen.errors import ECHO_LIMIT, SitegenError, clip

#: How deep JSON from outside may nest (arrays and objects). The contract's
#: deepest legitimate document is a handful of levels; orjson stops at 1,024.
MAX_JSON_DEPTH = 64
#: How many pages one paged listing (a collection, the change feed, a pretalx
#: listing) may have: with the default page_size that is millions of objects.
MAX_PAGES = 10_000
#: Python reads integers of at most this many digits (its default int_max_str_digits).
MAX_NUMBER_DIGITS = 4_300


class _ShortRepr(reprlib.Repr):
    def repr_int(self, x: int, level: int) -> str:
        # repr() refuses integers past 4,300 digits; their size is what matters.
        if x.bit_length() > 4_000:
            return f"<an integer of {x.bit_length():,} bits>"
        return super().repr_int(x, level)


def _short_repr(kind: type[_ShortRepr] = _ShortRepr) -> reprlib.Repr:
    shortened = kind()
    shortened.maxlevel = 3
    shortened.maxstring = ECHO_LIMIT
    shortened.maxother = ECHO_LIMIT
    shortened.maxlong = 40
    for name in ("maxlist", "maxtuple", "maxdict", "maxset", "maxfrozenset", "maxdeque", "maxarray"):
        setattr(shortened, name, 4)
    return shortened


_SHORT_REPR = _short_repr()  # immutable in use: repr() only reads its settings


class _TomlRepr(_ShortRepr):
    """``shown`` in TOML's spelling where it differs from Python's: ``true``, ``false``, ``inf``."""

    def repr_bool(self, x: bool, level: int) -> str:
        return "true" if x else "false"

    def repr_float(self, x: float, level: int) -> str:
        return repr(x)  # 1000.0, 1e+20, inf, -inf, nan: each a TOML float as written


_TOML_REPR = _short_repr(_TomlRepr)


def shown(value: Any, limit: int = ECHO_LIMIT) -> str:
    """A short ``repr`` of any value, safe for values nested arbitrarily deep or huge."""
    return clip(_SHORT_REPR.repr(value), limit)


def shown_toml(value: Any, limit: int = ECHO_LIMIT) -> str:
    """``shown`` for a value read from TOML, as TOML spells it (``true``, not ``True``)."""
    return clip(_TOML_REPR.repr(value), limit)


def json_depth_exceeds(value: Any, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """True when ``value`` (parsed JSON: plain dicts and lists) nests arrays or objects deeper
    than ``max_depth``. A level at a time, with no call per value: the walk of a data file
    costs a third of what a walk with a step per value does."""
    level = [value]
    for depth in range(1, max_depth + 2):
        containers = [item for item in level if type(item) is dict or type(item) is list]
        if not containers:
            return False
        if depth > max_depth:
            return True
        level = []
        for item in containers:
            level.extend(item.values() if type(item) is dict else item)
    return True


def loads_json(
    data: bytes | str, where: str, error: type[SitegenError], fix: str, *, max_depth: int = MAX_JSON_DEPTH, unique_keys: bool = False
) -> Any:
    """Parse JSON from outside. orjson reads it; what orjson refuses (lone
    surrogates, NaN, huge integers) the standard library reads, which also
    gives the line and column of a syntax error. Nesting deeper than
    ``max_depth`` is refused. ``unique_keys`` (for state sitegen trusts, such as
    the deploy manifest) refuses an object with a key twice, which orjson would
    let the last one win. Every failure is ``error`` naming ``where``."""
    if unique_keys:
        value = _loads_slowly(data, where, error, fix, max_depth, unique_keys=True)
    else:
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            value = _loads_slowly(data, where, error, fix, max_depth)
    if _brackets(data) > max_depth and json_depth_exceeds(value, max_depth):
        raise error.at(where, f"is JSON nested more than {max_depth} levels deep", fix)
    return value


def _brackets(data: bytes | str) -> int:
    """How many "[" and "{" ``data`` holds, in strings too: each level of nesting opens one, so JSON with no more
    than the levels allowed needs no walk (most documents: a walk costs about as much as parsing)."""
    if isinstance(data, str):
        return data.count("[") + data.count("{")
    return data.count(b"[") + data.count(b"{")


class _KeyTwice(Exception):
    """An object holds a key twice; the message is the key."""


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for key, item in pairs:
        if key in value:
            raise _KeyTwice(key)
        value[key] = item
    return value


def _loads_slowly(
    data: bytes | str, where: str, error: type[SitegenError], fix: str, max_depth: int = MAX_JSON_DEPTH, *, unique_keys: bool = False
) -> Any:
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise error.at(where, f"is not UTF-8 (bad byte at offset {exc.start})", fix) from None
    try:
        return json.loads(text, object_pairs_hook=_unique_object if unique_keys else None)
    except json.JSONDecodeError as exc:
        raise error.at(where, f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", fix) from None
    except _KeyTwice as exc:
        raise error.at(where, f"has the key {shown(exc.args[0])} twice in one object", fix) from None
    except RecursionError:
        raise error.at(where, f"is JSON nested more than {max_depth} levels deep", fix) from None
    except ValueError:  # an integer past Python's limit; its advice is not for our users
        raise error.at(where, f"holds a number of more than {MAX_NUMBER_DIGITS:,} digits", fix) from None


def read_file_bounded(path: str | os.PathLike[str], max_bytes: int, where: str, error: type[SitegenError], fix: str) -> bytes:
    """The bytes of the regular file at ``path`` (symlinks followed), reading at
    most ``max_bytes + 1`` of them. A larger file, or anything but a regular
    file (``/dev/zero``, a FIFO, a folder), is ``error`` naming ``where``.
    ``OSError`` (a missing file, no permission) is left to the caller to word."""
    data = _read_regular(path, max_bytes + 1, where, error, fix, max_bytes)
    if len(data) > max_bytes:
        raise error.at(where, f"is more than the limit of {max_bytes:,} bytes", fix)
    return data


def read_file_head(path: str | os.PathLike[str], count: int, where: str, error: type[SitegenError], fix: str) -> bytes:
    """The first ``count`` bytes (or fewer, at its end) of the regular file at ``path``, as
    ``read_file_bounded`` opens it; however large the file, no more is read."""
    return _read_regular(path, count, where, error, fix, None)


def _read_regular(path: str | os.PathLike[str], count: int, where: str, error: type[SitegenError], fix: str, limit: int | None) -> bytes:
    with open_file_bounded(path, limit, where, error, fix) as file:
        return file.read(count)  # the file may have grown since fstat: the caller checks


def open_file_bounded(path: str | os.PathLike[str], limit: int | None, where: str, error: type[SitegenError], fix: str) -> BinaryIO:
    """The regular file at ``path`` (symlinks followed), open to read, when it is at most
    ``limit`` bytes (None: any size) as it is opened; anything but a regular file is ``error``
    naming ``where``, as in ``read_file_bounded``. For a caller that reads it in parts."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below. A folder is
    # an OSError (IsADirectoryError), as a missing file is, for the caller to word.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(info.st_mode):
            raise error.at(where, "is not a regular file (a device, pipe or folder)", fix)
        if limit is not None and info.st_size > limit:
            raise error.at(where, f"is {info.st_size:,} bytes, more than the limit of {limit:,}", fix)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


class TooLarge(Exception):
    """Decoded output passed ``max_bytes``; the caller words the message."""


class UnknownEncoding(Exception):
    """A content coding sitegen does not decode; the message is its (clipped) name."""


#: Content codings ``Inflater`` decodes, and the zlib window bits for each.
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
#: Sent as Accept-Encoding, so a well-behaved server uses only what we decode.
ACCEPT_ENCODING = "gzip, deflate"
#: At most this many codings in one chain; real servers send one.
MAX_CODINGS = 4
_STEP = 64 * 1024


def parse_codings(header: str | None) -> list[str]:
    """The codings of a ``Content-Encoding`` header, in the order applied; raises
    ``UnknownEncoding`` for a coding not decoded here or too long a chain."""
    codings = [part.strip().lower() for part in (header or "").split(",") if part.strip()]
    codings = [coding for coding in codings if coding != "identity"]
    if len(codings) > MAX_CODINGS:
        raise UnknownEncoding(f"a chain of {len(codings)} codings")
    for coding in codings:
        if coding not in _WBITS:
            raise UnknownEncoding(clip(repr(coding), 40))
    return codings


class Inflater:
    """Decodes a chain of codings chunk by chunk. Each stage is asked for at
    most 64 KiB at a time (zlib's ``max_length``), so a bomb never expands
    in memory past what has been counted; more than ``max_bytes`` of output
    raises ``TooLarge``."""

    def __init__(self, codings: Sequence[str], max_bytes: int) -> None:
        # Codings are listed in the order applied; decoding undoes the last first.
        self._stages = [zlib.decompressobj(_WBITS[coding]) for coding in reversed(codings)]
        self.max_bytes = max_bytes
        self.produced = 0

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """The decoded bytes that ``chunk`` of encoded input gives."""
        yield from self._count(self._through(0, chunk))

    def finish(self) -> Iterator[bytes]:
        """The rest, at the end of the input; ``zlib.error`` if the stream is cut short."""
        yield from self._count(self._drain(0))

    def _count(self, pieces: Iterable[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            self.produced += len(piece)
            if self.produced > self.max_bytes:
                raise TooLarge(self.produced)
            yield piece

    def _through(self, index: int, data: bytes) -> Iterator[bytes]:
        if index == len(self._stages):
            if data:
                yield data
            return
        stage = self._stages[index]
        while data:
            out = stage.decompress(data, _STEP)
            data = stage.unconsumed_tail
            yield from self._through(index + 1, out)
            if stage.eof:
                break

    def _drain(self, index: int) -> Iterator[bytes]:
        if index == len(self._stages):
            return
        stage = self._stages[index]
        while True:
            out = stage.decompress(stage.unconsumed_tail, _STEP) if stage.unconsumed_tail else stage.flush(_STEP)
            if not out:
                break
            yield from self._through(index + 1, out)
        if not stage.eof:
            raise zlib.error(f"the {index + 1}. encoded stream is cut short")
        yield from self._drain(index + 1)


def inflate(chunks: Iterable[bytes], codings: Sequence[str], max_bytes: int) -> bytes:
    """All of ``chunks`` decoded through ``codings``; ``TooLarge`` past ``max_bytes``."""
    inflater = Inflater(codings, max_bytes)
    out: list[bytes] = []
    for chunk in chunks:
        out.extend(inflater.feed(chunk))
    out.extend(inflater.finish())
    return b"".join(out)
