"""The kinds a session's media item may have, and the one guess of a link's
kind for every converter: from a declared type, the file extension, the host,
or a word of its title, in that order; else "other"."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

#: The kinds a session's media item may have.
MEDIA_KINDS = ("video", "slides", "audio", "notes", "code", "other")

#: The c3voc reference types that name a contract kind.
KIND_OF_TYPE = {"slides": "slides", "media": "video"}
KIND_OF_EXTENSION = {
    **dict.fromkeys((".pdf", ".odp", ".ppt", ".pptx", ".key"), "slides"),
    **dict.fromkeys((".mp4", ".webm", ".mkv", ".mov", ".m4v"), "video"),
    **dict.fromkeys((".mp3", ".opus", ".ogg", ".oga", ".m4a", ".flac", ".wav"), "audio"),
    **dict.fromkeys((".txt", ".md"), "notes"),
}
#: Hosts, each also with its subdomains.
KIND_OF_HOST = {
    **dict.fromkeys(("media.ccc.de", "youtube.com", "youtu.be", "vimeo.com"), "video"),
    **dict.fromkeys(("speakerdeck.com", "slideshare.net", "slides.com"), "slides"),
    **dict.fromkeys(("github.com", "gitlab.com", "codeberg.org", "git.sr.ht", "bitbucket.org"), "code"),
}
KIND_OF_WORD = {
    "video": "video",
    "recording": "video",
    "slides": "slides",
    "folien": "slides",
    "audio": "audio",
    "podcast": "audio",
    "notes": "notes",
    "code": "code",
    "source": "code",
}


def media_kind(url: str, title: str | None = None, declared: Any = None) -> str:
    """The contract's kind for a link: from its declared type, its file
    extension, its host, or a word of its title; else "other"."""
    if isinstance(declared, str) and declared in KIND_OF_TYPE:  # a list or object as a type is none
        return KIND_OF_TYPE[declared]
    parts = urlsplit(url)
    if kind := KIND_OF_EXTENSION.get(PurePosixPath(parts.path).suffix.lower()):
        return kind
    host = (parts.hostname or "").removeprefix("www.")
    if kind := next((kind for known, kind in KIND_OF_HOST.items() if host == known or host.endswith("." + known)), None):
        return kind
    words = re.findall(r"[a-z]+", (title or "").casefold())
    return next((KIND_OF_WORD[word] for word in words if word in KIND_OF_WORD), "other")
