"""The fragment service, its identity cookie, its stores and the {% hole %} tag."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from conftest import MINIMAL_SITE, TODAY
from edgeservers import AppServer, RedisServer

from sitegen.build import build_site
from sitegen.cli import main
from sitegen.config import load_config
from sitegen.errors import ConfigError, FragmentError, TemplateError
from sitegen.fragments import make_service
from sitegen.fragments.identity import IdentityCodec, User, keys_from_environment
from sitegen.fragments.store import PersonalData, PersonalStore, SqliteStore, parse_personal_data, read_personal_file
from sitegen.render.holes import fragment_url

KEY_A = "a" * 32 + "-first-key"
KEY_B = "b" * 32 + "-second-key"
DATA = PersonalData(
    users=(("alice", "Alice Anders"), ("bob", "Bob Brandt"), ("carol", "Carol Chen")),
    follows=(("alice", "bob"), ("alice", "p1"), ("alice", "p3"), ("bob", "alice")),
    attendance=(("bob", "e1"), ("carol", "e1"), ("alice", "e2")),
)


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- identity ----------------------------------------------------------------------


def test_a_cookie_round_trips_and_expires_after_max_age() -> None:
    clock = Clock()
    codec = IdentityCodec([KEY_A], max_age=3600, clock=clock)
    value = codec.mint(User("alice", "Alice Ä. Anders", 2))
    assert re.fullmatch(r"[A-Za-z0-9_\-.]+", value), "cookie-safe characters only"
    assert codec.read(value) == User("alice", "Alice Ä. Anders", 2)
    clock.now += 3601
    assert codec.read(value) is None


def test_keys_rotate_newest_signs_all_verify() -> None:
    old = IdentityCodec([KEY_A], 3600).mint(User("alice", "Alice", 0))
    rotated = IdentityCodec([KEY_A, KEY_B], 3600)
    assert rotated.read(old) == User("alice", "Alice", 0)
    new = rotated.mint(User("alice", "Alice", 0))
    assert IdentityCodec([KEY_B], 3600).read(new) is not None, "the newest key signs"
    assert IdentityCodec([KEY_B], 3600).read(old) is None, "a dropped key no longer verifies"


def test_the_csrf_token_cannot_stand_in_for_the_cookie_or_another_user() -> None:
    codec = IdentityCodec([KEY_A], 3600)
    alice, bob = User("alice", "Alice", 0), User("bob", "Bob", 0)
    token = codec.csrf_token(alice)
    assert codec.csrf_ok(token, alice)
    assert not codec.csrf_ok(token, bob)
    assert not codec.csrf_ok(token, User("alice", "Alice", 1)), "signing out everywhere retires old tokens"
    assert codec.read(token) is None, "a value signed for one purpose is refused for another"
    assert not codec.csrf_ok(codec.mint(alice), alice)


@pytest.mark.parametrize(
    "payload",
    [
        '{"u":"alice","n":"A","g":0,"admin":true}',
        '{"u":"../x","n":"A","g":0}',
        '{"u":"alice","n":"A","g":"0"}',
        '["alice"]',
        '{"u":"alice","n":"","g":0}',
    ],
)
def test_well_signed_but_malformed_payloads_are_anonymous(payload: str) -> None:
    codec = IdentityCodec([KEY_A], 3600)
    forged = codec._user.dumps(json.loads(payload))  # signed with the right key, so only parsing can refuse it
    assert codec.read(forged) is None


def test_keys_come_from_the_environment_with_clear_errors() -> None:
    assert keys_from_environment({"K": f"{KEY_A}, {KEY_B}"}, "K") == (KEY_A, KEY_B)
    with pytest.raises(ConfigError, match=r"\$K: is not set.*secrets.token_urlsafe") as raised:
        keys_from_environment({}, "K")
    assert raised.value.exit_code == 2  # a configuration error, as the README says
    with pytest.raises(ConfigError, match="key number 2 is shorter than 32"):
        keys_from_environment({"K": f"{KEY_A} short"}, "K")


# --- stores ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PersonalStore]:
    if request.param == "sqlite":
        opened: PersonalStore = SqliteStore(tmp_path / "personal.sqlite3")
    else:
        from sitegen.fragments.store import RedisStore

        server = request.getfixturevalue("redis_server")
        opened = RedisStore(server.url)
        opened.redis.flushdb()
    yield opened
    opened.close()


def test_stores_answer_the_same_questions(store: PersonalStore) -> None:
    store.replace(DATA)
    facts = store.attendance("alice", "e1")
    assert facts.followed_attending == {"bob"} and facts.following == {"bob", "p1", "p3"}
    assert facts.count == 2 and not facts.attending
    assert store.attendance(None, "e1").followed_attending == frozenset()
    store.set_attending("alice", "e1", True)
    store.set_attending("alice", "e1", True)  # twice is once
    assert store.attendance("alice", "e1").attending and store.attendance("alice", "e1").count == 3
    assert store.attendance("bob", "e1").followed_attending == {"alice"}
    store.set_attending("alice", "e1", False)
    assert store.attendance("alice", "e1").count == 2
    assert store.names(["alice", "p1", "nobody"]) == {"alice": "Alice Anders"}


def test_a_reload_replaces_the_data_but_keeps_generations(store: PersonalStore) -> None:
    store.replace(DATA)
    assert store.generation("alice") == 0
    assert store.sign_out_everywhere("alice") == 1
    store.replace(PersonalData(users=(("dave", "Dave"),), follows=(), attendance=(("dave", "e1"),)))
    assert store.generation("alice") == 1, "a reload must not revive revoked cookies"
    assert store.attendance("alice", "e1").following == frozenset()
    assert store.attendance(None, "e1").count == 1
    assert store.names(["alice", "dave"]) == {"dave": "Dave"}


def test_loading_bad_data_names_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "personal.json"
    path.write_text(
        json.dumps(
            {
                "users": [{"id": "alice", "name": "Alice"}, {"id": "alice", "name": "Again"}, {"id": "no spaces", "name": "X"}],
                "follows": [{"user": "alice"}],
                "attendance": "e1",
                "extra": 1,
            }
        )
    )
    with pytest.raises(FragmentError) as caught:
        read_personal_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path} cannot be loaded, 5 problem(s):")
    for expected in (
        "unknown key 'extra'",
        "users[1]: id 'alice' appears twice",
        "users[2]: id = 'no spaces' is not an id",
        "follows[0]: must be an object with exactly 'user' and 'follows'",
        "attendance: is not a list",
    ):
        assert expected in message
    path.write_text('{"users": [')
    with pytest.raises(FragmentError, match=r"personal.json: is not valid JSON: .* at line 1, column \d+"):
        read_personal_file(path)
    api_item = {"user": "alice", "event": "e1", "updated_at": "2026-01-01T00:00:00Z"}
    assert parse_personal_data({"attendance": [api_item]}, "api", extra_keys=True).attendance == (("alice", "e1"),)


# --- the service -------------------------------------------------------------------


@pytest.fixture
def service_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(MINIMAL_SITE, site)
    build_site(load_config(site), today=TODAY)
    return site


@pytest.fixture
def client(service_site: Path) -> Iterator[tuple[httpx.Client, IdentityCodec, SqliteStore]]:
    store = SqliteStore(service_site / "personal.sqlite3")
    store.replace(DATA)
    codec = IdentityCodec([KEY_A], 3600)
    service = make_service(load_config(service_site), store=store, codec=codec)
    with AppServer(service.app) as server, httpx.Client(base_url=server.url, headers={"Host": "archive.test"}) as http:
        yield http, codec, store
    store.close()


def signed_in(codec: IdentityCodec, user: str = "alice", name: str = "Alice Anders", generation: int = 0) -> dict[str, str]:
    return {"Cookie": f"__Host-u={codec.mint(User(user, name, generation))}"}


def test_fragments_are_private_and_never_set_cookies(client) -> None:
    test_client, codec, _ = client
    for path in ("/_frag/userbar", "/_frag/attendance?event=e1"):
        for headers in ({}, signed_in(codec)):
            response = test_client.get(path, headers=headers)
            assert response.status_code == 200
            assert response.headers["cache-control"] == "private, no-store"
            assert response.headers["vary"] == "Cookie"
            assert response.headers["content-type"] == "text/html; charset=utf-8"
            assert "set-cookie" not in response.headers
            assert "data-filled" in response.text


def test_the_userbar_names_the_visitor_and_carries_the_csrf_token(client) -> None:
    test_client, codec, _ = client
    html = test_client.get("/_frag/userbar", headers=signed_in(codec, name="Alice <b>A</b>")).text
    assert "Signed in as <strong>Alice &lt;b&gt;A&lt;/b&gt;</strong>" in html
    token = re.search(r'data-csrf-token="([^"]+)"', html).group(1)
    assert codec.csrf_ok(token, User("alice", "Alice <b>A</b>", 0))
    anonymous = test_client.get("/_frag/userbar").text
    assert "Signed in" not in anonymous and "csrf" not in anonymous


def test_attendance_shows_followed_speakers_and_attendees(client) -> None:
    test_client, codec, _ = client
    html = test_client.get("/_frag/attendance?event=e1", headers=signed_in(codec)).text
    speaking = html.split("People you follow speaking:")[1].split("</ul>")[0]
    assert 'href="/people/ada/">Ada Lovelace-Ng</a>' in speaking
    assert "Bo &lt;b&gt;Bold&lt;/b&gt;" in speaking  # names from the archive stay escaped
    assert "Bob Brandt" in html.split("People you follow attending:")[1]
    assert "2 people attending" in html and "I'm attending" in html
    other = test_client.get("/_frag/attendance?event=e2", headers=signed_in(codec)).text
    assert "You are attending" in other and "1 person attending" in other


def test_a_revoked_cookie_is_anonymous(client) -> None:
    test_client, codec, store = client
    cookie = signed_in(codec)
    assert "Signed in as" in test_client.get("/_frag/userbar", headers=cookie).text
    store.sign_out_everywhere("alice")
    assert "Signed in as" not in test_client.get("/_frag/userbar", headers=cookie).text
    assert "Signed in as" in test_client.get("/_frag/userbar", headers=signed_in(codec, generation=1)).text


def test_unknown_events_and_bad_requests_are_not_200(client) -> None:
    test_client, codec, _ = client
    assert test_client.get("/_frag/attendance?event=nope").status_code == 404
    assert test_client.get("/_frag/attendance").status_code == 404
    assert test_client.get("/_frag/nothing").status_code == 404
    assert test_client.post("/_frag/userbar").status_code == 405


def test_writes_need_a_signed_in_visitor_a_token_and_the_same_site(client) -> None:
    test_client, codec, store = client
    cookie = signed_in(codec)
    token = codec.csrf_token(User("alice", "Alice Anders", 0))
    url = "/_frag/attend?event=e1"
    assert test_client.post(url, data={"csrf_token": token}).status_code == 403  # no cookie
    assert test_client.post(url, headers=cookie).status_code == 403  # no token
    assert test_client.post(url, headers=cookie, data={"csrf_token": codec.csrf_token(User("bob", "Bob", 0))}).status_code == 403
    assert test_client.post(url, headers={**cookie, "Origin": "https://evil.test"}, data={"csrf_token": token}).status_code == 403
    assert test_client.post(url, headers={**cookie, "Sec-Fetch-Site": "cross-site"}, data={"csrf_token": token}).status_code == 403
    assert test_client.post("/_frag/attend?event=nope", headers=cookie, data={"csrf_token": token}).status_code == 404
    assert not store.attendance("alice", "e1").attending
    done = test_client.post(
        url,
        headers={**cookie, "X-CSRF-Token": token, "X-Sitegen-Holes": "1", "Origin": "http://archive.test", "Sec-Fetch-Site": "same-origin"},
    )
    assert done.status_code == 200 and "You are attending" in done.text and "set-cookie" not in done.headers
    assert store.attendance("alice", "e1").attending
    back = test_client.post("/_frag/unattend?event=e1", headers=cookie, data={"csrf_token": token})
    assert back.status_code == 303 and back.headers["location"] == "/2024/minicon/"
    assert not store.attendance("alice", "e1").attending


def test_only_the_same_origin_may_write_not_a_sibling_subdomain(client) -> None:
    """Same-site is not same-origin: a page on another host of the same domain (user content,
    a forgotten staging host) is refused even with the visitor's cookie and a valid token."""
    test_client, codec, store = client
    cookie = signed_in(codec)
    token = codec.csrf_token(User("alice", "Alice Anders", 0))
    sibling = {**cookie, "X-CSRF-Token": token, "Sec-Fetch-Site": "same-site", "Origin": "http://uploads.archive.test"}
    refused = test_client.post("/_frag/attend?event=e1", headers=sibling)
    assert refused.status_code == 403 and refused.text == "cross-site request refused\n"
    old_browser = {**cookie, "X-CSRF-Token": token, "Origin": "http://uploads.archive.test"}  # no Sec-Fetch-Site
    assert test_client.post("/_frag/attend?event=e1", headers=old_browser).status_code == 403
    assert not store.attendance("alice", "e1").attending
    own = {**cookie, "X-CSRF-Token": token, "Sec-Fetch-Site": "same-origin", "Origin": "http://archive.test"}
    assert test_client.post("/_frag/attend?event=e1", headers=own).status_code == 303
    assert store.attendance("alice", "e1").attending


