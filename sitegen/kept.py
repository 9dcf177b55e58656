"""What is kept between builds in the cache folder is keyed by the code that made it:
``code_digest`` of some of sitegen's packages, Python's version and some libraries'
versions. Another version of any of them ignores what an earlier one kept.

Everything kept is sealed (``save_frames``, ``load_frames``; ``save_kept``, ``load_kept``
for small JSON values): frames of bytes, then an HMAC-SHA256 of the frames and of what
they are for, under a secret key (``cache_key``) that is not in the cache folder. CI
restores that folder from a cache other branches may have written, and a checksum
anyone can compute again would let a planted file through; a key they do not hold
does not. So a file damaged, cut short, kept for something else, or written by anyone
without the key is not used (only costs time), and nothing kept is run as code
unless it passed the seal. Files are written and read a frame at a time, so a file of
a hundred MB never sits whole in memory. Every command that uses the cache folder first
removes the symbolic links in it (``unlink_links``), so a planted link cannot make it
write or delete files elsewhere."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from sitegen.atomic import write_parts_atomically
from sitegen.bounded import open_file_bounded, read_file_bounded
from sitegen.errors import ConfigError, SitegenError

#: The environment variable that gives the cache key (CI: a secret), else the key file's.
KEY_ENV = "SITEGEN_CACHE_KEY"
MIN_KEY_LENGTH = 32
#: The key file, under ``$XDG_CACHE_HOME`` (else ``~/.cache``): made once per user, private.
KEY_FILE = "sitegen/cache-key"


def code_digest(places: Iterable[Path], libraries: Iterable[str]) -> str:
    """A digest of the Python sources in ``places`` (a folder's, not below; or a file), Python's
    version and the installed versions of ``libraries`` (a missing one counts as missing)."""
    hasher = hashlib.sha256(sys.version.encode())
    for library in libraries:
        try:
            hasher.update(f"{library} {version(library)}\0".encode())
        except PackageNotFoundError:
            hasher.update(f"no {library}\0".encode())
    for place in places:
        for source in sorted(place.glob("*.py")) if place.is_dir() else [place]:
            hasher.update(f"{source.parent.name}/{source.name}\0".encode() + source.read_bytes())
    return hasher.hexdigest()


def cache_key(environ: Mapping[str, str], home: Path | None = None) -> bytes:
    """The secret that seals what builds keep (module docstring): ``$SITEGEN_CACHE_KEY`` when
    set, else the user's key file, made on first use (``home``: the user's home, by default
    ``Path.home()``; a relative ``$XDG_CACHE_HOME`` is ignored, as the XDG spec says). When no
    file can be made (a read-only home, or none: a user with no home), a key of this process
    alone: nothing kept is then used, which only costs time.
    Raises ConfigError for a key shorter than ``MIN_KEY_LENGTH``, and for a key file that others
    could read or write (not a regular file of this user's, mode 0600) or that is too short."""
    given = environ.get(KEY_ENV)
    if given is not None:
        if len(given.strip()) < MIN_KEY_LENGTH:
            raise ConfigError.at(
                f"${KEY_ENV}",
                f"is shorter than {MIN_KEY_LENGTH} characters",
                "set it to a secret of 32+ characters, e.g. the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'",
            )
        return given.strip().encode("utf-8", "surrogateescape")
    xdg = Path(environ.get("XDG_CACHE_HOME") or "")
    if not xdg.is_absolute():
        try:
            xdg = (home or Path.home()) / ".cache"
        except RuntimeError:  # no HOME and no entry in the password database
            return secrets.token_bytes(32)
    path = xdg / KEY_FILE
    key = _read_key(path)
    if key is None:
        try:  # made whole beside it, then linked into place: two builds at once end with the same key
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".cache-key.")  # mode 0600
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(secrets.token_hex(32).encode())
                os.link(temp, path)
            except FileExistsError:
                pass  # another build made it first: its key is the one
            finally:
                os.unlink(temp)
        except OSError:
            pass
        key = _read_key(path)
    return key if key is not None else secrets.token_bytes(32)  # this process's own: nothing kept is used


