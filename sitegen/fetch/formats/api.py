"""The JSON API (``[source] url = "https://HOST/API/"``): the contract's collections page by page
through the ETag cache, brought up to date incrementally through the change feed when the server
has one (``sitegen.fetch.incremental``), else listed in full."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from sitegen.bounded import shown
from sitegen.errors import Problem
from sitegen.fetch.incremental import sync
from sitegen.fetch.localcopy import LocalCopy
from sitegen.fetch.result import RawArchive
from sitegen.fetch.source import Reading, scheme


class Api:
    name = "the JSON API"
    forms = ("https://HOST/API/ (the JSON API's base URL)",)

    def claims(self, url: str) -> bool:
        return scheme(url) in ("http", "https")

    def problems(self, url: str, root: Path, where: str) -> list[Problem]:
        try:
            if urlsplit(url).hostname:
                return []
        except ValueError:
            pass
        return [
            Problem(where, f"url = {shown(url)} is a JSON API URL without a host", 'write the API\'s base URL like "https://HOST/API/"')
        ]

    def local_paths(self, url: str, root: Path) -> tuple[Path, ...]:
        return ()

    def read(self, url: str, reading: Reading) -> RawArchive:
        with reading.http(contract=True) as fetcher:
            if reading.incremental:
                fetched = sync(fetcher, LocalCopy(reading.cache_dir / "objects", reading.key), reading.collections)
            else:
                fetched = fetcher.full(reading.collections)
        return RawArchive(fetched, fetcher.session.counters.freeze(), url)


API = Api()
