"""``sitegen serve``: the editor's loop. Build, serve the site on this machine,
and rebuild and reload open tabs on every edit (``sitegen.serve`` does the work)."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import click

from sitegen.cli.console import check_free, console_for, user_errors
from sitegen.cli.options import common_options, site_options, site_overrides


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise click.BadParameter("must be a finite number of seconds")
    return value


@click.command()
@common_options
@site_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on (0: any free one).")
@click.option(
    "--poll-api",
    type=click.FloatRange(min=1, max=86_400),  # a day; also refuses inf (NaN is refused by _finite)
    callback=lambda ctx, param, value: _finite(value),
    metavar="SECONDS",
    help="Fetch the API again this often (conditional requests) and rebuild when it changed.",
)
def serve(**options: Any) -> None:
    """Build, serve the site on this machine, and rebuild and reload open tabs on every edit."""
    from sitegen.serve.run import DevServer

    console, reporter = console_for(options)
    with user_errors(console, interrupted="stopped"):
        check_free(options["host"], options["port"], "stop what is using it, or pass another --port")
        server = DevServer(
            options["root"],
            site_overrides(options),
            host=options["host"],
            port=options["port"],
            today=(lambda: options["today"].date()) if options["today"] else date.today,
            poll_api=options["poll_api"],
            reporter=reporter,
            log=lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True) if reporter.verbosity >= 1 else None,
        )
        server.start()
        if reporter.verbosity >= 1:
            console.print(f"serving {server.url} (Ctrl-C stops); watching content, themes, data and sitegen.toml", markup=False)
        server.wait()