def test_an_unknown_event_is_named_in_a_short_line(client) -> None:
    test_client, _, _ = client
    answer = test_client.get("/_frag/attendance", params={"event": "x" * 20_000})
    assert answer.status_code == 404 and answer.text.startswith("no event 'xxx") and len(answer.text) < 200


def test_a_new_build_is_picked_up_without_a_restart(service_site: Path, tmp_path: Path) -> None:
    clock = Clock(0.0)
    store = SqliteStore(tmp_path / "p.sqlite3")
    from sitegen.fragments.service import FragmentService
    from sitegen.write import FRAGMENT_INDEX

    index = service_site / "build" / FRAGMENT_INDEX
    service = FragmentService(load_config(service_site), index_path=index, store=store, codec=IdentityCodec([KEY_A], 60), clock=clock)
    with AppServer(service.app) as server, httpx.Client(base_url=server.url) as test_client:
        assert test_client.get("/_frag/attendance?event=e9").status_code == 404
        data = json.loads(index.read_text())
        data["events"]["e9"] = {"title": "New", "url": "/2025/new/", "speakers": []}
        index.write_text(json.dumps(data))
        clock.now += 2
        assert test_client.get("/_frag/attendance?event=e9").status_code == 200
    store.close()


# --- holes in templates ------------------------------------------------------------


