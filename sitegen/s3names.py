"""The S3 names a user gives publish, checked before any request: the bucket
(S3's bucket-naming rules) and the key prefix (a plain relative folder path).

Each check returns what is wrong (a short phrase) or None; the caller names
the setting and echoes the value with ``sitegen.bounded.shown``.
"""

from __future__ import annotations

import re
import unicodedata

#: S3's general purpose bucket names: 3-63 lower-case letters, digits, dots and hyphens.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
#: The longest prefix, in UTF-8 bytes (S3 keys are at most 1,024; the site's own names need the rest).
MAX_PREFIX_BYTES = 256
#: sitegen's own state in the bucket (the deploy manifest) lives under this name.
_STATE = ".sitegen"


def bucket_problem(bucket: str) -> str | None:
    """The rule ``bucket`` breaks if it is not a valid S3 bucket name, or None."""
    if not _BUCKET.fullmatch(bucket):
        return "use 3-63 of a-z, 0-9, '.' and '-', starting and ending with a letter or digit"
    if ".." in bucket or _IP_ADDRESS.fullmatch(bucket):
        return "no two dots in a row, and not an IP address"
    if bucket.startswith(_RESERVED_PREFIXES) or bucket.endswith(_RESERVED_SUFFIXES):
        return "avoid the prefixes and suffixes S3 reserves (xn--, sthree-, -s3alias…)"
    return None


def prefix_problem(prefix: str) -> str | None:
    """Why ``prefix`` is not a plain relative folder path ending in '/', or None ("" is no prefix)."""
    if not prefix:
        return None
    if any(_unsafe(char) for char in prefix):
        return "contains a control, invisible or non-UTF-8 character"
    if len(prefix.encode("utf-8")) > MAX_PREFIX_BYTES:
        return f"is longer than {MAX_PREFIX_BYTES} bytes"
    if prefix.startswith("/") or not prefix.endswith("/"):
        return "must not start with '/' and must end with '/'"
    segments = prefix[:-1].split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        return "must be a plain folder path: no empty, '.' or '..' parts"
    if any(unicodedata.normalize("NFKC", segment).casefold().startswith(_STATE) for segment in segments):
        return f"must not have a part starting with {_STATE} (sitegen's own state in the bucket)"
    return None


def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp")
