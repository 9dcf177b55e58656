"""The one error tree of sitegen.

Every failure a user can cause is a ``SitegenError``. Its text names the
thing that is wrong (a file, a URL, an object path such as
``sessions[17].speakers[0]``) and what to do about it. The CLI prints it and
exits non-zero; anything else escaping is a bug in sitegen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong (or doubtful, for warnings): where, what, and the fix."""

    where: str
    what: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: {self.what}"
        return f"{text} (fix: {self.fix})" if self.fix else text


class SitegenError(Exception):
    """A failure the user can fix. ``problems`` lists every instance found."""

    exit_code = 1
    #: How many problems the message spells out before summarising the rest.
    shown_problems = 30

    def __init__(self, summary: str, problems: Sequence[Problem] = ()) -> None:
        self.summary = summary
        self.problems = tuple(problems)
        super().__init__(self._render())

    @classmethod
    def at(cls, where: str, what: str, fix: str = "") -> Self:
        """A single-problem error, phrased as ``where: what (fix: …)``."""
        return cls("", [Problem(where, what, fix)])

    def _render(self) -> str:
        if not self.summary:
            return "\n".join(str(problem) for problem in self.problems)
        lines = [self.summary]
        lines += [f"  - {problem}" for problem in self.problems[: self.shown_problems]]
        hidden = len(self.problems) - self.shown_problems
        if hidden > 0:
            lines.append(f"  … and {hidden} more")
        return "\n".join(lines)


class ConfigError(SitegenError):
    """sitegen.toml or a command-line option is wrong."""

    exit_code = 2


class SourceError(SitegenError):
    """The event data could not be read: network, HTTP status, or a malformed body."""


class DataError(SitegenError):
    """The event data was read but breaks the contract (references, slugs, dates…)."""


class ContentError(SitegenError):
    """A Markdown page under content/ is malformed."""


class AssetError(SitegenError):
    """A theme asset is missing, unreadable, or references something missing."""


class TemplateError(SitegenError):
    """A theme template failed to load or render."""


class OutputError(SitegenError):
    """The build could not be written to the output folder."""


class PublishError(SitegenError):
    """A deploy could not be planned or carried out: credentials, bucket, network…"""


class FragmentError(SitegenError):
    """The personal-fragment service, its keys, its store or data loaded into it."""
