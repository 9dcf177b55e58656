"""One writer per output folder: ``fcntl.flock`` on ``.<output>.lock`` beside it.

A build (or ``sitegen serve``'s) holds the lock from before it reads the
output's state until its staging folder is gone. A second build on the same
output does not wait: it fails at once, naming the process that holds the
lock (its pid is in the lock file), since two builds of one site at once are
a mistake to tell, not to hide behind a long wait.

Forked render workers inherit the lock (a flock belongs to the open file,
which a fork shares). That is wanted: if the build is killed while they
render, they may still be writing into the staging folder, and the next
build must not clear it under them. So when the lock is held but the pid in
the file is gone, the holders can only be such orphaned workers, which end
when their share is done: then the next build waits for them.

The lock file stays (deleting a lock file races with its next user); it is
not under the output, so it is never published.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sitegen.errors import OutputBusy, OutputError

#: The lock file's size is a pid and a newline; this bounds what is read of a foreign one.
_PID_BYTES = 32


def real_output(output_dir: Path) -> Path:
    """The output folder with every symlink resolved: each spelling of one
    folder (``build``, a symlink to it, ``./x/../build``) takes the same lock."""
    return Path(os.path.realpath(output_dir))


def lock_path(output_dir: Path) -> Path:
    real = real_output(output_dir)
    return real.parent / f".{real.name}.lock"


class OutputLock:
    """The lock of one output folder; ``acquire`` raises OutputError if another process has it."""

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = real_output(output_dir)
        self.path = lock_path(output_dir)
        self._fd: int | None = None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise OutputError.at(
                str(self.path), f"cannot be opened: {exc.strerror or exc}", "make the folder of [build] output_dir writable"
            ) from None
        try:
            self._lock(fd)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)  # no pid: whoever finds the lock just taken by the next holder fails, not waits
        except OSError:
            pass
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _lock(self, fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            holder = _holder(fd)
        except OSError as exc:
            raise OutputError.at(
                str(self.path), f"cannot be locked: {exc.strerror or exc}", "put [build] output_dir on a local file system"
            ) from None
        if holder is None or _alive(holder):
            who = f"another sitegen process (pid {holder})" if holder else "another sitegen process"
            raise OutputBusy.at(
                str(self.output_dir),
                f"{who} is using it: a build, sitegen serve rebuilding, or a publish",
                "wait for it to finish (or stop it), then run this again",
            )
        fcntl.flock(fd, fcntl.LOCK_EX)  # the build is gone; its workers end with their share


def _holder(fd: int) -> int | None:
    try:
        text = os.pread(fd, _PID_BYTES, 0).decode("ascii").strip()
        return int(text) if text.isdigit() else None
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    except OverflowError:
        return False
    return True
