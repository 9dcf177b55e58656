"""``sitegen fragments``: run the fragment service that fills the personal
holes, and its subcommands ``load`` (follows and attendance into the store),
``sign-out-everywhere`` and ``vcl`` (the Varnish config for the edge).

The fragment service (starlette, uvicorn) is imported only when a command runs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from sitegen.cli.console import check_free, console_for, user_errors
from sitegen.cli.options import common_options
from sitegen.config import Config, load_config
from sitegen.errors import ConfigError, FragmentError


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


@click.group(invoke_without_command=True)
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

    console, reporter = console_for(options)
    with user_errors(console, interrupted="stopped"):
        config = _fragments_config(options)
        store = open_store(config.fragments.store, config.root)
        service = make_service(config, store=store, codec=make_codec(config), index_path=options["index"])
        check_free(config.fragments.host, config.fragments.port, "stop what is using it, or pass --port / set [fragments] port")
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

    console, reporter = console_for(options)
    with user_errors(console, interrupted="interrupted; the store is unchanged"):
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

    console, reporter = console_for(options)
    with user_errors(console, interrupted="interrupted"):
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

    console, _ = console_for(options)
    with user_errors(console, interrupted="interrupted"):
        config = _fragments_config(options)
        address = fragment_address or f"{config.fragments.host}:{config.fragments.port}"
        click.echo(edge_vcl(config, origin=origin, fragments=address, fragment_timeout=fragment_timeout), nl=False)
