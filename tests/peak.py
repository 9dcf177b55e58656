"""Run a command and measure its own peak memory.

A child forked from pytest starts with pytest's high-water mark, and execve
keeps it, so ``wait4`` on such a child reports pytest's size once the suite
has grown. The command runs instead under a small launcher that is itself
freshly exec'd: the launcher's own children start from its small mark, so
the figure is the command's (plus the launcher's ~10 MB floor)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

_LAUNCHER = """\
import os, signal, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
if code < 0:
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
sys.exit(code)
"""


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    #: The command's peak resident memory, in bytes.
    peak_bytes: int


def run_measured(
    command: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
    preexec_fn: Callable[[], None] | None = None,
) -> Measured:
    """Run ``command`` to its end; its exit code, output and own peak RSS."""
    with tempfile.TemporaryDirectory(prefix="sitegen-peak-") as folder:
        report = Path(folder) / "peak"
        result = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, str(report), *command],
            env=env,
            cwd=cwd,
            capture_output=True,
            timeout=timeout,
            preexec_fn=preexec_fn,
        )
        peak_kib = int(report.read_text()) if report.exists() else 0
    return Measured(
        result.returncode,
        result.stdout.decode("utf-8", "replace"),
        result.stderr.decode("utf-8", "replace"),
        peak_kib * 1024,
    )
