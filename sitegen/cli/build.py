"""``sitegen build``: fetch, validate, render and write the site, then print a
summary. ``sitegen check`` runs the same pipeline without writing (``check.py``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from sitegen.build import BuildReport, build_site
from sitegen.cli.console import console_for, user_errors
from sitegen.cli.options import common_options, site_options, site_overrides
from sitegen.config import load_config
from sitegen.fetch import source_problems


@click.command()
@common_options
@site_options
@click.option(
    "--full",
    is_flag=True,
    help="Render every page again, not only those whose inputs changed, and trust no cache "
    "(after editing or deleting the output folder's files by hand; files you added are left alone). "
    "Only changed files are still written.",
)
def build(**options: Any) -> None:
    """Fetch the data, render the site and write it to the output folder."""
    run_build(options, write=True)


def run_build(options: dict[str, Any], *, write: bool) -> None:
    """Load the config with the command's overrides, run the pipeline, print the summary."""
    console, reporter = console_for(options)
    verbosity = reporter.verbosity
    interactive = reporter.interactive
    with user_errors(console, interrupted="interrupted; build/ was not changed"):
        config = load_config(options["root"], site_overrides(options), source_check=source_problems)
        today = options["today"].date() if options["today"] else date.today()
        report = build_site(config, today=today, write=write, reporter=reporter, full=options.get("full", False))
    if verbosity >= 1:
        _print_summary(console, report, config.output_dir, interactive=interactive)


def _memory(report: BuildReport) -> str:
    largest = f"{report.peak_rss_mb:.0f} MB peak in the largest process"
    return f"{largest}, {report.peak_pss_sum_mb:.0f} MB across all at the busiest sample (PSS)" if report.peak_pss_sum_mb else largest


def _print_summary(console: Console, report: BuildReport, output_dir: Path, *, interactive: bool) -> None:
    api = f"{report.api_requests} requests, {report.api_not_modified} not modified" if report.api_requests else "local folder"
    rows = [
        ("pages", f"{report.pages} ({report.files_rendered} files rendered, the rest unchanged since the last build)"),
        ("assets", str(report.assets)),
        ("data", f"{report.source} ({api})"),
        ("warnings", str(len(report.warnings))),
        ("time", f"{report.total_seconds:.2f} s"),
        ("memory", _memory(report)),
    ]
    if report.written:
        rows.insert(2, ("files", f"{report.files_written} written, {report.files_unchanged} unchanged, {report.files_deleted} deleted"))
        rows.append(("output", str(output_dir)))
    else:
        rows.append(("output", "none (check only)"))
    if interactive:
        from rich.table import Table  # a terminal only

        table = Table(show_header=False, box=None, padding=(0, 2))
        for key, value in rows:
            table.add_row(key, value)
        console.print(table)
    else:
        for key, value in rows:
            console.print(f"{key}: {value}", markup=False, soft_wrap=True)
