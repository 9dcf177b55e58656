"""``sitegen check``: the build's checks (config, data, pages, templates,
assets, links, the search index) without writing anything."""

from __future__ import annotations

from typing import Any

import click

from sitegen.cli.build import run_build
from sitegen.cli.options import common_options, site_options


@click.command()
@common_options
@site_options
def check(**options: Any) -> None:
    """Validate config, data, content, templates and assets without writing anything."""
    run_build(options, write=False)
