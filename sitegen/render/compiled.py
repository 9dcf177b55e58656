"""Compiled templates kept between builds, sealed: compiling costs more than a small
rebuild's rendering, and a compiled template is code that runs.

Jinja's own ``FileSystemBytecodeCache`` unpickles each file before it checks it, and
then checks only a digest of the template's source, which anyone can compute: a file
planted in the cache folder (CI restores it from a cache other branches may have
written) would run as the build. Here each entry is kept with ``kept.save_frames``,
under the HMAC of the build's cache key, and handed to Jinja only once it passed it.
A missing, damaged, foreign or unsealed entry, or one that is no regular file (a
pipe, a device), means the template is compiled again; an entry that cannot be
written only costs the next build that compile.
"""

from __future__ import annotations

import io
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

from sitegen.kept import load_frames, save_frames
from sitegen.render.digest import code_version

#: The largest compiled template kept (the default theme's largest is about 60 KB).
MAX_ENTRY = 8 * 1024 * 1024
SUFFIX = ".compiled"


class SealedBytecodeCache(jinja2.BytecodeCache):
    """Jinja's bytecode cache in ``folder``, each entry sealed under ``key`` (``kept.cache_key``)."""

    def __init__(self, folder: Path, key: bytes) -> None:
        self.folder, self.key = folder, key

    def _path(self, bucket: Bucket) -> Path:
        return self.folder / (bucket.key + SUFFIX)  # bucket.key: a SHA-1, hex

    def _seal(self, bucket: Bucket) -> bytes:
        """What an entry is for: its template (Jinja's key) and the code that compiled it (the folder)."""
        return f"{self.folder.name}/{bucket.key}".encode()

    def load_bytecode(self, bucket: Bucket) -> None:
        frames = load_frames(self._path(bucket), MAX_ENTRY, self._seal(bucket), self.key)
        if frames is not None:
            bucket.load_bytecode(io.BytesIO(b"".join(frames)))  # sealed by this key: written by a build that held it

    def dump_bytecode(self, bucket: Bucket) -> None:
        data = io.BytesIO()
        bucket.write_bytecode(data)
        save_frames(self._path(bucket), MAX_ENTRY, self._seal(bucket), [data.getvalue()], self.key)


def bytecode_cache(cache_dir: Path, key: bytes | None) -> SealedBytecodeCache | None:
    """The compiled templates kept in ``cache_dir``, sealed under ``key`` (None: none kept); the
    folder is per version of the code that compiles them. Jinja checks each entry against the
    template's source as well."""
    if key is None:
        return None
    folder = cache_dir / "templates" / code_version().hex()[:16]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a read-only checkout still builds, compiling every template
    return SealedBytecodeCache(folder, key)
