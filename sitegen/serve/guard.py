"""What the dev server lets a request reach, decided in one place each.

A page on any web site the editor has open can send requests to
``127.0.0.1:8000``, and by DNS rebinding even read the answers. So:

* ``locate`` maps a request's raw path to a file inside the output folder,
  a redirect to a folder's own URL, or nothing (answered 404, the same for a
  file outside that exists and one that does not);
* ``HostCheck`` answers only requests addressed to the served host and port,
  so a rebinding name (``evil.example`` resolving to 127.0.0.1) gets nothing;
* ``cross_site`` (the fragment service's) keeps other sites from changing
  state: signing in or out, or holding the reload stream open.
"""

from __future__ import annotations

import ipaddress
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes

from sitegen.write import STATE_DIR

#: The longest raw request path served; longer ones are 414.
MAX_URL_PATH = 2048
#: The most path segments served (no page of a build is nested deeper).
MAX_SEGMENTS = 32
#: Names that always mean this machine.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


@dataclass(frozen=True)
class Found:
    """A file to serve: ``key`` is its name as publish uploads it (for the headers), ``file`` its real path."""

    key: str
    file: Path


@dataclass(frozen=True)
class Redirect:
    """A folder asked for without its slash; ``location`` is a path on this site (one leading slash)."""

    location: str


class TooLong(Exception):
    """The request path is longer than ``MAX_URL_PATH``."""


def locate(output_dir: Path, raw_path: bytes) -> Found | Redirect | None:
    """The file below ``output_dir`` that ``raw_path`` (as sent, still
    percent-encoded) names, a redirect to the folder's URL with its slash,
    or None for anything else: a path that is not plain, leaves the folder
    (also by a symlink), or reaches sitegen's own state."""
    if len(raw_path) > MAX_URL_PATH:
        raise TooLong(len(raw_path))
    segments = _segments(raw_path)
    if segments is None:
        return None
    root = os.path.realpath(output_dir)
    names, folder_url = [s for s in segments if s], not segments[-1]
    target = os.path.realpath(os.path.join(root, *names))
    if not _inside(root, target):
        return None
    if os.path.isdir(target):
        if not folder_url:
            return Redirect("/" + "/".join(quote(name, safe="") for name in names) + "/")
        names, target = [*names, "index.html"], os.path.realpath(os.path.join(target, "index.html"))
        if not _inside(root, target):
            return None
    elif folder_url:
        return None  # a file asked for as a folder (/index.html/): S3 website hosting answers 404
    if not os.path.isfile(target):
        return None
    return Found("/".join(names), Path(target))


def _segments(raw_path: bytes) -> list[str] | None:
    """The decoded segments of a plain absolute path (the last is "" for a
    folder's URL), or None: no empty segment (``//``), no ``.``/``..`` after
    decoding, no encoded slash, no backslash, NUL or control character, only
    UTF-8, and no segment naming sitegen's state in any spelling."""
    if not raw_path.startswith(b"/"):
        return None
    raw = raw_path[1:].split(b"/")
    if len(raw) > MAX_SEGMENTS or any(not part for part in raw[:-1]):
        return None
    segments: list[str] = []
    for part in raw:
        try:
            segment = unquote_to_bytes(part).decode("utf-8")
        except UnicodeDecodeError:
            return None
        if segment in (".", "..") or any(c in "/\\" or ord(c) < 0x20 or ord(c) == 0x7F for c in segment):
            return None
        if _is_state(segment):
            return None
        segments.append(segment)
    return segments


def _is_state(segment: str) -> bool:
    """``.sitegen`` and anything starting so, in any case or compatibility form."""
    return unicodedata.normalize("NFKC", segment).casefold().startswith(STATE_DIR)


def _inside(root: str, target: str) -> bool:
    """``target`` (a real path) is ``root`` or below it, and not in sitegen's state."""
    if target != root and not target.startswith(root.rstrip(os.sep) + os.sep):
        return False
    return not any(_is_state(part) for part in Path(target[len(root) :]).parts if part != os.sep)


class HostCheck:
    """The ``Host`` values a request may carry: the served address, and the
    loopback names on the same port when the server listens on loopback."""

    def __init__(self, host: str, port: int) -> None:
        served = f"[{host}]" if ":" in host and not host.startswith("[") else host
        self.url = f"http://{_url_host(served)}:{port}/"
        names = {served.lower()}
        if _is_loopback(host):
            names.update(LOOPBACK_NAMES)
        self.allowed = frozenset(f"{name}:{port}" for name in names) | (frozenset(names) if port == 80 else frozenset())
        self.any_address = _is_wildcard(host)
        self.port = port

    def allows(self, header: str | None) -> bool:
        if header is None:
            return False
        value = header.strip().lower()
        if value in self.allowed:
            return True
        # Bound to every interface: any address of this machine is fine; a name is not (DNS rebinding needs one).
        return self.any_address and _address_host(value, self.port)

    def refusal(self) -> str:
        return f"sitegen serve answers only requests for its own address: open {self.url}\n"


def _url_host(host: str) -> str:
    return "127.0.0.1" if _is_wildcard(host) else host


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback or _is_wildcard(host)
    except ValueError:
        return False


def _is_wildcard(host: str) -> bool:
    return host.strip("[]") in ("0.0.0.0", "::", "")


def _address_host(value: str, port: int) -> bool:
    host, _, rest = value.rpartition(":")
    if rest != str(port):
        return False
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
