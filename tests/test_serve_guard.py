"""sitegen serve against a hostile browser page: raw requests over real HTTP on
127.0.0.1 (http.client, so paths reach the server as sent, like ``curl --path-as-is``)."""

from __future__ import annotations

import http.client
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import MINIMAL_SITE, TODAY

from sitegen.serve.run import DevServer

SECRET = "TOP-SECRET-OUTSIDE-THE-BUILD"
STATE = "STATE-OF-SITEGEN"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Served:
    server: DevServer
    site: Path
    outside: Path  # a folder beside the site, holding secret.txt

    def get(
        self,
        target: str | bytes,
        *,
        host: str | None = None,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            path = target.decode("latin-1") if isinstance(target, bytes) else target
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            if host != "":
                connection.putheader("Host", host or f"127.0.0.1:{self.server.port}")
            for name, value in (headers or {}).items():
                connection.putheader(name, value)
            if body is not None:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            headers = {k.lower(): v for k, v in response.getheaders()}
            streaming = headers.get("content-type", "").startswith("text/event-stream")
            return Answer(response.status, headers, b"" if streaming else response.read())  # a stream never ends
        finally:
            connection.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("guard")
    outside = root / "outside"
    (outside / "folder").mkdir(parents=True)
    (outside / "secret.txt").write_text(SECRET)
    site = root / "site"
    shutil.copytree(MINIMAL_SITE, site, ignore=shutil.ignore_patterns("build", ".sitegen-cache"))
    server = DevServer(site, port=0, today=lambda: TODAY, environ={})
    server.start()
    build = site / "build"
    (build / ".sitegen" / "probe.txt").write_text(STATE)
    (build / "out").symlink_to(outside, target_is_directory=True)
    (build / "leak.txt").symlink_to(outside / "secret.txt")
    (build / "state").symlink_to(build / ".sitegen", target_is_directory=True)
    (build / "inside.txt").symlink_to(build / "robots.txt")
    try:
        yield Served(server, site, outside)
    finally:
        server.stop()


def _escapes(outside: Path) -> dict[str, str]:
    secret = (outside / "secret.txt").as_posix()  # absolute: /tmp/.../outside/secret.txt
    return {
        "double slash": "/" + secret,
        "encoded slash": "/%2F" + secret.lstrip("/"),
        "lower-case encoded slash and dots": "/people%2f%2e%2e%2f%2e%2e%2f%2e%2e%2foutside%2fsecret.txt",
        "encoded dot segments": "/%2e%2e/%2e%2e/outside/secret.txt",
        "backslash": "/..\\..\\outside\\secret.txt",
        "encoded backslash": "/%5C..%5C..%5Coutside%5Csecret.txt",
        "NUL": "/robots.txt%00.html",
        "NUL then escape": "/%00/../../outside/secret.txt",
        "symlinked folder out of build": "/out/secret.txt",
        "symlinked file out of build": "/leak.txt",
    }


ESCAPES = list(_escapes(Path("/x")))


@pytest.mark.parametrize("name", ESCAPES)
def test_no_request_path_reaches_a_file_outside_the_build(served: Served, name: str) -> None:
    answer = served.get(_escapes(served.outside)[name])
    assert answer.status == 404, answer.body[:200]
    assert SECRET.encode() not in answer.body


@pytest.mark.parametrize(
    "target",
    [
        "/.sitegen/probe.txt",
        "/.SITEGEN/probe.txt",
        "/%2esitegen/probe.txt",
        "/%2E%53itegen/probe.txt",
        "/.sitegen",
        "/people/../.sitegen/probe.txt",
        "/state/probe.txt",
        "/.sitegen-other/x",
        "/%EF%BC%8Esitegen/probe.txt",
    ],
)
def test_sitegens_own_state_is_not_served_by_any_spelling(served: Served, target: str) -> None:
    answer = served.get(target)
    assert answer.status == 404 and "location" not in answer.headers
    assert STATE.encode() not in answer.body


def test_a_folder_outside_the_build_is_neither_served_nor_redirected_to(served: Served) -> None:
    for target in ("/" + served.outside.as_posix(), "/" + served.outside.as_posix() + "/folder", "//etc", "/out", "/out/folder"):
        answer = served.get(target)
        assert answer.status == 404 and "location" not in answer.headers, target


def test_pages_assets_the_root_and_folder_redirects_still_work(served: Served) -> None:
    root = served.get("/")
    assert root.status == 200 and b"/__sitegen/client.js" in root.body
    assert served.get("/people/ada/").status == 200
    assert served.get("/people/ada/index.html").status == 200
    folder = served.get("/people/ada")
    assert folder.status == 301 and folder.headers["location"] == "/people/ada/"
    assert served.get("/robots.txt").body == (served.site / "build" / "robots.txt").read_bytes()
    assert served.get("/inside.txt").status == 200  # a symlink that stays inside the build is fine
    assert served.get("/people/ada/", method="HEAD").status == 200


@pytest.mark.parametrize("target", ["/index.html/", "/people/ada/index.html/", "/robots.txt/", "/inside.txt/"])
def test_a_file_asked_for_as_a_folder_is_not_found_as_on_s3(served: Served, target: str) -> None:
    answer = served.get(target)
    assert answer.status == 404 and "location" not in answer.headers, target
    assert answer.body == served.get("/404.html").body  # the site's 404 page, not the file


def test_a_folder_redirect_never_leaves_the_site(served: Served) -> None:
    for target in ("//people/ada", "/%2Fpeople/ada", "///people/ada"):
        answer = served.get(target)
        assert not answer.headers.get("location", "/").startswith("//"), target
        assert answer.status == 404, target


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1", "127.0.0.1:1", "localhost.evil.example:{port}", ""])
def test_a_request_for_another_host_is_refused_everywhere(served: Served, host: str) -> None:
    host = host.format(port=served.server.port)
    for target in ("/", "/people/ada/", "/__sitegen/events", "/__sitegen/signin", "/_frag/userbar", "/__sitegen/client.js"):
        answer = served.get(target, host=host)
        assert b"Ada" not in answer.body
        if host == "":  # HTTP/1.1 without Host: h11 refuses it before the app sees it
            assert answer.status == 400, (target, answer.status)
            continue
        assert answer.status == 421, (target, answer.status)
        assert f"open http://127.0.0.1:{served.server.port}/".encode() in answer.body


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "[::1]:{port}"])
def test_the_served_address_and_loopback_names_are_answered(served: Served, host: str) -> None:
    assert served.get("/people/ada/", host=host.format(port=served.server.port)).status == 200


