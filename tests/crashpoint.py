"""Run the sitegen CLI and stop it dead at one chosen file operation.

    python tests/crashpoint.py --watch DIR [--watch DIR] [--kill-at N | --pause-at N] [--fail-at N ...] [--log FILE] -- build --root ...

Counts, in the build's own process (not in forked render workers), the calls
of ``os.replace``, ``os.rename``, ``os.unlink`` and ``os.rmdir`` on paths
under a watched folder (the output and its staging folder) or relative to a
folder descriptor (``shutil.rmtree`` of the staging folder), and the two
writes that make a file of the swap: the staged state
(``sitegen.write._write_staged``) and the journal
(``sitegen.write.swap.write_atomically``). With ``--log``, one line per
counted call (``N op path``) is appended to FILE.

``--kill-at N``: at the Nth call, before it happens, the process sends itself
SIGKILL; a staged state or journal is first half written, as a kill in the
middle of the write would leave it. ``--pause-at N``: at the Nth call it
prints ``paused PID`` and waits for a line on standard input, then goes on
(a build that holds its lock for as long as a test needs). ``--fail-at N``
(repeatable): the Nth call raises ``OSError(EIO)`` instead, as a failing disk would.
``--op-delay S``: each counted call first sleeps S seconds, to stretch the
swap of a middling site over the time a big site's takes.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


class Crashpoint:
    def __init__(self, watched: list[str], kill_at: int, pause_at: int, fail_at: list[int], log: str | None, delay: float = 0.0) -> None:
        self.watched = [os.path.realpath(folder) for folder in watched]
        self.kill_at, self.pause_at, self.fail_at, self.log = kill_at, pause_at, set(fail_at), log
        self.delay = delay
        self.count = 0
        self.pid = os.getpid()

    def counts(self, path: Any, dir_fd: int | None) -> bool:
        if os.getpid() != self.pid:
            return False
        if dir_fd is not None:
            return True
        real = os.path.realpath(os.fspath(path))
        return any(real == folder or real.startswith(folder + os.sep) for folder in self.watched)

    def step(self, op: str, path: Any, before_kill: Callable[[], None] = lambda: None) -> None:
        self.count += 1
        if self.delay:
            time.sleep(self.delay)
        if self.log:
            with open(self.log, "a", encoding="utf-8") as log:
                log.write(f"{self.count} {op} {os.fspath(path)}\n")
        if self.count == self.kill_at:
            before_kill()
            os.kill(os.getpid(), signal.SIGKILL)
        if self.count == self.pause_at:
            print(f"paused {os.getpid()}", flush=True)
            sys.stdin.readline()
        if self.count in self.fail_at:
            raise OSError(errno.EIO, "Input/output error (crashpoint)", os.fspath(path))

    def wrap(self, name: str) -> None:
        real = getattr(os, name)

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if self.counts(args[0], kwargs.get("dir_fd") or kwargs.get("src_dir_fd")):
                self.step(name, args[0])
            return real(*args, **kwargs)

        setattr(os, name, wrapped)

    def wrap_write(self, module: Any, name: str) -> None:
        real = getattr(module, name)

        def wrapped(path: Path, data: bytes) -> None:
            if self.counts(path, None):
                self.step(name, path, lambda: _half_write(path, data))
            real(path, data)

        setattr(module, name, wrapped)


def _half_write(path: Path, data: bytes) -> None:
    """What a kill in the middle of a write leaves: a temporary file (the
    journal's) or the file itself (a staged one), half written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    target = path.parent / f".{path.name}.killed.tmp" if path.name.endswith(".json") else path
    target.write_bytes(data[: len(data) // 2])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--watch", action="append", default=[])
    parser.add_argument("--kill-at", type=int, default=0)
    parser.add_argument("--pause-at", type=int, default=0)
    parser.add_argument("--fail-at", type=int, action="append", default=[])
    parser.add_argument("--op-delay", type=float, default=0.0)
    parser.add_argument("--log")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    crashpoint = Crashpoint(options.watch, options.kill_at, options.pause_at, options.fail_at, options.log, options.op_delay)
    for name in ("replace", "rename", "unlink", "rmdir"):
        crashpoint.wrap(name)
    import sitegen.write
    import sitegen.write.swap

    crashpoint.wrap_write(sitegen.write, "_write_staged")
    crashpoint.wrap_write(sitegen.write.swap, "write_atomically")
    from sitegen.cli import main as sitegen

    args = options.args[1:] if options.args[:1] == ["--"] else options.args
    sitegen(args, prog_name="sitegen")


if __name__ == "__main__":
    main()
