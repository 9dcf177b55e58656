"""``sitegen cookie``: mint a signed identity cookie for one user, for testing
the personal holes by hand (keys from ``[fragments] keys_env``)."""

from __future__ import annotations

from typing import Any

import click

from sitegen.cli.console import console_for, user_errors
from sitegen.cli.options import common_options
from sitegen.config import load_config


@click.command()
@common_options
@click.option("--user", "user_id", required=True, help="The user's id (a person id of the archive, or any id).")
@click.option("--name", help="Display name shown as 'Signed in as' (default: the store's name, else the id).")
@click.option("--store", help="Personal data: an SQLite file or a redis:// URL. [fragments] store")
@click.option("--set-cookie", "as_header", is_flag=True, help="Print a whole Set-Cookie header value, flags included.")
def cookie(**options: Any) -> None:
    """Mint a signed identity cookie, for testing (keys from [fragments] keys_env)."""
    from sitegen.fragments import make_codec, open_store
    from sitegen.fragments.identity import User, cookie_header

    console, _ = console_for(options)
    with user_errors(console, interrupted="interrupted"):
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
