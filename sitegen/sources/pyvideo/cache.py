"""Talks read from a checkout, kept between builds in ``cache_dir``: a video
file whose size, times and inode are what they were when it was read is not
read again; its talk and its warnings come from here. The build after one
edit reads one file.

One file, ``talks.json``, written atomically and only when something changed,
holding only the files of the last read. It is ignored whole when it is
damaged, from another version of the code that reads talks, or not there.
A file changed within ``RACY_NS`` of its read is not kept, as a later change
in the same clock tick would look like no change (git's "racy" rule).

A long-lived process (``sitegen serve``) keeps the talks in memory between its
reads: loading and writing the file cost more than the edit's whole read (about
40 MB for pyvideo/data). It writes the file once, at its first read; later
reads leave the file as it was, which only makes the next build read again the
files that changed since (each entry is checked against its file's stat key)."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

import sitegen
from sitegen.atomic import write_atomically
from sitegen.bounded import read_file_bounded
from sitegen.contract import limits, media, slugs, urls
from sitegen.errors import Problem, SourceError
from sitegen.sources.pyvideo import talks, values

#: A file's size, modification and change times (ns) and inode: any write changes the change time.
StatKey = tuple[int, int, int, int]
#: Files changed this recently are read again next time.
RACY_NS = 2_000_000_000
#: The most bytes of the cache file read (pyvideo/data's: about 40 MB for 21,700 talks); a
#: larger one is not read (every file is then read anew, and the cache written again).
MAX_CACHE_BYTES = 256 << 20
FILE = "talks.json"
#: The talks' key in ``fetch.Reading.memory``.
MEMORY_KEY = "pyvideo"


def stat_key(info: os.stat_result) -> StatKey:
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


def _code_version() -> str:
    """A digest of the code a cached talk depends on: another version of it reads files anew."""
    digest = hashlib.sha256(sitegen.__version__.encode())
    for module in (talks, values, limits, media, slugs, urls):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()


class TalkCache:
    """What ``read_talk`` made of each video file, by its path relative to the checkout."""

    def __init__(
        self,
        folder: Path | None,
        clock: Callable[[], int] = time.time_ns,
        *,
        memory: dict[str, Any] | None = None,
        checkout: Path | None = None,
    ) -> None:
        self.path = folder / FILE if folder is not None else None
        self.version = _code_version() if folder is not None else ""
        self.entries: dict[str, list[Any]] = {}
        self.seen: dict[str, list[Any]] = {}
        self.changed = False
        self.started = clock()
        #: Where a long-lived process keeps the talks, and under what (a read of another
        #: checkout, cache file or code does not take them).
        self.memory = memory if self.path is not None else None
        self.key: tuple[str, ...] = (str(checkout), str(self.path), self.version)
        kept = self.memory.get(MEMORY_KEY) if self.memory is not None else None
        self.in_memory = kept is not None and kept[0] == self.key
        if kept is not None and self.in_memory:
            self.entries = kept[1]
        elif self.path is not None:
            self._load(self.path)

    def _load(self, path: Path) -> None:
        # sitegen's own file: orjson alone (its nesting limit keeps it from recursing deep), without
        # loads_json's walk for nesting, which costs as much as the parse on 40 MB; each entry's
        # shape is checked when it is used (``get``).
        try:
            stored = orjson.loads(read_file_bounded(path, MAX_CACHE_BYTES, str(path), SourceError, ""))
        except (OSError, SourceError, orjson.JSONDecodeError):
            return
        if isinstance(stored, dict) and stored.get("version") == self.version and isinstance(stored.get("talks"), dict):
            self.entries = stored["talks"]

    def get(self, where: str, key: StatKey) -> tuple[talks.Talk, int | None, list[Problem]] | None:
        """The talk, its pyvideo id and its warnings as read from this file before; None when not kept or changed."""
        entry = self.entries.get(where)
        try:
            if entry is None or tuple(entry[0]) != key:
                return None
            fields, pyvideo_id, warnings = entry[1], entry[2], entry[3]
            where_, stem, slug, title, abstract, day, speakers, tags, links, language = fields
            talk = talks.Talk(where_, stem, slug, title, abstract, day, tuple(speakers), tuple(tags), tuple(links), language)
            problems = [Problem(*problem) for problem in warnings]
        except (TypeError, ValueError, IndexError):
            return None
        self.seen[where] = entry
        return talk, pyvideo_id, problems

    def put(self, where: str, key: StatKey, talk: talks.Talk, pyvideo_id: int | None, warnings: list[Problem]) -> None:
        self.changed = True
        if self.started - key[2] < RACY_NS:
            return  # changed just now: a change in the same tick would go unseen
        fields = [
            talk.where,
            talk.stem,
            talk.slug,
            talk.title,
            talk.abstract,
            talk.day,
            talk.speakers,
            talk.tags,
            talk.media,
            talk.language,
        ]
        self.seen[where] = [list(key), fields, pyvideo_id, [[p.where, p.what, p.fix] for p in warnings]]

    def save(self) -> None:
        """Keep the talks of this read (and only those), if any was read anew or one is gone:
        in memory, and in the file unless an earlier read of this process wrote it."""
        if self.memory is not None:
            self.memory[MEMORY_KEY] = (self.key, self.seen)
        if self.path is None or self.in_memory or not (self.changed or self.seen.keys() != self.entries.keys()):
            return
        data = orjson.dumps({"version": self.version, "talks": self.seen})
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path, data)
        except IsADirectoryError:
            raise SourceError.at(
                str(self.path), "is a folder", "remove it: sitegen keeps its cache of the checkout's talks in that file"
            ) from None
        except (FileExistsError, NotADirectoryError):  # a file where its folder goes
            fix = "remove it: sitegen keeps its cache of the checkout's talks in that folder"
            raise SourceError.at(str(self.path.parent), "is not a folder", fix) from None
        except OSError as exc:
            raise SourceError.at(str(self.path), f"cannot be written: {exc.strerror or exc}", "make [build] cache_dir writable") from None
