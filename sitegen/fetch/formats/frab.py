"""Schedule documents, from files or URLs, converted by a reader of ``sitegen.sources``: frab / c3voc
schedule v1 (``[source] url = "frab+https://…/schedule.json"``, several separated by commas, or
``"frab:FILE,FOLDER"`` under the site root, read by ``sources.frab``) and c3voc schedule v2
(``schedule2+https://…`` or ``schedule2:FILE,FOLDER``, read by ``sources.schedule2``). Both take
the same forms and differ only in their prefix and their reader."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sitegen.bounded import loads_json, read_file_bounded, shown
from sitegen.errors import Problem, SourceError, clip
from sitegen.fetch.formats.convert import as_archive
from sitegen.fetch.result import FetchStats, RawArchive
from sitegen.fetch.source import Reading, exists, scheme
from sitegen.sources import Converted


class _Reader(Protocol):
    """What a schedule reader of ``sitegen.sources`` gives: its files, and the conversion."""

    def schedule_files(self, root: Path, location: str, prefix: str) -> list[Path]: ...

    def convert(self, documents: list[tuple[str, Any]]) -> Converted: ...


@dataclass(frozen=True)
class Schedules:
    """One schedule format: ``STEM+URL,URL`` over HTTP, ``STEM:FILE,FOLDER`` from files."""

    name: str
    stem: str
    #: What its documents are, for the forms listed in messages.
    what: str
    #: Its reader: a module of ``sitegen.sources``, imported when it reads.
    reader: str

    @property
    def forms(self) -> tuple[str, ...]:
        return (
            f"{self.stem}+https://HOST/…/schedule.json ({self.what} URLs, comma-separated)",
            f"{self.stem}:FILE,FOLDER ({self.what} files)",
        )

    def claims(self, url: str) -> bool:
        return url.startswith((f"{self.stem}+", f"{self.stem}:"))

    def problems(self, url: str, root: Path, where: str) -> list[Problem]:
        names = self._names(url)
        if url.startswith(f"{self.stem}+"):
            if names and all(scheme(name) in ("http", "https") for name in names):
                return []
            fix = f'use "{self.stem}+https://HOST/…/schedule.json", or "{self.stem}:FILE" for files'
            return [Problem(where, f"url = {shown(url)} is not an http(s) URL", fix)]
        missing = [name for name in names if not exists(root / name)]
        if names and not missing:
            return []
        what = f"{clip(', '.join(missing))} does not exist under {root}" if names else "names no schedule file or folder"
        return [Problem(where, f"url = {shown(url)}: {what}", "name schedule.json files or folders of them, separated by commas")]

    def local_paths(self, url: str, root: Path) -> tuple[Path, ...]:
        return tuple(root / name for name in self._names(url)) if url.startswith(f"{self.stem}:") else ()

    def read(self, url: str, reading: Reading) -> RawArchive:
        reader: _Reader = importlib.import_module(f"sitegen.sources.{self.reader}")
        if url.startswith(f"{self.stem}:"):
            paths = reader.schedule_files(reading.root, url.removeprefix(f"{self.stem}:"), self.stem)
            limit = reading.source.max_response_bytes
            converted = reader.convert([(str(path), _read_json_file(path, limit)) for path in paths])
            return as_archive(converted, FetchStats(), url)
        with reading.http(contract=False) as fetcher:
            converted = reader.convert([(name, fetcher.document(name, {})) for name in self._names(url)])
            fetcher.cache.prune()  # a complete read: what it did not ask for is stale
        return as_archive(converted, fetcher.session.counters.freeze(), url)

    def _names(self, url: str) -> list[str]:
        """The URLs or paths after the prefix, separated by commas."""
        return [name.strip() for name in url[len(self.stem) + 1 :].split(",") if name.strip()]


def _read_json_file(path: Path, max_bytes: int) -> Any:
    fix = "check the file, or point [source] url at another"
    try:
        data = read_file_bounded(path, max_bytes, str(path), SourceError, f"{fix} (or raise [source] max_response_bytes)")
    except OSError as exc:
        raise SourceError.at(str(path), f"cannot be read: {exc.strerror or exc}", fix) from None
    return loads_json(data, str(path), SourceError, fix)


FRAB = Schedules("frab", "frab", "frab / c3voc schedule", "frab")
SCHEDULE2 = Schedules("c3voc schedule v2", "schedule2", "c3voc schedule v2", "schedule2")
