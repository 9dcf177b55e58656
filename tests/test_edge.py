"""The edge, end to end: varnishd with the shipped VCL, a static origin
serving build/, and the fragment service, all real processes on 127.0.0.1."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import MINIMAL_SITE, TODAY
from edgeservers import ORIGIN_COOKIE, FragmentProcess, StaticOrigin, Varnish

from sitegen.build import build_site
from sitegen.config import load_config
from sitegen.fragments.edge import edge_vcl
from sitegen.fragments.identity import IdentityCodec, User

KEYS = "edge-test-key-0123456789abcdefghijklmnop"
EVENT_PAGE = "/2024/minicon/"
PERSONAL = {
    "users": [{"id": "alice", "name": "Alice Anders"}, {"id": "bob", "name": "Bob Brandt"}, {"id": "carol", "name": "Carol Chen"}],
    "follows": [{"user": "alice", "follows": "p1"}, {"user": "alice", "follows": "bob"}, {"user": "bob", "follows": "carol"}],
    "attendance": [{"user": "bob", "event": "e1"}, {"user": "carol", "event": "e1"}],
}
NAMES = ("Alice Anders", "Bob Brandt", "Carol Chen")


@dataclass
class Edge:
    site: Path
    store: str
    varnish: Varnish
    origin: StaticOrigin
    fragments: FragmentProcess
    codec: IdentityCodec

    def cookie(self, user: str, name: str, generation: int = 0) -> dict[str, str]:
        # An analytics cookie beside ours, which the edge must ignore as well.
        return {"Cookie": signed_in(user, name, generation)["Cookie"] + "; _ga=GA1.2.3"}

    def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.get(self.varnish.url + path, headers=headers or {}, timeout=10)


CODEC = IdentityCodec([KEYS], 14 * 86400)


def signed_in(user: str, name: str, generation: int = 0) -> dict[str, str]:
    """Request headers carrying a fresh identity cookie."""
    return {"Cookie": f"__Host-u={CODEC.mint(User(user, name, generation))}"}


def built_site(tmp: Path) -> Path:
    site = tmp / "site"
    shutil.copytree(MINIMAL_SITE, site)
    build_site(load_config(site), today=TODAY)
    (tmp / "personal.json").write_text(json.dumps(PERSONAL), encoding="utf-8")
    return site


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    site, store = personal_site(tmp_path_factory.mktemp("edge"))
    with FragmentProcess(site, store=store, keys=KEYS) as fragments, StaticOrigin(site / "build") as origin:
        vcl = edge_vcl(load_config(site), origin=f"127.0.0.1:{origin.port}", fragments=fragments.address)
        with Varnish(vcl) as varnish:
            yield Edge(site, store, varnish, origin, fragments, CODEC)


def personal_site(tmp: Path) -> tuple[Path, str]:
    """The minimal site, built, with PERSONAL loaded into an SQLite store: (site, store)."""
    site = built_site(tmp)
    store = str(tmp / "personal.sqlite3")
    _load(site, store, tmp / "personal.json")
    return site, store


def _load(site: Path, store: str, file: Path) -> None:
    subprocess.run(
        [str(Path(sys.executable).parent / "sitegen"), "fragments", "--root", str(site), "--store", store, "-q", "load", str(file)],
        check=True,
    )


def userbar(html: str) -> str:
    match = re.search(r'data-hole="userbar"[^>]*>(.*?)</div>\s*</div>', html, re.S)
    assert match, "no userbar hole in the page"
    return match.group(1)


def test_the_second_request_for_a_page_is_a_cache_hit(edge: Edge) -> None:
    edge.get("/2024/")  # may or may not be the first
    first = edge.get("/2024/minicon/engines/")
    second = edge.get("/2024/minicon/engines/")
    assert first.status_code == second.status_code == 200
    assert len(first.headers["x-varnish"].split()) == 1, "a fresh page should be a miss"
    assert len(second.headers["x-varnish"].split()) == 2, "the second request should be a hit"


def test_alice_and_bob_see_their_own_names_in_one_cached_page(edge: Edge) -> None:
    edge.get(EVENT_PAGE)
    hits_before = edge.varnish.stat("MAIN.cache_hit")["MAIN.cache_hit"]
    for _ in range(3):
        alice = edge.get(EVENT_PAGE, edge.cookie("alice", "Alice Anders")).text
        bob = edge.get(EVENT_PAGE, edge.cookie("bob", "Bob Brandt")).text
        anonymous = edge.get(EVENT_PAGE).text
        assert "Signed in as <strong>Alice Anders</strong>" in alice and "Bob Brandt</strong>" not in alice
        assert "Signed in as <strong>Bob Brandt</strong>" in bob and "Alice Anders" not in bob
        assert not any(name in anonymous for name in NAMES)
        assert "data-csrf-token" not in anonymous
    assert edge.varnish.stat("MAIN.cache_hit")["MAIN.cache_hit"] - hits_before >= 9, "every page view should be a hit"
    # Alice follows Ada (speaking) and Bob (attending); Bob follows Carol (attending).
    assert "Ada Lovelace-Ng" in alice.split("People you follow speaking:")[1]
    assert "Bob Brandt" in alice.split("People you follow attending:")[1]
    assert "Carol Chen" in bob.split("People you follow attending:")[1]
    assert "Carol Chen" not in alice


def test_the_origin_never_sees_a_visitor_cookie(edge: Edge) -> None:
    edge.get("/2024/minicon/gears/", edge.cookie("alice", "Alice Anders"))
    assert edge.origin.requests
    assert not [r for r in edge.origin.requests if "cookie" in r or "authorization" in r]


def test_forged_expired_and_revoked_cookies_render_anonymous(edge: Edge) -> None:
    past = IdentityCodec([KEYS], 14 * 86400, clock=lambda: time.time() - 15 * 86400)
    other_key = IdentityCodec(["an-attacker-key-0123456789abcdefghijk"], 14 * 86400)
    genuine = edge.codec.mint(User("carol", "Carol Chen", 0))
    payload, stamp, signature = genuine.split(".")
    tampered = edge.codec.mint(User("alice", "Alice Anders", 0)).split(".")[0] + f".{stamp}.{signature}"
    for value in (
        past.mint(User("alice", "Alice Anders", 0)),
        other_key.mint(User("alice", "Alice Anders", 0)),
        tampered,
        "garbage",
        genuine + "x",
    ):
        page = edge.get(EVENT_PAGE, {"Cookie": f"__Host-u={value}"}).text
        assert "Signed in as" not in page and "Alice Anders" not in page
        assert '<a class="signin" href="/login/">Sign in</a>' in userbar(page)
    assert "Signed in as <strong>Carol Chen</strong>" in edge.get(EVENT_PAGE, {"Cookie": f"__Host-u={genuine}"}).text


def test_a_composed_page_is_never_answered_304(edge: Edge) -> None:
    first = edge.get(EVENT_PAGE)
    assert "etag" not in first.headers and "last-modified" not in first.headers
    assert first.headers["cache-control"] == "private, no-cache"
    revalidated = edge.get(
        EVENT_PAGE,
        {**edge.cookie("alice", "Alice Anders"), "If-Modified-Since": "Sun, 01 Jan 2090 00:00:00 GMT", "If-None-Match": '"anything"'},
    )
    assert revalidated.status_code == 200
    assert "Alice Anders" in revalidated.text


def test_no_response_carries_set_cookie(edge: Edge) -> None:
    css = re.search(r'href="(/static/css/site\.[0-9a-f]+\.css)"', edge.get("/").text).group(1)
    paths = ["/", "/", EVENT_PAGE, css, css, "/feed.atom", "/_frag/userbar", "/_frag/attendance?event=e1", "/nope/"]
    for path in paths:
        for headers in ({}, edge.cookie("alice", "Alice Anders")):
            response = edge.get(path, headers)
            assert "set-cookie" not in response.headers, path
    # The origin did try: the edge stripped it.
    assert ORIGIN_COOKIE.split(";")[0] not in str(edge.get("/").headers)


def test_fragments_are_never_cached(edge: Edge) -> None:
    for _ in range(2):
        response = edge.get("/_frag/userbar", edge.cookie("alice", "Alice Anders"))
        assert len(response.headers["x-varnish"].split()) == 1
        assert response.headers["cache-control"] == "private, no-store"


def test_attending_through_the_edge_needs_the_csrf_token(edge: Edge) -> None:
    alice = edge.cookie("alice", "Alice Anders")
    bar = edge.get("/_frag/userbar", alice).text
    token = re.search(r'data-csrf-token="([^"]+)"', bar).group(1)
    url = edge.varnish.url + "/_frag/attend?event=e1"
    refused = httpx.post(url, headers=alice, data={"csrf_token": "forged"})
    assert refused.status_code == 403
    cross_site = httpx.post(url, headers={**alice, "Sec-Fetch-Site": "cross-site"}, data={"csrf_token": token})
    assert cross_site.status_code == 403
    done = httpx.post(url, headers={**alice, "X-Sitegen-Holes": "1"}, data={"csrf_token": token})
    assert done.status_code == 200 and "You are attending" in done.text
    assert "set-cookie" not in done.headers
    page = edge.get(EVENT_PAGE, alice).text
    assert "You are attending" in page and "3 people attending" in page
    assert "You are attending" not in edge.get(EVENT_PAGE, edge.cookie("dave", "Dave Dunn")).text
    undo = httpx.post(edge.varnish.url + "/_frag/unattend?event=e1", headers=alice, data={"csrf_token": token})
    assert undo.status_code == 303 and undo.headers["location"] == EVENT_PAGE  # a form posted without JS goes back
    assert "2 people attending" in edge.get(EVENT_PAGE, alice).text


def test_a_fragment_error_becomes_an_empty_hole_not_an_error_page(edge: Edge) -> None:
    response = edge.get("/_frag/attendance?event=no-such-event", edge.cookie("alice", "Alice Anders"))
    assert response.status_code == 200 and response.text == ""
    assert response.headers["cache-control"] == "private, no-store"


def test_pages_accept_only_get_and_head(edge: Edge) -> None:
    assert httpx.post(edge.varnish.url + EVENT_PAGE).status_code == 405


def test_with_the_fragment_service_down_pages_still_render(tmp_path: Path) -> None:
    site, store = personal_site(tmp_path)
    cookie = signed_in("alice", "Alice Anders")
    with FragmentProcess(site, store=store, keys=KEYS) as fragments, StaticOrigin(site / "build") as origin:
        vcl = edge_vcl(load_config(site), origin=f"127.0.0.1:{origin.port}", fragments=fragments.address, fragment_timeout=0.5)
        with Varnish(vcl) as varnish:
            assert "Alice Anders" in httpx.get(varnish.url + EVENT_PAGE, headers=cookie).text
            fragments.stop()
            for path in (EVENT_PAGE, EVENT_PAGE, "/"):
                response = httpx.get(varnish.url + path, headers=cookie, timeout=10)
                assert response.status_code == 200
                page = response.text
                for sign in ("Guru Meditation", "Backend fetch failed", "503", "Error"):
                    assert sign not in page
                assert "Alice Anders" not in page
                assert 'data-hole="userbar" data-src="/_frag/userbar"></div>' in page  # an empty hole
                assert "<main" in page and "</html>" in page


def test_a_slow_fragment_service_leaves_an_empty_hole(tmp_path: Path) -> None:
    import socket
    import threading

    site = built_site(tmp_path)
    silent = socket.socket()  # accepts connections and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(silent.accept()[0])
            except OSError:
                pass

    threading.Thread(target=hold, daemon=True).start()
    try:
        with StaticOrigin(site / "build") as origin:
            vcl = edge_vcl(
                load_config(site), origin=f"127.0.0.1:{origin.port}", fragments=f"127.0.0.1:{silent.getsockname()[1]}", fragment_timeout=0.3
            )
            with Varnish(vcl) as varnish:
                response = httpx.get(varnish.url + "/", timeout=10)
                assert response.status_code == 200
                assert 'data-hole="userbar" data-src="/_frag/userbar"></div>' in response.text
                assert "Guru Meditation" not in response.text
    finally:
        stop.set()
        silent.close()
        for connection in accepted:
            connection.close()


def test_the_service_runs_several_workers(tmp_path: Path) -> None:
    site, store = personal_site(tmp_path)
    cookie = signed_in("bob", "Bob Brandt")
    with FragmentProcess(site, store=store, keys=KEYS, workers=2) as fragments:
        url = f"http://{fragments.address}/_frag/attendance?event=e1"
        # The same answer from either worker (but for the CSRF token's timestamp).
        answers = {re.sub(r'value="[^"]+"', "", httpx.get(url, headers=cookie, timeout=10).text) for _ in range(20)}
    assert len(answers) == 1 and "Carol Chen" in answers.pop()
