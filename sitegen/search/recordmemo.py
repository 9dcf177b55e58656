"""Each record's fingerprint kept between builds, so a rebuild makes again only the
records of the objects that changed.

A record is made from its object and the objects it shows: a session's record from
the session, its event, the event's series and venue, its speakers and its topics;
an event's from the event, its series and venue; a person's from the person. The
model gives the digest of each object's raw data (``ModelResult.sources``), so a
record's ``key`` is a digest of those objects' names and digests, of its URL and of
this package's code. When the last build kept a record under the same key, its
fingerprint (``batches.fingerprint``) and its meta fields are taken from there and
the record itself is made only if its batch has to be read again
(``records.Deferred``). An unchanged archive makes no record at all.

One file, ``cache_dir/search/records.memo``: marshal data of plain values
(``kept.save_frames``), sealed under the build's cache key with this code's digest,
checked for shape when read back. Like the batch reads it is never the only copy of
anything: a file that is missing, damaged, foreign or too large means every record
is made, and the file is written anew. A build that trusts nothing kept
(``--full``) makes every record and keeps them anew.
"""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from sitegen.kept import code_digest, load_frames, save_frames
from sitegen.model import object_key
from sitegen.search.batches import KeptReads

NAME = "records.memo"
#: Bumped when the memo's shape, or what a key covers, changes.
FORMAT = 2
#: The largest memo read or written (100,000 sessions' is about 10 MB).
MAX_MEMO = 256 * 1024 * 1024
#: A record's fingerprint and its meta fields' names.
Kept = tuple[bytes, tuple[str, ...]]
#: A fingerprint's length (``batches.fingerprint``).
FINGERPRINT = 32


class RecordMemo:
    """The last build's fingerprints by key, and this build's, kept for the next."""

    def __init__(self, kept: KeptReads | None, sources: Mapping[str, str] | None, zones: str = "") -> None:
        """``zones``: what else the records' objects depend on (``Archive.zones``, the zones' rules)."""
        self._path = kept.folder / NAME if kept is not None else None
        self._seal_key = kept.key if kept is not None else b""
        self._sources = sources
        self._salt = f"{FORMAT}\0{memo_code_digest()}\0{zones}".encode()
        self._last = _load(self._path, self._salt, self._seal_key) if kept is not None and kept.trusted and sources is not None else {}
        self._now: dict[str, Kept] = {}
        #: Each object's name and digest, by ``id``: a session's event is every one of its sessions'.
        self._tokens: dict[int, str] = {}

    def key(self, url: str, objects: Iterable[Any]) -> str | None:
        """The key of a record with this URL made from these model objects, in this order (None
        items mark places: an event without a series; the end of the speakers), or None when
        the model gave no digest for one of them (nothing is kept for that record). The
        objects must outlive the memo (their ``id`` names them)."""
        if self._sources is None:
            return None
        tokens, parts = self._tokens, list[str | None]()
        for item in objects:
            if item is None:
                parts.append(None)
                continue
            token = tokens.get(id(item))
            if token is None:
                name = object_key(item)
                digest = self._sources.get(name)
                token = tokens[id(item)] = f"{name}\0{digest}" if digest is not None else ""
            if not token:  # (no digest)
                return None
            parts.append(token)
        return hashlib.blake2b(
            self._salt + marshal.dumps((url, parts), 2), digest_size=16
        ).hexdigest()  # (version 2: equal data, equal bytes)

    def get(self, key: str | None) -> Kept | None:
        """The last build's fingerprint and meta fields under ``key``; kept for the next build too."""
        if key is None:
            return None
        found = self._last.get(key)
        if found is not None:
            self._now[key] = found
        return found

    def put(self, key: str | None, fingerprint: bytes, meta: tuple[str, ...]) -> None:
        if key is not None:
            self._now[key] = (fingerprint, meta)

    def save(self) -> None:
        """Keep this build's keys (best effort), unless they are the last build's: the keys,
        their fingerprints in one string, and each one's meta fields as an index into the few
        sets of them there are."""
        if self._path is None or self._now == self._last:
            return
        metas: dict[tuple[str, ...], int] = {}
        which = [metas.setdefault(meta, len(metas)) for _, meta in self._now.values()]
        stored = (FORMAT, list(self._now), b"".join(fingerprint for fingerprint, _ in self._now.values()), list(metas), which)
        save_frames(self._path, MAX_MEMO, self._salt, [marshal.dumps(stored)], self._seal_key)


@cache
def memo_code_digest() -> str:
    """What a record is made by besides its objects, its URL and the zones' rules: the search
    package, the untrusted-text renderer, the model (which makes the objects from their raw
    data: an event's year, a session's day, a venue's country name) and the contract;
    Python's, the stemmer's, comrak's and iso3166's versions (country names)."""
    root = Path(__file__).parent.parent
    return code_digest([root / "search", root / "untrusted.py", root / "model", root / "contract"], ["PyStemmer", "comrak", "iso3166"])


def _load(path: Path | None, salt: bytes, key: bytes) -> dict[str, Kept]:
    """The kept fingerprints, or none when the file is missing, unsealed, foreign or not their shape."""
    frames = load_frames(path, MAX_MEMO, salt, key) if path is not None else None
    if frames is None:
        return {}
    try:
        stored: Any = marshal.loads(b"".join(frames))
    except (EOFError, ValueError, TypeError):
        return {}
    if type(stored) is not tuple or len(stored) != 5 or stored[0] != FORMAT:
        return {}
    _, keys, fingerprints, metas, which = stored
    if not (type(keys) is list and type(fingerprints) is bytes and type(metas) is list and type(which) is list):
        return {}
    if len(fingerprints) != FINGERPRINT * len(keys) or len(which) != len(keys) or not all(type(key) is str for key in keys):
        return {}
    if not all(type(meta) is tuple and all(type(name) is str for name in meta) for meta in metas):
        return {}
    if not all(type(index) is int for index in which) or (which and not 0 <= min(which) <= max(which) < len(metas)):
        return {}
    prints = [fingerprints[at : at + FINGERPRINT] for at in range(0, len(fingerprints), FINGERPRINT)]
    return dict(zip(keys, zip(prints, map(metas.__getitem__, which), strict=True), strict=True))
