"""c3voc schedule v2 documents as a source: ``schedule2:FILE,FOLDER…`` (files under the site root)
or ``schedule2+https://…, https://…`` (one GET each, through the fetch's client with its retries,
limits and budget), converted by ``sitegen.sources.schedule2``. The same shape as the frab
readers of ``formats``; ``[source] url`` is recognised by its prefix here, as config does not know it."""

from __future__ import annotations

from pathlib import Path

from sitegen.config import SourceConfig
from sitegen.fetch.fetcher import HttpFetcher
from sitegen.fetch.formats import _as_tuples, _read_json_file
from sitegen.fetch.result import FetchStats, RawArchive

#: ``[source] url = "schedule2:FILE,FOLDER…"``: documents on disk, relative to the site root.
FILE_PREFIX = "schedule2:"
#: ``[source] url = "schedule2+https://…/schedule.json, https://…"``: documents over HTTP.
URL_PREFIX = "schedule2+"


def read_schedule2_files(source: SourceConfig, root: Path) -> RawArchive:
    """Schedule v2 documents from files (``schedule2:FILE,FOLDER…`` under ``root``), converted."""
    from sitegen.sources import schedule2

    paths = schedule2.schedule_files(root, source.url.removeprefix(FILE_PREFIX), FILE_PREFIX.rstrip(":"))
    converted = schedule2.convert([(str(path), _read_json_file(path, source.max_response_bytes)) for path in paths])
    return RawArchive(_as_tuples(converted.collections), FetchStats(), source.url, converted.warnings)


def fetch_schedule2(fetcher: HttpFetcher) -> RawArchive:
    """Schedule v2 documents from the comma-separated URLs of ``schedule2+…``, read through ``fetcher``, converted."""
    from sitegen.sources import schedule2

    source = fetcher.session.source
    urls = [url.strip() for url in source.url.removeprefix(URL_PREFIX).split(",") if url.strip()]
    converted = schedule2.convert([(url, fetcher.document(url, {})) for url in urls])
    return RawArchive(_as_tuples(converted.collections), fetcher.session.counters.freeze(), source.url, converted.warnings)
