"""A helper process that must not outlive its parent: ``kill -9`` of the build
would otherwise leave the index job (and its fork workers) running, re-parented
to init. Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` at the child's start, and
then a check that the parent is still the one that started it (it may have
died before prctl ran). Elsewhere, only the check.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

#: linux/prctl.h
PR_SET_PDEATHSIG = 1
#: The environment variable by which the build tells the job its process id.
PARENT_ENV = "SITEGEN_JOB_PARENT"


def stop_with_parent(parent: int | None) -> None:
    """Be killed when the parent dies; exit now if ``parent`` (its pid) is already gone."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def parent_from_env() -> int | None:
    value = os.environ.get(PARENT_ENV, "")
    return int(value) if value.isascii() and value.isdigit() else None
