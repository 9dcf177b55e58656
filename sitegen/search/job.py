"""Pagefind in a process of its own, started before the render stage so
that its wall time overlaps rendering; the build joins it before writing.

A separate process rather than a thread: the render stage forks its workers,
and a fork while another thread holds a lock (the event loop's, the
allocator's) can leave a child waiting forever. The records go to the job as
one JSON file in its temporary folder, in order, so the index is the same as
an in-process run's, byte for byte. The job writes the bundle into that
folder (``bundle/``), or its error (summary and problems) into ``error.json``.

    python -m sitegen.search.job FOLDER LANGUAGE
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from sitegen.bounded import loads_json
from sitegen.errors import Problem, SearchError, SitegenError, clip
from sitegen.search.records import SearchRecord
from sitegen.search.run import MAX_FILE, index_into, read_bundle, remove_folder

RECORDS = "records.json"
ERROR = "error.json"
BUNDLE = "bundle"
#: Problems read back from a failed job (its message is bounded like any other).
MAX_PROBLEMS = 50


class PagefindJob:
    """A running Pagefind job: ``result()`` waits for its bundle; ``cancel()`` stops it."""

    def __init__(self, records: Iterable[SearchRecord], language: str) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="sitegen-pagefind-"))
        try:
            data = orjson.dumps([record.data() for record in records])
            (self.folder / RECORDS).write_bytes(data)
            command = [sys.executable, "-m", "sitegen.search.job", str(self.folder), language]
            self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True
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
            return read_bundle(self.folder / BUNDLE)
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
        if not path.is_file() or path.stat().st_size > MAX_FILE:
            return SearchError.at("pagefind", f"the index job ended with status {code}", "report this with the build's output")
        data = loads_json(path.read_bytes(), "pagefind error", SearchError, "report this")
        data = data if isinstance(data, dict) else {}
        listed = data.get("problems")
        found: list[Any] = listed if isinstance(listed, list) else []
        problems = [Problem(*(clip(str(part), 2000) for part in p[:3])) for p in found[:MAX_PROBLEMS] if isinstance(p, list) and p]
        return SearchError(clip(str(data.get("summary", "")), 2000), problems)


def main(argv: list[str]) -> int:
    folder, language = Path(argv[0]), argv[1]
    try:
        items = orjson.loads((folder / RECORDS).read_bytes())
        records = [SearchRecord(**item) for item in items]
        index_into(records, language, folder / BUNDLE)
    except SitegenError as exc:
        problems = [[p.where, p.what, p.fix] for p in exc.problems]
        (folder / ERROR).write_bytes(orjson.dumps({"summary": exc.summary, "problems": problems}))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
