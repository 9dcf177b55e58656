"""The read pass's batches, and the reads kept between builds.

Records (in page order) are cut where their content says: after a record
whose URL hashes to 0 modulo ``BATCH_TARGET``, or at ``BATCH_MAX`` records.
Adding, removing or editing a record changes its own batch only; the others
keep their bounds and their records.

``BatchCache`` keeps each batch's read (its pages and its blobs of entries)
in ``cache_dir/search/``, named by the digest of the batch's records and of
everything else the read depends on: the language, the index's meta fields,
the code of this package and the stemmer's version. A rebuild reads again
only the batches whose digest is new. Each file is sealed (``kept.save_frames``:
an HMAC of its name and bytes under the build's cache key), so a file that is
damaged, cut short, renamed, swapped with another, or written by anyone without
the key fails it and is read again; so is anything but a regular file of at
most ``MAX_KEPT`` bytes. The cache is never the only copy of anything.

A read is kept as marshal data of plain values, checked for shape when read
back, never as pickle: even a sealed file must not run code when it is loaded.
The shards' blobs are marshal data too; what is inside them is vouched for by
the seal only.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from sitegen.kept import code_digest as digest_of_code
from sitegen.kept import load_frames, save_frames
from sitegen.search.pages import Page, pages_from_kept

#: Records per batch, about (the URL hash cuts one in this many). An edit reads its
#: batch again: at 256 a one-session rebuild of the 10,000-session archive read 813
#: pages (0.24 s), at 64 a batch of about 130 (0.06 s), for 0.03 s more of loading.
BATCH_TARGET = 64
#: Records per batch, at most.
BATCH_MAX = 1_024
#: A kept read larger than this is not kept (a batch of hostile records).
MAX_KEPT = 64 * 1024 * 1024
SUFFIX = ".read"
#: What a batch's read is: its pages, and a blob of entries per shard.
BatchRead = tuple[list[Page], list[bytes]]


def bounds(urls: Sequence[str]) -> list[tuple[int, int]]:
    """Where each batch starts and ends, for records with these URLs (in page order)."""
    out: list[tuple[int, int]] = []
    start = 0
    for index, url in enumerate(urls):
        if index + 1 - start >= BATCH_MAX or zlib.crc32(url.encode("utf-8", "surrogatepass")) % BATCH_TARGET == 0:
            out.append((start, index + 1))
            start = index + 1
    if start < len(urls):
        out.append((start, len(urls)))
    return out


def fingerprint(record: dict[str, Any]) -> bytes:
    """A record's part in digests (a batch's name, the index's digest): the digest of its JSON,
    keys sorted. A digest, not the JSON: the job keeps one per record, and kept JSONs cost
    97 MB of resident memory at 10,000 sessions, where 32-byte digests cost nothing to speak of."""
    return hashlib.blake2b(orjson.dumps(record, option=orjson.OPT_SORT_KEYS), digest_size=32).digest()


@dataclass(frozen=True)
class KeptReads:
    """Where the index job keeps what it read between builds (batch reads; plain texts,
    ``plains``), and whether this build may use it."""

    folder: Path
    #: What seals the files kept there (``kept.cache_key``).
    key: bytes
    #: False (``sitegen build --full``): nothing kept is used; every read is kept anew.
    trusted: bool = True


class BatchCache:
    """Batch reads kept in ``kept.folder``, for one language and one set of meta fields."""

    def __init__(self, kept: KeptReads, language: str, fields: Sequence[str], shards: int) -> None:
        self.folder, self.trusted, self.shards, self.seal_key = kept.folder, kept.trusted, shards, kept.key
        #: What the reads depend on but their records: the code, the language and the meta fields.
        self.salt = orjson.dumps([code_digest(), language, list(fields)])
        self.used: set[str] = set()

    def key(self, fingerprints: Iterable[bytes]) -> str:
        """A batch's name, from its records' ``fingerprint``."""
        hasher = hashlib.sha256(self.salt)
        for record in fingerprints:
            hasher.update(record)
        return hasher.hexdigest()

    def load(self, key: str, *, use: bool = True) -> BatchRead | None:
        """The kept read, or None when there is none or it fails its seal or shape; ``use``:
        this build's (kept by ``prune``), not a last build's read looked at."""
        if use:
            self.used.add(key)
        if not self.trusted:
            return None
        frames = load_frames(self.folder / (key + SUFFIX), MAX_KEPT, key.encode(), self.seal_key)
        payload = b"".join(frames) if frames is not None else None  # one frame: the read
        return _read_back(payload, self.shards) if payload else None

    def store(self, key: str, read: BatchRead) -> None:
        """Keep a read (best effort: a cache folder that cannot be written only costs time)."""
        self.used.add(key)
        pages, blobs = read
        save_frames(
            self.folder / (key + SUFFIX), MAX_KEPT, key.encode(), [marshal.dumps(([page.kept() for page in pages], blobs))], self.seal_key
        )

    def prune(self) -> None:
        """Remove the kept reads this build did not use."""
        try:
            names = os.listdir(self.folder)
        except OSError:
            return
        for name in names:
            if name.endswith(SUFFIX) and name[: -len(SUFFIX)] not in self.used:
                try:
                    os.unlink(self.folder / name)
                except OSError:
                    continue


def _read_back(payload: bytes, shards: int) -> BatchRead | None:
    """The read ``store`` kept, or None when the payload is not of its shape."""
    try:
        value = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    if type(value) is not tuple or len(value) != 2 or type(value[1]) is not list:
        return None
    kept_pages, blobs = value
    if len(blobs) != shards or any(type(blob) is not bytes for blob in blobs):
        return None
    pages = pages_from_kept(kept_pages)
    return (pages, blobs) if pages is not None else None


@cache
def code_digest() -> str:
    """The reading code (this package's source, and the untrusted-text renderer that gives
    the records' text), Python's, the stemmer's and comrak's versions."""
    package = Path(__file__).parent
    return digest_of_code([package, package.parent / "untrusted.py"], ["PyStemmer", "comrak"])
