"""The local copy kept between incremental fetches: the Snapshot (every collection as of a sync and
the feed's cursor then) and its files under ``cache_dir/objects``, in the local folder form."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sitegen.atomic import write_atomically
from sitegen.bounded import read_file_bounded
from sitegen.errors import SourceError
from sitegen.fetch.changes import Doubt, by_id
from sitegen.fetch.envelope import parse_page
from sitegen.kept import load_kept, save_kept


@dataclass(frozen=True)
class Snapshot:
    """Every collection as of a sync, and where the change feed stood then."""

    #: What was fetched, and how: a copy is only ever used for the same source, token and collections.
    identity: Mapping[str, Any]
    cursor: str
    #: The server's time when it issued ``cursor``: later changes are stamped no earlier than this.
    synced_at: datetime
    collections: Mapping[str, tuple[Mapping[str, Any], ...]]
    #: sha256 of each collection file as stored, so an unchanged collection is not rewritten.
    digests: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class LocalCopy:
    """The objects of the last successful fetch: ``<collection>.json`` in the local folder form
    (so ``--source`` can point at it for an offline build), and ``state.json`` with the
    cursor, the sync time and each file's sha256 and size, sealed under ``key``
    (``kept.save_kept``): a copy planted in the cache folder, without the key, is no copy.
    Each file is read bounded by its size in the state, a regular file only. The state is
    written last, so a crash or a concurrent build leaves a mismatch, which reads as no copy at all."""

    folder: Path
    key: bytes

    STATE = "state.json"
    VERSION = 2
    MAX_STATE_BYTES = 1 << 20

    def load(self, identity: Mapping[str, Any]) -> Snapshot | None:
        """The stored snapshot, or None when it is absent, corrupt, edited or for other data."""
        try:
            state = load_kept(self.folder / self.STATE, self.MAX_STATE_BYTES, "local-copy", "state", self.key)
            if not isinstance(state, dict) or state["version"] != self.VERSION or state["identity"] != identity:
                return None
            cursor, synced_at, digests = state["cursor"], datetime.fromisoformat(state["synced_at"]), state["sha256"]
            if not isinstance(cursor, str) or synced_at.tzinfo is None:
                return None
            collections = {name: self._collection(name, digests[name], state["size"][name]) for name in identity["collections"]}
        except (OSError, ValueError, KeyError, TypeError, RecursionError, SourceError, Doubt):
            return None
        return Snapshot(identity, cursor, synced_at, collections, {name: digests[name] for name in collections})

    def _collection(self, name: str, digest: str, size: int) -> tuple[Mapping[str, Any], ...]:
        path = self.folder / f"{name}.json"
        raw = read_file_bounded(path, size, str(path), SourceError, "")
        if hashlib.sha256(raw).hexdigest() != digest:
            raise Doubt(f"{path} does not match its checksum")
        items = parse_page(raw, str(path), "").data
        if by_id(items) is None:
            raise Doubt(f"{path} has objects without a unique string id")
        return items

    def save(self, snapshot: Snapshot) -> None:
        """Keep the snapshot for the next fetch (best effort: without it, the next fetch is a full one)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            digests, sizes = {}, {}
            for name, items in snapshot.collections.items():
                # ASCII: a lone surrogate from a "\\ud800" escape survives the round trip, where UTF-8 fails.
                raw = json.dumps({"data": list(items), "next": None}, ensure_ascii=True, separators=(",", ":")).encode("ascii")
                digests[name], sizes[name] = hashlib.sha256(raw).hexdigest(), len(raw)
                if digests[name] != snapshot.digests.get(name):
                    write_atomically(self.folder / f"{name}.json", raw)
            state = {
                "version": self.VERSION,
                "identity": snapshot.identity,
                "cursor": snapshot.cursor,
                "synced_at": snapshot.synced_at.isoformat(),
                "sha256": digests,
                "size": sizes,
            }
            save_kept(self.folder / self.STATE, self.MAX_STATE_BYTES, "local-copy", "state", state, self.key)
        except OSError:  # a cache folder that cannot be written (or a folder planted where a file goes) only costs a full fetch
            self.discard()

    def discard(self) -> None:
        """Forget the copy (its state), so that it cannot outlive the data it was a copy of."""
        try:
            (self.folder / self.STATE).unlink(missing_ok=True)
        except OSError:
            pass  # a leftover state still names its checksums and cursor: at worst it is caught up from there
