"""Reading a checkout of pyvideo/data within bounds: its category folders
(``<category>/category.json``), their ``videos/*.json`` files, and
``NO_PUBLISH.json``. Only regular files and real folders are read (links are
not followed), each file up to ``MAX_FILE_BYTES``, at most ``MAX_VIDEOS``
files and ``MAX_TOTAL_BYTES`` in all. A file that cannot be used is left out
with a warning naming it relative to the checkout; only a checkout that is
not one at all, or is past the bounds, stops the build."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitegen.bounded import loads_json, read_file_bounded
from sitegen.errors import SourceError, clip

#: A pyvideo file is a few KB (the largest, 16 KB); a larger one is refused.
MAX_FILE_BYTES = 1 << 20
#: Category folders and video files read at most (pyvideo/data: 540 and 21,715).
MAX_CATEGORIES = 20_000
MAX_VIDEOS = 500_000
#: Bytes read from all files together (pyvideo/data: 94 MB).
MAX_TOTAL_BYTES = 2 << 30

CHECKOUT_FIX = 'point [source] url = "pyvideo:PATH" at a checkout of github.com/pyvideo/data'
_FILE_FIX = "fix the file, or delete it from the checkout"

Warn = Callable[[str, str, str], None]


@dataclass
class CategoryFiles:
    """One category folder as read: ``category.json`` (empty when unusable) and its videos by file stem."""

    folder: str
    meta: dict[str, Any]
    videos: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (stem, where, the JSON)


@dataclass
class _Budget:
    max_file: int
    files: int = 0
    bytes: int = 0

    def take(self, size: int, checkout: Path) -> None:
        self.files += 1
        self.bytes += size
        if self.files > MAX_VIDEOS:
            raise SourceError.at(str(checkout), f"holds more than {MAX_VIDEOS:,} files to read", CHECKOUT_FIX)
        if self.bytes > MAX_TOTAL_BYTES:
            raise SourceError.at(str(checkout), f"holds more than {MAX_TOTAL_BYTES:,} bytes of JSON", CHECKOUT_FIX)


def read_checkout(checkout: Path, max_bytes: int, warn: Warn) -> list[CategoryFiles]:
    """Every category folder of ``checkout`` in name order, with its usable videos in file-name order."""
    if not checkout.is_dir():
        raise SourceError.at(str(checkout), "is not a folder", CHECKOUT_FIX)
    budget = _Budget(min(max_bytes, MAX_FILE_BYTES))
    hidden = _hidden_ids(checkout, budget, warn)
    categories: list[CategoryFiles] = []
    for name in _entries(str(checkout), warn, "", folders=True):
        meta_path = os.path.join(checkout, name, "category.json")
        if not os.path.isfile(meta_path) or os.path.islink(meta_path):
            continue  # not a category: tools/, .github/
        if len(categories) == MAX_CATEGORIES:
            raise SourceError.at(str(checkout), f"holds more than {MAX_CATEGORIES:,} category folders", CHECKOUT_FIX)
        meta = _read_json(checkout, f"{name}/category.json", budget, warn)
        if not isinstance(meta, dict):
            if meta is not None:
                warn(f"{name}/category.json", "is not a JSON object; the folder name is used as the title", _FILE_FIX)
            meta = {}
        category = CategoryFiles(name, meta)
        for stem, where, video in _videos(checkout, name, budget, warn):
            if _pyvideo_id(video) in hidden:
                warn(where, "is listed in NO_PUBLISH.json; left out", "")
            else:
                category.videos.append((stem, where, video))
        categories.append(category)
    if not categories:
        raise SourceError.at(str(checkout), "holds no <category>/category.json", CHECKOUT_FIX)
    return categories


def _videos(checkout: Path, name: str, budget: _Budget, warn: Warn) -> Iterator[tuple[str, str, dict[str, Any]]]:
    folder = os.path.join(checkout, name, "videos")
    if not os.path.isdir(folder):
        return
    for file_name in _entries(folder, warn, f"{name}/videos/", folders=False):
        if not file_name.endswith(".json"):
            continue
        where = f"{name}/videos/{file_name}"
        video = _read_json(checkout, where, budget, warn)
        if isinstance(video, dict):
            yield file_name.removesuffix(".json"), where, video
        elif video is not None:
            warn(where, "is not a JSON object; left out", _FILE_FIX)


def _entries(folder: str, warn: Warn, prefix: str, *, folders: bool) -> list[str]:
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
                    found.append(entry.name)
    except OSError as exc:
        raise SourceError.at(str(folder), f"cannot be listed: {exc.strerror or exc}", "check its permissions") from None
    return sorted(found)


def _read_json(checkout: Path, where: str, budget: _Budget, warn: Warn) -> Any:
    """The parsed file at ``checkout/where``, or None (with a warning) when it cannot be read or parsed."""
    try:
        data = read_file_bounded(os.path.join(checkout, where), budget.max_file, where, SourceError, _FILE_FIX)
        budget.take(len(data), checkout)
        return loads_json(data, where, SourceError, _FILE_FIX)
    except OSError as exc:
        warn(where, f"cannot be read ({clip(exc.strerror or str(exc))}); left out", "check its permissions")
    except SourceError as exc:
        if exc.problems and exc.problems[0].where == where:
            warn(where, f"{exc.problems[0].what}; left out", _FILE_FIX)
        else:
            raise
    return None


def _hidden_ids(checkout: Path, budget: _Budget, warn: Warn) -> set[int]:
    """The ids ``NO_PUBLISH.json`` lists: talks the pyvideo site does not show."""
    if not (checkout / "NO_PUBLISH.json").is_file():
        return set()
    listed = _read_json(checkout, "NO_PUBLISH.json", budget, warn)
    if not isinstance(listed, list):
        if listed is not None:
            warn("NO_PUBLISH.json", "is not a JSON list of ids; nothing is hidden", "write it as a list of video ids")
        return set()
    return {item for item in listed if isinstance(item, int) and not isinstance(item, bool)}


def _pyvideo_id(video: dict[str, Any]) -> int | None:
    value = video.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None
