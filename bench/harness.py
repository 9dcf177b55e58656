"""What the benchmark scripts share: one version of sitegen's code for a whole
run, and stopping cleanly when asked to."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def snapshot_sitegen(dest: Path, python: Path, timeout: float, rev: str | None = None) -> dict[str, Any]:
    """Copy ``sitegen/`` and the built-in ``themes/`` into ``dest`` (from the working tree, or
    with ``rev`` from that commit), so every build of one run uses the same code even while
    others edit the working tree (the project venv installs sitegen editable). Returns the
    PYTHONPATH that selects the copy and a digest of it, to tell runs of different code apart."""
    if rev:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", rev, "sitegen", "themes"], cwd=ROOT, capture_output=True, timeout=timeout, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True, timeout=timeout)
    else:
        for name in ("sitegen", "themes"):
            shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    files = sorted(p for p in dest.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(dest).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    probe = subprocess.run(
        [str(python), "-c", "import sitegen; print(sitegen.__file__)"],
        cwd=dest,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(dest)},
        capture_output=True,
        text=True,
    )
    where = probe.stdout.strip()
    if probe.returncode != 0 or not where.startswith(str(dest)):
        raise RuntimeError(f"sitegen is imported from {where or probe.stderr.strip()[-500:]}, not from the snapshot in {dest}")
    return {"PYTHONPATH": str(dest), "sha256": digest.hexdigest(), "files": len(files)}


def unwind_on_signals() -> None:
    """SIGTERM and SIGHUP unwind like Ctrl-C, so every ``finally`` runs (servers stopped, temp folders removed)."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)
