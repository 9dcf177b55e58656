"""The swap: move a staged build into the output so that a kill at any
instant leaves the old build or the new one, once the next build has started.

The staging folder beside the output holds ``new/`` (every changed file,
the new state among them, under flat names: ``staged_name``), and, once all
of them are on disk, the journal
``forward.json``: the changed paths, those of them that are new, and the
stale paths to remove. Writing the journal (one atomic rename) is the commit
point:

* Before it, the output was not touched: a staging folder without a journal
  is a build killed before it was done, and is deleted.
* After it, the swap goes forward: files the output has are set aside in
  ``previous/``, staged ones take their place, stale ones go. ``roll_forward``
  does the same from the journal alone: a staged file still in ``new/`` was
  not placed yet, a stale file still in the output was not removed yet.
* If a move fails in-process (permissions, an I/O error), the journal is
  renamed ``back.json`` (a rename needs no free space) and ``roll_back`` puts
  back what ``previous/`` holds and removes the new files placed; the
  previous build is back, state included.

Each step is idempotent, so recovery (``recover``, run by every build before
it reads the state) may itself be killed and run again. The journal goes
last, then the staging folder.

What is promised is for the process being killed (``kill -9``, an OOM kill,
Ctrl-C): the files it renamed are in the kernel's page cache and survive it.
Nothing is fsynced, so after a power loss or an OS crash the file system may
have kept some renames and not others; delete the output and build again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sitegen.atomic import write_atomically
from sitegen.errors import OutputError, clip

FORWARD = "forward.json"
BACK = "back.json"
JOURNAL_FORMAT = 1


def staged_name(path: str) -> str:
    """A file's name in ``new/`` and ``previous/``: its path with "%" and "/"
    escaped, so both are flat, and no folder is made or removed per page."""
    name = path.replace("%", "%25").replace("/", "%2F")
    if len(name.encode("utf-8")) <= 200:
        return name
    return "%%" + hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()  # no escaped name has "%%"


@dataclass(frozen=True)
class Journal:
    """What one swap changes: ``changed`` files (``added`` ones had no old
    version), and ``stale`` files to remove."""

    changed: Sequence[str]
    added: frozenset[str]
    stale: Sequence[str]

    def to_bytes(self) -> bytes:
        data = {"format": JOURNAL_FORMAT, "changed": list(self.changed), "added": sorted(self.added), "stale": list(self.stale)}
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def read(cls, path: Path) -> Journal:
        try:
            data = json.loads(path.read_bytes())
            if data["format"] != JOURNAL_FORMAT:
                raise ValueError(f"format {data['format']!r}")
            lists = [data["changed"], data["added"], data["stale"]]
            if not all(isinstance(items, list) and all(isinstance(p, str) for p in items) for items in lists):
                raise ValueError("not three lists of paths")
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
            raise OutputError.at(
                str(path),
                f"the journal of an interrupted build cannot be read ({clip(str(exc))})",
                "delete the output folder and this staging folder, then build again",
            ) from None
        return cls(tuple(data["changed"]), frozenset(data["added"]), tuple(data["stale"]))


@dataclass(frozen=True)
class Swap:
    """One swap of the staging folder's ``new/`` into ``output_dir``."""

    output_dir: Path
    staging: Path

    @property
    def new(self) -> Path:
        return self.staging / "new"

    @property
    def previous(self) -> Path:
        return self.staging / "previous"

    def run(self, changed: Sequence[str], stale: Sequence[str]) -> None:
        """Commit (write the journal), move everything, and clear the journal.
        On an OSError the previous build is put back and the error raised."""
        root = str(self.output_dir)
        added = frozenset(p for p in changed if not _is_file(f"{root}/{p}"))
        journal = Journal(changed, added, stale)
        write_atomically(self.staging / FORWARD, journal.to_bytes())
        try:
            self.forward(journal, keep=True)
        except OSError:
            self.undo(journal)
            raise
        self.finish()

    def undo(self, journal: Journal) -> None:
        """Turn the journal round, then put the previous build back."""
        try:
            os.rename(self.staging / FORWARD, self.staging / BACK)
            self.back(journal)
        except OSError as exc:
            raise OutputError.at(
                str(self.output_dir),
                f"a failed write could not be undone: {exc}",
                "free some space or fix the permissions, then run the build again: it first finishes the undo",
            ) from None
        self.finish()

    def forward(self, journal: Journal, *, keep: bool) -> None:
        """Place every staged file and remove every stale one. With ``keep``,
        replaced and removed files are set aside in ``previous/`` for an undo.
        (Paths are strings here: pathlib costs more than the renames.)"""
        root, new, previous = str(self.output_dir), str(self.new), str(self.previous)
        if keep:
            os.makedirs(previous, exist_ok=True)
        for path in journal.stale:
            target = f"{root}/{path}"
            if _is_entry(target):  # a folder here now is a changed file's, placed later
                _remove(target, f"{previous}/{staged_name(path)}" if keep else None)
        folders: set[str] = set()
        for path in journal.changed:
            staged = f"{new}/{staged_name(path)}"
            if not os.path.lexists(staged):
                continue  # placed already
            target = f"{root}/{path}"
            if keep and _is_file(target):
                _remove(target, f"{previous}/{staged_name(path)}")  # else os.replace replaces it
            _clear_way(root, path, folders)
            os.replace(staged, target)
        _remove_emptied_folders(self.output_dir, journal.stale)

    def back(self, journal: Journal) -> None:
        """Put back what ``previous/`` holds and remove the new files placed."""
        for path in reversed(journal.changed):
            aside, target = self.previous / staged_name(path), self.output_dir / path
            if _exists(aside):
                _make_way(self.output_dir, path)
                os.replace(aside, target)
            elif path in journal.added and not _exists(self.new / staged_name(path)):
                target.unlink(missing_ok=True)  # placed: it had no previous version
        _remove_emptied_folders(self.output_dir, sorted(journal.added))
        for path in journal.stale:
            aside = self.previous / staged_name(path)
            if _exists(aside):
                _make_way(self.output_dir, path)
                os.replace(aside, self.output_dir / path)

    def finish(self) -> None:
        """The swap is over: the journal goes, then the staging folder."""
        for name in (FORWARD, BACK):
            (self.staging / name).unlink(missing_ok=True)
        shutil.rmtree(self.staging, ignore_errors=True)


