"""Video and slides on the session page, and pages machines understand (issue 14):
the click-to-play player in Chromium (no request off the site before the
click), the media URL shapes it knows, JSON-LD and OpenGraph/Twitter cards,
and hostile text that must not end the JSON-LD script element."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import MINIMAL_SITE, TODAY, edit_collection
from search_browser import S3LikeOrigin, chromium_page

HOSTILE = 'Engines </script><script>alert("x")</script><!-- & \u2028'
YOUTUBE = "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=1m30s"
VIMEO = "https://vimeo.com/76979871"
#: media URL -> the embed the player loads ("" = no player: a link labelled with its host).
SHAPES = {
    YOUTUBE: "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1&start=90",
    VIMEO: "https://player.vimeo.com/video/76979871?dnt=1&autoplay=1",
    "https://youtu.be/aaaaaaaaaaa?t=42": "https://www.youtube-nocookie.com/embed/aaaaaaaaaaa?autoplay=1&start=42",
    "https://www.youtube.com/embed/bbbbbbbbbbb": "https://www.youtube-nocookie.com/embed/bbbbbbbbbbb?autoplay=1",
    "https://youtube.com/shorts/ccccccccccc": "https://www.youtube-nocookie.com/embed/ccccccccccc?autoplay=1",
    "https://vimeo.com/123456/abcdef1234": "https://player.vimeo.com/video/123456?h=abcdef1234&dnt=1&autoplay=1",
    "https://tube.example.net/w/9c9de5e8VvVcS9ZAAVtV3B": "https://tube.example.net/videos/embed/9c9de5e8VvVcS9ZAAVtV3B?autoplay=1",
    "https://peertube.example.org/videos/watch/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d": (
        "https://peertube.example.org/videos/embed/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d?autoplay=1"
    ),
    "https://media.ccc.de/v/38c3-1234-a-talk": "https://media.ccc.de/v/38c3-1234-a-talk/oembed",
    "https://cdn.example.org/talks/one.webm": "https://cdn.example.org/talks/one.webm",
    # not ids of a known shape: links, never players
    "https://www.youtube.com/watch?v=short": "",
    'https://www.youtube.com/watch?v=dQw4w9WgXcQ"><script>': "",
    "https://vimeo.com/channels/staff/12ab": "",
    "https://evil.example/w/../../etc": "",
    "https://video.example.org/1": "",
}


def sitegen(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true"}
    return subprocess.run([sys.executable, "-m", "sitegen", *args], capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The minimal site: "engines" has a hostile title, a YouTube and a Vimeo
    video, a video elsewhere and PDF slides; "gears" every shape of SHAPES."""
    root = tmp_path_factory.mktemp("player") / "site"
    shutil.copytree(MINIMAL_SITE, root, ignore=shutil.ignore_patterns("build", ".sitegen-cache"))

    def change(sessions: list[dict[str, Any]]) -> None:
        engines, gears = sessions[0], sessions[2]
        engines["title"] = HOSTILE
        engines["media"] = [
            {"kind": "video", "url": YOUTUBE, "title": "Recording"},
            {"kind": "video", "url": VIMEO},
            {"kind": "video", "url": "https://video.example.org/1", "title": "Recording (mirror)"},
            {"kind": "slides", "url": "https://slides.example.org/deck.PDF"},
            {"kind": "slides", "url": "https://speakerdeck.com/ada/engines"},
        ]
        gears["media"] = [{"kind": "video", "url": url} for url in SHAPES]
        day_only = {"id": "x9", "slug": "day-only", "title": "Known by its day", "date": "2024-03-31", "start": None, "end": None}
        sessions.append({**sessions[1], **day_only, "speakers": [], "topics": []})

    edit_collection(root, "sessions", change)
    result = sitegen("build", "--root", str(root), "--today", TODAY.isoformat())
    assert result.returncode == 0, result.stderr
    return root


