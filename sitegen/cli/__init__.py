"""The command line: ``sitegen init``, ``build``, ``check``, ``serve``, ``publish``, ``fragments`` and ``cookie``.

One module per command (``build.py``, ``check.py``, ``init.py``, ``serve.py``,
``publish.py``, ``fragments.py``, ``cookie.py``); what they share is in
``options.py`` (the shared options and the config overrides they make) and
``console.py`` (progress, and failures as messages and exit codes). This module
only gathers the commands into the ``sitegen`` group, ``main``.

Every user-caused failure arrives here as a ``SitegenError``: it is printed as
one clear message and the process exits non-zero. On a terminal the build
shows progress bars; elsewhere (CI, pipes) it prints plain lines.

boto3, the publish stage and the fragment service are imported by the
commands that use them: together they would double the start-up time of
every `sitegen build`, which an editor's rebuild cannot afford.
"""

from __future__ import annotations

import click

from sitegen import __version__
from sitegen.cli import build, check, cookie, fragments, init, publish, serve

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sitegen")
def main() -> None:
    """Build a conference archive site from event data and Markdown."""


for _command in (build.build, check.check, init.init, publish.publish, serve.serve, fragments.fragments, cookie.cookie):
    main.add_command(_command)