def recover(output_dir: Path, staging: Path) -> bool:
    """Finish or undo a swap that a killed build left, or delete the staging
    folder of a build killed before its commit point. True if a swap was found.
    The caller holds the output's lock."""
    swap = Swap(output_dir, staging)
    try:
        if (staging / BACK).exists():
            swap.back(Journal.read(staging / BACK))
        elif (staging / FORWARD).exists():
            swap.forward(Journal.read(staging / FORWARD), keep=False)
        elif not staging.exists():
            return False
        else:
            shutil.rmtree(staging)  # killed before its commit point: the output was not touched
            return False
    except OSError as exc:
        raise OutputError.at(
            str(output_dir),
            f"an interrupted build could not be finished: {exc}",
            "free some space or fix the permissions, then run the build again",
        ) from None
    swap.finish()
    return True


def _exists(path: Path) -> bool:
    return os.path.lexists(path)


def _remove(target: str, aside: str | None) -> None:
    """Set a file aside (for an undo), or remove it."""
    if aside is not None:
        os.replace(target, aside)
    else:
        try:
            os.unlink(target)
        except FileNotFoundError:
            pass


def _is_file(path: str | Path) -> bool:
    """A file or a link (one lstat)."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return False
    return stat.S_ISREG(mode) or stat.S_ISLNK(mode)


def _is_entry(path: str) -> bool:
    """Anything but a folder (a file, a link, or a pipe or device someone put in a file's place)."""
    try:
        return not stat.S_ISDIR(os.lstat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False


def _clear_way(root: str, path: str, folders: set[str]) -> None:
    """Make the folder of root/path (``folders``: those made or seen already);
    where a file goes, a folder of stale files may be left empty."""
    parent = path.rpartition("/")[0]
    if parent not in folders:
        parts = parent.split("/") if parent else []
        for depth in range(1, len(parts) + 1):
            folder = f"{root}/{'/'.join(parts[:depth])}"
            if _is_file(folder):  # only possible if it was stale, and so already removed
                raise OSError(f"{folder} is in the way of {root}/{path}")
        os.makedirs(f"{root}/{parent}", exist_ok=True)
        folders.add(parent)
    target = f"{root}/{path}"
    if not _is_file(target) and os.path.isdir(target):
        _remove_empty_folders(Path(target))
        os.rmdir(target)


def _make_way(root: Path, path: str) -> None:
    """Before a file is put back: its folder exists, and no empty folder stands where it goes."""
    target = root / path
    if target.is_dir() and not target.is_symlink():
        _remove_empty_folders(target)
        target.rmdir()
    target.parent.mkdir(parents=True, exist_ok=True)


def _remove_emptied_folders(root: Path, removed: Sequence[str]) -> None:
    """Remove the folders that removing these files left empty (only those:
    walking the whole output would cost more than the rest of a small rebuild)."""
    folders = {parent for path in removed for parent in PurePosixPath(path).parents if parent != PurePosixPath(".")}
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        target = root / folder
        if target.is_dir() and not target.is_symlink() and not any(target.iterdir()):
            target.rmdir()


def _remove_empty_folders(root: Path) -> None:
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
