"""The Varnish VCL for a site, filled in from its config (``sitegen fragments vcl``)."""

from __future__ import annotations

import re
from importlib.resources import files
from string import Template
from urllib.parse import urlsplit

from sitegen.bounded import shown
from sitegen.config import Config
from sitegen.errors import ConfigError


def parse_address(value: str, option: str) -> tuple[str, int]:
    """``127.0.0.1:8081`` -> ("127.0.0.1", 8081), or an error naming the option."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536 or '"' in host:
        raise ConfigError.at(option, f"{shown(value)} is not HOST:PORT", "write it like 127.0.0.1:8081")
    return host, int(port)


def edge_vcl(config: Config, *, origin: str, fragments: str, fragment_timeout: float = 1.0) -> str:
    """The VCL, with backends for the static origin and the fragment service."""
    origin_host, origin_port = parse_address(origin, "--origin")
    fragments_host, fragments_port = parse_address(fragments, "--fragments")
    if not 0 < fragment_timeout <= 60:
        raise ConfigError.at("--fragment-timeout", f"{shown(fragment_timeout)} is out of range", "give seconds between 0 and 60, e.g. 0.5")
    static_path = urlsplit(config.site.static_url).path or "/static/"
    template = Template(files("sitegen.fragments").joinpath("edge.vcl").read_text(encoding="utf-8"))
    return template.substitute(
        origin_host=origin_host,
        origin_port=origin_port,
        fragments_host=fragments_host,
        fragments_port=fragments_port,
        fragment_timeout=f"{fragment_timeout:g}",
        fragment_prefix_regex=re.escape(config.fragments.url_prefix),
        static_prefix_regex=re.escape(static_path),
    )
