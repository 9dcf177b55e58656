"""The plain text of Markdown fields (``records.plain_from_markdown``), kept
between builds beside the batch reads, in ``cache_dir/search/plain.json``.

Making the records reads every abstract, bio and description again on every
build, and rendering them (comrak) is most of that (on the 10,000-session
synthetic archive, 0.23 s of CPU). The texts seldom change, so
each one's plain text is kept under a digest of the text, with the digest of
the code that made it: another version of this package ignores the file.
The file is JSON (read with the bounded reader, checked field by field, never
executed), holds only the texts the last build had, and is written only when
a text was new. A missing, damaged, foreign or oversized file only costs the
time to make the texts again; ``--full`` (``KeptReads.trusted`` False) makes
them again and keeps them anew.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sitegen.kept import load_kept, save_kept
from sitegen.search.batches import KeptReads, code_digest
from sitegen.search.records import plain_from_markdown

NAME = "plain.json"
#: The largest file read or written (100,000 sessions' abstracts are about 100 MB).
MAX_BYTES = 512 * 1024 * 1024


class PlainTexts:
    """``plain_from_markdown``, with the last build's results reused (``kept``: None keeps nothing)."""

    def __init__(self, kept: KeptReads | None) -> None:
        self._path = kept.folder / NAME if kept is not None else None
        self._key = kept.key if kept is not None else b""
        self._known = _load(self._path, self._key) if kept is not None and kept.trusted else {}
        self._used: dict[str, str] = {}
        self._new = kept is not None and not kept.trusted

    def __call__(self, text: str | None) -> str:
        if not text:
            return ""
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
        found = self._used.get(key)
        if found is None:
            found = self._known.get(key)
            if found is None:
                found, self._new = plain_from_markdown(text), True
            self._used[key] = found
        return found

    def save(self) -> None:
        """Keep the texts this build used, if one was new or one is no longer used (best effort)."""
        if self._path is not None and (self._new or len(self._used) != len(self._known)):
            save_kept(self._path, MAX_BYTES, code_digest(), "plain", self._used, self._key)


def _load(path: Path | None, key: bytes) -> dict[str, str]:
    """The kept texts, or none when the file is missing, unreadable, not this code's or key's, or not their shape."""
    plain = load_kept(path, MAX_BYTES, code_digest(), "plain", key) if path is not None else None
    if not isinstance(plain, dict):
        return {}
    if not all(isinstance(key, str) and len(key) == 32 and isinstance(value, str) for key, value in plain.items()):
        return {}
    return plain
