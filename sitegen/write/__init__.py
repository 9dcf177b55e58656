"""The write stage: make the output folder hold the new build, and only it.

Files arrive one by one (``Stager.put``, from the render workers too) and go
live together (``Stager.commit``). Five promises:

* **Only our own folder.** Files are deleted only from a folder that an
  earlier build marked as sitegen output (``.sitegen/``), or that is empty.
  Pointing ``output_dir`` at a folder of sources fails instead of wiping it.
* **All or nothing.** Every changed file, and the new state, is first written
  to a staging folder beside the output. Only when all are on disk is the
  output changed, from a journal (``write.swap``): a build killed at any
  instant leaves the old build or, once the next build (or ``serve``) has
  finished the swap before anything else, the new one. A failure half-way
  (permissions, I/O) is undone in-process, and the previous build is back.
* **One at a time.** A build holds a lock beside the output (``write.lock``);
  a second build on the same output fails at once, naming the first.
* **Only what changed.** A file whose bytes are the same is not touched, so its
  mtime stays and incremental uploads stay small. Files of the last build
  that this one lacks are removed, with their emptied folders; the state
  says which those are (files sitegen never wrote are left alone).
* **Remembered.** ``.sitegen/state.marshal`` lists the files and keeps the render
  stage's record of what each was made from (``render.record``), so the next
  build renders only what changed. It goes live with the files it lists, and
  with its check (``state``): a record that is not this build's is not used.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitegen.bounded import shown
from sitegen.errors import OutputError, Problem
from sitegen.write.lock import OutputLock, real_output
from sitegen.write.state import (
    STATE_CHECK,
    STATE_DIR,
    STATE_FILE,
    LastBuild,
    check_bytes,
    read_check,
    read_early,
    read_last_build,
    state_bytes,
)
from sitegen.write.swap import BACK, FORWARD, Swap, recover, staged_name

__all__ = ["STATE_CHECK", "STATE_DIR", "STATE_FILE", "Committed", "read_early"]

# The layout of an output folder, which publish and serve read too (``STATE_DIR``, sitegen's
# own files, never published, and the record of the build in it: ``state``).
ASSET_MANIFEST = f"{STATE_DIR}/assets.json"
REPORT_FILE = f"{STATE_DIR}/report.json"
#: Public facts the fragment service reads at start (``render.holes.fragment_index``).
FRAGMENT_INDEX = f"{STATE_DIR}/fragments.json"
#: Which files of the search bundle are content-addressed (``search``); publish reads it.
SEARCH_MANIFEST = f"{STATE_DIR}/search.json"
#: Hashed assets, below the output folder; [site] static_url serves this folder.
STATIC_DIR = "static"


@dataclass(frozen=True)
class Committed:
    """A build's state as its process committed it: the check file's bytes, and what they check."""

    check: bytes
    last: LastBuild


@dataclass(frozen=True)
class WriteResult:
    written: int
    unchanged: int
    deleted: int


class Stager:
    """One write: files are staged as they come, then go live together.

    ``put`` may be called from forked worker processes: it only writes under
    the staging folder and reads the output folder. A first build (no output
    yet) is staged as a tree and moved into place with one rename; a rebuild
    stages its files flat (``swap.staged_name``) for the swap. The output's
    lock is held from the start (after finishing or undoing a swap a killed
    build left) until ``discard``.
    """

    def __init__(self, output_dir: Path, *, preserve: Collection[str] = ()) -> None:
        self.output_dir = output_dir = real_output(output_dir)  # the folder, not a symlink to it: one lock, one staging
        self.preserve = {STATE_FILE, STATE_CHECK, *preserve}
        self.staging = staging_path(output_dir)
        self._lock = OutputLock(output_dir)
        self._lock.acquire()
        try:
            self._open()
        except BaseException:
            self._lock.release()
            raise

    def _open(self) -> None:
        _recover(self.output_dir)
        _check_ours(self.output_dir)
        self.fresh = not self.output_dir.is_dir() or not any(self.output_dir.iterdir())
        self._take(LastBuild())
        try:
            (self.staging / "new").mkdir(parents=True)
        except OSError as exc:
            raise _write_error(self.output_dir, exc) from exc
        #: A fresh build stages files in their folders: the folders this process has made.
        self._made: set[str] = set()
        self._fresh_root = f"{self.staging}/new/"
        #: What ``commit`` put in place, for a long-lived process's next build (``read_last``).
        self.committed: Committed | None = None

    def read_last(self, kept: Committed | None = None) -> None:
        """Read the last build's state (``previous_files``, ``previous_record``, ``state_problem``);
        until then the stager knows nothing of it. Separate, so a job can be forked first.
        ``kept``: what this process committed last (``committed``), taken instead when the
        output's check file is still the one it wrote, so the state is not read back."""
        if self.fresh:
            return
        if kept is not None and kept.check == read_check(self.output_dir):
            self._take(kept.last)
        else:
            self._take(read_last_build(self.output_dir))

    def _take(self, last: LastBuild) -> None:
        self._state = last.state
        #: The files of the last build (None when unknown), and its render record.
        self.previous_files: frozenset[str] | None = last.files
        self.previous_record: Any = last.record
        #: Why a rebuild has no record of the last build (it then renders everything), for a warning.
        self.state_problem: Problem | None = last.problem

    def put(self, path: str, data: bytes) -> bool:
        """Stage a file unless the output already has these bytes; True if staged."""
        _check_relative(path)
        if not self.fresh and _same_bytes(self.output_dir / path, data):
            return False
        try:
            if self.fresh:
                self._put_fresh(path, data)
            else:
                self.staged(path).write_bytes(data)
        except OSError as exc:
            raise _write_error(self.output_dir, exc) from exc
        return True

    def _put_fresh(self, path: str, data: bytes) -> None:
        """A first build's file, through os calls on str paths (a build writes 70,000 of them):
        each folder made once (forked workers each keep their own set)."""
        root = self._fresh_root
        folder = path.rpartition("/")[0]
        if folder and folder not in self._made:
            os.makedirs(root + folder, exist_ok=True)
            self._made.add(folder)
        descriptor = os.open(root + path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
        finally:
            os.close(descriptor)

    def staged(self, path: str) -> Path:
        """Where ``put`` stages a file."""
        return self.staging / "new" / (path if self.fresh else staged_name(path))

    def commit(self, files: Collection[str], changed: Collection[str], record: Any = None, early: Any = None) -> WriteResult:
        """Make the output hold ``files``: the ``changed`` ones as staged, the
        rest as they are; remove the others. ``record`` and ``early`` (marshal
        data; ``state.read_early`` reads the second alone) are kept for the next build."""
        new_files = set(files) - (self.previous_files or set())
        for path in new_files:  # the others passed this check when first written
            _check_relative(path)
        state = state_bytes(files, record, early)
        check = check_bytes(state)
        stale: list[str] = []
        try:
            if self.fresh:
                self._move_in_whole(state, check)
            else:
                known = self.previous_files if self.previous_files is not None else _existing_files(self.output_dir)
                stale = sorted(known - set(files) - self.preserve)
                moved = sorted(changed)
                if state != self._state or self.previous_files is None:
                    _write_staged(self.staged(STATE_CHECK), check)
                    _write_staged(self.staged(STATE_FILE), state)
                    moved += [STATE_CHECK, STATE_FILE]  # last, as the record of what is now in place
                if moved or stale:
                    Swap(self.output_dir, self.staging).run(moved, stale)
        except OSError as exc:
            raise _write_error(self.output_dir, exc) from exc
        self.committed = Committed(check, LastBuild(state, frozenset(files), record))
        return WriteResult(written=len(changed), unchanged=len(files) - len(changed), deleted=len(stale))

    def _move_in_whole(self, state: bytes, check: bytes) -> None:
        new = self.staging / "new"
        _write_staged(new / STATE_CHECK, check)
        _write_staged(new / STATE_FILE, state)
        if self.output_dir.is_dir():
            self.output_dir.rmdir()  # empty, or it would not be a fresh build
        self.output_dir.parent.mkdir(parents=True, exist_ok=True)
        os.replace(new, self.output_dir)

    def discard(self) -> None:
        """Drop the staging folder (unless a swap that could not finish needs
        it: the next build finishes it) and let go of the lock."""
        try:
            if not ((self.staging / FORWARD).exists() or (self.staging / BACK).exists()):
                shutil.rmtree(self.staging, ignore_errors=True)
        finally:
            self._lock.release()


def staging_path(output_dir: Path) -> Path:
    real = real_output(output_dir)
    return real.parent / f".{real.name}.staging"


def recover_output(output_dir: Path) -> bool:
    """Under the output's lock, finish or undo a swap a killed build left
    (True if there was one). OutputError if another build holds the lock."""
    with OutputLock(output_dir):
        return _recover(real_output(output_dir))


@contextmanager
def whole_output(output_dir: Path) -> Iterator[None]:
    """For a reader of the whole build (publish): hold the output's lock, so no
    build changes it meanwhile, with any swap a killed build left finished first."""
    with OutputLock(output_dir):
        _recover(real_output(output_dir))
        yield


def _recover(output_dir: Path) -> bool:
    found = recover(output_dir, staging_path(output_dir))
    folder = output_dir / STATE_DIR
    try:  # a kill while the report was written leaves its temporary file (sitegen.atomic)
        for leftover in folder.glob(".*.tmp") if folder.is_dir() else ():
            leftover.unlink(missing_ok=True)
    except OSError as exc:
        raise _write_error(output_dir, exc) from exc
    return found


def _write_staged(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _write_error(output_dir: Path, exc: OSError) -> OutputError:
    return OutputError.at(str(output_dir), f"could not be written: {exc}", "check free space and permissions; the previous build was kept")


#: C0 controls, DEL and C1 controls: no output path holds one (S3 keys and URLs choke on them).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def output_path_problem(path: str) -> str | None:
    """Why ``path`` is not a file path the write stage writes (None: it is one).
    The one rule: publish checks the keys it reads back from the bucket by it too."""
    # PurePosixPath's reading of the path, by string operations: this runs for every file of a build.
    parts = path.split("/")
    if path.startswith("/"):
        return "is absolute"
    if all(part in ("", ".") for part in parts):
        return "is empty"
    if ".." in parts:
        return "has a '..' part"
    if "\\" in path:
        return "has a backslash"
    if _CONTROL.search(path):
        return "has a control character"
    if "" in parts or "." in parts:
        return "is not in normal form (an empty or '.' part, or a trailing '/')"
    if not path.isascii() and not unicodedata.is_normalized("NFC", path):  # S3 keeps both spellings apart; the build writes NFC
        return "is not in Unicode NFC form"
    return None


def _check_relative(path: str) -> None:
    problem = output_path_problem(path)
    if problem:
        raise OutputError.at(
            shown(path),
            f"is not a safe relative output path: it {problem}",
            "rename the theme or content file it comes from; otherwise this is a bug in sitegen, please report it",
        )


def _check_ours(output_dir: Path) -> None:
    if output_dir.exists() and not output_dir.is_dir():
        raise OutputError.at(str(output_dir), "is a file, not a folder", "set [build] output_dir to a folder")
    if (output_dir / STATE_DIR).is_symlink():
        raise OutputError.at(
            str(output_dir / STATE_DIR), "is a link; sitegen keeps its own files of this build there", "remove the link and build again"
        )
    if output_dir.is_dir() and any(output_dir.iterdir()) and not (output_dir / STATE_DIR).is_dir():
        raise OutputError.at(
            str(output_dir),
            f"is not empty and has no {STATE_DIR}/ (sitegen's mark on a folder it built); a build would delete what is in it",
            f"set [build] output_dir (or --output) to a new or empty folder; if sitegen built it and its {STATE_DIR}/ was deleted, delete the folder",
        )


def _same_bytes(target: Path, data: bytes) -> bool:
    try:
        if not target.is_file() or target.stat().st_size != len(data):
            return False
        return target.read_bytes() == data
    except OSError:
        return False


def _existing_files(output_dir: Path) -> set[str]:
    return {path for path, _ in files_under(output_dir)} if output_dir.is_dir() else set()


def files_under(folder: Path, prefix: str = "") -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Everything in ``folder`` but folders (files, links, anything else), each with its path below
    it (POSIX, after ``prefix``); links to folders are not followed. ``os.scandir``, not
    ``Path.rglob``: over the 10,000-session search bundle, 0.02 s instead of 0.4."""
    stack = [(str(folder), prefix)]
    while stack:
        where, under = stack.pop()
        with os.scandir(where) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, f"{under}{entry.name}/"))
                else:
                    yield under + entry.name, entry
