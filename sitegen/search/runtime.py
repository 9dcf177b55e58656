"""Pagefind's runtime files: pagefind.js, its worker and the wasm files, which
the browser runs and which are the same for every index of one Pagefind
version. They come from the Pagefind binary, run once on one tiny record, or
from the last build's bundle when it was made with the same Pagefind version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from sitegen.errors import SearchError
from sitegen.search.bundle import ENTRY, content_addressed
from sitegen.search.records import SearchRecord
from sitegen.search.run import MAX_FILE, run_pagefind

#: The record Pagefind indexes to hand over its runtime files.
TINY = SearchRecord("/", "sitegen", {"title": "sitegen"})
#: At most this many runtime files (pagefind.js, the worker, a wasm per language and the generic one).
MAX_RUNTIME = 16


def is_runtime(path: str) -> bool:
    """Whether a bundle file is one of Pagefind's runtime files (not index data)."""
    return path != ENTRY and "/" not in path and not content_addressed(path)


def digests(files: Mapping[str, bytes]) -> dict[str, str]:
    """The SHA-256 of each runtime file, kept in the build's state to check a reused copy."""
    return {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items()) if is_runtime(name)}


def runtime_files(
    language: str, previous: Path | None = None, names: Mapping[str, str] | None = None, *, scratch: Path | None = None
) -> dict[str, bytes]:
    """The runtime files: read from ``previous`` (the last bundle, same Pagefind version) when
    every one of ``names`` is there with the SHA-256 it had when written (a copy edited in
    build/ is never reused), else from a run of Pagefind (its temporary folder in ``scratch``)."""
    if previous is not None and names:
        found = _read(previous, dict(names))
        if found is not None:
            return found
    files = {path: data for path, data in run_pagefind([TINY], language, scratch).items() if is_runtime(path)}
    if not files or len(files) > MAX_RUNTIME:
        raise SearchError.at("pagefind", f"gave {len(files)} runtime files", "report this with the pagefind version")
    return files


def _read(folder: Path, names: dict[str, str]) -> dict[str, bytes] | None:
    if not 0 < len(names) <= MAX_RUNTIME or not all(is_runtime(name) for name in names):
        return None
    found = {}
    for name, digest in names.items():
        path = folder / name
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_FILE:
            return None
        data = path.read_bytes()
        if not isinstance(digest, str) or hashlib.sha256(data).hexdigest() != digest:
            return None
        found[name] = data
    return found
