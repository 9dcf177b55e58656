"""``sitegen init``: create a new site in an empty or new folder, and say how to
build it with sitegen as it was just run."""

from __future__ import annotations

import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import click

from sitegen.cli.console import stderr_console, user_errors


@click.command()
@click.argument("directory", metavar="[DIR]", default=".", type=click.Path(path_type=Path))
def init(directory: Path) -> None:
    """Create a new site in DIR (default: here), which must be empty or new: a config,
    a Markdown page, sample data and a theme override example, ready for `sitegen build`."""
    from sitegen.skeleton import create_site, next_steps

    console = stderr_console()
    with user_errors(console, interrupted=f"interrupted; remove {directory} and run sitegen init again"):
        create_site(directory)
    console.print(next_steps(directory, own_command(sys.argv[0], sys.executable, shutil.which)), markup=False, soft_wrap=True)


def own_command(argv0: str, python: str, which: Callable[[str], str | None]) -> str:
    """How to run sitegen again as it was just run: plain ``sitegen`` only when
    that name on PATH is this very program (not so before ``.venv`` is activated)."""
    launcher = Path(argv0)
    if launcher.name != "sitegen":  # python -m sitegen
        return f"{shlex.quote(python)} -m sitegen"
    on_path = which("sitegen")
    if on_path is not None and Path(on_path).absolute() == launcher.absolute():
        return "sitegen"
    return shlex.quote(str(launcher.absolute()))