class Page(HTMLParser):
    """What the tests read from a page: meta tags, script elements' text, players, media links."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.scripts: list[tuple[str, str]] = []
        self.players: list[dict[str, str]] = []
        self.links: list[tuple[str, str]] = []
        self._script: str | None = None
        self._link: str | None = None
        self._text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "meta" and ("property" in found or "name" in found):
            self.meta.setdefault(found.get("property") or found["name"], found.get("content", ""))
        elif tag == "script":
            self._script, self._text = found.get("type", ""), []
        elif tag == "figure" and "data-player" in found:
            self.players.append(found)
        elif tag == "a" and "rel" in found and "player-poster" not in found.get("class", ""):
            self._link, self._text = found["href"], []

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._text)))
            self._script = None
        elif tag == "a" and self._link is not None:
            self.links.append((self._link, "".join(self._text).strip()))
            self._link = None

    def json_ld(self) -> dict[str, Any]:
        (found,) = [json.loads(text) for kind, text in self.scripts if kind == "application/ld+json"]
        return found  # type: ignore[no-any-return]


def page(site: Path, route: str) -> Page:
    return Page((site / "build" / route / "index.html").read_text(encoding="utf-8"))


def test_each_media_url_shape_gets_the_player_of_its_id_or_stays_a_link(site: Path) -> None:
    # The page's own media, not the badges of its related talks further down.
    html = (site / "build/2024/minicon/gears/index.html").read_text(encoding="utf-8")
    gears = Page(html.partition('<section class="related"')[0])
    assert [p["data-embed"] for p in gears.players] == [embed for embed in SHAPES.values() if embed]
    assert {p["data-type"] for p in gears.players} == {"", "video/webm"}
    linked = [href for href, _ in gears.links if href in SHAPES]
    assert linked == [url for url, embed in SHAPES.items() if not embed]


def test_links_are_labelled_with_their_host_or_pdf(site: Path) -> None:
    engines = page(site, "2024/minicon/engines")
    assert ("https://slides.example.org/deck.PDF", "PDF") in engines.links
    assert ("https://speakerdeck.com/ada/engines", "speakerdeck.com") in engines.links
    html = (site / "build/2024/minicon/engines/index.html").read_text(encoding="utf-8")
    assert 'Recording (mirror)</a> <span class="where">(video.example.org)</span>' in html


def test_session_json_ld_has_the_event_fields_and_survives_a_hostile_title(site: Path) -> None:
    engines = page(site, "2024/minicon/engines")
    data = engines.json_ld()
    assert data["@type"] == "Event" and data["name"] == " ".join(HOSTILE.split())
    assert data["startDate"] == "2024-03-30T09:00:00+01:00" and data["endDate"] == "2024-03-30T09:45:00+01:00"
    assert data["location"]["address"]["addressCountry"] == "CH"
    assert data["superEvent"]["url"] == "https://mini.example.org/2024/minicon/"
    assert [p["url"] for p in data["performer"]] == ["https://mini.example.org/people/ada/", "https://mini.example.org/people/zoe/"]
    video = data["recordedIn"]
    assert video["@type"] == "VideoObject" and video["embedUrl"] == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?start=90"
    # the hostile title did not end the element: exactly the page's own scripts, none from the data
    assert [kind for kind, _ in engines.scripts] == ["", "", "application/ld+json"]
    raw = engines.scripts[-1][1]
    assert "<" not in raw and ">" not in raw and "&" not in raw


def test_a_talk_known_only_by_its_day_has_that_day_as_its_json_ld_start_date(site: Path) -> None:
    data = page(site, "2024/minicon/day-only").json_ld()
    assert data["@type"] == "Event" and data["startDate"] == "2024-03-31" and "endDate" not in data


def test_event_and_person_pages_carry_json_ld(site: Path) -> None:
    event = page(site, "2024/minicon").json_ld()
    for key in ("name", "startDate", "endDate", "location", "eventAttendanceMode", "eventStatus", "organizer"):
        assert key in event, key
    assert event["location"]["@type"] == "Place" and event["startDate"] == "2024-03-30"
    person = page(site, "people/ada").json_ld()
    assert person["@type"] == "Person" and person["url"] == "https://mini.example.org/people/ada/"


def test_every_page_has_open_graph_and_twitter_tags(site: Path) -> None:
    pages = sorted((site / "build").rglob("*.html"))
    assert len(pages) > 15
    for path in pages:
        meta = Page(path.read_text(encoding="utf-8")).meta
        for key in ("og:title", "og:description", "og:type", "og:site_name", "twitter:card", "twitter:title"):
            assert meta.get(key), f"{path}: {key}"
    engines = page(site, "2024/minicon/engines").meta
    assert engines["og:type"] == "video.other" and engines["og:video"].startswith("https://www.youtube-nocookie.com/embed/")
    assert page(site, "2024/minicon/late-night").meta["og:type"] == "website"


def test_no_request_leaves_the_site_until_play_is_clicked(site: Path) -> None:
    with S3LikeOrigin(site / "build") as origin, chromium_page() as (browser_page, requests):
        off_site: list[str] = []

        def route(request_route: Any) -> None:
            url = request_route.request.url
            if url.startswith(origin.url):
                request_route.continue_()
            else:  # never reach the provider from a test: record and refuse
                off_site.append(url)
                request_route.abort()

        browser_page.route("**/*", route)
        browser_page.goto(f"{origin.url}/2024/minicon/engines/")
        browser_page.wait_for_load_state("networkidle")
        buttons = browser_page.locator("figure[data-player] button.player-poster")
        assert buttons.count() == 2
        assert off_site == [] and [r for r in requests if r.startswith("pageerror:")] == []
        buttons.first.click()
        frame = browser_page.locator("figure[data-player] iframe")
        frame.wait_for()
        assert urlsplit(frame.get_attribute("src") or "").hostname == "www.youtube-nocookie.com"
        assert browser_page.locator("figure[data-player] button.player-poster").count() == 1  # the Vimeo one waits
    assert off_site and all(urlsplit(url).hostname == "www.youtube-nocookie.com" for url in off_site)


def test_without_javascript_the_placeholder_is_a_plain_link(site: Path) -> None:
    engines = (site / "build/2024/minicon/engines/index.html").read_text(encoding="utf-8")
    assert f'<a class="player-poster" href="{YOUTUBE.replace("&", "&amp;")}" rel="nofollow ugc noopener">' in engines
    assert "<iframe" not in engines and "<video" not in engines
    assert 'src="http' not in engines and "src='http" not in engines  # nothing the page loads is off the site


#: A browser opens evil.org (a backslash is a slash in an http(s) URL); urlsplit sees youtube.com.
BACKSLASHED = "https://evil.org\\@www.youtube.com/watch?v=dQw4w9WgXcQ"


def test_a_url_browsers_read_otherwise_is_left_out_with_a_warning_naming_the_field(minimal_site: Path) -> None:
    long_url = "https://video.example.org/" + "a" * 2000
    kept = "https://slides.example.org/deck.pdf"
    urls = [BACKSLASHED, "https://evil.org\t@www.youtube.com/watch?v=dQw4w9WgXcQ", long_url, kept]
    media = [{"kind": "video" if url != kept else "slides", "url": url} for url in urls]
    edit_collection(minimal_site, "sessions", lambda sessions: sessions[0].update(media=media))
    result = sitegen("build", "--root", str(minimal_site), "--today", TODAY.isoformat())
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    where = "sessions[0] (id 'x1').media"
    assert f"{where}[0].url: 'https://evil.org\\\\@www.youtube.com/watch?v=dQw4w9WgXcQ' contains a backslash" in result.stderr
    assert f"{where}[1].url: 'https://evil.org\\t@www.youtube.com/watch?v=dQw4w9WgXcQ' contains a tab" in result.stderr
    long_warning = next(line for line in result.stderr.splitlines() if f"{where}[2].url" in line)
    assert "is 2,026 characters long, longer than the limit of 2,000" in long_warning and "shorten it" in long_warning
    assert "not an http(s) URL" not in long_warning and len(long_warning) < 500
    html = (minimal_site / "build/2024/minicon/engines/index.html").read_text(encoding="utf-8")
    assert "evil.org" not in html and "youtube" not in html and long_url not in html
    assert (kept, "PDF") in Page(html).links