def test_holes_emit_esi_with_a_fallback(service_site: Path) -> None:
    page = (service_site / "build/2024/minicon/index.html").read_text()
    assert (
        '<div class="hole hole-attendance" data-hole="attendance" data-src="/_frag/attendance?event=e1">'
        '<esi:include src="/_frag/attendance?event=e1" onerror="continue"/><esi:remove>'
    ) in page
    for html in (service_site / "build").rglob("*.html"):
        assert 'data-hole="userbar"' in html.read_text(), html
    assert fragment_url("/_frag/", "attendance", {"event": "a&b c"}) == "/_frag/attendance?event=a%26b+c"


def child_theme(site: Path, template: str) -> None:
    theme = site / "themes" / "child"
    (theme / "templates").mkdir(parents=True)
    (theme / "theme.toml").write_text('extends = "default"\n')
    (theme / "templates" / "404.html").write_text(template)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            '{% extends "base.html" %}{% block content %}\n{% hole "weather" %}x{% endhole %}{% endblock %}',
            "404.html:2: template syntax error: hole 'weather' names no fragment; the fragment service serves: attendance, userbar",
        ),
        (
            '{% extends "base.html" %}{% block content %}\n\n{% hole "attendance" %}x{% endhole %}{% endblock %}',
            "404.html:3: template syntax error: hole 'attendance' takes event=…, not none",
        ),
        (
            '{% extends "base.html" %}{% block content %}{% hole "userbar" user="bob" %}x{% endhole %}{% endblock %}',
            "404.html:1: template syntax error: hole 'userbar' takes no parameters, not user",
        ),
    ],
)
def test_a_hole_the_service_cannot_fill_fails_the_build(service_site: Path, template: str, message: str) -> None:
    child_theme(service_site, template)
    with pytest.raises(TemplateError) as caught:
        build_site(load_config(service_site, {"build.theme": "child"}), today=TODAY)
    assert message in str(caught.value)


