"""The one way sitegen replaces a file: readers (and a crash) see the old
file or the new one, never half of one.

The temporary file has a unique name beside the target, so two processes
writing the same file at once each replace it whole; the last one wins.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a unique temporary file and one rename.
    The folder is made if missing. OSError is the caller's to word."""
    write_parts_atomically(path, (data,))


def write_parts_atomically(path: Path, parts: Iterable[bytes]) -> None:
    """``write_atomically`` of ``parts`` as they come (each is let go once written: a
    generator of parts never holds the whole file in memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            for part in parts:
                file.write(part)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
