"""What a session's media items become on its page: a click-to-play player for
a video URL of a known shape, else a link labelled with its host (or "PDF").

A player is built from the id parsed out of the URL (a YouTube or Vimeo id, a
PeerTube host and video id, a media.ccc.de slug), never from the raw URL, so
hostile data can only ever choose which video of which known provider plays.
A direct video file is the one exception: its URL is the video, and it is
only ever an attribute value (escaped) of a ``<video>`` made on click.

The model already sorts items by the contract's kinds (``MEDIA_KINDS``); this
module only looks at the URL of a ``video`` item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from sitegen.model import Media, Session

_YOUTUBE_HOSTS = frozenset({"youtube.com", "www.youtube.com", "m.youtube.com", "youtube-nocookie.com", "www.youtube-nocookie.com"})
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_YOUTUBE_PATH = re.compile(r"/(?:embed|shorts|live|v)/([A-Za-z0-9_-]{11})/?")
_YOUTUBE_TIME = re.compile(r"(?:(\d{1,3})h)?(?:(\d{1,4})m)?(?:(\d{1,6})s?)?")
_VIMEO_HOSTS = frozenset({"vimeo.com", "www.vimeo.com", "player.vimeo.com"})
_VIMEO_PATH = re.compile(
    r"/(?:video/|channels/[A-Za-z0-9_-]{1,100}/|groups/[A-Za-z0-9_-]{1,100}/videos/)?(\d{1,12})(?:/([0-9a-f]{6,20}))?/?"
)
_PEERTUBE_PATH = re.compile(r"/(?:w|videos/watch|videos/embed)/([0-9a-fA-F-]{36}|[1-9A-HJ-NP-Za-km-z]{10,24})/?")
_CCC_HOSTS = frozenset({"media.ccc.de", "www.media.ccc.de"})
_CCC_PATH = re.compile(r"/v/([A-Za-z0-9][A-Za-z0-9_.-]{0,199})/?")
#: A plain DNS name (what a PeerTube player may be loaded from): no user, no odd characters.
_HOST = re.compile(r"(?=.{1,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
#: Direct video files, by the extension of the URL's path, and their MIME type.
VIDEO_FILES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".ogv": "video/ogg"}
#: At most this long a start time (a day): a bigger number is not a start time.
_MAX_START = 86_400


@dataclass(frozen=True, slots=True)
class Player:
    """A video that plays on the page once asked: ``embed`` is an iframe's
    ``src`` (``mime`` empty) or a file for ``<video>`` (``mime`` its type)."""

    provider: str
    embed: str
    mime: str = ""
    #: The embed without autoplay, for structured data and cards.
    share: str = ""
    #: A still of the video for cards and structured data (never loaded by the page).
    thumbnail: str = ""


@dataclass(frozen=True, slots=True)
class MediaItem:
    """One media item as the page shows it: its player, if any; its link's
    label (the item's title, else ``where``); ``where`` it is (its host, or
    "PDF" for slides in a PDF file)."""

    media: Media
    player: Player | None
    label: str
    where: str


def session_media(session: Session) -> tuple[MediaItem, ...]:
    """The session's media in the data's order, each with its player or label."""
    return tuple(media_item(item) for item in session.media)


def first_video(session: Session) -> Player | None:
    """The player of the session's first playable video, for cards and structured data."""
    for item in session.media:
        if item.kind == "video" and (player := parse_video(item.url)) is not None:
            return player
    return None


def media_item(item: Media) -> MediaItem:
    player = parse_video(item.url) if item.kind == "video" else None
    try:
        is_pdf = item.kind == "slides" and urlsplit(item.url).path.lower().endswith(".pdf")
    except ValueError:
        is_pdf = False
    where = "PDF" if is_pdf else host_of(item.url)
    return MediaItem(item, player, item.title or where or item.url, where)


def host_of(url: str) -> str:
    """The URL's host name without ``www.``, for a link's label ("" if none)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def parse_video(url: str) -> Player | None:
    """The player for a video URL of a known shape, else None."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.username is not None or parts.password is not None:
        return None
    if host in _YOUTUBE_HOSTS or host == "youtu.be":
        return _youtube(host, parts.path, parse_qs(parts.query), parts.fragment)
    if host in _VIMEO_HOSTS:
        return _vimeo(parts.path)
    if host in _CCC_HOSTS:
        match = _CCC_PATH.fullmatch(parts.path)
        if match:
            embed = f"https://media.ccc.de/v/{match[1]}/oembed"
            return Player("media.ccc.de", embed, share=embed)
        return None
    suffix = parts.path[parts.path.rfind(".") :].lower() if "." in parts.path.rsplit("/", 1)[-1] else ""
    if suffix in VIDEO_FILES:
        return Player(host.removeprefix("www.") or "video", url, VIDEO_FILES[suffix], share=url)
    match = _PEERTUBE_PATH.fullmatch(parts.path)
    if match and _HOST.fullmatch(host):
        where = f"{host}:{parts.port}" if parts.port else host
        share = f"https://{where}/videos/embed/{match[1]}"
        return Player(f"PeerTube ({host})", f"{share}?autoplay=1", share=share)
    return None


def _youtube(host: str, path: str, query: dict[str, list[str]], fragment: str) -> Player | None:
    if host == "youtu.be":
        found = path[1:].rstrip("/")
    elif path.rstrip("/") == "/watch":
        found = query.get("v", [""])[0]
    else:
        match = _YOUTUBE_PATH.fullmatch(path)
        found = match[1] if match else ""
    if not _YOUTUBE_ID.fullmatch(found):
        return None
    start = _start_seconds(query.get("t", query.get("start", [""]))[0] or fragment.removeprefix("t="))
    share = f"https://www.youtube-nocookie.com/embed/{found}" + (f"?start={start}" if start else "")
    embed = f"https://www.youtube-nocookie.com/embed/{found}?autoplay=1" + (f"&start={start}" if start else "")
    return Player("YouTube", embed, share=share, thumbnail=f"https://i.ytimg.com/vi/{found}/hqdefault.jpg")


def _vimeo(path: str) -> Player | None:
    match = _VIMEO_PATH.fullmatch(path)
    if not match:
        return None
    unlisted = f"h={match[2]}&" if match[2] else ""
    share = f"https://player.vimeo.com/video/{match[1]}?{unlisted}dnt=1"
    return Player("Vimeo", f"{share}&autoplay=1", share=share)


def _start_seconds(value: str) -> int:
    """``90``, ``90s``, ``1m30s`` or ``1h2m3s`` in seconds; 0 for anything else."""
    match = _YOUTUBE_TIME.fullmatch(value) if value else None
    if not match:
        return 0
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    return total if total <= _MAX_START else 0
