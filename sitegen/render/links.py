"""Internal links of a rendered site, checked against its own files.

Used by ``sitegen check``: every ``href`` and ``src`` that points inside the
site must name a file of the build (a folder URL names its ``index.html``).
The themes' templates always quote attributes with double quotes (Jinja's
autoescape), so a regular expression finds them far faster than a parser.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from posixpath import normpath
from urllib.parse import unquote, urlsplit

from sitegen.errors import Problem

LINK_RE = re.compile(rb'\s(?:href|src)="([^"]*)"')


def broken_links(files: Mapping[str, bytes], base_path: str, served_elsewhere: Sequence[str] = ()) -> list[Problem]:
    """One problem per page and link that resolves to no file; ``base_path`` is
    the path of the site's base URL ("/" or "/archive/"). Links below one of
    ``served_elsewhere`` (the fragment service, the site's login app) are not
    the build's to check."""
    problems = []
    for page, data in files.items():
        if not page.endswith(".html"):
            continue
        folder = page.rsplit("/", 1)[0] + "/" if "/" in page else ""
        for raw in dict.fromkeys(LINK_RE.findall(data)):  # each link once per page
            link = raw.decode("utf-8", "replace").replace("&amp;", "&")
            if urlsplit(link).path.startswith(tuple(served_elsewhere)) and not urlsplit(link).netloc:
                continue
            target = _target(link, folder, base_path)
            if target is not None and not _exists(files, target):
                problems.append(Problem(page, f"links to {link}, which is not part of the site", "fix the template or the link"))
    return problems


def _target(link: str, folder: str, base_path: str) -> str | None:
    """The output path a link names; None for links that leave the site or stay on the page."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = unquote(parts.path)
    if path.startswith("/"):
        if not path.startswith(base_path):
            return path  # outside the site's base path: cannot exist in the build
        path = path[len(base_path) :]
    else:
        path = folder + path
    resolved = normpath(path) if path else ""
    if resolved in (".", ""):
        return ""
    return resolved + "/" if path.endswith("/") else resolved


def _exists(files: Mapping[str, bytes], target: str) -> bool:
    if target == "" or target.endswith("/"):
        return f"{target}index.html" in files
    return target in files or f"{target}/index.html" in files
