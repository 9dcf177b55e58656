"""What is kept between builds in the cache folder is keyed by the code that made it:
``code_digest`` of some of sitegen's packages, Python's version and some libraries'
versions. Another version of any of them ignores what an earlier one kept. Small
kept files are JSON (``load_kept``, ``save_kept``): read bounded, never executed, and
only ever a cache: losing one costs time, never a wrong build. Large ones are sealed
frames of bytes (``load_frames``, ``save_frames``): under a checksum of the frames and of
what they are for, so a file damaged, cut short, or kept for something else is not used;
written and read a frame at a time, so a file of a hundred MB never sits whole in memory."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable, Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from sitegen.atomic import write_atomically, write_parts_atomically
from sitegen.bounded import open_file_bounded, read_file_bounded
from sitegen.errors import SitegenError


def code_digest(folders: Iterable[Path], libraries: Iterable[str]) -> str:
    """A digest of the Python sources in ``folders`` (not below), Python's version and the
    installed versions of ``libraries`` (a missing one counts as missing)."""
    hasher = hashlib.sha256(sys.version.encode())
    for library in libraries:
        try:
            hasher.update(f"{library} {version(library)}\0".encode())
        except PackageNotFoundError:
            hasher.update(f"no {library}\0".encode())
    for folder in folders:
        for source in sorted(folder.glob("*.py")):
            hasher.update(f"{folder.name}/{source.name}\0".encode() + source.read_bytes())
    return hasher.hexdigest()


def load_kept(path: Path, max_bytes: int, code: str, key: str) -> Any:
    """``key``'s value in the JSON file a build kept at ``path`` with ``save_kept``, when the file
    is a regular file of at most ``max_bytes``, JSON, and kept by this ``code``; else None (a
    missing, damaged, foreign or oversized file is as good as none). The caller checks its shape."""
    try:
        data = orjson.loads(read_file_bounded(path, max_bytes, str(path), SitegenError, ""))
    except (OSError, SitegenError, orjson.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get("code") != code:
        return None
    return data.get(key)


def save_kept(path: Path, max_bytes: int, code: str, key: str, value: Any) -> None:
    """Keep ``value`` at ``path`` for ``load_kept`` (best effort: a value JSON cannot hold, one
    over ``max_bytes``, or a cache folder that cannot be written only costs time next build)."""
    try:
        data = orjson.dumps({"code": code, key: value})
    except orjson.JSONEncodeError:  # e.g. a lone surrogate in a text
        return
    if len(data) > max_bytes:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data)
    except OSError:
        return


#: The checksum after a framed file's frames.
SEAL_BYTES = 32


#: Bytes read at a time while checking a framed file; each frame's length is 4 bytes.
_STEP = 1 << 20
_LENGTH = 4


class _TooLarge(Exception):
    """A framed file passed its limit while being written."""


def save_frames(path: Path, max_bytes: int, seal: bytes, frames: Iterable[bytes]) -> None:
    """Keep ``frames`` (made one by one, each under 4 GB) for ``load_frames``: each frame
    after its length, then the checksum of them all and of ``seal``. Best effort, as
    ``save_kept``; a file that would pass ``max_bytes`` is not kept."""
    hasher = hashlib.sha256(seal + b"\0")
    total = 0

    def parts() -> Iterator[bytes]:
        nonlocal total
        for frame in frames:
            head = len(frame).to_bytes(_LENGTH, "big")
            total += _LENGTH + len(frame)
            if total > max_bytes:
                raise _TooLarge
            hasher.update(head)
            hasher.update(frame)
            yield head
            yield frame
        yield hasher.digest()

    try:
        write_parts_atomically(path, parts())
    except (OSError, _TooLarge):
        return


def load_frames(path: Path, max_bytes: int, seal: bytes) -> Iterator[bytes] | None:
    """The frames ``save_frames`` kept at ``path`` with this ``seal``, read one by one as they
    are taken, once the whole file passed its checksum; None when it does not, or is not a
    regular file of at most ``max_bytes`` (and its checksum). The file stays open until the
    frames are all taken: a file written anew meanwhile is another file."""
    try:
        file = open_file_bounded(path, max_bytes + SEAL_BYTES, str(path), SitegenError, "")
    except (OSError, SitegenError):
        return None
    try:
        if not _frames_sound(file, seal):
            file.close()
            return None
        file.seek(0)
    except OSError:
        file.close()
        return None
    return _frames(file)


def _frames_sound(file: BinaryIO, seal: bytes) -> bool:
    """Whether the file's last bytes are the checksum of the rest and ``seal``."""
    size = os.fstat(file.fileno()).st_size
    if size < SEAL_BYTES:
        return False
    hasher, left = hashlib.sha256(seal + b"\0"), size - SEAL_BYTES
    while left:
        part = file.read(min(_STEP, left))
        if not part:
            return False
        hasher.update(part)
        left -= len(part)
    return hasher.digest() == file.read(SEAL_BYTES)


def _frames(file: BinaryIO) -> Iterator[bytes]:
    with file:
        end = os.fstat(file.fileno()).st_size - SEAL_BYTES
        while file.tell() < end:
            length = int.from_bytes(file.read(_LENGTH), "big")
            if file.tell() + length > end:
                return
            yield file.read(length)
