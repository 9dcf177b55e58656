"""How every command talks to the user: the console on standard error, the
progress reporter (rich bars on a terminal, plain lines in CI or a pipe), and
each failure a user can cause as one message and an exit code (2 for
configuration errors, 1 for the rest, 130 when interrupted)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console

from sitegen.errors import OutputError, Problem, SitegenError

if TYPE_CHECKING:
    from rich.progress import Progress


class ConsoleReporter:
    """Progress for people (rich, on a terminal) or for logs (plain lines)."""

    def __init__(self, console: Console, *, interactive: bool, verbosity: int) -> None:
        self.console = console
        self.interactive = interactive
        self.verbosity = verbosity
        self._progress: Progress | None = None

    def _say(self, text: str, **style: Any) -> None:
        self.console.print(text, highlight=False, markup=False, soft_wrap=True, **style)

    def stage_started(self, name: str) -> None:
        if self.verbosity >= 2:
            self._say(f"{name}: started")

    def stage_finished(self, name: str, seconds: float, detail: str) -> None:
        self._stop_progress()
        if self.verbosity >= 1:
            self._say(f"{name:<8} {seconds:7.2f} s  {detail}")

    def progress(self, name: str, total: int) -> Callable[[int], None]:
        if not self.interactive or self.verbosity < 1:
            return lambda advance: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # a terminal only

        self._progress = Progress(
            TextColumn(f"{name:<8}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self._progress.start()
        task = self._progress.add_task(name, total=total)
        progress = self._progress
        return lambda advance: progress.advance(task, advance)

    def warning(self, problem: Problem) -> None:
        self._stop_progress()
        self._say(f"warning: {problem}", style="yellow")

    def _stop_progress(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class _Console(Console):
    """rich's console, but a reader gone (``sitegen build 2>&1 | head -1``) does not end the
    command: the rest of its output goes nowhere, and the build it reports on still finishes
    (rich's own answer is to exit with status 1 at the next line, mid-build)."""

    def on_broken_pipe(self) -> None:
        self.file = open(os.devnull, "w")  # noqa: SIM115 - the console's, for the rest of the process


def stderr_console() -> Console:
    """Where every command talks to the user: standard error, nothing highlighted."""
    return _Console(stderr=True, highlight=False)


def console_for(options: dict[str, Any]) -> tuple[Console, ConsoleReporter]:
    """Progress bars on a terminal; plain lines in CI or when output is redirected."""
    console = stderr_console()
    interactive = console.is_terminal and not os.environ.get("CI")
    verbosity = 0 if options["quiet"] else 1 + options["verbose"]
    return console, ConsoleReporter(console, interactive=interactive, verbosity=verbosity)


@contextmanager
def user_errors(console: Console, *, interrupted: str) -> Iterator[None]:
    """A ``SitegenError`` becomes ``error: …`` and its exit code; Ctrl-C prints ``interrupted`` and exits 130."""
    try:
        yield
    except SitegenError as exc:
        console.print(f"error: {exc}", style="red", highlight=False, markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        console.print(interrupted, style="red", markup=False)
        sys.exit(130)


def check_free(host: str, port: int, fix: str) -> None:
    """Say plainly that the address is taken, rather than letting uvicorn log it and exit."""
    import socket

    try:
        with socket.create_server((host, port), reuse_port=False):
            pass
    except (OSError, OverflowError) as exc:
        raise OutputError.at(f"{host}:{port}", f"cannot be listened on: {getattr(exc, 'strerror', None) or exc}", fix) from None
