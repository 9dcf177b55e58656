"""Checks of each config value on its own, table by table: URLs of the right
form, counts and durations in range, names S3 and browsers accept. Nothing here
looks at the disk (``folders.py`` does); every problem is returned, none raised."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sitegen.bounded import shown, shown_toml
from sitegen.errors import Problem
from sitegen.s3names import bucket_problem, prefix_problem

if TYPE_CHECKING:
    from sitegen.config.schema import BuildConfig, FragmentsConfig, PublishConfig, SiteConfig, SourceConfig

_HTTP = ("http", "https")


def site_problems(site: SiteConfig, where: str) -> list[Problem]:
    """``base_url`` is an absolute http(s) URL; ``static_url`` a path or an http(s) URL; both end in '/'."""
    problems: list[Problem] = []
    base = urlsplit(site.base_url)
    if base.scheme not in _HTTP or not base.netloc or not site.base_url.endswith("/"):
        problems.append(
            Problem(
                where,
                f"base_url = {site.base_url!r} is not an absolute http(s) URL ending in '/'",
                'write it like "https://archive.example.org/"',
            )
        )
    static = urlsplit(site.static_url)
    static_ok = site.static_url.endswith("/") and (
        (static.scheme in _HTTP and static.netloc) or (not static.scheme and site.static_url.startswith("/"))
    )
    if not static_ok:
        problems.append(
            Problem(
                where,
                f"static_url = {site.static_url!r} must be a path starting and ending with '/' or an http(s) URL ending in '/'",
                'write it like "/static/" or "https://cdn.example.org/static/"',
            )
        )
    return problems


def source_size_problems(source: SourceConfig, where: str) -> list[Problem]:
    """Page size, timeouts and the response cap are greater than 0."""
    positive = {
        "page_size": source.page_size,
        "connect_timeout": source.connect_timeout,
        "read_timeout": source.read_timeout,
        "total_timeout": source.total_timeout,
        "max_response_bytes": source.max_response_bytes,
    }
    return [
        Problem(where, f"{key} = {shown_toml(value)} must be greater than 0", "use a positive number")
        for key, value in positive.items()
        if value <= 0
    ]


def source_retry_problems(source: SourceConfig, where: str) -> list[Problem]:
    """Retries, backoff and the longest Retry-After are 0 or more."""
    return _negative(source, ("retries", "backoff", "max_retry_after"), where)


def build_count_problems(build: BuildConfig, where: str) -> list[Problem]:
    """Workers are 0 (one per core) or more; a list page holds at least one item."""
    problems: list[Problem] = []
    if build.workers < 0:
        problems.append(Problem(where, f"workers = {build.workers} must not be negative", "use 0 for one per core, or a count"))
    if build.page_size < 1:
        problems.append(
            Problem(where, f"page_size = {build.page_size} must be at least 1", "use the number of items per list page, such as 100")
        )
    return problems


def publish_problems(publish: PublishConfig, where: str) -> list[Problem]:
    """Prefix and bucket as S3 takes them, an http(s) endpoint, and counts in range."""
    problems = []
    if wrong := prefix_problem(publish.prefix):
        problems.append(Problem(where, f"prefix = {shown(publish.prefix)} {wrong}", 'write it like "site/" or "2024/site/"'))
    if publish.bucket and (wrong := bucket_problem(publish.bucket)):
        problems.append(Problem(where, f"bucket = {shown(publish.bucket)} is not a valid S3 bucket name", wrong))
    if publish.endpoint_url and urlsplit(publish.endpoint_url).scheme not in _HTTP:
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
    return problems + _negative(publish, ("asset_grace_days",), where)


def fragments_problems(fragments: FragmentsConfig, where: str) -> list[Problem]:
    """The URL prefix, the cookie name, the cookie's age, the server's address and the sign-in links."""
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
        if not (value.startswith("/") or urlsplit(value).scheme in _HTTP):
            problems.append(Problem(where, f"{key} = {value!r} is neither a path nor an http(s) URL", 'write it like "/login/"'))
    return problems


def _negative(section: object, keys: tuple[str, ...], where: str) -> list[Problem]:
    """The one "must not be negative" rule, for [source]'s retry settings and [publish] asset_grace_days."""
    return [Problem(where, f"{key} must not be negative", "use 0 or more") for key in keys if getattr(section, key) < 0]
