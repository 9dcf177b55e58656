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
import signal
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
EXIT_WAIT = 30
#: Seconds the binary gets for each answer (a record's takes milliseconds; the whole bundle of
#: 35,000 records, seconds): a binary that hangs, or sends what is not an answer, fails the build.
ANSWER_WAIT = 120.0
#: Pagefind's own setting: the binary to run instead of the one installed with sitegen.
BINARY_ENV = "PAGEFIND_BINARY_PATH"


def _binary_fix() -> str:
    chosen = os.environ.get(BINARY_ENV)
    if chosen:
        return f"{BINARY_ENV} is {clip(chosen)}: point it at Pagefind's binary ({pagefind_version()}), or unset it to use the one installed with sitegen"
    return "install sitegen's dependencies again (pagefind[bin]); the previous build was kept"


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
    except TimeoutError:
        raise SearchError.at("pagefind", f"gave no answer within {ANSWER_WAIT:.0f} s", _binary_fix()) from None
    except (BrokenPipeError, ConnectionResetError):
        raise SearchError.at("pagefind", "ended (or closed its output) before it answered", _binary_fix()) from None
    except OSError as exc:  # not found, not executable, not a program
        name = clip(str(exc.filename)) if exc.filename else "the binary"
        raise SearchError.at("pagefind", f"{name} could not be started: {exc.strerror or clip(str(exc))}", _binary_fix()) from None
    except Exception as exc:  # noqa: BLE001 - the binary's errors come back as plain Exceptions
        raise SearchError.at(
            "pagefind", f"failed: {clip(str(exc))}", "report this with the build's output; the previous build was kept"
        ) from None


async def _index(records: Iterable[SearchRecord], language: str, folder: str) -> None:
    service = _Service()
    await service.launch()
    done = False
    try:
        index: PagefindIndex = await asyncio.wait_for(service.create_index({"force_language": language}), ANSWER_WAIT)
        for record in sorted(records, key=lambda record: page_key(record.url)):
            added = index.add_custom_record(
                url=record.url, content=record.content, language=language, meta=record.meta, filters=record.filters, sort=record.sort
            )
            await asyncio.wait_for(added, ANSWER_WAIT)
        # get_files, not write_files: write_files answers before its last file is
        # on disk, and under load the entry was read empty and the wasm cut short.
        # The answer holds every byte, so nothing is read from a half-written file.
        files = await asyncio.wait_for(index.get_files(), ANSWER_WAIT)
        done = True
    finally:
        await service.finish(done)
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

    _failure: SearchError | None = None

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
            start_new_session=True,  # its own group: a failed run kills whatever it started too
        )
        self._poll_task = self._loop.create_task(self._wait_for_responses())
        return self

    async def _wait_for_responses(self) -> None:
        stdout = self._backend.stdout
        assert stdout is not None  # launched with a pipe
        while True:
            try:
                output = await stdout.readuntil(b",")
            except asyncio.IncompleteReadError:
                self._fail_all(SearchError.at("pagefind", "ended (or closed its output) before it answered", _binary_fix()))
                return
            except asyncio.LimitOverrunError:
                self._fail_all(
                    SearchError.at("pagefind", f"sent an answer over {MAX_ANSWER:,} bytes", "report this; the previous build was kept")
                )
                return
            try:
                answer = json.loads(base64.b64decode(output[:-1], validate=True))
                message_id = answer.get("message_id")
                payload = answer["payload"]
                failed = payload.get("type") == "Error"
            except (ValueError, TypeError, KeyError, AttributeError):  # not base64, not JSON, not an answer's shape
                self._fail_all(SearchError.at("pagefind", "sent something that is not one of Pagefind's answers", _binary_fix()))
                return
            future = self._responses.pop(message_id, None) if isinstance(message_id, int) else None
            if future is None or future.done():
                continue
            if failed:
                future.set_exception(Exception(str(payload.get("message"))))
            else:
                future.set_result(payload)

    async def finish(self, done: bool) -> None:
        """Close the pipe and let the binary exit by itself: it may answer
        ``write_files`` before its last file is on disk (the entry was seen
        empty), and the API's ``close`` kills it at once. Unless not ``done``
        (a request failed): then it is killed at once."""
        backend = self._backend
        if backend.stdin is not None:
            backend.stdin.close()
        try:
            await asyncio.wait_for(backend.wait(), EXIT_WAIT if done and self._failure is None else 0)
        except TimeoutError:
            # The whole group: a process it started may hold its output open, and wait() waits for that too.
            try:
                os.killpg(backend.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            await backend.wait()
        finally:
            self._poll_task.cancel()

    async def send(self, payload: Any) -> Any:
        """The stock request, refused at once once the binary has failed (no answer would come)."""
        if self._failure is not None:
            raise self._failure
        return await super().send(payload)

    def _fail_all(self, error: SearchError) -> None:
        self._failure = error
        for future in self._responses.values():
            if not future.done():
                future.set_exception(error)
                future.exception()  # retrieved: a request that failed before awaiting it must not log it again
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
