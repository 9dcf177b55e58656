"""frab / c3voc schedule v1 (``[source] url = "frab+https://…/schedule.json"``, several separated
by commas, or ``"frab:FILE,FOLDER"`` under the site root), converted by ``sitegen.sources.frab``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sitegen.bounded import loads_json, read_file_bounded
from sitegen.errors import Problem, SourceError
from sitegen.fetch.formats.convert import as_archive
from sitegen.fetch.result import FetchStats, RawArchive
from sitegen.fetch.source import Reading, scheme

URLS, FILES = "frab+", "frab:"


class Frab:
    name = "frab"
    forms = ("frab+https://HOST/…/schedule.json (frab / c3voc schedule URLs, comma-separated)", "frab:FILE,FOLDER (schedule files)")

    def claims(self, url: str) -> bool:
        return url.startswith((URLS, FILES))

    def problems(self, url: str, root: Path, where: str) -> list[Problem]:
        names = _names(url)
        if url.startswith(URLS):
            if names and all(scheme(name) in ("http", "https") for name in names):
                return []
            return [
                Problem(where, f"url = {url!r} is not an http(s) URL", 'use "frab+https://HOST/…/schedule.json", or "frab:FILE" for files')
            ]
        missing = [name for name in names if not (root / name).exists()]
        if names and not missing:
            return []
        what = f"{', '.join(missing)} does not exist under {root}" if names else "names no schedule file or folder"
        return [Problem(where, f"url = {url!r}: {what}", "name schedule.json files or folders of them, separated by commas")]

    def local_paths(self, url: str, root: Path) -> tuple[Path, ...]:
        return tuple(root / name for name in _names(url)) if url.startswith(FILES) else ()

    def read(self, url: str, reading: Reading) -> RawArchive:
        from sitegen.sources import frab

        if url.startswith(FILES):
            paths = frab.schedule_files(reading.root, url.removeprefix(FILES))
            limit = reading.source.max_response_bytes
            converted = frab.convert([(str(path), _read_json_file(path, limit)) for path in paths])
            return as_archive(converted, FetchStats(), url)
        with reading.http(contract=False) as fetcher:
            converted = frab.convert([(name, fetcher.document(name, {})) for name in _names(url)])
            fetcher.cache.prune()  # a complete read: what it did not ask for is stale
        return as_archive(converted, fetcher.session.counters.freeze(), url)


def _names(url: str) -> list[str]:
    """The URLs or paths after the prefix, separated by commas."""
    return [name.strip() for name in url[len(URLS) :].split(",") if name.strip()]


def _read_json_file(path: Path, max_bytes: int) -> Any:
    fix = "check the file, or point [source] url at another"
    try:
        data = read_file_bounded(path, max_bytes, str(path), SourceError, f"{fix} (or raise [source] max_response_bytes)")
    except OSError as exc:
        raise SourceError.at(str(path), f"cannot be read: {exc.strerror or exc}", fix) from None
    return loads_json(data, str(path), SourceError, fix)


FRAB = Frab()
