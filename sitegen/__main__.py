"""``python -m sitegen`` and the ``sitegen`` command (``run``): the CLI, with Ctrl-C
answered by one line and exit status 130 wherever it lands. Each command says what
an interrupt left (``cli.console.user_errors``); this catches the rest: an interrupt
while the CLI's modules load, before any command can say so, and one after a
command's work is done (click's own answer would be "Aborted!" and status 1)."""

from __future__ import annotations

import errno
import sys

INTERRUPTED = 130


def run() -> None:
    try:
        import click

        from sitegen.cli import main
    except KeyboardInterrupt:
        _interrupted()
    try:
        main.main(standalone_mode=False)
    except (click.Abort, KeyboardInterrupt):
        _interrupted()
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except BrokenPipeError:  # `sitegen … | head`: the reader left; nothing more to say
        sys.exit(1)
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        sys.exit(1)
    sys.exit(0)


def _interrupted() -> None:
    sys.stderr.write("interrupted\n")
    sys.exit(INTERRUPTED)


if __name__ == "__main__":
    run()
