"""Other formats: a pretalx event, or frab schedules (files or URLs), read here and converted to the
contract's collections by ``sitegen.sources``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sitegen.bounded import loads_json, read_file_bounded
from sitegen.config import SourceConfig
from sitegen.errors import SourceError
from sitegen.fetch.fetcher import HttpFetcher
from sitegen.fetch.result import COLLECTIONS, FetchStats, RawArchive


def read_frab_files(source: SourceConfig, root: Path) -> RawArchive:
    """frab schedules from files (``frab:FILE,FOLDER…`` under ``root``), converted."""
    from sitegen.sources import frab

    paths = frab.schedule_files(root, source.location)
    converted = frab.convert([(str(path), _read_json_file(path, source.max_response_bytes)) for path in paths])
    return RawArchive(_as_tuples(converted.collections), FetchStats(), source.url, converted.warnings)


def fetch_other_format(fetcher: HttpFetcher, token: str | None) -> RawArchive:
    """A pretalx event, or frab schedules from URLs, read through ``fetcher`` and converted. Another
    format brings its own authorisation: ``token`` goes to ``sitegen.sources.pretalx``, which sends it its way."""
    source = fetcher.session.source
    if source.kind == "pretalx":
        from sitegen.sources import pretalx

        converted = pretalx.read(source.location, fetcher.document, token)
    else:
        from sitegen.sources import frab

        urls = [url.strip() for url in source.location.split(",") if url.strip()]
        converted = frab.convert([(url, fetcher.document(url, {})) for url in urls])
    return RawArchive(_as_tuples(converted.collections), fetcher.session.counters.freeze(), source.url, converted.warnings)


def _as_tuples(collections: Mapping[str, list[dict[str, Any]]]) -> dict[str, tuple[Mapping[str, Any], ...]]:
    return {name: tuple(collections.get(name, ())) for name in COLLECTIONS}


def _read_json_file(path: Path, max_bytes: int) -> Any:
    fix = "check the file, or point [source] url at another"
    try:
        data = read_file_bounded(path, max_bytes, str(path), SourceError, f"{fix} (or raise [source] max_response_bytes)")
    except OSError as exc:
        raise SourceError.at(str(path), f"cannot be read: {exc.strerror or exc}", fix) from None
    return loads_json(data, str(path), SourceError, fix)
