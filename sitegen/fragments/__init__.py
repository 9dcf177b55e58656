"""The personal fragments: the service that fills a page's holes, the signed
identity cookie it reads, the store of follows and attendance, and the edge
configuration in front of it all.

This stage comes after the build: it reads the build's fragment index and the
theme, never the API's archive.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from sitegen.config import Config
from sitegen.fetch import fetch_archive
from sitegen.fragments.identity import IdentityCodec, keys_from_environment
from sitegen.fragments.service import FragmentService
from sitegen.fragments.store import PersonalData, PersonalStore, open_store, parse_personal_data
from sitegen.kept import unlink_links
from sitegen.write import FRAGMENT_INDEX

if TYPE_CHECKING:
    import httpx

#: The API extension's collections (see the README): same envelope and paging as the contract's.
PERSONAL_COLLECTIONS = ("users", "follows", "attendance")

__all__ = ["FragmentService", "IdentityCodec", "fetch_personal_data", "make_codec", "make_service", "open_store"]


def make_codec(config: Config, environ: Mapping[str, str] = os.environ, clock: Callable[[], float] = time.time) -> IdentityCodec:
    keys = keys_from_environment(environ, config.fragments.keys_env)
    return IdentityCodec(keys, config.fragments.max_age_days * 86400, clock)


def make_service(config: Config, *, store: PersonalStore, codec: IdentityCodec, index_path: Path | None = None) -> FragmentService:
    return FragmentService(config, index_path=index_path or config.output_dir / FRAGMENT_INDEX, store=store, codec=codec)


def fetch_personal_data(config: Config, client: httpx.Client | None = None) -> PersonalData:
    """Follows and attendance from the site's own source (API or folder), via the fetch stage."""
    unlink_links(config.cache_dir)
    raw = fetch_archive(
        config.source,
        root=config.root,
        cache_dir=config.cache_dir / "personal",
        client=client,
        collections=PERSONAL_COLLECTIONS,
    )
    return parse_personal_data({name: list(items) for name, items in raw.collections.items()}, raw.source, extra_keys=True)
