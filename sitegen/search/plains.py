"""The plain text of Markdown fields (``records.plain_from_markdown``), kept
between builds beside the batch reads, in ``cache_dir/search/plain.json``.

Making a record reads its abstract, bio or description, and rendering them
(comrak) is most of that (all 10,000 synthetic sessions': 0.23 s of CPU). A
rebuild makes only the records whose objects changed (``recordmemo``), but a
renamed event or topic makes again every record that shows it, whose texts did
not change; a new URL scheme makes them all. So each text's plain text is kept
under a digest of the text, with the digest of the code that made it: another
version of this package ignores the file. The file is JSON (read with the
bounded reader, checked field by field, never executed), read only when a text
is needed, and written only when a text was new: with the last build's texts,
until they number more than the archive's records, then with this build's only.
A missing, damaged, foreign or oversized file only costs the time to make the
texts again; ``--full`` (``KeptReads.trusted`` False) makes them again and keeps
them anew.
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
        self._trusted = kept is not None and kept.trusted
        self._known: dict[str, str] | None = None  # read when first needed: a rebuild may need none
        self._used: dict[str, str] = {}
        self._new = kept is not None and not kept.trusted

    def __call__(self, text: str | None) -> str:
        if not text:
            return ""
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
        found = self._used.get(key)
        if found is None:
            found = self._last().get(key)
            if found is None:
                found, self._new = plain_from_markdown(text), True
            self._used[key] = found
        return found

    def save(self, most: int) -> None:
        """Keep the texts, if one was new (best effort): this build's and the last build's, or
        only this build's once they would number more than ``most`` (a rebuild makes only the
        records that changed, so this build's are seldom all; the file cannot grow for ever)."""
        if self._path is None or not self._new:
            return
        texts = {**self._last(), **self._used}
        save_kept(self._path, MAX_BYTES, code_digest(), "plain", texts if len(texts) <= most else self._used, self._key)

    def _last(self) -> dict[str, str]:
        if self._known is None:
            self._known = _load(self._path, self._key) if self._path is not None and self._trusted else {}
        return self._known


def _load(path: Path | None, key: bytes) -> dict[str, str]:
    """The kept texts, or none when the file is missing, unreadable, not this code's or key's, or not their shape."""
    plain = load_kept(path, MAX_BYTES, code_digest(), "plain", key) if path is not None else None
    if not isinstance(plain, dict):
        return {}
    if not all(isinstance(key, str) and len(key) == 32 and isinstance(value, str) for key, value in plain.items()):
        return {}
    return plain
