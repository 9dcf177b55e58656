"""pretalx (``[source] url = "pretalx+https://HOST/api/events/SLUG/"``): one event read through
pretalx's REST API over the shared HTTP fetcher, converted by ``sitegen.sources.pretalx``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sitegen.bounded import shown
from sitegen.errors import Problem
from sitegen.fetch.formats.convert import as_archive
from sitegen.fetch.result import RawArchive
from sitegen.fetch.source import Reading, scheme

PREFIX = "pretalx+"


class Pretalx:
    name = "pretalx"
    forms = ("pretalx+https://HOST/api/events/SLUG/ (a pretalx event)",)

    def claims(self, url: str) -> bool:
        return url.startswith((PREFIX, "pretalx:"))

    def problems(self, url: str, root: Path, where: str) -> list[Problem]:
        location = url.removeprefix(PREFIX)
        if url.startswith(PREFIX) and scheme(location) in ("http", "https") and _has_host(location):
            return []
        return [Problem(where, f"url = {shown(url)} is not a pretalx API URL", 'use "pretalx+https://HOST/api/events/SLUG/"')]

    def local_paths(self, url: str, root: Path) -> tuple[Path, ...]:
        return ()

    def read(self, url: str, reading: Reading) -> RawArchive:
        from sitegen.sources import pretalx

        # pretalx shows an event's talks to everyone only once its schedule is published.
        refused = (
            "pretalx shows nothing without a token",
            f"publish the event's schedule in pretalx, or set {reading.source.token_env} to an API token",
        )
        with reading.http(contract=False) as fetcher:

            def get(target: str, headers: Mapping[str, str]) -> Any:
                return fetcher.document(target, headers, refused)

            # The token goes to sitegen.sources.pretalx, which sends it pretalx's way.
            converted = pretalx.read(url.removeprefix(PREFIX), get, reading.token)
            fetcher.cache.prune()  # a complete read: what it did not ask for is stale
        return as_archive(converted, fetcher.session.counters.freeze(), url)


def _has_host(url: str) -> bool:
    try:
        return bool(urlsplit(url).hostname)
    except ValueError:
        return False


PRETALX = Pretalx()
