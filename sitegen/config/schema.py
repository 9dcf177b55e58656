"""The typed config objects: one frozen dataclass per table of ``sitegen.toml``
(``[site]``, ``[source]``, ``[build]``, ``[publish]``, ``[fragments]``), each
field with its default, and ``Config``, which holds them all with the site root."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sitegen.config.themes import resolve_theme_chain


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


@dataclass(frozen=True)
class SourceConfig:
    """Where the event data comes from and how hard to try."""

    #: Where the data is: its format says which forms it reads and checks them (``sitegen.fetch.registry``):
    #: a folder in the local form of the API contract (relative to the site root), the API's http(s) URL, or
    #: another format's ``pretalx+…`` or ``frab+…`` / ``frab:…``.
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
    def theme_chain(self) -> tuple[Path, ...]:
        """The theme folders to search, most specific first (checked by ``load_config``)."""
        return resolve_theme_chain(self.root, self.build.theme)
