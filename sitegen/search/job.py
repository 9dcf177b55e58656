"""The index, written in a process of its own (``writer``), started before
the render stage so that its wall time overlaps rendering; the build joins it
before writing. Pagefind's runtime files come with it (``runtime``).

A separate process rather than a thread: the render stage forks its workers,
and a fork while another thread holds a lock (the event loop's, the
allocator's) can leave a child waiting forever. The records go to the job as
one JSON file in its temporary folder, in order, so the index is the same as
an in-process run's, byte for byte. The job writes the bundle into that
folder (``bundle.bin``, ``run.pack_bundle``: one file, not thousands) and its own wall seconds (``seconds``), or its error
(summary and problems) into ``error.json``. RUNTIME, when given, is the last
build's bundle folder, whose runtime files (named in ``runtime.json``) are
reused.

    python -m sitegen.search.job FOLDER LANGUAGE [RUNTIME]
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from sitegen.bounded import loads_json
from sitegen.errors import Problem, SearchError, SitegenError, clip
from sitegen.search.orphan import PARENT_ENV, parent_from_env, stop_with_parent
from sitegen.search.records import SearchRecord
from sitegen.search.run import MAX_FILE, pack_bundle, remove_folder, unpack_bundle
from sitegen.search.runtime import runtime_files
from sitegen.search.writer import write_index

RECORDS = "records.json"
RUNTIME = "runtime.json"
SECONDS = "seconds"
ERROR = "error.json"
BUNDLE = "bundle.bin"
#: Problems read back from a failed job (its message is bounded like any other).
MAX_PROBLEMS = 50


class PagefindJob:
    """A running Pagefind job: ``result()`` waits for its bundle; ``cancel()`` stops it."""

    def __init__(
        self,
        records: Iterable[SearchRecord],
        language: str,
        runtime: tuple[Path, dict[str, str]] | None = None,
        scratch: Path | None = None,
    ) -> None:
        # In the build's staging folder (``scratch``): a killed build's is removed by the next one.
        if scratch is not None:
            scratch.mkdir(parents=True, exist_ok=True)
        self.folder = Path(tempfile.mkdtemp(prefix="sitegen-pagefind-", dir=scratch))
        self.seconds = 0.0
        try:
            data = orjson.dumps([record.data() for record in records])
            (self.folder / RECORDS).write_bytes(data)
            command = [sys.executable, "-m", "sitegen.search.job", str(self.folder), language]
            if runtime is not None:
                (self.folder / RUNTIME).write_bytes(orjson.dumps(runtime[1]))
                command.append(str(runtime[0]))
            self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                close_fds=True,
                # Its own temporary files (Pagefind's run) go in its folder, removed with it.
                env={**os.environ, PARENT_ENV: str(os.getpid()), "TMPDIR": str(self.folder)},
            )
        except BaseException:
            remove_folder(self.folder)
            raise

    def result(self) -> dict[str, bytes]:
        """The bundle (relative path -> bytes); raises the job's SearchError."""
        process, self.process = self.process, None
        if process is None:
            raise SearchError.at("pagefind", "the index job was already collected or cancelled", "report this")
        try:
            code = process.wait()
            if code != 0:
                raise self._error(code)
            self.seconds = _seconds(self.folder / SECONDS)
            return unpack_bundle((self.folder / BUNDLE).read_bytes())
        finally:
            remove_folder(self.folder)

    def cancel(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.wait()
            remove_folder(self.folder)

    def _error(self, code: int) -> SearchError:
        path = self.folder / ERROR
        if code < 0:
            name = _signal_name(-code)
            return SearchError.at(
                "pagefind",
                f"the index job was killed by signal {-code} ({name})",
                "if the machine ran out of memory (the OOM killer sends SIGKILL), free memory or give it more, then build again",
            )
        if not path.is_file() or path.stat().st_size > MAX_FILE:
            return SearchError.at("pagefind", f"the index job ended with status {code}", "report this with the build's output")
        data = loads_json(path.read_bytes(), "pagefind error", SearchError, "report this")
        data = data if isinstance(data, dict) else {}
        listed = data.get("problems")
        found: list[Any] = listed if isinstance(listed, list) else []
        problems = [Problem(*(clip(str(part), 2000) for part in p[:3])) for p in found[:MAX_PROBLEMS] if isinstance(p, list) and p]
        return SearchError(clip(str(data.get("summary", "")), 2000), problems)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown signal"


def _seconds(path: Path) -> float:
    try:
        return max(0.0, min(float(path.read_text()[:32]), 1e9))
    except (OSError, ValueError):
        return 0.0


def main(argv: list[str]) -> int:
    stop_with_parent(parent_from_env())
    # The job makes no reference cycles to speak of and exits when the index is written: the
    # cyclic collector would only walk its million objects (records, entries) again and again,
    # about a tenth of its CPU, in the pool's forked workers too (which inherit this).
    gc.disable()
    started = time.monotonic()
    folder, language = Path(argv[0]), argv[1]
    try:
        items = orjson.loads((folder / RECORDS).read_bytes())
        names = orjson.loads((folder / RUNTIME).read_bytes()) if len(argv) > 2 else None
        records = [SearchRecord(**item).data() for item in items]  # the shape checked
        runtime = runtime_files(language, Path(argv[2]) if isinstance(names, dict) else None, names if isinstance(names, dict) else None)
        files = {**write_index(records, language, wasm=f"wasm.{language}.pagefind" in runtime), **runtime}
        (folder / BUNDLE).write_bytes(pack_bundle(files))
        (folder / SECONDS).write_text(f"{time.monotonic() - started:.3f}")
    except SitegenError as exc:
        problems = [[p.where, p.what, p.fix] for p in exc.problems]
        (folder / ERROR).write_bytes(orjson.dumps({"summary": exc.summary, "problems": problems}))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