def test_a_theme_without_the_fragment_template_fails_the_build(service_site: Path, tmp_path: Path) -> None:
    shutil.copytree(Path(__file__).parent.parent / "themes" / "default", service_site / "themes" / "bare")
    (service_site / "themes" / "bare" / "templates" / "fragments" / "attendance.html").unlink()
    with pytest.raises(TemplateError, match=r"event.html:\d+: .*hole 'attendance': the theme has no fragments/attendance.html"):
        build_site(load_config(service_site, {"build.theme": "bare"}), today=TODAY)


# --- the command line --------------------------------------------------------------


def test_cookie_and_load_commands(service_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    store = str(tmp_path / "p.sqlite3")
    missing = runner.invoke(main, ["cookie", "--root", str(service_site), "--user", "alice", "--store", store])
    assert missing.exit_code == 2 and "SITEGEN_COOKIE_KEYS: is not set" in missing.output
    monkeypatch.setenv("SITEGEN_COOKIE_KEYS", KEY_A)
    data = tmp_path / "p.json"
    data.write_text(json.dumps({"users": [{"id": "alice", "name": "Alice Anders"}]}))
    loaded = runner.invoke(main, ["fragments", "--root", str(service_site), "--store", store, "load", str(data)])
    assert loaded.exit_code == 0, loaded.output
    assert "loaded 1 users, 0 follows, 0 attendance" in loaded.output
    minted = runner.invoke(main, ["cookie", "--root", str(service_site), "--user", "alice", "--store", store])
    name, _, value = minted.output.strip().partition("=")
    assert name == "__Host-u" and IdentityCodec([KEY_A], 60).read(value) == User("alice", "Alice Anders", 0)
    header = runner.invoke(main, ["cookie", "--root", str(service_site), "--user", "bob", "--store", store, "--set-cookie"])
    assert header.output.strip().endswith("; Max-Age=1209600; Path=/; Secure; HttpOnly; SameSite=Lax")
    revoked = runner.invoke(main, ["fragments", "--root", str(service_site), "--store", store, "sign-out-everywhere", "--user", "alice"])
    assert "generation 1" in revoked.output
    after = runner.invoke(main, ["cookie", "--root", str(service_site), "--user", "alice", "--store", store]).output
    assert IdentityCodec([KEY_A], 60).read(after.strip().partition("=")[2]).generation == 1
    bad = runner.invoke(main, ["fragments", "--root", str(service_site), "--store", store, "load", str(tmp_path / "none.json")])
    assert bad.exit_code == 1 and "none.json: does not exist" in bad.output and "Traceback" not in bad.output


def test_load_from_the_source_reads_the_api_extension(service_site: Path, tmp_path: Path) -> None:
    for name, items in {
        "users": [{"id": "alice", "name": "Alice"}],
        "follows": [{"user": "alice", "follows": "p1"}],
        "attendance": [{"user": "alice", "event": "e1", "updated_at": "2026-01-01T00:00:00Z"}],
    }.items():
        (service_site / "data" / f"{name}.json").write_text(json.dumps({"data": items, "next": None}))
    store = str(tmp_path / "p.sqlite3")
    result = CliRunner().invoke(main, ["fragments", "--root", str(service_site), "--store", store, "load"])
    assert result.exit_code == 0, result.output
    opened = SqliteStore(Path(store))
    assert opened.attendance("alice", "e1").attending and opened.attendance("alice", "e1").following == {"p1"}
    opened.close()


def test_the_vcl_command_fills_in_backends(service_site: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "fragments",
            "--root",
            str(service_site),
            "vcl",
            "--origin",
            "10.0.0.5:8081",
            "--fragments",
            "10.0.0.6:9000",
            "--fragment-timeout",
            "0.5",
        ],
    )
    assert result.exit_code == 0, result.output
    assert '.host = "10.0.0.5";' in result.output and '.port = "9000";' in result.output
    assert ".first_byte_timeout = 0.5s;" in result.output and '"^/_frag/"' in result.output
    bad = CliRunner().invoke(main, ["fragments", "--root", str(service_site), "vcl", "--origin", "nowhere"])
    assert bad.exit_code == 2 and "--origin: 'nowhere' is not HOST:PORT" in bad.output


