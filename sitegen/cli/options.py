"""The options several commands share, and how they become config overrides:
where the site is and how much to say (every command), and the values of
``sitegen.toml`` that ``build``, ``check`` and ``serve`` let a flag replace."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def common_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options every command has: where the site is, and how much to say."""
    options = [
        click.option(
            "--root",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("."),
            show_default=True,
            help="Site root: the folder holding sitegen.toml, content/ and themes/.",
        ),
        click.option("-v", "--verbose", count=True, help="More detail (-vv for stage starts)."),
        click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def site_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options shared by build, check and serve; each overrides sitegen.toml."""
    options = [
        click.option("--source", help="Event data: an API base URL or a folder in the local form. [source] url"),
        click.option("--theme", help="Theme name. [build] theme"),
        click.option("--base-url", help="Absolute URL the site is served from. [site] base_url"),
        click.option("--static-url", help="Where hashed assets are served from: a path or a CDN URL. [site] static_url"),
        click.option("--output", "output_dir", help="Output folder. [build] output_dir"),
        click.option("--strict", is_flag=True, default=None, help="Treat warnings as errors. [build] strict"),
        click.option(
            "--today",
            type=click.DateTime(formats=["%Y-%m-%d"]),
            help="The date that splits upcoming from past (default: today). Pin it for reproducible builds.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def site_overrides(options: dict[str, Any]) -> dict[str, Any]:
    """The ``site_options`` as ``load_config`` overrides (an option not given is None: no override)."""
    return {
        "source.url": options["source"],
        "build.theme": options["theme"],
        "site.base_url": options["base_url"],
        "site.static_url": options["static_url"],
        "build.output_dir": options["output_dir"],
        "build.strict": options["strict"],
    }
