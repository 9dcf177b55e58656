"""The one error tree of sitegen.

Every failure a user can cause is a ``SitegenError``. Its text names the
thing that is wrong (a file, a URL, an object path such as
``sessions[17].speakers[0]``) and what to do about it. The CLI prints it and
exits non-zero; anything else escaping is a bug in sitegen.

A message stays short whatever the input: each part of a problem is clipped,
at most ``shown_problems`` problems are spelled out, and no more than fit in
``MESSAGE_BUDGET`` bytes; the rest are counted ("… and 12 more").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

#: How many characters of an outside value a message echoes (``clip``'s default).
ECHO_LIMIT = 80
#: The most characters of each part of a problem a message shows: ``where``
#: can hold ids, ``what`` an echoed value, a summary a file name.
WHERE_LIMIT = 240
WHAT_LIMIT = 600
FIX_LIMIT = 300
SUMMARY_LIMIT = 300
#: A rendered message stops adding problems past this many UTF-8 bytes; with
#: the limits above no message reaches 10 KB, whatever the problems.
MESSAGE_BUDGET = 8_000


def clip(text: str, limit: int = ECHO_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis and the full length when cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong (or doubtful, for warnings): where, what, and the fix."""

    where: str
    what: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{clip(self.where, WHERE_LIMIT)}: {clip(self.what, WHAT_LIMIT)}"
        return f"{text} (fix: {clip(self.fix, FIX_LIMIT)})" if self.fix else text


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
        lines = [clip(self.summary, SUMMARY_LIMIT)] if self.summary else []
        bullet, indent = ("  - ", "  ") if self.summary else ("", "")
        size = sum(_utf8_size(line) + 1 for line in lines)
        for problem in self.problems[: self.shown_problems]:
            line = f"{bullet}{problem}"
            size += _utf8_size(line) + 1
            if size > MESSAGE_BUDGET and len(lines) > bool(self.summary):
                break
            lines.append(line)
        hidden = len(self.problems) - (len(lines) - bool(self.summary))
        if hidden > 0:
            lines.append(f"{indent}… and {hidden:,} more")
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


class OutputBusy(OutputError):
    """Another sitegen process holds the output folder's lock (a build, serve rebuilding, a publish)."""


class PublishError(SitegenError):
    """A deploy could not be planned or carried out: credentials, bucket, network…"""


class FragmentError(SitegenError):
    """The personal-fragment service, its keys, its store or data loaded into it."""


class SearchError(SitegenError):
    """The search index could not be built or checked."""