def test_a_very_long_url_is_refused_and_the_server_keeps_serving(served: Served) -> None:
    assert served.get("/" + "a/" * 20_000).status in (404, 414, 400)
    assert served.get("/" + "%2e" * 30_000).status in (404, 414, 400)
    assert served.get("/people/ada/").status == 200


def test_other_sites_cannot_sign_in_or_out_or_listen(served: Served) -> None:
    cross = {"Sec-Fetch-Site": "cross-site", "Content-Type": "application/x-www-form-urlencoded"}
    signin = served.get("/__sitegen/signin", method="POST", headers=cross, body=b"user=p1&name=Mallory")
    assert signin.status == 403 and "set-cookie" not in signin.headers
    evil_origin = {"Origin": "http://evil.example", "Content-Type": "application/x-www-form-urlencoded"}
    assert served.get("/__sitegen/signin", method="POST", headers=evil_origin, body=b"user=p1").status == 403
    signout = served.get("/__sitegen/signout", headers={"Sec-Fetch-Site": "cross-site"})
    assert signout.status == 403 and "set-cookie" not in signout.headers
    assert served.get("/__sitegen/events", headers={"Sec-Fetch-Site": "cross-site"}).status == 403
    own = served.get(
        "/__sitegen/signin",
        method="POST",
        body=b"user=p1&name=Ada",
        headers={"Sec-Fetch-Site": "same-origin", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert own.status == 303 and own.headers["location"] == "/" and "set-cookie" in own.headers


def test_a_sign_in_app_at_another_hosts_root_does_not_take_over_the_home_page(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(MINIMAL_SITE, site, ignore=shutil.ignore_patterns("build", ".sitegen-cache"))
    overrides = {"fragments.signin_url": "https://login.example.org/", "fragments.signout_url": "https://login.example.org"}
    server = DevServer(site, overrides, port=0, today=lambda: TODAY, environ={})
    server.start()
    try:
        home = Served(server, site, tmp_path).get("/")
        assert home.status == 200 and "set-cookie" not in home.headers and b"Sign in as anyone" not in home.body
        assert Served(server, site, tmp_path).get("/__sitegen/signin").status == 200
    finally:
        server.stop()


def test_reload_streams_are_capped_and_the_site_is_still_served(served: Served) -> None:
    from sitegen.serve.app import MAX_LISTENERS

    streams = []
    try:
        while served.server.channel.listeners < MAX_LISTENERS:
            connection = http.client.HTTPConnection("127.0.0.1", served.server.port, timeout=30)
            connection.request("GET", f"/__sitegen/events?page=p{len(streams)}")
            streams.append(connection)
            response = connection.getresponse()
            assert response.status == 200 and response.read(5) == b"retry"  # subscribed by now
        refused = served.get("/__sitegen/events")
        assert refused.status == 503 and b"too many open reload streams" in refused.body
        assert served.get("/people/ada/").status == 200
    finally:
        for connection in streams:
            connection.close()


def _refused_or_closed(sock: socket.socket) -> bytes:
    """What the server answered before closing (b"" if it reset the connection)."""
    sock.settimeout(30)
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except OSError:
        pass
    return answer


def test_an_endless_header_is_refused_after_a_bounded_read(served: Served) -> None:
    sock = socket.create_connection(("127.0.0.1", served.server.port), timeout=30)
    sent, total = 0, 100 * 1024 * 1024
    try:
        sock.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{served.server.port}\r\nX: ".encode())
        chunk = b"a" * 65536
        try:
            while sent < total:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the server closed the connection: nothing more is read
        answer = _refused_or_closed(sock)
    finally:
        sock.close()
    assert sent < total, "the server read all of a 100 MB header"
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 "), answer[:100]
    assert served.get("/people/ada/").status == 200


@pytest.mark.slow
def test_half_sent_requests_are_dropped_so_real_ones_are_served_again(served: Served) -> None:
    from sitegen.serve.run import MAX_CONNECTIONS

    stalled = []
    try:
        for _ in range(MAX_CONNECTIONS + 44):
            sock = socket.create_connection(("127.0.0.1", served.server.port), timeout=30)
            sock.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{served.server.port}\r\n".encode())
            stalled.append(sock)
        deadline, status = time.monotonic() + 120, 0  # generous: the server drops them after a few seconds
        while status != 200 and time.monotonic() < deadline:
            status = served.get("/people/ada/").status
            if status != 200:
                time.sleep(0.5)
        assert status == 200, "half-sent requests still hold every connection"
        assert all(_refused_or_closed(sock) == b"" for sock in stalled[:5])  # closed, not answered
    finally:
        for sock in stalled:
            sock.close()
