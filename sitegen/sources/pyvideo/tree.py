"""Reading a checkout of pyvideo/data within bounds: its category folders
(``<category>/category.json``), their ``videos/*.json`` files, and
``NO_PUBLISH.json``. Only regular files and real folders are read (links are
not followed), each file up to ``MAX_FILE_BYTES``, at most ``MAX_VIDEOS``
files and ``MAX_TOTAL_BYTES`` in all. A file that cannot be used is left out
with a warning naming it relative to the checkout; only a checkout that is
not one at all, or is past the bounds, stops the build."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitegen.bounded import loads_json, read_file_bounded
from sitegen.errors import Problem, SourceError, clip
from sitegen.sources.pyvideo.cache import StatKey, TalkCache, stat_key
from sitegen.sources.pyvideo.talks import Talk
from sitegen.sources.pyvideo.values import Warn

#: A pyvideo file is a few KB (the largest, 16 KB); a larger one is refused.
MAX_FILE_BYTES = 1 << 20
#: Category folders and video files read at most (pyvideo/data: 540 and 21,715).
MAX_CATEGORIES = 20_000
MAX_VIDEOS = 500_000
#: Bytes read from all files together (pyvideo/data: 94 MB).
MAX_TOTAL_BYTES = 2 << 30

CHECKOUT_FIX = 'point [source] url = "pyvideo:PATH" at a checkout of github.com/pyvideo/data'
_FILE_FIX = "fix the file, or delete it from the checkout"


@dataclass(frozen=True)
class VideoFile:
    """One video file: its JSON object, or (unchanged since the last read) what was made of it then."""

    stem: str
    where: str
    key: StatKey
    document: dict[str, Any] | None
    cached: tuple[Talk, int | None, list[Problem]] | None = None


@dataclass
class CategoryFiles:
    """One category folder as read: ``category.json`` (empty when unusable) and its video files by name."""

    folder: str
    meta: dict[str, Any]
    videos: list[VideoFile] = field(default_factory=list)


@dataclass
class _Reader:
    """Reads files under ``root`` (the checkout, as text: a Path per file costs more than reading it)."""

    root: str
    max_file: int
    warn: Warn
    cache: TalkCache
    files: int = 0
    bytes: int = 0

    def json(self, where: str) -> Any:
        """The parsed file at ``root/where``, or None (with a warning) when it cannot be read or parsed."""
        try:
            data = read_file_bounded(os.path.join(self.root, where), self.max_file, where, SourceError, _FILE_FIX)
            self.take(len(data))
            return loads_json(data, where, SourceError, _FILE_FIX)
        except OSError as exc:
            self.warn(where, f"cannot be read ({clip(exc.strerror or str(exc))}); left out", "check its permissions")
        except SourceError as exc:
            if not exc.problems or exc.problems[0].where != where:
                raise
            self.warn(where, f"{exc.problems[0].what}; left out", _FILE_FIX)
        return None

    def take(self, size: int) -> None:
        self.files += 1
        self.bytes += size
        if self.files > MAX_VIDEOS:
            raise SourceError.at(self.root, f"holds more than {MAX_VIDEOS:,} files to read", CHECKOUT_FIX)
        if self.bytes > MAX_TOTAL_BYTES:
            raise SourceError.at(self.root, f"holds more than {MAX_TOTAL_BYTES:,} bytes of JSON", CHECKOUT_FIX)


def read_checkout(checkout: Path, max_bytes: int, warn: Warn, cache: TalkCache) -> tuple[list[CategoryFiles], set[int]]:
    """Every category folder of ``checkout`` in name order, with its usable videos in file-name order,
    and the ids of the talks ``NO_PUBLISH.json`` hides. Files ``cache`` knows unchanged are not read."""
    if not checkout.is_dir():
        raise SourceError.at(str(checkout), "is not a folder", CHECKOUT_FIX)
    reader = _Reader(str(checkout), min(max_bytes, MAX_FILE_BYTES), warn, cache)
    hidden = _hidden_ids(reader)
    categories: list[CategoryFiles] = []
    for name, _ in _entries(reader.root, warn, "", folders=True):
        meta_path = os.path.join(reader.root, name, "category.json")
        if not os.path.isfile(meta_path) or os.path.islink(meta_path):
            continue  # not a category: tools/, .github/
        if len(categories) == MAX_CATEGORIES:
            raise SourceError.at(reader.root, f"holds more than {MAX_CATEGORIES:,} category folders", CHECKOUT_FIX)
        meta = reader.json(f"{name}/category.json")
        if not isinstance(meta, dict):
            if meta is not None:
                warn(f"{name}/category.json", "is not a JSON object; the folder name is used as the title", _FILE_FIX)
            meta = {}
        categories.append(CategoryFiles(name, meta, list(_videos(reader, name))))
    if not categories:
        raise SourceError.at(reader.root, "holds no <category>/category.json", CHECKOUT_FIX)
    return categories, hidden


def _videos(reader: _Reader, name: str) -> Iterator[VideoFile]:
    folder = os.path.join(reader.root, name, "videos")
    if not os.path.isdir(folder):
        return
    for file_name, entry in _entries(folder, reader.warn, f"{name}/videos/", folders=False):
        if not file_name.endswith(".json"):
            continue
        where, stem = f"{name}/videos/{file_name}", file_name.removesuffix(".json")
        key = stat_key(entry.stat(follow_symlinks=False))
        if cached := reader.cache.get(where, key):
            reader.take(key[0])
            yield VideoFile(stem, where, key, None, cached)
            continue
        video = reader.json(where)
        if isinstance(video, dict):
            yield VideoFile(stem, where, key, video)
        elif video is not None:
            reader.warn(where, "is not a JSON object; left out", _FILE_FIX)


def _entries(folder: str, warn: Warn, prefix: str, *, folders: bool) -> list[tuple[str, os.DirEntry[str]]]:
    """The folders (or regular files) in ``folder``, by name; hidden ones skipped, links refused with a warning."""
    found = []
    try:
        with os.scandir(folder) as scan:
            for entry in scan:
                if entry.name.startswith("."):
                    continue
                if entry.is_symlink():
                    warn(
                        prefix + entry.name,
                        "is a symbolic link, which is not followed; left out",
                        "replace it by the file or folder itself",
                    )
                elif entry.is_dir(follow_symlinks=False) if folders else entry.is_file(follow_symlinks=False):
                    found.append((entry.name, entry))
    except OSError as exc:
        raise SourceError.at(str(folder), f"cannot be listed: {exc.strerror or exc}", "check its permissions") from None
    return sorted(found, key=lambda item: item[0])


def _hidden_ids(reader: _Reader) -> set[int]:
    """The ids ``NO_PUBLISH.json`` lists: talks the pyvideo site does not show."""
    if not os.path.isfile(os.path.join(reader.root, "NO_PUBLISH.json")):
        return set()
    listed = reader.json("NO_PUBLISH.json")
    if not isinstance(listed, list):
        if listed is not None:
            reader.warn("NO_PUBLISH.json", "is not a JSON list of ids; nothing is hidden", "write it as a list of video ids")
        return set()
    return {item for item in listed if isinstance(item, int) and not isinstance(item, bool)}


def pyvideo_id(video: dict[str, Any]) -> int | None:
    value = video.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None
