"""The site configuration: ``sitegen.toml``, typed, checked, and loaded once.

The file has three tables, ``[site]``, ``[source]`` and ``[build]``; every key is
optional. Unknown tables and keys are errors (a typo must not be silently
ignored), and every problem in the file is reported at once. Command-line
flags arrive as ``overrides`` and win over the file.

The resulting ``Config`` is immutable and passed explicitly to each stage.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit

from sitegen.bounded import read_file_bounded, shown, shown_toml
from sitegen.errors import ConfigError, Problem
from sitegen.s3names import bucket_problem, prefix_problem

CONFIG_FILE = "sitegen.toml"
THEME_FILE = "theme.toml"
#: The largest sitegen.toml or theme.toml read: a handful of keys.
MAX_TOML_BYTES = 1024 * 1024
#: Themes shipped with sitegen: inside the installed wheel, or beside the package in a checkout.
BUILTIN_THEME_DIRS = (Path(__file__).parent / "_themes", Path(__file__).parent.parent / "themes")


@dataclass(frozen=True)
class SiteConfig:
    """What the site says about itself."""

    title: str = "Conference archive"
    description: str = "Conferences, talks and speakers."
    #: Absolute URL the site is served from; canonical links, the feed and the sitemap use it.
    base_url: str = "http://localhost:8000/"
    #: Where hashed assets are served from: a path on the site or a CDN URL.
    static_url: str = "/static/"
    language: str = "en"


#: Schedule formats read besides the API contract (``sitegen.sources``).
OTHER_FORMATS = ("pretalx", "frab")


@dataclass(frozen=True)
class SourceConfig:
    """Where the event data comes from and how hard to try."""

    #: A folder in the local form of the API contract (relative to the site root), or an http(s) URL.
    url: str = "content/data"
    #: Name of the environment variable holding a bearer token for private APIs.
    token_env: str = "SITEGEN_API_TOKEN"
    page_size: int = 500
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    #: Budget for the whole fetch, retries and waits included.
    total_timeout: float = 600.0
    retries: int = 4
    #: First retry delay in seconds; doubled on each further retry.
    backoff: float = 0.5
    #: The longest ``Retry-After`` sitegen will honour; a longer one fails the fetch.
    max_retry_after: float = 120.0
    max_response_bytes: int = 64 * 1024 * 1024

    @property
    def kind(self) -> str:
        """ "api" (the contract over HTTP), "folder" (its local form), or another
        format: "pretalx" (``pretalx+https://HOST/api/events/SLUG/``) or "frab"
        (``frab+https://…/schedule.json``, or ``frab:FILE`` / ``frab:FOLDER``)."""
        for kind in OTHER_FORMATS:
            if self.url.startswith((f"{kind}+", f"{kind}:")):
                return kind
        return "api" if urlsplit(self.url).scheme in ("http", "https") else "folder"

    @property
    def location(self) -> str:
        """The URL or path without the format's prefix."""
        kind = self.kind
        return self.url[len(kind) + 1 :] if kind in OTHER_FORMATS else self.url

    @property
    def is_http(self) -> bool:
        """Whether the source is read over HTTP (the contract's API, or another format's URL)."""
        return urlsplit(self.location).scheme in ("http", "https")


@dataclass(frozen=True)
class BuildConfig:
    """How the site is built and where it goes."""

    theme: str = "default"
    output_dir: str = "build"
    content_dir: str = "content"
    #: HTTP cache (ETags) and other state kept between builds.
    cache_dir: str = ".sitegen-cache"
    #: Treat warnings as errors.
    strict: bool = False
    #: Processes that render pages; 0 means one per core.
    workers: int = 0
    #: Items per page of the topic, person, series, year and place lists.
    page_size: int = 100


@dataclass(frozen=True)
class PublishConfig:
    """Where and how ``sitegen publish`` deploys. AWS credentials are never
    configured here: boto3's standard chain supplies them."""

    bucket: str = ""
    #: Key prefix in the bucket ("" or ending in "/").
    prefix: str = ""
    region: str = ""
    #: An S3-compatible endpoint (MinIO, moto, R2…); empty means AWS.
    endpoint_url: str = ""
    #: CloudFront distribution whose changed paths are invalidated; empty means none.
    cloudfront_distribution: str = ""
    #: Pages, feeds, sitemap, calendars and unhashed files. Browsers revalidate
    #: every time (cheap 304s); a CDN may serve a copy for 5 minutes, which is
    #: the most a visitor waits for a deploy when no invalidation is configured.
    html_cache_control: str = "public, max-age=0, s-maxage=300, must-revalidate"
    #: Glob patterns of files to upload gzip-compressed; empty (the default)
    #: leaves compression to the CDN, which can negotiate br and gzip per client.
    gzip: tuple[str, ...] = ()
    #: More deletes than this in one publish skips all of them, loudly.
    max_deletes: int = 256
    #: Old hashed assets stay while any of the last N deploys used them...
    keep_deploys: int = 5
    #: ...and for at least this many days after they were last used.
    asset_grace_days: float = 7.0
    #: More changed paths than this are invalidated as folder wildcards, then "/*".
    invalidation_limit: int = 100
    #: Parallel uploads.
    concurrency: int = 16


@dataclass(frozen=True)
class FragmentsConfig:
    """The personal holes and the service that fills them (``sitegen fragments``).

    Secrets are never configured here: the cookie keys come from the
    environment variable named by ``keys_env``.
    """

    #: The path the edge routes to the fragment service; holes point below it.
    url_prefix: str = "/_frag/"
    #: Personal data: an SQLite file (relative to the site root) or a redis:// URL.
    store: str = ".sitegen-personal.sqlite3"
    #: Environment variable with the cookie keys, oldest first, separated by spaces or commas.
    keys_env: str = "SITEGEN_COOKIE_KEYS"
    cookie_name: str = "__Host-u"
    #: A cookie older than this is read as anonymous.
    max_age_days: float = 14.0
    #: Where the site's own app signs visitors in and out (holes link there).
    signin_url: str = "/login/"
    signout_url: str = "/logout/"
    host: str = "127.0.0.1"
    port: int = 8082
    #: Server processes; each has its own store connection.
    workers: int = 1


@dataclass(frozen=True)
class Config:
    """Everything a build needs to know, resolved against the site root."""

    root: Path
    site: SiteConfig = field(default_factory=SiteConfig)
    source: SourceConfig = field(default_factory=SourceConfig)
    build: BuildConfig = field(default_factory=BuildConfig)
    publish: PublishConfig = field(default_factory=PublishConfig)
    fragments: FragmentsConfig = field(default_factory=FragmentsConfig)

    @property
    def output_dir(self) -> Path:
        return self.root / self.build.output_dir

    @property
    def content_dir(self) -> Path:
        return self.root / self.build.content_dir

    @property
    def cache_dir(self) -> Path:
        return self.root / self.build.cache_dir

    @property
    def source_dir(self) -> Path:
        """The local source folder (meaningful only when the source is not HTTP)."""
        return self.root / self.source.url

    @property
    def theme_chain(self) -> tuple[Path, ...]:
        """The theme folders to search, most specific first (checked by ``load_config``)."""
        return resolve_theme_chain(self.root, self.build.theme)


#: A theme is a plain folder name: no path separators, no ``..``, no control characters.
_THEME_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+ -]{0,99}")


def theme_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a theme folder, or None when it can."""
    if _THEME_NAME.fullmatch(name) and ".." not in name:
        return None
    return f"theme = {shown(name)} is not a plain folder name (letters, digits, '_', '-', '.'; no '/' or '..')"


def resolve_theme_chain(root: Path, name: str) -> tuple[Path, ...]:
    """Folders for theme ``name``: the site's own ``themes/<name>`` overrides the
    built-in one of that name, and a ``theme.toml`` with ``extends = "<parent>"``
    appends the parent's chain. Raises ConfigError for unknown themes and cycles."""
    chain: list[Path] = []
    seen: list[str] = []
    current: str | None = name
    while current is not None:
        if current in seen:
            raise ConfigError.at(
                f"theme {current!r}", f"extends itself through {' -> '.join([*seen, current])}", "break the cycle in theme.toml"
            )
        seen.append(current)
        if theme_name_problem(current):
            raise ConfigError.at(f"theme {shown(current)}", "is not a plain folder name", "name a folder under themes/")
        candidates = [root / "themes" / current, *(d / current for d in BUILTIN_THEME_DIRS)]
        found = [c.resolve() for c in candidates if c.is_dir()]
        if not found:
            raise ConfigError.at(
                f"theme {current!r}",
                f"no folder themes/{current} in {root} or among the built-in themes",
                "create it or set [build] theme to an existing theme such as 'default'",
            )
        for folder in found:
            if folder not in chain:
                chain.append(folder)
        current = _theme_parent(found[0])
    return tuple(chain)


def _theme_parent(folder: Path) -> str | None:
    meta_path = folder / THEME_FILE
    if not meta_path.exists():
        return None
    meta = _read_toml(meta_path)
    unknown = sorted(set(meta) - {"extends", "name", "description"})
    if unknown:
        raise ConfigError.at(str(meta_path), f"unknown key(s) {', '.join(unknown)}", "known keys: extends, name, description")
    parent = meta.get("extends")
    if parent is not None and not isinstance(parent, str):
        raise ConfigError.at(str(meta_path), "extends must be a theme name", 'write extends = "default"')
    return parent


TYPE_NAMES: dict[Any, str] = {
    str: "a string",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    tuple[str, ...]: "a list of strings",
}
#: The largest value of each count: more would exhaust the machine, not speed anything up.
COUNT_LIMITS: dict[str, int] = {"workers": 256, "concurrency": 256, "retries": 100, "page_size": 100_000}
SECTIONS: dict[str, type] = {
    "site": SiteConfig,
    "source": SourceConfig,
    "build": BuildConfig,
    "publish": PublishConfig,
    "fragments": FragmentsConfig,
}


def load_config(root: Path, overrides: Mapping[str, Any] | None = None) -> Config:
    """Read ``root/sitegen.toml`` (absent means all defaults) and apply ``overrides``.

    ``overrides`` maps dotted keys (``"source.url"``) to values; ``None`` values
    are ignored so CLI options that were not given change nothing.
    """
    if not root.is_dir():
        raise ConfigError.at(str(root), "is not a folder", "pass --root the folder that holds sitegen.toml, content/ and themes/")
    path = root / CONFIG_FILE
    data: dict[str, Any] = {}
    if path.exists():
        data = _read_toml(path)
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
        raw.update({key: value for key, value in _section_overrides(overrides, name).items() if value is not None})
        sections[name] = _build_section(schema, raw, f"{where} [{name}]", problems)
    config = Config(root=root.resolve(), **sections)
    problems += _check_values(config, where)
    problems = [_blame_option(problem, overrides or {}) for problem in problems]
    if problems:
        raise ConfigError(f"The configuration has {len(problems)} problem(s):", problems)
    return config


def _section_overrides(overrides: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
    return {dotted.partition(".")[2]: value for dotted, value in (overrides or {}).items() if dotted.partition(".")[0] == name}


def _blame_option(problem: Problem, overrides: Mapping[str, Any]) -> Problem:
    """A problem with a value given on the command line names the option, not sitegen.toml."""
    for dotted, value in overrides.items():
        section, _, key = dotted.partition(".")
        if value is not None and problem.where.endswith(f"[{section}]") and problem.what.startswith(f"{key} = "):
            return Problem(f"the command-line option for [{section}] {key}", problem.what, problem.fix)
    return problem


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(read_file_bounded(path, MAX_TOML_BYTES, str(path), ConfigError, "keep it short").decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError.at(str(path), f"is not valid TOML: {exc}", "fix the syntax") from exc
    except OSError as exc:
        raise ConfigError.at(str(path), f"cannot be read: {exc.strerror or exc}", "make it a readable file") from exc


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


def _check_values(config: Config, where: str) -> list[Problem]:
    problems: list[Problem] = []
    base = urlsplit(config.site.base_url)
    if base.scheme not in ("http", "https") or not base.netloc or not config.site.base_url.endswith("/"):
        problems.append(
            Problem(
                f"{where} [site]",
                f"base_url = {config.site.base_url!r} is not an absolute http(s) URL ending in '/'",
                'write it like "https://archive.example.org/"',
            )
        )
    static = urlsplit(config.site.static_url)
    static_ok = config.site.static_url.endswith("/") and (
        (static.scheme in ("http", "https") and static.netloc) or (not static.scheme and config.site.static_url.startswith("/"))
    )
    if not static_ok:
        problems.append(
            Problem(
                f"{where} [site]",
                f"static_url = {config.site.static_url!r} must be a path starting and ending with '/' or an http(s) URL ending in '/'",
                'write it like "/static/" or "https://cdn.example.org/static/"',
            )
        )
    positive = {
        "page_size": config.source.page_size,
        "connect_timeout": config.source.connect_timeout,
        "read_timeout": config.source.read_timeout,
        "total_timeout": config.source.total_timeout,
        "max_response_bytes": config.source.max_response_bytes,
    }
    for key, value in positive.items():
        if value <= 0:
            problems.append(Problem(f"{where} [source]", f"{key} = {shown_toml(value)} must be greater than 0", "use a positive number"))
    if config.build.workers < 0:
        problems.append(
            Problem(f"{where} [build]", f"workers = {config.build.workers} must not be negative", "use 0 for one per core, or a count")
        )
    if config.build.page_size < 1:
        problems.append(
            Problem(
                f"{where} [build]",
                f"page_size = {config.build.page_size} must be at least 1",
                "use the number of items per list page, such as 100",
            )
        )
    for key in ("retries", "backoff", "max_retry_after"):
        if getattr(config.source, key) < 0:
            problems.append(Problem(f"{where} [source]", f"{key} must not be negative", "use 0 or more"))
    problems += _check_source_format(config, f"{where} [source]")
    located = _check_locations(config, where)
    problems += located
    if located:
        return problems
    if config.source.kind == "folder" and not config.source_dir.is_dir():
        problems.append(
            Problem(
                f"{where} [source]",
                f"url = {config.source.url!r} is neither an http(s) URL nor a folder under {config.root}",
                "point it at the API's base URL or at a folder holding <collection>.json files",
            )
        )
    problems += _check_publish(config.publish, f"{where} [publish]")
    problems += _check_fragments(config.fragments, f"{where} [fragments]")
    try:
        resolve_theme_chain(config.root, config.build.theme)
    except ConfigError as exc:
        problems += exc.problems
    for key in ("output_dir", "content_dir", "cache_dir"):
        value = getattr(config.build, key)
        resolved = (config.root / value).resolve()
        if resolved == config.root or config.root.is_relative_to(resolved):
            problems.append(
                Problem(
                    f"{where} [build]", f"{key} = {value!r} would be the site root itself or above it", "name a sub-folder such as 'build'"
                )
            )
    problems += _check_output_overlap(config, where)
    return problems


def _check_locations(config: Config, where: str) -> list[Problem]:
    """An empty source, a theme that is not a folder name, a cache_dir that is a file:
    checked before the folders are resolved, so each is its one message."""
    problems: list[Problem] = []
    if not config.source.url.strip():
        problems.append(Problem(f"{where} [source]", "url = '': the source is empty", "set it to the API's base URL or a data folder"))
    theme_problem = theme_name_problem(config.build.theme)
    if theme_problem:
        problems.append(Problem(f"{where} [build]", theme_problem, 'name a folder under themes/, such as "default"'))
    if config.cache_dir.exists() and not config.cache_dir.is_dir():
        problems.append(
            Problem(
                f"{where} [build]",
                f"cache_dir = {shown(config.build.cache_dir)} is a file, not a folder",
                "name a folder (created when missing), such as '.sitegen-cache'",
            )
        )
    return problems


def _check_source_format(config: Config, where: str) -> list[Problem]:
    """A pretalx source is an http(s) URL; a frab one an http(s) URL (``frab+``) or files (``frab:``)."""
    source = config.source
    if source.kind == "pretalx" and not (source.url.startswith("pretalx+") and source.is_http):
        return [Problem(where, f"url = {source.url!r} is not a pretalx API URL", 'use "pretalx+https://HOST/api/events/SLUG/"')]
    if source.kind == "frab":
        if source.url.startswith("frab+") and not source.is_http:
            return [
                Problem(
                    where,
                    f"url = {source.url!r} is not an http(s) URL",
                    'use "frab+https://HOST/…/schedule.json", or "frab:FILE" for files',
                )
            ]
        if source.url.startswith("frab:"):
            missing = [path for path in source.location.split(",") if not (config.root / path.strip()).exists()]
            if missing:
                return [
                    Problem(
                        where,
                        f"url = {source.url!r}: {', '.join(missing)} does not exist under {config.root}",
                        "name schedule.json files or folders of them, separated by commas",
                    )
                ]
    return []


def _check_publish(publish: PublishConfig, where: str) -> list[Problem]:
    problems = []
    if wrong := prefix_problem(publish.prefix):
        problems.append(Problem(where, f"prefix = {shown(publish.prefix)} {wrong}", 'write it like "site/" or "2024/site/"'))
    if publish.bucket and (wrong := bucket_problem(publish.bucket)):
        problems.append(Problem(where, f"bucket = {shown(publish.bucket)} is not a valid S3 bucket name", wrong))
    if publish.endpoint_url and urlsplit(publish.endpoint_url).scheme not in ("http", "https"):
        problems.append(
            Problem(
                where,
                f"endpoint_url = {publish.endpoint_url!r} is not an http(s) URL",
                "give the S3 endpoint's URL, or leave it empty for AWS",
            )
        )
    for key in ("max_deletes", "keep_deploys", "invalidation_limit", "concurrency"):
        if getattr(publish, key) < (0 if key == "max_deletes" else 1):
            problems.append(Problem(where, f"{key} = {getattr(publish, key)!r} is too small", "use a positive number"))
    if publish.asset_grace_days < 0:
        problems.append(Problem(where, "asset_grace_days must not be negative", "use 0 or more"))
    return problems


def _check_fragments(fragments: FragmentsConfig, where: str) -> list[Problem]:
    problems = []
    if not (fragments.url_prefix.startswith("/") and fragments.url_prefix.endswith("/")) or fragments.url_prefix == "/":
        problems.append(
            Problem(
                where,
                f"url_prefix = {fragments.url_prefix!r} must be a path below the root, starting and ending with '/'",
                'write it like "/_frag/"',
            )
        )
    if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", fragments.cookie_name):
        problems.append(
            Problem(
                where,
                f"cookie_name = {fragments.cookie_name!r} is not a valid cookie name",
                'use letters, digits and - or _, like "__Host-u"',
            )
        )
    if fragments.max_age_days <= 0:
        problems.append(Problem(where, "max_age_days must be greater than 0", "use a number of days such as 14"))
    if fragments.workers < 1:
        problems.append(Problem(where, f"workers = {fragments.workers!r} must be at least 1", "use 1, or one per core"))
    if not 0 < fragments.port < 65536:
        problems.append(Problem(where, f"port = {fragments.port!r} is not a TCP port", "use 1 to 65535"))
    for key in ("signin_url", "signout_url"):
        value = getattr(fragments, key)
        if not (value.startswith("/") or urlsplit(value).scheme in ("http", "https")):
            problems.append(Problem(where, f"{key} = {value!r} is neither a path nor an http(s) URL", 'write it like "/login/"'))
    return problems


def _check_output_overlap(config: Config, where: str) -> list[Problem]:
    """The output folder is emptied of files a build did not make, so it must
    not hold (or sit inside) anything the build reads or keeps."""
    inputs = {
        "content_dir": config.content_dir,
        "cache_dir": config.cache_dir,
        "the themes folder": config.root / "themes",
    }
    if config.source.kind == "folder":
        inputs["[source] url"] = config.source_dir
    output = config.output_dir.resolve()
    return [
        Problem(
            f"{where} [build]",
            f"output_dir = {config.build.output_dir!r} overlaps {name} ({folder}); a build would delete files there",
            "use a folder of its own, such as 'build'",
        )
        for name, folder in inputs.items()
        if output == folder.resolve() or output.is_relative_to(folder.resolve()) or folder.resolve().is_relative_to(output)
    ]
