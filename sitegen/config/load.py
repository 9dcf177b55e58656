"""Loading ``sitegen.toml``: its tables onto the typed config objects, unknown
tables and keys refused, each value coerced to its field's type, command-line
overrides applied, then every check run, and all problems raised as one ConfigError."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, get_type_hints

from sitegen.bounded import shown_toml
from sitegen.config.files import CONFIG_FILE, read_toml
from sitegen.config.folders import (
    below_root_problems,
    location_problems,
    output_overlap_problems,
    theme_problems,
)
from sitegen.config.overrides import blame_option, section_overrides
from sitegen.config.schema import BuildConfig, Config, FragmentsConfig, PublishConfig, SiteConfig, SourceConfig
from sitegen.config.values import (
    build_count_problems,
    fragments_problems,
    publish_problems,
    site_problems,
    source_retry_problems,
    source_size_problems,
)
from sitegen.errors import ConfigError, Problem

TYPE_NAMES: dict[Any, str] = {
    str: "a string",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    tuple[str, ...]: "a list of strings",
}
#: The largest value of each count: more would exhaust the machine, not speed anything up.
COUNT_LIMITS: dict[str, int] = {"workers": 256, "concurrency": 256, "retries": 100, "page_size": 100_000}
#: ``check(config, where)``: the problems of ``[source] url``, checked by its format. Formats are the
#: fetch stage's (``sitegen.fetch.registry.source_problems``), which config must not import: the
#: commands pass it, so that a bad url is reported with every other problem of the file.
SourceCheck = Callable[[Config, str], list[Problem]]
SECTIONS: dict[str, type] = {
    "site": SiteConfig,
    "source": SourceConfig,
    "build": BuildConfig,
    "publish": PublishConfig,
    "fragments": FragmentsConfig,
}


def load_config(root: Path, overrides: Mapping[str, Any] | None = None, *, source_check: SourceCheck | None = None) -> Config:
    """Read ``root/sitegen.toml`` (absent means all defaults) and apply ``overrides``.

    ``overrides`` maps dotted keys (``"source.url"``) to values; ``None`` values
    are ignored so CLI options that were not given change nothing. ``source_check``
    checks ``[source] url`` by its format; without it the fetch stage does, before any work.
    """
    if not root.is_dir():
        raise ConfigError.at(str(root), "is not a folder", "pass --root the folder that holds sitegen.toml, content/ and themes/")
    path = root / CONFIG_FILE
    data: dict[str, Any] = {}
    if path.exists():
        data = read_toml(path)
    where = str(path)
    problems: list[Problem] = []
    for key in sorted(set(data) - set(SECTIONS)):
        problems.append(Problem(where, f"unknown table [{key}]", f"use one of {', '.join(f'[{s}]' for s in SECTIONS)}"))
    sections: dict[str, Any] = {}
    for name, schema in SECTIONS.items():
        raw = dict(data.get(name, {})) if isinstance(data.get(name, {}), dict) else None
        if raw is None:
            problems.append(Problem(where, f"[{name}] must be a table", f"write it as [{name}] with keys below"))
            raw = {}
        raw.update({key: value for key, value in section_overrides(overrides, name).items() if value is not None})
        sections[name] = _build_section(schema, raw, f"{where} [{name}]", problems)
    config = Config(root=root.resolve(), **sections)
    problems += _check_values(config, where, source_check)
    problems = [blame_option(problem, overrides or {}) for problem in problems]
    if problems:
        raise ConfigError(f"The configuration has {len(problems)} problem(s):", problems)
    return config


def _build_section(schema: type, raw: dict[str, Any], where: str, problems: list[Problem]) -> Any:
    hints = get_type_hints(schema)
    known = {f.name for f in dataclasses.fields(schema)}
    values: dict[str, Any] = {}
    for key in sorted(raw):
        if key not in known:
            problems.append(Problem(where, f"unknown key {key!r}", f"known keys: {', '.join(sorted(known))}"))
            continue
        value, expected = raw[key], hints[key]
        coerced = _coerce(value, expected)
        if coerced is None:
            kind = TYPE_NAMES[expected]
            problems.append(Problem(where, f"{key} = {shown_toml(value)} is not {kind}", f"give {key} {kind}"))
            continue
        if expected is float and not math.isfinite(coerced):
            problems.append(Problem(where, f"{key} = {shown_toml(coerced)} is not a finite number", f"give {key} a number such as 1.5"))
            continue
        if expected is int and coerced > COUNT_LIMITS.get(key, coerced):
            limit = COUNT_LIMITS[key]
            problems.append(Problem(where, f"{key} = {shown_toml(coerced)} is more than {limit:,}", f"use at most {limit:,}"))
            continue
        values[key] = coerced
    return schema(**values)


def _coerce(value: Any, expected: Any) -> Any:
    """Return ``value`` as ``expected``, or None when it is not one (ints widen to float)."""
    if expected == tuple[str, ...]:
        items = tuple(value) if isinstance(value, list | tuple) else None
        return items if items is not None and all(isinstance(item, str) for item in items) else None
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is not bool and isinstance(value, bool):
        return None
    return value if isinstance(value, expected) else None


def _check_values(config: Config, where: str, source_check: SourceCheck | None) -> list[Problem]:
    """Every value check, in the order the problems are reported. The folders are
    resolved only when the source, theme name and cache_dir are sound."""
    problems = [
        *site_problems(config.site, f"{where} [site]"),
        *source_size_problems(config.source, f"{where} [source]"),
        *build_count_problems(config.build, f"{where} [build]"),
        *source_retry_problems(config.source, f"{where} [source]"),
        *(source_check(config, where) if source_check is not None and config.source.url.strip() else []),
    ]
    located = location_problems(config, where)
    if located:
        return problems + located
    return [
        *problems,
        *publish_problems(config.publish, f"{where} [publish]"),
        *fragments_problems(config.fragments, f"{where} [fragments]"),
        *theme_problems(config),
        *below_root_problems(config, f"{where} [build]"),
        *output_overlap_problems(config, f"{where} [build]"),
    ]
