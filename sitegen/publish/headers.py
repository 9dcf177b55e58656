"""HTTP headers for every file of a build, from one table.

The asset manifest decides what is immutable (as in WhiteNoise): a file whose
name carries its content hash can be cached for a year, everything else must
be revalidated. Content types come from the table below rather than the
``mimetypes`` module, which reads the machine's /etc/mime.types and so would
make two machines publish different headers.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import PurePosixPath
from typing import Any

IMMUTABLE = "public, max-age=31536000, immutable"
#: The conventional "expires max" (nginx): fixed, so it never changes a header fingerprint.
FAR_FUTURE = datetime(2037, 12, 31, 23, 55, 55, tzinfo=UTC)
FAR_FUTURE_HTTP = "Thu, 31 Dec 2037 23:55:55 GMT"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".ics": "text/calendar; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".svg": "image/svg+xml; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/vnd.microsoft.icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".pdf": "application/pdf",
    ".webmanifest": "application/manifest+json; charset=utf-8",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"
#: Pages and the files that describe them; they go up last, after what they link to.
DOCUMENT_SUFFIXES = frozenset({".html", ".htm", ".atom", ".rss", ".xml", ".ics", ".txt", ".json"})


class Kind(IntEnum):
    """What a file is, in upload order: a page may only go live after what it needs."""

    ASSET = 1  # hashed: immutable
    STATIC = 2  # other files pages may link to (unhashed images, fonts…)
    DOCUMENT = 3  # pages, feeds, sitemap, calendars, robots.txt


@dataclass(frozen=True)
class Headers:
    content_type: str
    cache_control: str
    expires: datetime | None = None
    content_encoding: str | None = None

    def http(self) -> dict[str, str]:
        """As HTTP response headers: the canonical form the fingerprint is taken of."""
        headers = {"Content-Type": self.content_type, "Cache-Control": self.cache_control}
        if self.expires:
            headers["Expires"] = FAR_FUTURE_HTTP if self.expires == FAR_FUTURE else _http_date(self.expires)
        if self.content_encoding:
            headers["Content-Encoding"] = self.content_encoding
        return headers

    def s3(self) -> dict[str, Any]:
        """As boto3 PutObject/CopyObject arguments. All are always given, because
        a metadata copy (REPLACE) drops whatever it does not restate."""
        arguments: dict[str, Any] = {"ContentType": self.content_type, "CacheControl": self.cache_control}
        if self.expires:
            arguments["Expires"] = self.expires
        if self.content_encoding:
            arguments["ContentEncoding"] = self.content_encoding
        return arguments

    def fingerprint(self) -> str:
        canonical = json.dumps(self.http(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class HeaderPolicy:
    """Headers by path: ``hashed`` paths are immutable; ``gzip`` globs are pre-compressed."""

    hashed: Collection[str]
    document_cache_control: str
    gzip: Sequence[str] = ()

    def kind(self, path: str) -> Kind:
        if path in self.hashed:
            return Kind.ASSET
        return Kind.DOCUMENT if PurePosixPath(path).suffix.lower() in DOCUMENT_SUFFIXES else Kind.STATIC

    def compresses(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(PurePosixPath(path).name, pattern) for pattern in self.gzip)

    def headers(self, path: str) -> Headers:
        content_type = CONTENT_TYPES.get(PurePosixPath(path).suffix.lower(), DEFAULT_CONTENT_TYPE)
        encoding = "gzip" if self.compresses(path) else None
        if self.kind(path) is Kind.ASSET:
            return Headers(content_type, IMMUTABLE, FAR_FUTURE, encoding)
        return Headers(content_type, self.document_cache_control, None, encoding)


def _http_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