def test_the_service_refuses_to_start_without_a_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    shutil.copytree(MINIMAL_SITE, site)
    monkeypatch.setenv("SITEGEN_COOKIE_KEYS", KEY_A)
    result = CliRunner().invoke(main, ["fragments", "--root", str(site), "--store", str(tmp_path / "p.sqlite3")])
    assert result.exit_code == 1 and "fragments.json: does not exist" in result.output and "sitegen build" in result.output


def test_load_from_an_http_source_pages_through_the_api_extension(service_site: Path, tmp_path: Path) -> None:
    from apiserver import ApiServer, Fault

    follows = [{"user": f"u{i:03d}", "follows": "p1", "updated_at": "2026-01-01T00:00:00Z"} for i in range(120)]
    with ApiServer({"users": [{"id": "u000", "name": "First"}], "follows": follows, "attendance": []}) as api:
        store = str(tmp_path / "p.sqlite3")
        args = ["fragments", "--root", str(service_site), "--store", store, "load"]
        (service_site / "sitegen.toml").write_text(f'[source]\nurl = "{api.url}"\npage_size = 50\nretries = 0\n')
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert api.count("/api/v1/follows") == 3  # 120 follows in pages of 50
        opened = SqliteStore(Path(store))
        assert opened.attendance("u119", "e1").following == {"p1"} and opened.names(["u000"]) == {"u000": "First"}
        opened.close()
        api.add_fault("attendance", Fault(status=500, times=None))
        failed = CliRunner().invoke(main, args)
        assert failed.exit_code == 1 and "attendance" in failed.output and "Traceback" not in failed.output


def test_the_service_says_when_its_port_is_taken(service_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    monkeypatch.setenv("SITEGEN_COOKIE_KEYS", KEY_A)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            main, ["fragments", "--root", str(service_site), "--store", str(tmp_path / "p.sqlite3"), "--port", str(port)]
        )
    assert result.exit_code == 1 and f"127.0.0.1:{port}: cannot be listened on" in result.output
    assert "--port" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("user", ["x" * 5000, "", "-alice", "a\x1b[31mb", "al ice"])
def test_sign_out_everywhere_refuses_an_id_outside_the_grammar(service_site: Path, tmp_path: Path, user: str) -> None:
    store = str(tmp_path / "personal.sqlite3")
    result = CliRunner().invoke(main, ["fragments", "--root", str(service_site), "--store", store, "sign-out-everywhere", "--user", user])
    assert result.exit_code == 2, result.output
    assert "--user" in result.output and "is not an id" in result.output and "Traceback" not in result.output
    assert "x" * 100 not in result.output and "\x1b" not in result.output
    assert SqliteStore(Path(store)).generation(user) == 0  # nothing stored
