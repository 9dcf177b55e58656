"""Work in a forked process: the one place sitegen forks.

Forking (not spawning) is the point: the child starts with the parent's
archive, compiled templates and everything else already in memory, so
nothing is pickled on the way in; only the work's outcome comes back through
a pipe. The child dies with the parent (``stop_with_parent``): ``kill -9`` of
the build leaves no worker running. A ``SitegenError`` raised in the child is
raised again in the parent, as it is; any other failure is a bug, reported
with the child's traceback.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import select
import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sitegen.errors import Problem, SitegenError

R = TypeVar("R")
#: linux/prctl.h
PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15


def can_fork() -> bool:
    return hasattr(os, "fork")


def _prctl(option: int, value: int | bytes) -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def stop_with_parent(parent: int | None) -> None:
    """Be killed when the parent dies (Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``);
    exit now if ``parent`` (its pid) is already gone, as it may have died before prctl ran."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if parent is not None and os.getppid() != parent:
        os._exit(1)


class Forked(Generic[R]):
    """``work()`` running in a child process: ``result()`` waits for what it
    returned; ``cancel()`` kills it. ``what`` names the work in a crash's message;
    ``name`` (at most 15 bytes) is the child's process name, as ``ps`` and ``top`` show it."""

    def __init__(self, work: Callable[[], R], what: str, name: str = "") -> None:
        self.what = what
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: do the work, send the outcome, leave without cleanup
            os.close(read_end)
            _child(work, write_end, parent, name)
        os.close(write_end)
        self._child: tuple[int, int] | None = (pid, read_end)

    def ready(self, timeout: float) -> bool:
        """Whether the child has finished (its outcome waits in the pipe), waiting at most ``timeout`` seconds."""
        if self._child is None:
            return True
        readable, _, _ = select.select([self._child[1]], [], [], timeout)
        return bool(readable)

    def result(self) -> R:
        """What ``work()`` returned; raises its SitegenError, or one naming a crash."""
        outcome = self._collect()
        kind = outcome[0]
        if kind == "ok":
            value: R = outcome[1]
            return value
        if kind == "error":
            _, error_type, summary, problems = outcome
            raise error_type(summary, problems)
        if kind == "killed":
            raise SitegenError.at(
                self.what,
                outcome[1],
                "if the machine ran out of memory (the OOM killer sends SIGKILL), free memory or give it more, then build again",
            )
        raise SitegenError(
            f"The {self.what} failed; this is a bug in sitegen:", [Problem(self.what, outcome[1].strip(), "please report it")]
        )

    def cancel(self) -> None:
        """Kill the child if it still runs and wait for it; a no-op once collected."""
        child, self._child = self._child, None
        if child is None:
            return
        pid, read_end = child
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.close(read_end)
        os.waitpid(pid, 0)

    def _collect(self) -> tuple[Any, ...]:
        child, self._child = self._child, None
        if child is None:
            return ("crash", f"the {self.what} was already collected or cancelled")
        pid, read_end = child
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        if not data:
            code = os.waitstatus_to_exitcode(status)
            if code < 0:
                return ("killed", f"was killed by signal {-code} ({_signal_name(-code)}) before it finished")
            return ("crash", f"the {self.what} ended without a result (exit status {code})")
        outcome: tuple[Any, ...] = pickle.loads(data)
        return outcome


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown signal"


def _child(work: Callable[[], Any], write_end: int, parent: int, name: str) -> None:
    try:
        try:
            stop_with_parent(parent)
            # Ctrl-C reaches the whole process group: the parent answers it (it cancels its children),
            # so a child (and any pool it forks) neither stops half-way on its own nor prints a traceback.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            if name:
                _prctl(PR_SET_NAME, name.encode("ascii", "replace")[:15])
            outcome: tuple[Any, ...] = ("ok", work())
        except SitegenError as exc:
            outcome = ("error", type(exc), exc.summary, exc.problems)
        except BaseException:  # noqa: BLE001 - reported to the parent, which raises it
            outcome = ("crash", traceback.format_exc())
        data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
    finally:
        os._exit(0)
