"""sitegen serve: a real server on loopback, real file edits, the reload channel read like a browser does."""

from __future__ import annotations

import json
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from apiserver import ApiServer
from conftest import MINIMAL_SITE, TODAY
from edgeservers import require

import sitegen.serve.run as serve_run
from sitegen.build import BuildReport, Superseded, build_site
from sitegen.search.bundle import decode_file
from sitegen.serve import Rebuilder
from sitegen.serve.run import DevServer

THEMES = Path(__file__).parent.parent / "themes"
#: Generous: CI machines are slow; the latency measured here is in the closing note, not asserted.
WAIT = 15.0


class Events:
    """The server-sent events of /__sitegen/events, read on a thread into a queue."""

    def __init__(self, url: str) -> None:
        self.received: queue.Queue[tuple[str, str]] = queue.Queue()
        self.connected = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(5.0, read=None))
        self._thread = threading.Thread(target=self._read, args=(url,), daemon=True)
        self._thread.start()
        assert self.connected.wait(WAIT), "the event stream did not open"

    def _read(self, url: str) -> None:
        try:
            with self._client.stream("GET", url + "__sitegen/events") as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                self.connected.set()
                event, data = "message", []
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: "):
                        data.append(line[6:])
                    elif line == "" and (data or event != "message"):
                        self.received.put((event, "\n".join(data)))
                        event, data = "message", []
        except httpx.HTTPError:
            pass  # closed by the test

    def next(self, *wanted: str) -> tuple[str, str]:
        while True:
            event = self.received.get(timeout=WAIT)
            if event[0] in wanted:
                return event

    def close(self) -> None:
        self._client.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[DevServer, Path]]:
    site = tmp_path / "site"
    shutil.copytree(MINIMAL_SITE, site)
    child = site / "themes" / "child" / "templates"
    child.mkdir(parents=True)
    (site / "themes" / "child" / "theme.toml").write_text('extends = "default"\n')
    shutil.copy(THEMES / "default" / "templates" / "person.html", child / "person.html")
    config = site / "sitegen.toml"
    config.write_text(config.read_text().replace("[build]\n", '[build]\ntheme = "child"\n'))
    server = DevServer(site, port=0, today=lambda: TODAY, environ={})
    server.start()
    try:
        yield server, site
    finally:
        server.stop()


def test_an_edit_reloads_open_tabs_and_the_served_bytes_change(served: tuple[DevServer, Path]) -> None:
    server, site = served
    page = server.url + "people/ada/"
    before = httpx.get(page)
    assert before.status_code == 200 and b"/__sitegen/client.js" in before.content
    assert before.headers["cache-control"] == "public, max-age=0, s-maxage=300, must-revalidate"  # publish's header
    events = Events(server.url)
    try:
        template = site / "themes" / "child" / "templates" / "person.html"
        template.write_text(template.read_text().replace("{% block content %}", "{% block content %}<p>edited live</p>", 1))
        assert events.next("reload", "build-error")[0] == "reload"
        after = httpx.get(page)
        assert b"edited live" in after.content and after.content != before.content
    finally:
        events.close()


