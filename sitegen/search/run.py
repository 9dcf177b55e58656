"""Running Pagefind: records in, the bundle's files (path -> bytes) out.

Pagefind's Python API (``pagefind.index.PagefindIndex``) drives the binary
from the ``pagefind-bin`` package over a pipe. Its own reader sleeps 0.1 s
before each answer it reads, so a record costs 0.1 s: an hour for 30,000
records. ``_Service`` reads the answers as they come instead; the messages
and the binary are Pagefind's own. Records are sent in page order (``bundle.page_key``,
stable; each answered before the next is sent), so pages are numbered as
sitegen's writer numbers them, on every run. The bundle is written to a temporary folder and read back, as the docs
advise against ``get_files`` for large output.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from pagefind.index import PagefindIndex
from pagefind.service import PagefindService

from sitegen.errors import SearchError, clip
from sitegen.search.bundle import page_key
from sitegen.search.records import SearchRecord

#: The bundle's files a site needs; Pagefind's own UIs and playground are left out.
KEEP_TOP = ("pagefind.js", "pagefind-worker.js", "pagefind-entry.json")
KEEP_SUFFIXES = (".pf_meta", ".pagefind")
KEEP_FOLDERS = ("index", "fragment", "filter")
#: No one file of a bundle is larger than this (Pagefind's chunks are kilobytes).
MAX_FILE = 64 * 1024 * 1024
MAX_FILES = 2_000_000
#: The longest answer read from the binary: get_files sends the whole bundle, base64, at once.
MAX_ANSWER = 2**31 - 1
#: Seconds the binary gets to finish writing and exit once its input is closed.
EXIT_WAIT = 300


def pagefind_version() -> str:
    try:
        from importlib.metadata import version

        return version("pagefind-bin")
    except Exception:  # noqa: BLE001 - not installed: the build fails later with the fix
        return "missing"


def run_pagefind(records: Iterable[SearchRecord], language: str, scratch: Path | None = None) -> dict[str, bytes]:
    """The bundle for these records, as relative paths (``index/en_1a2b3c4.pf_index``) and bytes;
    written to a temporary folder in ``scratch`` (default: the system's)."""
    if scratch is not None:
        scratch.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="sitegen-pagefind-", dir=scratch))
    try:
        index_into(records, language, folder / "bundle")
        return read_bundle(folder / "bundle")
    finally:
        remove_folder(folder)


def index_into(records: Iterable[SearchRecord], language: str, folder: Path) -> None:
    """Index the records and write the bundle into ``folder``; raises SearchError."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(_index(records, language, str(folder)))
    except SearchError:
        raise
    except FileNotFoundError as exc:
        raise SearchError.at(
            "pagefind", f"could not be started: {clip(str(exc))}", "install sitegen's dependencies (pagefind[bin])"
        ) from None
    except Exception as exc:  # noqa: BLE001 - the binary's errors come back as plain Exceptions
        raise SearchError.at(
            "pagefind", f"failed: {clip(str(exc))}", "report this with the build's output; the previous build was kept"
        ) from None


async def _index(records: Iterable[SearchRecord], language: str, folder: str) -> None:
    service = _Service()
    await service.launch()
    try:
        index: PagefindIndex = await service.create_index({"force_language": language})
        for record in sorted(records, key=lambda record: page_key(record.url)):
            await index.add_custom_record(
                url=record.url, content=record.content, language=language, meta=record.meta, filters=record.filters, sort=record.sort
            )
        # get_files, not write_files: write_files answers before its last file is
        # on disk, and under load the entry was read empty and the wasm cut short.
        # The answer holds every byte, so nothing is read from a half-written file.
        files = await index.get_files()
    finally:
        await service.finish()
    _write_bundle(files, Path(folder))


def _check_member(relative: str, size: int, count: int) -> None:
    parts = PurePosixPath(relative).parts
    if count >= MAX_FILES or size > MAX_FILE or not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
        raise SearchError.at(f"pagefind/{clip(relative)}", "is past the bundle's bounds", "report this; the previous build was kept")


def _write_bundle(files: Iterable[Mapping[str, Any]], folder: Path) -> None:
    """Lay Pagefind's answer out as its bundle folder (read back by ``read_bundle``)."""
    for count, file in enumerate(files):
        relative, content = str(file["path"]), file["content"]
        _check_member(relative, len(content), count)
        parts = PurePosixPath(relative).parts
        target = folder.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


class _Service(PagefindService):
    """Pagefind's service client, reading each answer as soon as it arrives."""

    async def launch(self) -> _Service:
        # The stock client's 2 MiB line limit is less than get_files's one answer
        # (every file of the bundle, base64); this is a bound, not an allocation.
        self._backend = await asyncio.create_subprocess_exec(
            self._bin,
            "--service",
            cwd=os.getcwd(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            limit=MAX_ANSWER,
        )
        self._poll_task = self._loop.create_task(self._wait_for_responses())
        return self

    async def _wait_for_responses(self) -> None:
        stdout = self._backend.stdout
        assert stdout is not None  # launched with a pipe
        while True:
            try:
                output = await stdout.readuntil(b",")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                self._fail_all(
                    SearchError.at("pagefind", f"stopped answering: {clip(str(exc))}", "report this; the previous build was kept")
                )
                return
            answer = json.loads(base64.b64decode(output[:-1]))
            message_id = answer.get("message_id") if isinstance(answer, dict) else None
            future = self._responses.pop(message_id, None) if isinstance(message_id, int) else None
            if future is None or future.done():
                continue
            payload = answer["payload"]
            if payload.get("type") == "Error":
                future.set_exception(Exception(str(payload.get("message"))))
            else:
                future.set_result(payload)

    async def finish(self) -> None:
        """Close the pipe and let the binary exit by itself: it may answer
        ``write_files`` before its last file is on disk (the entry was seen
        empty), and the API's ``close`` kills it at once."""
        backend = self._backend
        if backend.stdin is not None:
            backend.stdin.close()
        try:
            await asyncio.wait_for(backend.wait(), EXIT_WAIT)
        except TimeoutError:
            backend.kill()
            await backend.wait()
        finally:
            self._poll_task.cancel()

    def _fail_all(self, error: Exception) -> None:
        for future in self._responses.values():
            if not future.done():
                future.set_exception(error)
        self._responses.clear()


def read_bundle(folder: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if not path.is_file() or not _kept(relative):
            continue
        if len(files) >= MAX_FILES or path.stat().st_size > MAX_FILE:
            raise SearchError.at(f"pagefind/{relative}", "is past the bundle's bounds", "report this; the previous build was kept")
        files[relative] = path.read_bytes()
    return files


def _kept(relative: str) -> bool:
    folder, _, name = relative.rpartition("/")
    if folder:
        return folder in KEEP_FOLDERS
    return name in KEEP_TOP or name.endswith(KEEP_SUFFIXES)


def remove_folder(folder: Path) -> None:
    """Delete the temporary bundle, file by file by absolute path."""
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        try:
            path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
        except OSError:
            pass
    try:
        folder.rmdir()
    except OSError:
        pass
