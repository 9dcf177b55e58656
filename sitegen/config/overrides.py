"""Command-line values over ``sitegen.toml``: the dotted keys (``"source.url"``)
a command passes, split by table, and a wrong value blamed on its option."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sitegen.errors import Problem


def section_overrides(overrides: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
    """The overrides of table ``name``, by key (``None`` values included; the caller drops them)."""
    return {dotted.partition(".")[2]: value for dotted, value in (overrides or {}).items() if dotted.partition(".")[0] == name}


def blame_option(problem: Problem, overrides: Mapping[str, Any]) -> Problem:
    """A problem with a value given on the command line names the option, not sitegen.toml."""
    for dotted, value in overrides.items():
        section, _, key = dotted.partition(".")
        if value is not None and problem.where.endswith(f"[{section}]") and problem.what.startswith(f"{key} = "):
            return Problem(f"the command-line option for [{section}] {key}", problem.what, problem.fix)
    return problem
