"""pyvideo/data (``[source] url = "pyvideo:PATH"``: a checkout of github.com/pyvideo/data, PATH
under the site root), read by ``sitegen.sources.pyvideo``. What each video file gave is kept in
the build's cache folder, so a rebuild reads only the files that changed (``--full`` reads all);
``sitegen serve`` keeps it in memory between its builds."""

from __future__ import annotations

from pathlib import Path

from sitegen.bounded import shown
from sitegen.errors import Problem, clip
from sitegen.fetch.formats.convert import as_archive
from sitegen.fetch.result import FetchStats, RawArchive
from sitegen.fetch.source import Reading, is_folder
from sitegen.sources.pyvideo.tree import CHECKOUT_FIX

PREFIX = "pyvideo:"


class Pyvideo:
    name = "pyvideo/data"
    forms = ("pyvideo:PATH (a checkout of github.com/pyvideo/data)",)

    def claims(self, url: str) -> bool:
        return url.startswith(PREFIX)

    def problems(self, url: str, root: Path, where: str) -> list[Problem]:
        path = _path(url)
        if not path:
            return [Problem(where, f"url = {shown(url)} names no folder", CHECKOUT_FIX)]
        if not is_folder(root / path):
            return [Problem(where, f"url = {shown(url)}: {clip(path)} is not a folder under {root}", CHECKOUT_FIX)]
        return []

    def local_paths(self, url: str, root: Path) -> tuple[Path, ...]:
        return (root / _path(url),) if _path(url) else ()

    def read(self, url: str, reading: Reading) -> RawArchive:
        from sitegen.sources import pyvideo

        cache = reading.cache_dir / "pyvideo" if reading.incremental else None
        converted = pyvideo.read(reading.root / _path(url), reading.source.max_response_bytes, cache, reading.memory)
        return as_archive(converted, FetchStats(), url)


def _path(url: str) -> str:
    return url.removeprefix(PREFIX).strip()


PYVIDEO = Pyvideo()
