"""The site configuration: ``sitegen.toml``, typed, checked, and loaded once.

The file has a table per concern, ``[site]``, ``[source]``, ``[build]``,
``[publish]`` and ``[fragments]``; every key is optional. Unknown tables and
keys are errors (a typo must not be silently ignored), and every problem in the
file is reported at once. Command-line flags arrive as ``overrides`` and win
over the file.

The resulting ``Config`` is immutable and passed explicitly to each stage.

- ``schema``: the typed config objects, one per table, and ``Config``
- ``load``: ``load_config``: the file onto those objects, unknown keys refused, types coerced
- ``overrides``: command-line values over the file, and blaming the option for a wrong one
- ``values``: checks of each value on its own, table by table
- ``folders``: checks against the site's files and folders (``[source] url`` is its format's to check: ``load_config``'s ``source_check``)
- ``themes``: theme names and the chain of folders a theme stands for
- ``files``: reading a TOML file within bounds
"""

from sitegen.config.files import CONFIG_FILE
from sitegen.config.load import TYPE_NAMES, load_config
from sitegen.config.schema import (
    BuildConfig,
    Config,
    FragmentsConfig,
    PublishConfig,
    SiteConfig,
    SourceConfig,
)
from sitegen.config.themes import BUILTIN_THEME_DIRS, resolve_theme_chain

__all__ = [
    "BUILTIN_THEME_DIRS",
    "CONFIG_FILE",
    "TYPE_NAMES",
    "BuildConfig",
    "Config",
    "FragmentsConfig",
    "PublishConfig",
    "SiteConfig",
    "SourceConfig",
    "load_config",
    "resolve_theme_chain",
]
