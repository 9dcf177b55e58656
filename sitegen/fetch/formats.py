"""Other formats: a pretalx event, or frab schedules (files or URLs), read here and converted to the
contract's collections by ``sitegen.sources``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitegen.bounded import loads_json, read_file_bounded
from sitegen.config import SourceConfig
from sitegen.errors import SourceError
from sitegen.fetch.client import open_client
from sitegen.fetch.fetcher import HttpFetcher
from sitegen.fetch.httpcache import HttpCache
from sitegen.fetch.result import COLLECTIONS, FetchStats, RawArchive
from sitegen.fetch.session import Session

if TYPE_CHECKING:
    import httpx


def fetch_other_format(
    source: SourceConfig,
    *,
    root: Path,
    cache_dir: Path,
    client: httpx.Client | None,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    now: Callable[[], datetime],
    environ: Mapping[str, str],
) -> RawArchive:
    """Read a pretalx event or frab schedules and convert them to the contract's collections."""
    if source.kind == "frab" and not source.is_http:
        from sitegen.sources import frab

        paths = frab.schedule_files(root, source.location)
        converted = frab.convert([(str(path), _read_json_file(path, source.max_response_bytes)) for path in paths])
        return RawArchive(_as_tuples(converted.collections), FetchStats(), source.url, converted.warnings)
    with open_client(source, client) as http:
        fetcher = HttpFetcher(Session(source, http, sleep, clock, now, None), HttpCache(cache_dir / "http"))
        if source.kind == "pretalx":
            from sitegen.sources import pretalx

            converted = pretalx.read(source.location, fetcher.document, environ.get(source.token_env) or None)
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
