"""The Source protocol: one registry of formats that fetch dispatches through, each format's own
check of ``[source] url`` (one message naming the format and the fix), and pretalx read through
the shared ETag cache, so an unchanged event costs only 304s and re-renders nothing."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import TODAY
from test_pretalx import EVENT, SCHEDULES, submission

from sitegen.build import build_site
from sitegen.config import load_config
from sitegen.errors import ConfigError
from sitegen.fetch import FORMATS, find_source, source_problems
from sitegen.fetch.formats.api import API
from sitegen.fetch.formats.folder import FOLDER
from sitegen.fetch.formats.frab import FRAB, SCHEDULE2
from sitegen.fetch.formats.pretalx import PRETALX
from sitegen.fetch.formats.pyvideo import PYVIDEO


def test_the_registry_is_a_tuple_and_each_url_form_finds_its_format():
    assert isinstance(FORMATS, tuple)
    assert find_source("pretalx+https://cfp.example.org/api/events/x/") is PRETALX
    assert find_source("frab+https://example.org/schedule.json") is FRAB
    assert find_source("frab:schedules/") is FRAB
    assert find_source("schedule2+https://example.org/schedule.json") is SCHEDULE2
    assert find_source("schedule2:schedules/") is SCHEDULE2
    assert find_source("pyvideo:data") is PYVIDEO
    assert find_source("https://api.example.org/v1/") is API
    assert find_source("HTTP://api.example.org/") is API
    assert find_source("content/data") is FOLDER
    assert find_source("C:/data") is FOLDER  # a Windows drive is a folder
    assert find_source("ftp://example.org/") is None
    assert find_source("pyvideo2:data") is None  # a prefix is the whole scheme


@pytest.mark.parametrize(
    ("url", "what", "fix"),
    [
        (
            "ftp://example.org/data",
            "url = 'ftp://example.org/data' is not a form of source sitegen reads",
            "pretalx+https://HOST/api/events/SLUG/",
        ),
        ("pretalx:democon", "url = 'pretalx:democon' is not a pretalx API URL", 'use "pretalx+https://HOST/api/events/SLUG/"'),
        ("pretalx+ftp://x/", "url = 'pretalx+ftp://x/' is not a pretalx API URL", 'use "pretalx+https://HOST/api/events/SLUG/"'),
        ("pretalx+https:///api/", "is not a pretalx API URL", "pretalx+https://HOST/"),
        ("frab+ftp://x/schedule.json", "is not an http(s) URL", 'use "frab+https://HOST/…/schedule.json", or "frab:FILE" for files'),
        ("frab+https://a/s.json, ftp://b/s.json", "is not an http(s) URL", "frab+https://HOST/"),
        ("frab:missing.json", "missing.json does not exist under", "name schedule.json files or folders of them"),
        ("frab:", "names no schedule file or folder", "name schedule.json files"),
        ("schedule2+ftp://x/s.json", "is not an http(s) URL", 'use "schedule2+https://HOST/…/schedule.json", or "schedule2:FILE"'),
        ("schedule2:gone/", "gone/ does not exist under", "name schedule.json files or folders of them"),
        ("pyvideo:", "names no folder", 'point [source] url = "pyvideo:PATH" at a checkout of github.com/pyvideo/data'),
        ("pyvideo:gone", "gone is not a folder under", 'point [source] url = "pyvideo:PATH"'),
        ("nope", "url = 'nope' is neither an http(s) URL nor a folder under", "a folder holding <collection>.json files"),
        ("https:///v1/", "is a JSON API URL without a host", "https://HOST/API/"),
    ],
)
def test_every_bad_source_url_is_one_message_naming_the_format_and_the_fix(minimal_site, capsys, url, what, fix):
    with pytest.raises(ConfigError) as caught:
        load_config(minimal_site, {"source.url": url}, source_check=source_problems)
    problems = caught.value.problems
    assert len(problems) == 1, problems
    assert problems[0].where.endswith("[source]") or problems[0].where.endswith("[source] url")
    assert what in problems[0].what and fix in problems[0].fix
    # without the check in load_config, fetch's entry runs it before any work: the same one message
    with pytest.raises(ConfigError) as caught:
        build_site(load_config(minimal_site, {"source.url": url}), today=TODAY)
    assert [problem.what for problem in caught.value.problems] == [problems[0].what]


def test_every_format_says_how_its_urls_look():
    for source in FORMATS:
        assert source.name and source.forms and all(source.forms)


# --- pretalx through the shared ETag cache, against a pretalx-like server -------------


class _PretalxLike(BaseHTTPRequestHandler):
    """pretalx's three reads, each with an ETag, answering If-None-Match with 304."""

    documents: dict[str, Any] = {}
    requests: list[tuple[str, int]] = []

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        document = self.documents.get(path)
        if document is None:
            self._answer(404, b"{}", None)
            return
        body = json.dumps(document).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self._answer(304, b"", etag)
        else:
            self._answer(200, body, etag)

    def _answer(self, status: int, body: bytes, etag: str | None) -> None:
        self.requests.append((self.path, status))
        self.send_response(status)
        if etag:
            self.send_header("ETag", etag)
        if status != 304:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def pretalx_like() -> Iterator[tuple[str, type[_PretalxLike]]]:
    handler = type("Handler", (_PretalxLike,), {"requests": [], "documents": {}})
    base = "/api/events/democon/"
    talks = [submission("ABCDEF", "First talk"), submission("GHIJKL", "Second talk")]
    handler.documents.update(
        {
            base: EVENT,
            base + "schedules/": SCHEDULES,
            base + "submissions/": {"count": 2, "next": None, "previous": None, "results": talks},
        }
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{base}", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_an_unchanged_pretalx_event_costs_three_304s_and_renders_nothing(tmp_path: Path, pretalx_like, monkeypatch):
    url, server = pretalx_like
    monkeypatch.delenv("SITEGEN_API_TOKEN", raising=False)
    root = tmp_path / "site"
    root.mkdir()
    (root / "sitegen.toml").write_text(f'[source]\nurl = "pretalx+{url}"\n', encoding="utf-8")
    first = build_site(load_config(root, source_check=source_problems), today=TODAY)
    assert [status for _, status in server.requests] == [200, 200, 200]
    assert first.files_rendered > 0 and first.api_not_modified == 0
    server.requests.clear()
    second = build_site(load_config(root, source_check=source_problems), today=TODAY)
    assert [status for _, status in server.requests] == [304, 304, 304]
    assert (second.api_requests, second.api_not_modified) == (3, 3)
    assert second.files_rendered == 0
    # a changed talk is read again in full, and shown
    server.documents["/api/events/democon/submissions/"]["results"][0]["title"] = "Renamed"
    server.requests.clear()
    third = build_site(load_config(root, source_check=source_problems), today=TODAY)
    assert sorted(status for _, status in server.requests) == [200, 304, 304]
    assert third.files_rendered > 0
    assert any("Renamed" in page.read_text(encoding="utf-8") for page in (root / "build").rglob("abcdef*/index.html"))


@pytest.mark.parametrize("prefix", ["", "frab:", "schedule2:", "pyvideo:", "pretalx:"])
@pytest.mark.parametrize("name", ["x" * 5000, "data\x00x"], ids=["too long for a file name", "a NUL byte"])
def test_a_url_no_file_can_have_is_one_bounded_message(minimal_site, prefix, name):
    """A name the file system refuses (too long, a NUL byte) is a url no file has: one message,
    the url cut short in it, never an OSError or ValueError from the check."""
    with pytest.raises(ConfigError) as caught:
        load_config(minimal_site, {"source.url": prefix + name}, source_check=source_problems)
    (problem,) = caught.value.problems
    assert len(str(problem)) < 1000 and "..." in problem.what if len(name) > 100 else "\\x00" in problem.what
