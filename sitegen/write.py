"""The write stage: make the output folder hold exactly the new build.

Two promises:

* **All or nothing.** Every changed file is first written to a staging folder
  beside the output. Only when all of them are on disk are they moved into
  place (a rename on the same filesystem), so a failure while writing (a full
  disk, a permission error) leaves the previous build as it was.
* **Only what changed.** A file whose bytes are the same is not touched, so its
  mtime stays and incremental uploads stay small. Files of the old build that
  the new one lacks are removed, with their emptied folders.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sitegen.errors import OutputError


@dataclass(frozen=True)
class WriteResult:
    written: int
    unchanged: int
    deleted: int


def write_build(output_dir: Path, files: Mapping[str, bytes], *, preserve: Collection[str] = ()) -> WriteResult:
    """Bring ``output_dir`` to hold exactly ``files`` (plus ``preserve``d paths)."""
    for path in files:
        _check_relative(path)
    staging = output_dir.parent / f".{output_dir.name}.staging"
    try:
        shutil.rmtree(staging, ignore_errors=True)
        changed = _stage_changed(output_dir, staging, files)
        stale = _existing_files(output_dir) - set(files) - set(preserve)
        for path in sorted(stale):
            (output_dir / path).unlink()
        for path in changed:
            target = output_dir / path
            _make_parent(output_dir, target)
            os.replace(staging / path, target)
        _remove_empty_folders(output_dir)
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


def _make_parent(output_dir: Path, target: Path) -> None:
    """Create target's folder; a stale file or folder in the way is removed."""
    for parent in reversed(target.relative_to(output_dir).parents[:-1]):
        folder = output_dir / parent
        if folder.is_file() or folder.is_symlink():
            folder.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)


def _remove_empty_folders(output_dir: Path) -> None:
    for folder in sorted((p for p in output_dir.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