def _read_key(path: Path) -> bytes | None:
    """The key in the key file; None when there is none; ConfigError when it cannot be trusted."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    fix = f"delete it (sitegen makes a new one, mode 0600), or set ${KEY_ENV}"
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise ConfigError.at(
            str(path), "is not a private file of this user (a regular file, mode 0600): others could forge what the build keeps", fix
        )
    try:
        key = read_file_bounded(path, 256, str(path), SitegenError, "")
    except (OSError, SitegenError):
        return None
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigError.at(str(path), f"holds a key shorter than {MIN_KEY_LENGTH} bytes", fix)
    return key


def unlink_links(cache_dir: Path) -> None:
    """Remove the symbolic links in the cache folder and in its folders (the links, not what
    they point at; its folders hold sitegen's files, one level deep at most): a link planted
    there would make a command write or delete files where it points. Every command that uses
    the cache folder calls this first. ``cache_dir`` itself may be a link (a setting)."""
    folders = [cache_dir]
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink():
                try:
                    os.unlink(entry.path)
                except OSError:
                    continue
            elif folder == cache_dir and entry.is_dir(follow_symlinks=False):
                folders.append(Path(entry.path))


def load_kept(path: Path, max_bytes: int, code: str, name: str, key: bytes) -> Any:
    """The value ``save_kept`` kept at ``path`` under ``name`` by this ``code`` and ``key``, or
    None (a missing, damaged, foreign, unsealed or oversized file is as good as none). The
    caller checks its shape."""
    frames = load_frames(path, max_bytes, f"{code}\0{name}".encode(), key)
    try:
        return orjson.loads(b"".join(frames)) if frames is not None else None
    except orjson.JSONDecodeError:
        return None


def save_kept(path: Path, max_bytes: int, code: str, name: str, value: Any, key: bytes) -> None:
    """Keep ``value`` at ``path`` for ``load_kept`` (best effort: a value JSON cannot hold, one
    over ``max_bytes``, or a cache folder that cannot be written only costs time next build)."""
    try:
        data = orjson.dumps(value)
    except orjson.JSONEncodeError:  # e.g. a lone surrogate in a text
        return
    save_frames(path, max_bytes, f"{code}\0{name}".encode(), [data], key)


#: The HMAC after a framed file's frames.
SEAL_BYTES = 32


#: Bytes read at a time while checking a framed file; each frame's length is 4 bytes.
_STEP = 1 << 20
_LENGTH = 4


class _TooLarge(Exception):
    """A framed file passed its limit while being written."""


def save_frames(path: Path, max_bytes: int, seal: bytes, frames: Iterable[bytes], key: bytes) -> None:
    """Keep ``frames`` (made one by one, each under 4 GB) for ``load_frames``: each frame
    after its length, then the HMAC of them all and of ``seal`` under ``key``. Best effort,
    as ``save_kept``; a file that would pass ``max_bytes`` is not kept."""
    hasher = hmac.new(key, seal + b"\0", hashlib.sha256)
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


def load_frames(path: Path, max_bytes: int, seal: bytes, key: bytes) -> Iterator[bytes] | None:
    """The frames ``save_frames`` kept at ``path`` with this ``seal`` and ``key``, read one by one as
    they are taken, once the whole file passed its HMAC; None when it does not, or is not a
    regular file of at most ``max_bytes`` (and its HMAC). The file stays open until the
    frames are all taken: a file written anew meanwhile is another file."""
    try:
        file = open_file_bounded(path, max_bytes + SEAL_BYTES, str(path), SitegenError, "")
    except (OSError, SitegenError):
        return None
    try:
        if not _frames_sound(file, seal, key):
            file.close()
            return None
        file.seek(0)
    except OSError:
        file.close()
        return None
    return _frames(file)


def _frames_sound(file: BinaryIO, seal: bytes, key: bytes) -> bool:
    """Whether the file's last bytes are the HMAC of the rest and ``seal`` under ``key``."""
    size = os.fstat(file.fileno()).st_size
    if size < SEAL_BYTES:
        return False
    hasher, left = hmac.new(key, seal + b"\0", hashlib.sha256), size - SEAL_BYTES
    while left:
        part = file.read(min(_STEP, left))
        if not part:
            return False
        hasher.update(part)
        left -= len(part)
    return hmac.compare_digest(hasher.digest(), file.read(SEAL_BYTES))


def _frames(file: BinaryIO) -> Iterator[bytes]:
    with file:
        end = os.fstat(file.fileno()).st_size - SEAL_BYTES
        while file.tell() < end:
            length = int.from_bytes(file.read(_LENGTH), "big")
            if file.tell() + length > end:
                return
            yield file.read(length)