def test_an_edit_reloads_before_the_search_index_which_catches_up_after_without_a_reload(
    served: tuple[DevServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, site = served
    builds: list[tuple[bool, bool, bool]] = []  # (index_later, search_left, search_indexed) of each rebuild

    def recorded(*args: Any, **kwargs: Any) -> BuildReport:
        report = build_site(*args, **kwargs)
        builds.append((kwargs.get("index_later", False), report.search_left, report.search_indexed))
        return report

    monkeypatch.setattr(serve_run, "build_site", recorded)
    events = Events(server.url)
    try:
        path = site / "data" / "sessions.json"
        body = json.loads(path.read_text())
        next(s for s in body["data"] if s["id"] == "x1")["title"] = "Quaternion engines"
        path.write_text(json.dumps(body))
        assert events.next("reload", "build-error")[0] == "reload"
        assert builds[0] == (True, True, False)  # the page first, the last index kept as it was
        assert "Quaternion engines" in httpx.get(server.url + "2024/minicon/engines/").text
        assert _eventually(lambda: len(builds) > 1), "the search index never caught up"
        assert builds[1] == (False, False, True)
        fragments = (site / "build/pagefind/fragment").glob("*.pf_fragment")
        assert any(b"Quaternion engines" in decode_file(p.name, p.read_bytes()) for p in fragments)
        # Only a tab that has read the index reloads for it (client.js): the event says the index changed.
        assert events.next("search-index", "reload", "build-error")[0] == "search-index"
        with pytest.raises(queue.Empty):
            events.received.get(timeout=serve_run.INDEX_AFTER + 1)
    finally:
        events.close()


def test_a_template_error_shows_an_overlay_naming_file_and_line_until_it_is_fixed(served: tuple[DevServer, Path]) -> None:
    server, site = served
    page = server.url + "people/ada/"
    good = httpx.get(page).content
    events = Events(server.url)
    try:
        template = site / "themes" / "child" / "templates" / "person.html"
        source = template.read_text()
        template.write_text(source.replace("{% block content %}", "{% block content %}{% if %}", 1))
        event, data = events.next("build-error", "reload")
        assert event == "build-error" and re.search(r"person\.html:\d+", data)
        broken = httpx.get(page)
        assert broken.status_code == 200 and 'id="sitegen-error-overlay"' in broken.text
        assert re.search(r"person\.html:\d+: template syntax error", broken.text)  # file:line, and what
        assert good.split(b'<script src="/__sitegen/')[0] in broken.content  # the last good page, under the overlay
        template.write_text(source)
        assert events.next("reload", "build-error")[0] == "reload"
        fixed = httpx.get(page)
        assert 'id="sitegen-error-overlay"' not in fixed.text
    finally:
        events.close()


def test_a_css_only_edit_swaps_the_stylesheet_in_place(served: tuple[DevServer, Path]) -> None:
    server, site = served
    static = site / "themes" / "child" / "static" / "css"
    static.mkdir(parents=True)
    css = next((THEMES / "default" / "static" / "css").glob("*.css"))
    events = Events(server.url)
    try:
        (static / css.name).write_text(css.read_text() + "\nbody { outline: 1px solid red; }\n")
        event, data = events.next("css", "reload", "build-error")
        # Adding a file to a theme is a CSS-only edit as well.
        assert event == "css" and css.stem in data
        stylesheet = httpx.get(server.url.rstrip("/") + json.loads(data)[0])
        assert stylesheet.status_code == 200 and "outline" in stylesheet.text
        assert stylesheet.headers["cache-control"] == "public, max-age=31536000, immutable"
    finally:
        events.close()


def test_paths_outside_the_build_and_sitegens_own_files_are_not_served(served: tuple[DevServer, Path]) -> None:
    server, _ = served
    assert httpx.get(server.url + ".sitegen/state.marshal").status_code == 404
    assert httpx.get(server.url + "%2e%2e/sitegen.toml").status_code in (400, 404)
    assert httpx.get(server.url + "people/ada").status_code == 301
    missing = httpx.get(server.url + "no/such/page/")
    assert missing.status_code == 404 and b"/__sitegen/client.js" in missing.content


def test_the_dev_sign_in_fills_the_personal_holes(served: tuple[DevServer, Path]) -> None:
    server, _ = served
    with httpx.Client(base_url=server.url, follow_redirects=False) as client:
        form = client.get("/__sitegen/signin")
        assert form.status_code == 200 and "Ada" in form.text
        signed = client.post("/__sitegen/signin", data={"user": "p1", "name": "Ada", "next": "https://elsewhere.example/"})
        assert signed.status_code == 303 and signed.headers["location"] == "/"  # never off-site
        cookie = signed.headers["set-cookie"].split(";", 1)[0]
        anonymous = client.get("/_frag/userbar")
        personal = client.get("/_frag/userbar", headers={"Cookie": cookie})
        assert anonymous.status_code == personal.status_code == 200
        assert "Ada" in personal.text and "Ada" not in anonymous.text


@pytest.mark.slow
def test_a_page_open_in_chromium_reloads_by_itself_after_an_edit(served: tuple[DevServer, Path], tmp_path: Path) -> None:
    server, site = served
    profile = tmp_path / "chromium-profile"
    browser = subprocess.Popen(
        [
            require("chromium"),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-sync",
            "--disable-background-networking",
            "--disable-component-update",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            server.url + "people/ada/",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Each page load opens the event stream under its own name; a reload is a second name.
        assert _eventually(lambda: len(server.channel.pages) == 1), "the page never opened the reload channel"
        template = site / "themes" / "child" / "templates" / "person.html"
        template.write_text(template.read_text().replace("{% block content %}", "{% block content %}<p>seen in Chromium</p>", 1))
        assert _eventually(lambda: len(server.channel.pages) == 2), "the page did not reload after the edit"
    finally:
        browser.kill()
        browser.wait(timeout=30)


def _eventually(condition: Callable[[], bool], limit: float = 60.0) -> bool:
    """Poll until the condition holds; the limit only stops a broken test, it is no speed claim."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_poll_api_rebuilds_when_the_api_changed_and_stays_quiet_when_it_did_not(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(MINIMAL_SITE, site)
    data = {path.stem: json.loads(path.read_text())["data"] for path in (site / "data").glob("*.json")}
    with ApiServer(data) as api:
        server = DevServer(site, {"source.url": api.url}, port=0, today=lambda: TODAY, poll_api=0.2, environ={})
        server.start()
        events = Events(server.url)
        try:
            polled = api.count()
            assert _eventually(lambda: api.count() > polled + 6), "the API was not polled"
            assert events.received.empty()  # unchanged: no rebuild to tell about
            assert api.count(status=304) > 0  # the polls are conditional requests
            session = dict(data["sessions"][0], title="Polled engines")
            api.upsert("sessions", session)
            assert events.next("reload", "build-error")[0] == "reload"
            assert "Polled engines" in httpx.get(server.url + "2024/minicon/engines/").text
        finally:
            events.close()
            server.stop()


def test_editing_a_local_frab_schedule_reloads_open_tabs(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(Path(__file__).parent / "fixtures" / "frab" / "schedules" / "tinycon26.json", site / "schedule.json")
    (site / "sitegen.toml").write_text(
        '[site]\ntitle = "Frab"\nbase_url = "https://example.org/"\n\n[source]\nurl = "frab:schedule.json"\n'
    )
    server = DevServer(site, port=0, today=lambda: TODAY, environ={})
    server.start()
    events = Events(server.url)
    try:
        schedule = site / "schedule.json"
        data = json.loads(schedule.read_text())
        talk = next(t for day in data["schedule"]["conference"]["days"] for talks in day["rooms"].values() for t in talks if t.get("title"))
        talk["title"] = "Retitled in the schedule"
        schedule.write_text(json.dumps(data))
        assert events.next("reload", "build-error")[0] == "reload"
    finally:
        events.close()
        server.stop()


def test_without_a_good_build_every_page_shows_the_error_and_reloads_when_fixed(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(MINIMAL_SITE, site)
    child = site / "themes" / "child" / "templates"
    child.mkdir(parents=True)
    (site / "themes" / "child" / "theme.toml").write_text('extends = "default"\n')
    source = (THEMES / "default" / "templates" / "base.html").read_text()
    (child / "base.html").write_text(source.replace("<body", "{% if %}<body", 1))
    config = site / "sitegen.toml"
    config.write_text(config.read_text().replace("[build]\n", '[build]\ntheme = "child"\n'))
    server = DevServer(site, port=0, today=lambda: TODAY, environ={})
    server.start()
    events = Events(server.url)
    try:
        broken = httpx.get(server.url + "people/ada/")
        assert broken.status_code == 503 and re.search(r"base\.html:\d+", broken.text) and "/__sitegen/client.js" in broken.text
        assert events.next("build-error", "reload")[0] == "build-error"  # sent to a tab as it connects
        (child / "base.html").write_text(source)
        assert events.next("reload", "build-error")[0] == "reload"
        assert httpx.get(server.url + "people/ada/").status_code == 200
        assert httpx.get(server.url + "_frag/userbar").status_code == 200  # the holes are served from then on
    finally:
        events.close()
        server.stop()


def test_a_build_that_gives_up_for_a_newer_request_is_asked_again_with_it() -> None:
    calls: list[frozenset[str]] = []
    done: list[frozenset[str]] = []
    edit_came = threading.Event()

    def build(changed: frozenset[str]) -> BuildReport:
        calls.append(changed)
        if len(calls) == 1:  # the catch-up: an edit comes while it runs, so it gives up
            assert edit_came.wait(WAIT)
            raise Superseded("a newer request made this build moot; nothing was written")
        return BuildReport(source="data", today="2026-11-22", built_at="2026-11-22T00:00:00+00:00")

    rebuilder = Rebuilder(build, lambda report, error, changed: done.append(changed), settle=0.01)
    rebuilder.start()
    try:
        rebuilder.request([serve_run.INDEX_DUE])
        assert _eventually(lambda: len(calls) == 1)
        rebuilder.request(["content/pages/about.md"])
        assert rebuilder.has_pending()
        edit_came.set()
        assert _eventually(lambda: len(done) == 1)
        both = frozenset({serve_run.INDEX_DUE, "content/pages/about.md"})
        assert calls == [frozenset({serve_run.INDEX_DUE}), both] and done == [both]  # one build answers both, once
    finally:
        rebuilder.stop()


def test_a_rebuild_logs_the_warnings_it_brings_once(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(MINIMAL_SITE, site)
    lines: list[str] = []
    server = DevServer(site, port=0, today=lambda: TODAY, environ={}, log=lines.append)
    server.start()
    try:
        path = site / "data" / "people.json"
        body = json.loads(path.read_text())
        body["data"][0]["links"] = [{"kind": "ftp", "url": "ftp://files.example.org/"}]
        path.write_text(json.dumps(body))
        assert _eventually(lambda: any("not an http(s) URL" in line for line in lines)), "the rebuild's warning was not logged"
        assert _eventually(lambda: sum(line.startswith("built in") for line in lines) >= 3)  # the first, the edit's, the catch-up
        assert sum("not an http(s) URL" in line for line in lines) == 1  # the catch-up has it too, and says nothing
    finally:
        server.stop()


def test_an_edit_while_another_sitegen_holds_the_build_waits_for_it_without_an_error(served: tuple[DevServer, Path]) -> None:
    server, site = served
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(site / "build")], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent
    )
    events = Events(server.url)
    said: list[str] = []
    server.log = said.append
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        path = site / "data" / "sessions.json"
        body = json.loads(path.read_text())
        next(s for s in body["data"] if s["id"] == "x1")["title"] = "Held engines"
        path.write_text(json.dumps(body))
        time.sleep(1.5)  # the rebuild meets the lock, and waits (trying again every half second)
        assert server.state.error is None
        waiting = [line for line in said if line.startswith("waiting for ")]
        assert len(waiting) == 1 and "another sitegen process (pid" in waiting[0], said  # said once, not per try
        holder.terminate()
        holder.wait(timeout=WAIT)
        assert events.next("reload", "build-error")[0] == "reload"
        assert "Held engines" in httpx.get(server.url + "2024/minicon/engines/").text
    finally:
        holder.kill()
        holder.wait(timeout=WAIT)
        events.close()


#: Holds the lock of the output folder given, as another sitegen would, until killed.
HOLD_LOCK = """
import sys, time
from pathlib import Path
from sitegen.write.lock import OutputLock
lock = OutputLock(Path(sys.argv[1]))
lock.acquire()
print("locked", flush=True)
time.sleep(120)
"""
