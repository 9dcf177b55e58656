"""How long-running commands say how they are going.

The CLI supplies a reporter that draws progress bars on a terminal and prints
plain lines in CI; library callers and tests get ``SilentReporter``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sitegen.errors import Problem


class Reporter(Protocol):
    def stage_started(self, name: str) -> None: ...

    def stage_finished(self, name: str, seconds: float, detail: str) -> None: ...

    def progress(self, name: str, total: int) -> Callable[[int], None]:
        """Start a progress bar of ``total`` steps; return the function that advances it."""
        ...

    def warning(self, problem: Problem) -> None: ...


class SilentReporter:
    def stage_started(self, name: str) -> None:
        pass

    def stage_finished(self, name: str, seconds: float, detail: str) -> None:
        pass

    def progress(self, name: str, total: int) -> Callable[[int], None]:
        return lambda advance: None

    def warning(self, problem: Problem) -> None:
        pass
