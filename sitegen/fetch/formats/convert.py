"""What every converted format hands on: a converter's collections (``sitegen.sources.Converted``)
as the fetch stage's ``RawArchive``, every contract collection present."""

from __future__ import annotations

from sitegen.fetch.result import COLLECTIONS, FetchStats, RawArchive
from sitegen.sources import Converted


def as_archive(converted: Converted, stats: FetchStats, source: str) -> RawArchive:
    collections = {name: tuple(converted.collections.get(name, ())) for name in COLLECTIONS}
    return RawArchive(collections, stats, source, converted.warnings)
