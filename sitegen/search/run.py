"""Running Pagefind: records in, the bundle's files (path -> bytes) out.

Pagefind's Python API (``pagefind.index.PagefindIndex``) drives the binary
from the ``pagefind-bin`` package over a pipe. Its own reader sleeps 0.1 s
before each answer it reads, so a record costs 0.1 s: an hour for 30,000
records. ``_Service`` reads the answers as they come instead; the messages
and the binary are Pagefind's own. Records are sent in order (and each
answered before the next is sent), so pages are numbered the same on every
run. The bundle is written to a temporary folder and read back, as the docs
advise against ``get_files`` for large output.
"""

from __future__ import annotations

import asyncio
import base64
import json
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sitegen.bounded import clip
from sitegen.errors import SearchError
from sitegen.search.records import SearchRecord

#: The bundle's files a site needs; Pagefind's own UIs and playground are left out.
KEEP_TOP = ("pagefind.js", "pagefind-worker.js", "pagefind-entry.json")
KEEP_SUFFIXES = (".pf_meta", ".pagefind")
KEEP_FOLDERS = ("index", "fragment", "filter")
#: No one file of a bundle is larger than this (Pagefind's chunks are kilobytes).
MAX_FILE = 64 * 1024 * 1024
MAX_FILES = 2_000_000


def pagefind_version() -> str:
    try:
        from importlib.metadata import version

        return version("pagefind-bin")
    except Exception:  # noqa: BLE001 - not installed: the build fails later with the fix
        return "missing"


def run_pagefind(records: Iterable[SearchRecord], language: str) -> dict[str, bytes]:
    """The bundle for these records, as relative paths (``index/en_1a2b3c4.pf_index``) and bytes."""
    with tempfile.TemporaryDirectory(prefix="sitegen-pagefind-") as folder:
        try:
            asyncio.run(_index(records, language, folder))
        except SearchError:
            raise
        except FileNotFoundError as exc:
            raise SearchError.at("pagefind", f"could not be started: {clip(str(exc))}", "install sitegen's dependencies (pagefind[bin])") from None
        except Exception as exc:  # noqa: BLE001 - the binary's errors come back as plain Exceptions
            raise SearchError.at("pagefind", f"failed: {clip(str(exc))}", "report this with the build's output; the previous build was kept") from None
        return _read_bundle(Path(folder))


async def _index(records: Iterable[SearchRecord], language: str, folder: str) -> None:
    from pagefind.index import PagefindIndex

    service = await _Service().launch()
    try:
        index: PagefindIndex = await service.create_index({"force_language": language})
        for record in records:
            await index.add_custom_record(
                url=record.url, content=record.content, language=language, meta=record.meta, filters=record.filters, sort=record.sort
            )
        await index.write_files(folder)
    finally:
        await service.close()


def _service_class() -> type[Any]:
    from pagefind.service import PagefindService

    return PagefindService  # type: ignore[no-any-return]


class _Service(_service_class()):  # type: ignore[misc]
    """Pagefind's service client, reading each answer as soon as it arrives."""

    async def _wait_for_responses(self) -> None:
        stdout = self._backend.stdout
        while True:
            try:
                output = await stdout.readuntil(b",")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                self._fail_all(SearchError.at("pagefind", f"stopped answering: {clip(str(exc))}", "report this; the previous build was kept"))
                return
            answer = json.loads(base64.b64decode(output[:-1]))
            message_id = answer.get("message_id") if isinstance(answer, dict) else None
            future = self._responses.pop(message_id, None)
            if future is None or future.done():
                continue
            payload = answer["payload"]
            if payload.get("type") == "Error":
                future.set_exception(Exception(str(payload.get("message"))))
            else:
                future.set_result(payload)

    def _fail_all(self, error: Exception) -> None:
        for future in self._responses.values():
            if not future.done():
                future.set_exception(error)
        self._responses.clear()


def _read_bundle(folder: Path) -> dict[str, bytes]:
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
