"""The write stage: make the output folder hold exactly the new build.

Three promises:

* **Only our own folder.** Files are deleted only from a folder that an
  earlier build marked as sitegen output (``.sitegen/``), or that is empty.
  Pointing ``output_dir`` at a folder of sources fails instead of wiping it.
* **All or nothing.** Every changed file is first written to a staging folder
  beside the output. Only when all are on disk is the output changed: each
  replaced or removed file is moved aside first, so a failure half-way is
  undone and the previous build is back as it was.
* **Only what changed.** A file whose bytes are the same is not touched, so its
  mtime stays and incremental uploads stay small. Files the new build lacks
  are removed, with their emptied folders.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from sitegen.errors import OutputError

# The layout of an output folder, which publish and serve read too.
#: sitegen's own files; present in every output folder sitegen has written,
#: and its absence protects other folders. Never published.
STATE_DIR = ".sitegen"
ASSET_MANIFEST = f"{STATE_DIR}/assets.json"
REPORT_FILE = f"{STATE_DIR}/report.json"
#: Public facts the fragment service reads at start (``render.holes.fragment_index``).
FRAGMENT_INDEX = f"{STATE_DIR}/fragments.json"
#: Hashed assets, below the output folder; [site] static_url serves this folder.
STATIC_DIR = "static"


@dataclass(frozen=True)
class WriteResult:
    written: int
    unchanged: int
    deleted: int


def write_build(output_dir: Path, files: Mapping[str, bytes], *, preserve: Collection[str] = ()) -> WriteResult:
    """Bring ``output_dir`` to hold exactly ``files`` (plus ``preserve``d paths)."""
    for path in files:
        _check_relative(path)
    _check_ours(output_dir)
    staging = output_dir.parent / f".{output_dir.name}.staging"
    shutil.rmtree(staging, ignore_errors=True)  # left over from a crashed build
    try:
        changed = _stage_changed(output_dir, staging / "new", files)
        stale = sorted(_existing_files(output_dir) - set(files) - set(preserve))
        _Apply(output_dir, staging / "previous").run(changed, stale, staging / "new")
    except OSError as exc:
        raise OutputError.at(
            str(output_dir), f"could not be written: {exc}", "check free space and permissions; the previous build was kept"
        ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return WriteResult(written=len(changed), unchanged=len(files) - len(changed), deleted=len(stale))


def _check_relative(path: str) -> None:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not path or "\\" in path or "\0" in path:
        raise OutputError.at(path, "is not a safe relative output path", "this is a bug in sitegen or a theme; please report it")


def _check_ours(output_dir: Path) -> None:
    if output_dir.exists() and not output_dir.is_dir():
        raise OutputError.at(str(output_dir), "is a file, not a folder", "set [build] output_dir to a folder")
    if output_dir.is_dir() and any(output_dir.iterdir()) and not (output_dir / STATE_DIR).is_dir():
        raise OutputError.at(
            str(output_dir),
            "is not empty and was not written by sitegen; a build would delete what is in it",
            "set [build] output_dir (or --output) to a new or empty folder",
        )


def _stage_changed(output_dir: Path, staging: Path, files: Mapping[str, bytes]) -> list[str]:
    changed = []
    for path, data in files.items():
        if _same_bytes(output_dir / path, data):
            continue
        staged = staging / path
        staged.parent.mkdir(parents=True, exist_ok=True)
        staged.write_bytes(data)
        changed.append(path)
    return changed


def _same_bytes(target: Path, data: bytes) -> bool:
    try:
        if not target.is_file() or target.stat().st_size != len(data):
            return False
        return target.read_bytes() == data
    except OSError:
        return False


def _existing_files(output_dir: Path) -> set[str]:
    if not output_dir.is_dir():
        return set()
    return {p.relative_to(output_dir).as_posix() for p in output_dir.rglob("*") if p.is_file() or p.is_symlink()}


@dataclass
class _Apply:
    """Moves staged files into the output, keeping what it replaces so it can undo."""

    output_dir: Path
    previous: Path
    #: (path, kept an old file, placed a new file), in the order done.
    done: list[tuple[str, bool, bool]] = field(default_factory=list)

    def run(self, changed: list[str], stale: list[str], staged: Path) -> None:
        try:
            for path in stale:
                self._set_aside(path)
                self.done.append((path, True, False))
            for path in changed:
                target = self.output_dir / path
                kept = target.is_file() or target.is_symlink()
                if kept:
                    self._set_aside(path)
                self.done.append((path, kept, False))
                self._clear_way(target)
                os.replace(staged / path, target)
                self.done[-1] = (path, kept, True)
        except OSError:
            self._undo()
            raise
        _remove_empty_folders(self.output_dir)

    def _set_aside(self, path: str) -> None:
        aside = self.previous / path
        aside.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.output_dir / path, aside)

    def _clear_way(self, target: Path) -> None:
        """Make target's folder; a stale file's folder may now be empty where a file goes."""
        for parent in reversed(target.relative_to(self.output_dir).parents[:-1]):
            folder = self.output_dir / parent
            if folder.is_file():  # only possible if it was stale, and so already set aside
                raise OSError(f"{folder} is in the way of {target}")
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir():
            _remove_empty_folders(target)
            target.rmdir()

    def _undo(self) -> None:
        for path, kept, placed in reversed(self.done):
            target = self.output_dir / path
            if placed:
                target.unlink(missing_ok=True)
            if kept:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self.previous / path, target)


def _remove_empty_folders(root: Path) -> None:
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
