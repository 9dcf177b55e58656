"""The build's record of itself (``STATE_FILE``): every file of the last build
and the render stage's record, with a check that ties it to the files it
describes (``STATE_CHECK``). Its early part (the index job's record) comes
first and is read on its own (``read_early``), by a job forked before the
build has read the rest.

The state is marshal data, which loads many times faster than JSON; like
Python's own ``__pycache__``, it is trusted as much as the folder it is in.
The check file holds two digests, the whole state's and its early part's, and
goes live in the same swap, just before it: a state copied in from another
build (or put back from an older one) does not match its check, so it is not
used. Each digest is compared before its bytes are unmarshalled, so bytes
sitegen did not write are never fed to ``marshal``. Neither is a state that is
damaged, of another format, larger than ``MAX_STATE_BYTES`` or not a regular
file (a link to ``/dev/zero``, a pipe, a folder): the build then renders
everything, with one warning naming the file (``LastBuild.problem``).
"""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitegen.bounded import read_file_bounded, read_file_head
from sitegen.errors import OutputError, Problem

#: sitegen's own files; present in every output folder sitegen has written,
#: and its absence protects other folders. Never published.
STATE_DIR = ".sitegen"
#: Every file of the last build, and the render stage's record (``render.record``).
STATE_FILE = f"{STATE_DIR}/state.marshal"
#: The digests of ``STATE_FILE`` and of its early part, written with it.
STATE_CHECK = f"{STATE_DIR}/state.check"
STATE_FORMAT = 3
#: The state's first bytes (then the early part's length, 8 bytes big-endian).
_HEADER = b"sitegen state 3\n"
_START = len(_HEADER) + 8
_WHERE = f"{STATE_FILE} (in the output folder)"
#: The largest state read (a 100,000-session build's is a few hundred MB).
MAX_STATE_BYTES = 2 * 1024 * 1024 * 1024
_FIX = "nothing to do: this build renders every page and writes a new record; only changed files are written"


@dataclass(frozen=True)
class LastBuild:
    """What a rebuild knows of the last build."""

    #: The state's bytes as read (b"" when none), to tell whether the next one changed.
    state: bytes = b""
    #: The last build's files (None when unknown), and its render record.
    files: frozenset[str] | None = None
    record: Any = None
    #: Why there is no record of the last build although it wrote one (for a warning).
    problem: Problem | None = None


#: The check file is two hex digests and their newlines.
_MAX_CHECK = 256


def read_last_build(output_dir: Path) -> LastBuild:
    """The last build's state in ``output_dir`` (not a fresh one), checked."""
    state, problem = _read_checked(output_dir)
    if problem is not None:
        return LastBuild(state, problem=problem)
    files, record = _parse(state)
    if files is None:
        what = "was written by another version of sitegen; it was not used"
        return LastBuild(state, problem=Problem(_WHERE, what, _FIX))
    return LastBuild(state, files, record)


def read_early(output_dir: Path) -> Any:
    """The state's early part (``state_bytes``), read alone (the rest is not read) and checked
    against its own digest in the check file; None when there is none or it is not sound."""
    path = output_dir / STATE_FILE
    try:
        length = _early_length(read_file_head(path, _START, _WHERE, OutputError, ""))
        if length is None:
            return None
        early = read_file_head(path, _START + length, _WHERE, OutputError, "")[_START:]
    except (OSError, OutputError):
        return None
    check = read_check(output_dir)
    if len(early) != length or check.split(b"\n")[1:2] != [_digest(early)]:  # before unmarshalling, as for the whole
        return None
    try:
        return marshal.loads(early)
    except (EOFError, ValueError, TypeError):
        return None


def state_bytes(files: Collection[str], record: Any, early: Any = None) -> bytes:
    """The state: a header with the early part's length, the early part (``early``: what a
    job forked before the build reads the rest reads on its own, ``read_early``), then the
    files and ``record``. Version 2 of marshal writes no back-references, so equal states
    are equal bytes."""
    first = marshal.dumps(early, 2)
    rest = marshal.dumps({"format": STATE_FORMAT, "files": tuple(sorted(files)), "record": record}, 2)
    return _HEADER + len(first).to_bytes(8, "big") + first + rest


def check_bytes(state: bytes) -> bytes:
    """The check file: the state's digest, then its early part's (``read_early`` reads that part alone)."""
    parts = _split(state)
    return _digest(state) + b"\n" + (_digest(parts[0]) + b"\n" if parts is not None else b"")


def read_check(output_dir: Path) -> bytes:
    """The state check file's bytes (``check_bytes``); b"" when it is missing, unreadable or not one."""
    try:
        return read_file_bounded(output_dir / STATE_CHECK, _MAX_CHECK, STATE_CHECK, OutputError, "")
    except (OSError, OutputError):
        return b""


def _digest(data: bytes | memoryview) -> bytes:
    return hashlib.blake2b(data, digest_size=32).hexdigest().encode()


def _read_checked(output_dir: Path) -> tuple[bytes, Problem | None]:
    """The state's bytes, and why they may not be used (None: they match their check)."""
    try:
        state = read_file_bounded(output_dir / STATE_FILE, MAX_STATE_BYTES, _WHERE, OutputError, "")
    except IsADirectoryError:
        return b"", Problem(_WHERE, "is a folder, not sitegen's record; it was not used", _FIX)
    except OSError:
        return b"", Problem(_WHERE, "is missing or unreadable, so this build has no record of the last one", _FIX)
    except OutputError as exc:
        return b"", Problem(_WHERE, f"{exc.problems[0].what}; it was not used", _FIX)
    if read_check(output_dir) != check_bytes(state):  # before unmarshalling: marshal is not for bytes from elsewhere
        what = f"does not match {STATE_CHECK}: it was changed, damaged, or copied from another build; it was not used"
        return state, Problem(_WHERE, what, _FIX)
    return state, None


def _early_length(head: bytes) -> int | None:
    """The early part's length from the state's first bytes; None when they are not this version's header."""
    if len(head) < _START or not head.startswith(_HEADER):
        return None
    length = int.from_bytes(head[len(_HEADER) : _START], "big")
    return length if length <= MAX_STATE_BYTES else None


def _split(state: bytes) -> tuple[memoryview, memoryview] | None:
    """The early part and the rest, or None when the header is not this version's."""
    length = _early_length(state)
    if length is None or _START + length > len(state):
        return None
    view = memoryview(state)
    return view[_START : _START + length], view[_START + length :]


def _parse(state: bytes) -> tuple[frozenset[str] | None, Any]:
    parts = _split(state)
    if parts is None:
        return None, None
    try:
        data = marshal.loads(parts[1])
        files = data["files"]
        if data.get("format") == STATE_FORMAT and isinstance(files, tuple) and all(isinstance(f, str) for f in files):
            return frozenset(files), data.get("record")
    except (EOFError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return None, None
