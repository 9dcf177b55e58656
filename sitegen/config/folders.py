"""Checks of the config against the site's files: the theme resolves, and the
output, content and cache folders sit inside the site root without overlapping
what a build reads (the source's own files are its format's to check:
``sitegen.fetch.registry``). Every problem is returned."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sitegen.bounded import shown
from sitegen.config.themes import resolve_theme_chain, theme_name_problem
from sitegen.errors import ConfigError, Problem

if TYPE_CHECKING:
    from sitegen.config.schema import Config


def location_problems(config: Config, where: str) -> list[Problem]:
    """An empty source, a theme that is not a folder name, a cache_dir that is a file:
    checked before the folders are resolved, so each is its one message."""
    problems: list[Problem] = []
    if not config.source.url.strip():
        problems.append(Problem(f"{where} [source]", "url = '': the source is empty", "set it to the API's base URL or a data folder"))
    theme_problem = theme_name_problem(config.build.theme)
    if theme_problem:
        problems.append(Problem(f"{where} [build]", theme_problem, 'name a folder under themes/, such as "default"'))
    if config.cache_dir.exists() and not config.cache_dir.is_dir():
        problems.append(
            Problem(
                f"{where} [build]",
                f"cache_dir = {shown(config.build.cache_dir)} is a file, not a folder",
                "name a folder (created when missing), such as '.sitegen-cache'",
            )
        )
    return problems


def theme_problems(config: Config) -> list[Problem]:
    """The theme and every theme it extends are folders, without a cycle."""
    try:
        resolve_theme_chain(config.root, config.build.theme)
    except ConfigError as exc:
        return list(exc.problems)
    return []


def below_root_problems(config: Config, where: str) -> list[Problem]:
    """The output, content and cache folders are sub-folders of the site root."""
    problems = []
    for key in ("output_dir", "content_dir", "cache_dir"):
        value = getattr(config.build, key)
        resolved = (config.root / value).resolve()
        if resolved == config.root or config.root.is_relative_to(resolved):
            problems.append(
                Problem(where, f"{key} = {value!r} would be the site root itself or above it", "name a sub-folder such as 'build'")
            )
    return problems


def output_overlap_problems(config: Config, where: str) -> list[Problem]:
    """The output folder is emptied of files a build did not make, so it must
    not hold (or sit inside) anything the build reads or keeps (the source's
    files and folders: its format's check)."""
    inputs = {
        "content_dir": config.content_dir,
        "cache_dir": config.cache_dir,
        "the themes folder": config.root / "themes",
    }
    output = config.output_dir.resolve()
    return [
        Problem(
            where,
            f"output_dir = {config.build.output_dir!r} overlaps {name} ({folder}); a build would delete files there",
            "use a folder of its own, such as 'build'",
        )
        for name, folder in inputs.items()
        if output == folder.resolve() or output.is_relative_to(folder.resolve()) or folder.resolve().is_relative_to(output)
    ]
