"""What is kept between builds in the cache folder is keyed by the code that made it:
``code_digest`` of some of sitegen's packages, Python's version and some libraries'
versions. Another version of any of them ignores what an earlier one kept. Small
kept files are JSON (``load_kept``, ``save_kept``): read bounded, never executed, and
only ever a cache: losing one costs time, never a wrong build. Large ones are sealed
bytes (``load_sealed``, ``save_sealed``): a checksum of the payload and of what it is
for, so a file damaged, cut short, or kept for something else is not used."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import orjson

from sitegen.atomic import write_atomically
from sitegen.bounded import read_file_bounded
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


#: The checksum before a sealed file's payload.
SEAL_BYTES = 32


def load_sealed(path: Path, max_bytes: int, seal: bytes) -> memoryview | None:
    """The payload ``save_sealed`` kept at ``path`` with this ``seal`` (what it is for: a name,
    the code and options it depends on), when the file is a regular file of at most
    ``max_bytes`` of payload and passes its checksum; else None."""
    try:
        data = read_file_bounded(path, max_bytes + SEAL_BYTES, str(path), SitegenError, "")
    except (OSError, SitegenError):
        return None
    payload = memoryview(data)[SEAL_BYTES:]  # (not a copy: kept files run to a hundred MB at 100,000 sessions)
    if len(data) < SEAL_BYTES or _seal(seal, payload) != data[:SEAL_BYTES]:
        return None
    return payload


def save_sealed(path: Path, max_bytes: int, seal: bytes, payload: bytes) -> None:
    """Keep ``payload`` for ``load_sealed`` (best effort, as ``save_kept``)."""
    if len(payload) > max_bytes:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, _seal(seal, payload), payload)
    except OSError:
        return


def _seal(seal: bytes, payload: bytes | memoryview) -> bytes:
    hasher = hashlib.sha256(seal + b"\0")
    hasher.update(payload)
    return hasher.digest()
