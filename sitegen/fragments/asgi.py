"""The fragment service as an app factory, for ``sitegen fragments --workers N``.

uvicorn starts each worker process by importing this and calling
``create_app``; the command line hands the settings over in the environment,
since nothing else crosses into a freshly started worker.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sitegen.config import load_config
from sitegen.fragments import make_codec, make_service, open_store

#: Environment variables the command line sets for its workers.
ROOT, STORE, INDEX = "SITEGEN_FRAGMENTS_ROOT", "SITEGEN_FRAGMENTS_STORE", "SITEGEN_FRAGMENTS_INDEX"


def worker_environment(root: Path, store: str | None, index: Path | None) -> dict[str, str]:
    settings = {ROOT: str(root.resolve())}
    if store:
        settings[STORE] = store
    if index:
        settings[INDEX] = str(index.resolve())
    return settings


def create_app(environ: Mapping[str, str] = os.environ) -> Any:
    """The ASGI app of one worker: its own store connection, the same config."""
    config = load_config(Path(environ[ROOT]), {"fragments.store": environ.get(STORE)})
    store = open_store(config.fragments.store, config.root)
    index = Path(environ[INDEX]) if environ.get(INDEX) else None
    return make_service(config, store=store, codec=make_codec(config, environ), index_path=index).app
