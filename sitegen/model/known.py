"""The raw objects known valid, kept between builds in ``cache_dir/model/known.json``.

A rebuild reads a raw object it knows (by the digest of its data, ``source_digest``,
128 bits: two different objects do not share one) with its collection's trusted
reader (``trusted``), which builds it without checking a field; every other object
is read with checks, as on a first build. So a rebuild after one session changed
checks that session only, and the checks that span the archive (references, unique
ids and slugs) still run over every object.

An object becomes known when a build read it with checks, with no problem and no
warning, and its trusted reading was ``identical``. The file holds the objects of
the last build that passed, with the digest of the code that decided it (the model
and contract packages, Python's version and the country codes' library): another
version ignores the file. It is JSON, read with the bounded reader and checked
field by field. A missing, damaged, foreign or oversized file, or ``--full``, only
costs the time to check every object again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from sitegen.kept import code_digest, load_kept, save_kept

NAME = "known.json"
#: The largest file read (a million objects' digests are 34 MB).
MAX_BYTES = 128 * 1024 * 1024
#: A digest's length in hex (``source_digest``).
DIGEST_CHARS = 32


class KnownObjects:
    """The digests of raw objects known valid, by collection; what this build learns is kept for the next."""

    def __init__(self, folder: Path | None, key: bytes, *, trusted: bool = True) -> None:
        """``folder``: where the file is kept (None: nothing is kept); ``key``: what seals it (``kept.cache_key``)."""
        self._path = folder / NAME if folder is not None else None
        self._key = key
        self._known = _load(self._path, key) if trusted else {}
        self._now: dict[str, set[str]] = {}
        self._learnt = not trusted

    def of(self, collection: str) -> tuple[frozenset[str], set[str]]:
        """The digests the last build knew valid in ``collection``, and the set of those this build
        knows: a reader adds each known object it meets there (it stays known)."""
        return self._known.get(collection, frozenset()), self._now.setdefault(collection, set())

    def learn(self, collection: str, digest: str) -> None:
        """This raw object was found valid, and its trusted reading identical: the next build trusts it."""
        self._now.setdefault(collection, set()).add(digest)
        self._learnt = True

    def save(self) -> None:
        """Keep what this build knows, when it learnt or forgot something (best effort)."""
        if self._path is None:
            return
        forgot = any(len(self._now.get(name, ())) != len(digests) for name, digests in self._known.items())
        if self._learnt or forgot:
            known = {name: "".join(sorted(digests)) for name, digests in sorted(self._now.items())}
            save_kept(self._path, MAX_BYTES, _code(), "known", known, self._key)


def identical(a: Any, b: Any) -> bool:
    """Whether two model values are the same in every field, of the same types (``==`` alone
    takes 1 for 1.0, and one instant in two offsets for the same)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if type(a) is tuple:
        return len(a) == len(b) and all(map(identical, a, b))
    if isinstance(a, datetime):
        return bool(a == b and a.utcoffset() == b.utcoffset())
    slots: Iterable[str] | None = getattr(type(a), "__slots__", None)
    if slots is not None and hasattr(type(a), "__dataclass_fields__"):
        return all(identical(getattr(a, name), getattr(b, name)) for name in slots)
    return bool(a == b)


@cache
def _code() -> str:
    """The code that decides what is valid: the model and the contract, and the country codes' library."""
    package = Path(__file__).parent
    return code_digest([package, package.parent / "contract"], ["iso3166"])


def _load(path: Path | None, key: bytes) -> dict[str, frozenset[str]]:
    """The known digests by collection, or none when the file is missing, unreadable, not this code's or key's, or not their shape."""
    known = load_kept(path, MAX_BYTES, _code(), "known", key) if path is not None else None
    if not isinstance(known, dict):
        return {}
    out: dict[str, frozenset[str]] = {}
    for name, joined in known.items():
        if not isinstance(joined, str) or len(joined) % DIGEST_CHARS:
            return {}
        out[name] = frozenset(joined[i : i + DIGEST_CHARS] for i in range(0, len(joined), DIGEST_CHARS))
    return out
