"""Reading the two TOML files a site has, ``sitegen.toml`` and a theme's
``theme.toml``: within a size bound, as UTF-8, and any failure as one ConfigError."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from sitegen.bounded import read_file_bounded
from sitegen.errors import ConfigError

CONFIG_FILE = "sitegen.toml"
THEME_FILE = "theme.toml"
#: The largest sitegen.toml or theme.toml read: a handful of keys.
MAX_TOML_BYTES = 1024 * 1024


def read_toml(path: Path) -> dict[str, Any]:
    """The tables of the TOML file at ``path``; raises ConfigError when it is too big, unreadable or not TOML."""
    try:
        return tomllib.loads(
            read_file_bounded(path, MAX_TOML_BYTES, str(path), ConfigError, "keep it short; it must be a regular file").decode("utf-8")
        )
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError.at(str(path), f"is not valid TOML: {exc}", "fix the syntax") from exc
    except OSError as exc:
        raise ConfigError.at(str(path), f"cannot be read: {exc.strerror or exc}", "make it a readable file") from exc
