"""The command line: ``sitegen init``, ``build``, ``check``, ``serve``, ``publish``, ``fragments`` and ``cookie``.

Every user-caused failure arrives here as a ``SitegenError``: it is printed as
one clear message and the process exits non-zero. On a terminal the build
shows progress bars; elsewhere (CI, pipes) it prints plain lines.
"""

from __future__ import annotations

import math
import os
import shlex
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from sitegen import __version__
from sitegen.build import BuildReport, build_site
from sitegen.config import Config, PublishConfig, load_config
from sitegen.errors import ConfigError, FragmentError, OutputError, Problem, PublishError, SitegenError

if TYPE_CHECKING:
    import boto3
    from rich.progress import Progress

    from sitegen.publish import PublishReport, Services

# boto3, the publish stage and the fragment service are imported by the
# commands that use them: together they would double the start-up time of
# every `sitegen build`, which an editor's rebuild cannot afford.


class ConsoleReporter:
    """Progress for people (rich, on a terminal) or for logs (plain lines)."""

    def __init__(self, console: Console, *, interactive: bool, verbosity: int) -> None:
        self.console = console
        self.interactive = interactive
        self.verbosity = verbosity
        self._progress: Progress | None = None

    def stage_started(self, name: str) -> None:
        if self.verbosity >= 2:
            self.console.print(f"{name}: started", highlight=False)

    def stage_finished(self, name: str, seconds: float, detail: str) -> None:
        self._stop_progress()
        if self.verbosity >= 1:
            self.console.print(f"{name:<8} {seconds:7.2f} s  {detail}", highlight=False, markup=False, soft_wrap=True)

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
        self.console.print(f"warning: {problem}", style="yellow", highlight=False, markup=False, soft_wrap=True)

    def _stop_progress(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def common_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options every command has: where the site is, and how much to say."""
    options = [
        click.option(
            "--root",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("."),
            show_default=True,
            help="Site root: the folder holding sitegen.toml, content/ and themes/.",
        ),
        click.option("-v", "--verbose", count=True, help="More detail (-vv for stage starts)."),
        click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def site_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options shared by build and check; each overrides sitegen.toml."""
    options = [
        click.option("--source", help="Event data: an API base URL or a folder in the local form. [source] url"),
        click.option("--theme", help="Theme name. [build] theme"),
        click.option("--base-url", help="Absolute URL the site is served from. [site] base_url"),
        click.option("--static-url", help="Where hashed assets are served from: a path or a CDN URL. [site] static_url"),
        click.option("--output", "output_dir", help="Output folder. [build] output_dir"),
        click.option("--strict", is_flag=True, default=None, help="Treat warnings as errors. [build] strict"),
        click.option(
            "--today",
            type=click.DateTime(formats=["%Y-%m-%d"]),
            help="The date that splits upcoming from past (default: today). Pin it for reproducible builds.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sitegen")
def main() -> None:
    """Build a conference archive site from event data and Markdown."""


@main.command()
@common_options
@site_options
@click.option(
    "--full",
    is_flag=True,
    help="Render every page again, not only those whose inputs changed "
    "(after editing the output folder by hand). Only changed files are still written.",
)
def build(**options: Any) -> None:
    """Fetch the data, render the site and write it to the output folder."""
    _run(options, write=True)


@main.command()
@common_options
@site_options
def check(**options: Any) -> None:
    """Validate config, data, content, templates and assets without writing anything."""
    _run(options, write=False)


@main.command()
@click.argument("directory", metavar="[DIR]", default=".", type=click.Path(path_type=Path))
def init(directory: Path) -> None:
    """Create a new site in DIR (default: here), which must be empty or new: a config,
    a Markdown page, sample data and a theme override example, ready for `sitegen build`."""
    from sitegen.skeleton import create_site, next_steps

    console = Console(stderr=True, highlight=False)
    with _user_errors(console, interrupted=f"interrupted; remove {directory} and run sitegen init again"):
        create_site(directory)
    console.print(next_steps(directory, own_command(sys.argv[0], sys.executable, shutil.which)), markup=False, soft_wrap=True)


def own_command(argv0: str, python: str, which: Callable[[str], str | None]) -> str:
    """How to run sitegen again as it was just run: plain ``sitegen`` only when
    that name on PATH is this very program (not so before ``.venv`` is activated)."""
    launcher = Path(argv0)
    if launcher.name != "sitegen":  # python -m sitegen
        return f"{shlex.quote(python)} -m sitegen"
    on_path = which("sitegen")
    if on_path is not None and Path(on_path).absolute() == launcher.absolute():
        return "sitegen"
    return shlex.quote(str(launcher.absolute()))


@main.command()
@common_options
@click.option("--output", "output_dir", help="The built site to publish. [build] output_dir")
@click.option("--bucket", help="S3 bucket. [publish] bucket")
@click.option("--prefix", help="Key prefix in the bucket, ending in '/'. [publish] prefix")
@click.option("--endpoint-url", help="An S3-compatible endpoint instead of AWS. [publish] endpoint_url")
@click.option("--region", help="The bucket's region. [publish] region")
@click.option("--cloudfront-distribution", help="CloudFront distribution to invalidate. [publish] cloudfront_distribution")
@click.option("--max-deletes", type=int, help="Skip all deletes if there would be more. [publish] max_deletes")
@click.option("--dry-run", is_flag=True, help="Plan and print, change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on standard output.")
@click.option("--rollback", is_flag=True, help="Undo the most recent deploy, from the recorded S3 versions.")
@click.option(
    "--rebuild-manifest",
    is_flag=True,
    help="Ignore the deploy manifest in the bucket (say, an invalid one) and "
    "rebuild it from a listing: upload what differs, delete nothing.",
)
def publish(**options: Any) -> None:
    """Upload the build to S3: only what changed, assets before the pages that need them."""
    console, reporter = _console(options)
    verbosity = reporter.verbosity
    with _user_errors(console, interrupted="interrupted; run publish again to finish (it converges)"):
        config = load_config(
            options["root"],
            {
                f"publish.{key}": options[key]
                for key in ("bucket", "prefix", "endpoint_url", "region", "cloudfront_distribution", "max_deletes")
            }
            | {"build.output_dir": options["output_dir"]},
        )
        if options["rollback"] and options["rebuild_manifest"]:
            raise ConfigError.at(
                "--rollback", "cannot be combined with --rebuild-manifest", "rebuild the manifest first, then roll back a later deploy"
            )
        from sitegen.publish import publish_site, rollback_site

        services = aws_services(config.publish)
        if options["rollback"]:
            report = rollback_site(config, services, dry_run=options["dry_run"], reporter=reporter)
        else:
            report = publish_site(
                config, services, dry_run=options["dry_run"], reporter=reporter, rebuild_manifest=options["rebuild_manifest"]
            )
    if options["as_json"]:
        click.echo(report.to_json(), nl=False)
    if verbosity >= 1:
        _print_publish_summary(console, report, verbosity)


def aws_services(publish: PublishConfig) -> Services:
    """boto3 clients from the standard credential chain, retrying throttling and
    dropped connections with backoff. CloudFront's endpoint comes from boto3's own
    configuration (AWS_ENDPOINT_URL_CLOUDFRONT), never from the S3 endpoint."""
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.session.Session(region_name=publish.region or None)
        return _clients(session, publish)
    except BotoCoreError as exc:  # an unknown profile, a malformed region, a broken config file…
        raise PublishError.at("AWS configuration", str(exc), "check AWS_PROFILE, --region and ~/.aws/config") from exc


def _clients(session: boto3.session.Session, publish: PublishConfig) -> Services:
    from botocore.config import Config as BotoConfig

    from sitegen.publish import Services

    settings = BotoConfig(
        retries={"mode": "standard", "total_max_attempts": 8},  # tries, not retries
        max_pool_connections=publish.concurrency + 2,
        connect_timeout=10,
        read_timeout=60,
        # S3-compatible servers (MinIO, moto…) rarely route virtual-hosted names.
        s3={"addressing_style": "path"} if publish.endpoint_url else None,
    )
    s3 = session.client("s3", endpoint_url=publish.endpoint_url or None, config=settings)
    cloudfront = session.client("cloudfront", config=settings) if publish.cloudfront_distribution else None
    return Services(s3=s3, cloudfront=cloudfront)


def _print_publish_summary(console: Console, report: PublishReport, verbosity: int) -> None:
    action = "would " if report.dry_run else ""
    target = f"s3://{report.bucket}/{report.prefix}"
    if report.rollback:
        console.print(
            f"rollback {target}: {action}restore {len(report.restored)}, {action}delete {len(report.deleted)}", markup=False, soft_wrap=True
        )
    else:
        console.print(
            f"publish {target} (state from {report.state_from}): {action}upload {len(report.uploaded)} "
            f"({report.bytes_uploaded:,} bytes), {action}update headers of {len(report.header_updated)}, "
            f"{report.skipped} unchanged, {action}delete {len(report.deleted)}, {len(report.deferred)} old assets kept",
            markup=False,
            soft_wrap=True,
        )
    if report.deletes_skipped:
        console.print(f"deletes skipped: {report.deletes_skipped}", style="yellow", markup=False, soft_wrap=True)
    if report.invalidation_id:
        console.print(f"invalidation {report.invalidation_id}: {len(report.invalidation_paths)} paths", markup=False)
    requests = ", ".join(f"{n} {op}" for op, n in report.requests.items()) or "none"
    console.print(f"requests: {requests}; {report.seconds:.2f} s", markup=False, soft_wrap=True)
    if verbosity >= 2:
        for path in report.uploaded:
            console.print(f"  upload {path}", markup=False)


def _console(options: dict[str, Any]) -> tuple[Console, ConsoleReporter]:
    """Progress bars on a terminal; plain lines in CI or when output is redirected."""
    console = Console(stderr=True, highlight=False)
    interactive = console.is_terminal and not os.environ.get("CI")
    verbosity = 0 if options["quiet"] else 1 + options["verbose"]
    return console, ConsoleReporter(console, interactive=interactive, verbosity=verbosity)


def _site_overrides(options: dict[str, Any]) -> dict[str, Any]:
    return {
        "source.url": options["source"],
        "build.theme": options["theme"],
        "site.base_url": options["base_url"],
        "site.static_url": options["static_url"],
        "build.output_dir": options["output_dir"],
        "build.strict": options["strict"],
    }


def _run(options: dict[str, Any], *, write: bool) -> None:
    console, reporter = _console(options)
    verbosity = reporter.verbosity
    interactive = reporter.interactive
    with _user_errors(console, interrupted="interrupted; the previous build was kept"):
        config = load_config(options["root"], _site_overrides(options))
        today = options["today"].date() if options["today"] else date.today()
        report = build_site(config, today=today, write=write, reporter=reporter, full=options.get("full", False))
    if verbosity >= 1:
        _print_summary(console, report, config.output_dir, interactive=interactive)


@contextmanager
def _user_errors(console: Console, *, interrupted: str) -> Iterator[None]:
    try:
        yield
    except SitegenError as exc:
        console.print(f"error: {exc}", style="red", highlight=False, markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        console.print(interrupted, style="red", markup=False)
        sys.exit(130)


def _print_summary(console: Console, report: BuildReport, output_dir: Path, *, interactive: bool) -> None:
    api = f"{report.api_requests} requests, {report.api_not_modified} not modified" if report.api_requests else "local folder"
    rows = [
        ("pages", f"{report.pages} ({report.files_rendered} files rendered, the rest unchanged since the last build)"),
        ("assets", str(report.assets)),
        ("data", f"{report.source} ({api})"),
        ("warnings", str(len(report.warnings))),
        ("time", f"{report.total_seconds:.2f} s"),
        ("memory", f"{report.peak_rss_mb:.0f} MB peak"),
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


# --- the editor's loop ------------------------------------------------------------


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise click.BadParameter("must be a finite number of seconds")
    return value


@main.command()
@common_options
@site_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on (0: any free one).")
@click.option(
    "--poll-api",
    type=click.FloatRange(min=1, max=86_400),  # a day; also refuses inf (NaN is refused by _finite)
    callback=lambda ctx, param, value: _finite(value),
    metavar="SECONDS",
    help="Fetch the API again this often (conditional requests) and rebuild when it changed.",
)
def serve(**options: Any) -> None:
    """Build, serve the site on this machine, and rebuild and reload open tabs on every edit."""
    from sitegen.serve.run import DevServer

    console, reporter = _console(options)
    with _user_errors(console, interrupted="stopped"):
        _check_free(options["host"], options["port"], "stop what is using it, or pass another --port")
        server = DevServer(
            options["root"],
            _site_overrides(options),
            host=options["host"],
            port=options["port"],
            today=(lambda: options["today"].date()) if options["today"] else date.today,
            poll_api=options["poll_api"],
            reporter=reporter,
            log=lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True) if reporter.verbosity >= 1 else None,
        )
        server.start()
        if reporter.verbosity >= 1:
            console.print(f"serving {server.url} (Ctrl-C stops); watching content, themes, data and sitegen.toml", markup=False)
        server.wait()


# --- personal fragments ------------------------------------------------------------


def _fragments_config(options: dict[str, Any]) -> Config:
    return load_config(
        options["root"],
        {
            "fragments.store": options.get("store"),
            "fragments.host": options.get("host"),
            "fragments.port": options.get("port"),
            "fragments.workers": options.get("workers"),
        },
    )


@main.group(invoke_without_command=True)
@common_options
@click.option("--host", help="Interface to listen on. [fragments] host")
@click.option("--port", type=int, help="Port to listen on. [fragments] port")
@click.option("--store", help="Personal data: an SQLite file or a redis:// URL. [fragments] store")
@click.option(
    "--index",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The build's fragment index (default: <output>/.sitegen/fragments.json).",
)
@click.option("--workers", type=click.IntRange(min=1), help="Server processes. [fragments] workers")
@click.pass_context
def fragments(ctx: click.Context, /, **options: Any) -> None:
    """Run the fragment service that fills the personal holes (or see its subcommands)."""
    ctx.obj = options
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from sitegen.fragments import make_codec, make_service, open_store
    from sitegen.fragments.asgi import worker_environment
    from sitegen.fragments.store import describe

    console, reporter = _console(options)
    with _user_errors(console, interrupted="stopped"):
        config = _fragments_config(options)
        store = open_store(config.fragments.store, config.root)
        service = make_service(config, store=store, codec=make_codec(config), index_path=options["index"])
        _check_free(config.fragments.host, config.fragments.port, "stop what is using it, or pass --port / set [fragments] port")
        workers = config.fragments.workers
        if reporter.verbosity >= 1:
            console.print(
                f"fragments: http://{config.fragments.host}:{config.fragments.port}{config.fragments.url_prefix} "
                f"(store {describe(store)}, {workers} worker(s))",
                markup=False,
            )
        server: dict[str, Any] = {
            "host": config.fragments.host,
            "port": config.fragments.port,
            "log_level": "warning",
            "access_log": False,
            "server_header": False,
            "date_header": False,
        }
        try:
            if workers == 1:
                uvicorn.run(service.app, **server)
            else:
                # Every worker builds its own service; this one only proved the settings work.
                store.close()
                os.environ.update(worker_environment(config.root, options["store"], options["index"]))
                uvicorn.run("sitegen.fragments.asgi:create_app", factory=True, workers=workers, **server)
        finally:
            store.close()


def _check_free(host: str, port: int, fix: str) -> None:
    """Say plainly that the address is taken, rather than letting uvicorn log it and exit."""
    import socket

    try:
        with socket.create_server((host, port), reuse_port=False):
            pass
    except (OSError, OverflowError) as exc:
        raise OutputError.at(f"{host}:{port}", f"cannot be listened on: {getattr(exc, 'strerror', None) or exc}", fix) from None


@fragments.command("load")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--allow-empty", is_flag=True, help="Load a list of no users even when that empties a store that holds data.")
@click.pass_obj
def fragments_load(options: dict[str, Any], file: Path | None, allow_empty: bool) -> None:
    """Replace the follows and attendance in the store with FILE (JSON), or,
    without FILE, with the users, follows and attendance collections of the
    site's source (the API extension)."""
    from sitegen.fragments import fetch_personal_data, open_store
    from sitegen.fragments.store import counts, describe, read_personal_file

    console, reporter = _console(options)
    with _user_errors(console, interrupted="interrupted; the store is unchanged"):
        config = _fragments_config(options)
        data = read_personal_file(file) if file else fetch_personal_data(config)
        store = open_store(config.fragments.store, config.root)
        try:
            if not data.users and not allow_empty and store.holds_data():
                raise FragmentError.at(
                    str(file) if file else "the source's users collection",
                    f"lists no users; loading it would empty {describe(store)}, which holds data",
                    "check the file, or pass --allow-empty to empty the store on purpose",
                )
            store.replace(data)
        finally:
            store.close()
    if reporter.verbosity >= 1:
        summary = ", ".join(f"{n} {k}" for k, n in counts(data).items())
        console.print(f"loaded {summary} into {describe(store)}", markup=False)


@fragments.command("sign-out-everywhere")
@click.option("--user", "user_id", required=True, help="The user's id.")
@click.pass_obj
def fragments_sign_out(options: dict[str, Any], user_id: str) -> None:
    """Invalidate every cookie minted so far for one user."""
    from sitegen.fragments import open_store
    from sitegen.fragments.identity import user_id_problem

    console, reporter = _console(options)
    with _user_errors(console, interrupted="interrupted"):
        if wrong := user_id_problem(user_id, "--user"):
            raise ConfigError("", [wrong])
        config = _fragments_config(options)
        store = open_store(config.fragments.store, config.root)
        try:
            generation = store.sign_out_everywhere(user_id)
        finally:
            store.close()
    if reporter.verbosity >= 1:
        console.print(f"{user_id}: signed out everywhere (generation {generation})", markup=False)


@fragments.command("vcl")
@click.option("--origin", default="127.0.0.1:8081", show_default=True, help="The static origin serving the build, HOST:PORT.")
@click.option("--fragments", "fragment_address", default=None, help="The fragment service, HOST:PORT (default: [fragments] host and port).")
@click.option(
    "--fragment-timeout", type=float, default=1.0, show_default=True, help="Seconds before a fragment is given up and its hole left empty."
)
@click.pass_obj
def fragments_vcl(options: dict[str, Any], origin: str, fragment_address: str | None, fragment_timeout: float) -> None:
    """Print the Varnish VCL for this site."""
    from sitegen.fragments.edge import edge_vcl

    console, _ = _console(options)
    with _user_errors(console, interrupted="interrupted"):
        config = _fragments_config(options)
        address = fragment_address or f"{config.fragments.host}:{config.fragments.port}"
        click.echo(edge_vcl(config, origin=origin, fragments=address, fragment_timeout=fragment_timeout), nl=False)


@main.command()
@common_options
@click.option("--user", "user_id", required=True, help="The user's id (a person id of the archive, or any id).")
@click.option("--name", help="Display name shown as 'Signed in as' (default: the store's name, else the id).")
@click.option("--store", help="Personal data: an SQLite file or a redis:// URL. [fragments] store")
@click.option("--set-cookie", "as_header", is_flag=True, help="Print a whole Set-Cookie header value, flags included.")
def cookie(**options: Any) -> None:
    """Mint a signed identity cookie, for testing (keys from [fragments] keys_env)."""
    from sitegen.fragments import make_codec, open_store
    from sitegen.fragments.identity import User, cookie_header

    console, _ = _console(options)
    with _user_errors(console, interrupted="interrupted"):
        config = load_config(options["root"], {"fragments.store": options["store"]})
        store = open_store(config.fragments.store, config.root)
        try:
            generation = store.generation(options["user_id"])
            name = options["name"] or store.names([options["user_id"]]).get(options["user_id"], options["user_id"])
        finally:
            store.close()
        value = make_codec(config).mint(User(options["user_id"], name, generation))
    settings = config.fragments
    if options["as_header"]:
        click.echo(cookie_header(settings.cookie_name, value, settings.max_age_days * 86400))
    else:
        click.echo(f"{settings.cookie_name}={value}")
