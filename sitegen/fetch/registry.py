"""The formats ``[source] url`` can name, in the order they are asked whether a URL is theirs, and
the check of a config's source: its format's own problems, and the output folder kept off what it reads.

Adding a format: a module under ``sitegen/fetch/formats/`` with an object that is a ``Source``,
and its entry here, before ``FOLDER`` (which takes every URL without a scheme)."""

from __future__ import annotations

from pathlib import Path

from sitegen.bounded import shown
from sitegen.config import CONFIG_FILE, Config
from sitegen.errors import ConfigError, Problem, clip
from sitegen.fetch.formats.api import API
from sitegen.fetch.formats.folder import FOLDER
from sitegen.fetch.formats.frab import FRAB, SCHEDULE2
from sitegen.fetch.formats.pretalx import PRETALX
from sitegen.fetch.formats.pyvideo import PYVIDEO
from sitegen.fetch.source import Source

FORMATS: tuple[Source, ...] = (PRETALX, FRAB, SCHEDULE2, PYVIDEO, API, FOLDER)


def find_source(url: str) -> Source | None:
    """The format that reads ``url``, or None when no format claims it."""
    return next((source for source in FORMATS if source.claims(url)), None)


def unknown_source(url: str, where: str) -> Problem:
    """The one message for a URL no format claims, listing the forms it could take."""
    forms = "; ".join(form for source in FORMATS for form in source.forms)
    return Problem(where, f"url = {shown(url)} is not a form of source sitegen reads", f"use one of: {forms}")


def source_problems(config: Config, where: str) -> list[Problem]:
    """``[source] url`` checked by its format, before any work; and the output folder kept apart from
    the files and folders it reads (a build empties the output folder of files it did not make).
    ``where`` names sitegen.toml; the problems name its ``[source]`` and ``[build]`` tables."""
    url = config.source.url
    source = find_source(url)
    if source is None:
        return [unknown_source(url, f"{where} [source]")]
    problems = source.problems(url, config.root, f"{where} [source]")
    if problems:  # a url its format refuses names nothing the output could overlap
        return problems
    output = config.output_dir.resolve()
    for path in source.local_paths(url, config.root):
        read = path.resolve()
        if output == read or output.is_relative_to(read) or read.is_relative_to(output):
            problems.append(
                Problem(
                    f"{where} [build]",
                    f"output_dir = {shown(config.build.output_dir)} overlaps [source] url ({clip(str(path))}); a build would delete files there",
                    "use a folder of its own, such as 'build'",
                )
            )
    return problems


def checked_source(url: str, root: Path) -> Source:
    """The format of ``url``, its problems raised as one ConfigError naming ``root``'s sitegen.toml."""
    where = f"{root / CONFIG_FILE} [source]"
    source = find_source(url)
    problems = [unknown_source(url, where)] if source is None else source.problems(url, root, where)
    if problems or source is None:
        raise ConfigError(f"The configuration has {len(problems)} problem(s):", problems)
    return source
