"""The fetch stage against a real HTTP server on 127.0.0.1 (see apiserver.py).

Every HTTP fetch first asks for the change feed; the ``api`` fixture has none
(404, one request), so its fetches are full listings. The ``feed_api`` fixture
has one, for the incremental fetch.
"""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from apiserver import ApiServer, Fault, RecordedRequest
from conftest import CACHE_KEY as KEY

from sitegen.config import SourceConfig
from sitegen.errors import ConfigError, SourceError
from sitegen.fetch import COLLECTIONS, SYNC_OVERLAP, RawArchive, fetch_archive
from sitegen.fetch.httpcache import ENTRY_FORMAT, MAX_ENTRY_BYTES
from sitegen.kept import load_kept, save_kept
from sitegen.retry import parse_retry_after as _parse_retry_after

DATA: dict[str, list[dict[str, Any]]] = {
    "series": [{"id": "s1", "slug": "pycon"}],
    "venues": [{"id": f"v{i}"} for i in range(3)],
    "topics": [],
    "people": [{"id": f"p{i}", "name": f"Person {i}"} for i in range(4)],
    "events": [{"id": f"e{i}"} for i in range(5)],
    "sessions": [{"id": f"x{i}", "title": "Ünïcode ✓"} for i in range(9)],  # 5 pages: every next-link form
}
PAGE_SIZE = 2
#: Pages per collection at PAGE_SIZE (an empty collection is still one page).
PAGES = {name: max(1, -(-len(items) // PAGE_SIZE)) for name, items in DATA.items()}
#: Requests for a full listing of every collection.
LISTING = sum(PAGES.values())
EVENTS = "/api/v1/events"
FEED = "/api/v1/changes"


@pytest.fixture
def api() -> Iterator[ApiServer]:
    with ApiServer(DATA) as server:
        yield server


def config(url: str, **overrides: Any) -> SourceConfig:
    settings: dict[str, Any] = dict(
        url=url, page_size=PAGE_SIZE, retries=2, backoff=0.0, connect_timeout=2.0, read_timeout=2.0, total_timeout=20.0
    )
    return SourceConfig(**{**settings, **overrides})


def fetch(source: SourceConfig, tmp_path: Path, cache: str = "cache", **kwargs: Any) -> RawArchive:
    kwargs.setdefault("environ", {})
    kwargs.setdefault("cache_key", KEY)
    return fetch_archive(source, root=tmp_path, cache_dir=tmp_path / cache, **kwargs)


def fetch_error(source: SourceConfig, tmp_path: Path, **kwargs: Any) -> str:
    with pytest.raises(SourceError) as info:
        fetch(source, tmp_path, **kwargs)
    return str(info.value)


def as_lists(archive: RawArchive) -> dict[str, list[Any]]:
    return {name: list(items) for name, items in archive.collections.items()}


# --- pagination and caching --------------------------------------------------------


@pytest.mark.parametrize("slash", ["", "/"])
def test_reads_every_page_of_every_collection_in_order(api: ApiServer, tmp_path: Path, slash: str) -> None:
    archive = fetch(config(api.url + slash), tmp_path)

    assert tuple(archive.collections) == COLLECTIONS
    assert as_lists(archive) == DATA
    assert archive.source == api.url + slash
    assert archive.stats.requests == 1 + LISTING == api.count()
    assert archive.stats.retries == archive.stats.not_modified == 0
    assert archive.stats.bytes_received > 0
    assert not archive.stats.incremental and "no change feed" in archive.stats.full_fetch_reason
    assert api.count(EVENTS) == 3
    probe, first = api.requests[:2]
    assert (probe.target, probe.status) == ("/api/v1/changes", 404)
    assert first.target == "/api/v1/series?page_size=2"
    assert first.headers["user-agent"].startswith("sitegen/")
    assert first.headers["accept"] == "application/json"
    assert "authorization" not in first.headers


def test_an_injected_client_is_used_and_left_open(api: ApiServer, tmp_path: Path) -> None:
    with httpx.Client() as client:
        archive = fetch(config(api.url), tmp_path, client=client)
        assert not client.is_closed
    assert as_lists(archive) == DATA


def test_second_fetch_costs_only_304s(api: ApiServer, tmp_path: Path) -> None:
    first = fetch(config(api.url), tmp_path)
    cache_file = tmp_path / "cache" / "http" / (hashlib.sha256(f"{api.url}/events?page_size=2".encode()).hexdigest() + ".json")
    assert load_kept(cache_file, MAX_ENTRY_BYTES, ENTRY_FORMAT, f"{api.url}/events?page_size=2", KEY)["etag"].startswith('"')
    api.clear_requests()

    second = fetch(config(api.url), tmp_path)

    assert as_lists(second) == as_lists(first) == DATA
    assert second.stats.not_modified == second.stats.requests - 1 == LISTING
    assert second.stats.bytes_received == 0
    assert [r.status for r in api.requests] == [404] + [304] * LISTING  # the feed probe, then the listing
    assert all(r.headers["if-none-match"].startswith('"') for r in api.requests[1:])


def test_last_modified_is_sent_back_as_if_modified_since(tmp_path: Path) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    with ApiServer(DATA, last_modified=stamp) as api:
        fetch(config(api.url), tmp_path)
        api.clear_requests()
        fetch(config(api.url), tmp_path)
        assert {r.headers["if-modified-since"] for r in api.requests if r.path != FEED} == {stamp}


def test_changed_data_is_fetched_again(api: ApiServer, tmp_path: Path) -> None:
    fetch(config(api.url), tmp_path)
    api.set_collection("topics", [{"id": "t1"}])
    archive = fetch(config(api.url), tmp_path)
    assert archive.collections["topics"] == ({"id": "t1"},)
    assert archive.stats.not_modified == LISTING - 1


def test_a_corrupt_cache_file_is_ignored_and_overwritten(api: ApiServer, tmp_path: Path) -> None:
    fetch(config(api.url), tmp_path)
    url = f"{api.url}/events?page_size=2"
    cache_file = tmp_path / "cache" / "http" / (hashlib.sha256(url.encode()).hexdigest() + ".json")
    cache_file.write_text('{"url": "trunc', encoding="utf-8")
    api.clear_requests()

    archive = fetch(config(api.url), tmp_path)

    assert as_lists(archive) == DATA
    assert archive.stats.not_modified == LISTING - 1
    [request] = [r for r in api.requests if r.target == "/api/v1/events?page_size=2"]
    assert "if-none-match" not in request.headers and request.status == 200
    assert load_kept(cache_file, MAX_ENTRY_BYTES, ENTRY_FORMAT, url, KEY)["url"] == url


def test_a_planted_cache_entry_with_the_servers_own_etag_is_not_used(api: ApiServer, tmp_path: Path) -> None:
    """The cache folder may come from a cache other branches wrote: an entry in the old plain
    JSON, with the server's real ETag (public) and a body of the attacker's, is not sealed by
    the build's key, so it is not used: the page is fetched whole, and the data is the server's."""
    fetch(config(api.url), tmp_path)
    url = f"{api.url}/sessions?page_size=2"
    cache_file = tmp_path / "cache" / "http" / (hashlib.sha256(url.encode()).hexdigest() + ".json")
    entry = load_kept(cache_file, MAX_ENTRY_BYTES, ENTRY_FORMAT, url, KEY)
    entry["body"] = '{"data": [{"id": "planted", "title": "PLANTED"}], "next": null}'
    cache_file.write_text(json.dumps(entry), encoding="utf-8")
    assert as_lists(fetch(config(api.url), tmp_path)) == DATA
    save_kept(cache_file, MAX_ENTRY_BYTES, ENTRY_FORMAT, url, entry, b"a key of 32 characters the attacker holds")
    assert as_lists(fetch(config(api.url), tmp_path)) == DATA


def test_cache_entries_no_longer_used_are_pruned(api: ApiServer, tmp_path: Path) -> None:
    fetch(config(api.url), tmp_path)
    cache = tmp_path / "cache" / "http"
    assert len(list(cache.glob("*.json"))) == LISTING
    archive = fetch(config(api.url, page_size=100), tmp_path)
    assert archive.stats.not_modified == 0
    assert len(list(cache.glob("*.json"))) == len(COLLECTIONS)


# --- retries, waits and budgets ----------------------------------------------------


def test_429_waits_as_long_as_retry_after_says(api: ApiServer, tmp_path: Path) -> None:
    api.add_fault("events", Fault(status=429, retry_after="7"))
    sleeps: list[float] = []

    archive = fetch(config(api.url, backoff=0.5), tmp_path, sleep=sleeps.append)

    assert sleeps == [7.0]
    assert as_lists(archive) == DATA
    assert archive.stats.retries == 1
    assert archive.stats.requests == 1 + LISTING + 1
    assert [r.status for r in api.requests if r.path == EVENTS] == [429, 200, 200, 200]


def test_retry_after_longer_than_max_retry_after_fails_at_once(api: ApiServer, tmp_path: Path) -> None:
    api.add_fault("events", Fault(status=503, retry_after="3600"))
    message = fetch_error(config(api.url, max_retry_after=60), tmp_path, sleep=lambda s: None)
    assert f"{api.url}/events?page_size=2" in message
    assert "3600 s" in message and "max_retry_after = 60" in message
    assert api.count(EVENTS) == 1


def test_503_is_retried_with_exponential_backoff(api: ApiServer, tmp_path: Path) -> None:
    api.add_fault("events", Fault(status=503, times=2))
    sleeps: list[float] = []

    archive = fetch(config(api.url, backoff=0.25, retries=3), tmp_path, sleep=sleeps.append)

    assert sleeps == [0.25, 0.5]
    assert archive.stats.retries == 2
    assert as_lists(archive) == DATA


def test_retries_exhausted_names_the_url_the_last_status_and_the_fix(api: ApiServer, tmp_path: Path) -> None:
    api.add_fault("events", Fault(status=500, times=None))
    message = fetch_error(config(api.url, retries=2), tmp_path)
    assert message.startswith(f"{api.url}/events?page_size=2: failed after 3 attempt(s)")
    assert "HTTP 500" in message
    assert "raise [source] retries" in message
    assert api.count(EVENTS) == 3


def test_a_slow_server_is_retried_then_reported_with_read_timeout(api: ApiServer, tmp_path: Path) -> None:
    api.add_fault("series", Fault(delay=0.3, times=None))
    message = fetch_error(config(api.url, read_timeout=0.1, retries=1), tmp_path)
    assert f"{api.url}/series?page_size=2" in message
    assert "failed after 2 attempt(s)" in message and "read_timeout = 0.1 s" in message
    assert "raise [source] read_timeout" in message
    assert api.count("/api/v1/series") == 2


def test_connection_refused_names_the_url(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api"
    message = fetch_error(config(url, retries=1), tmp_path)
    assert message.startswith(f"{url}/series?page_size=2: failed after 2 attempt(s)")
    assert "ConnectError" in message and "check that [source] url is right" in message


def test_total_timeout_stops_retrying(api: ApiServer, tmp_path: Path) -> None:
    api.add_fault("series", Fault(status=503, times=None))
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    message = fetch_error(config(api.url, retries=10, backoff=1.0, total_timeout=5.0), tmp_path, sleep=sleep, clock=lambda: now[0])
    assert sleeps == [1.0, 2.0]  # the next wait, 4 s, would end after the 5 s budget
    assert "total_timeout = 5 s" in message and "raise [source] total_timeout" in message
    assert f"{api.url}/series?page_size=2" in message


def test_total_timeout_bounds_a_single_slow_request(api: ApiServer, tmp_path: Path) -> None:
    api.add_fault("series", Fault(delay=0.3, times=None))
    message = fetch_error(config(api.url, read_timeout=5.0, total_timeout=0.15), tmp_path)
    assert "longer than total_timeout = 0.15 s" in message
    assert api.count("/api/v1/series") == 1


# --- broken answers ------------------------------------------------------------------


def test_a_next_loop_is_an_error(api: ApiServer, tmp_path: Path) -> None:
    api.add_fault("events", Fault(loop=True, times=None))
    message = fetch_error(config(api.url), tmp_path)
    assert "loop" in message and "a page of events already read" in message
    assert "API contract" in message


@pytest.mark.parametrize(("chunked", "said"), [(False, "declares 50000 bytes"), (True, "exceeds max_response_bytes")])
def test_an_oversized_body_is_refused(api: ApiServer, tmp_path: Path, chunked: bool, said: str) -> None:
    api.add_fault("events", Fault(body=b" " * 50_000, chunked=chunked))
    message = fetch_error(config(api.url, max_response_bytes=1000), tmp_path)
    assert f"{api.url}/events?page_size=2" in message
    assert said in message and "max_response_bytes = 1000" in message
    assert "raise [source] max_response_bytes" in message
    assert api.count(EVENTS) == 1


def test_a_body_that_is_not_json(api: ApiServer, tmp_path: Path) -> None:
    api.add_fault("people", Fault(body=b"<html>\n<p>Gateway</p>", content_type="text/html"))
    message = fetch_error(config(api.url), tmp_path)
    assert message.startswith(f"{api.url}/people?page_size=2: is not valid JSON")
    assert "line 1, column 1" in message and "[source] url" in message


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"[]", "must be a JSON object"),
        (b'{"data": {}, "next": null}', "'data' must be an array, not an object"),
        (b"{}", "has no 'data' key"),
        (b'{"data": null}', "'data' must be an array, not null"),
        (b'{"data": [{"id": "a"}, 1], "next": null}', "data[1] must be an object, not a number"),
        (b'{"data": [], "next": 5}', "'next' must be a URL string or null"),
        (b'{"data": [], "next": "ftp://elsewhere/x"}', "'next' is not an http(s) URL"),
        (b'{"data": [], "next": null, "x": "\xff"}', "not UTF-8"),
        (b'{"data": [' + b"[" * 100_000 + b"]", "nested more than 64 levels deep"),
    ],
)
def test_a_body_of_the_wrong_shape(api: ApiServer, tmp_path: Path, body: bytes, said: str) -> None:
    api.add_fault("venues", Fault(body=body))
    message = fetch_error(config(api.url), tmp_path)
    assert f"{api.url}/venues?page_size=2" in message
    assert said in message and "does not follow the API contract" in message


def test_a_wrong_base_url_gives_404_and_says_so(api: ApiServer, tmp_path: Path) -> None:
    message = fetch_error(config(api.origin + "/api/v2"), tmp_path)
    assert message.startswith(f"{api.origin}/api/v2/series?page_size=2: HTTP 404 Not Found")
    assert f"the base URL [source] url = '{api.origin}/api/v2' is probably wrong" in message
    assert api.count() == 2  # the feed probe (its 404 only means no change feed), then series: no retries


def test_401_names_the_token_variable(tmp_path: Path) -> None:
    with ApiServer(DATA, token="s3cret") as api:
        message = fetch_error(config(api.url), tmp_path)
        assert "HTTP 401 Unauthorized" in message
        assert "set the environment variable SITEGEN_API_TOKEN" in message

        message = fetch_error(config(api.url, token_env="MY_TOKEN"), tmp_path, environ={"MY_TOKEN": "wrong-one"})
        assert "check the token in $MY_TOKEN" in message and "wrong-one" not in message
        assert api.count() == 4  # each time the feed probe, then series (the feed is optional: a 401 there is not fatal)


def test_the_bearer_token_is_sent(tmp_path: Path) -> None:
    with ApiServer(DATA, token="s3cret") as api:
        archive = fetch(config(api.url, token_env="MY_TOKEN"), tmp_path, environ={"MY_TOKEN": "s3cret"})
        assert as_lists(archive) == DATA
        assert {r.headers["authorization"] for r in api.requests} == {"Bearer s3cret"}


def test_retry_after_as_an_http_date_counts_from_the_response_date() -> None:
    def now():
        return datetime(2015, 10, 21, 7, 28, 20, tzinfo=UTC)

    assert _parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", "Wed, 21 Oct 2015 07:28:00 GMT", now) == 30.0
    assert _parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", "Wed, 21 Oct 2015 07:28:00 GMT", now) == 0.0
    assert _parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", None, now) == 10.0  # no Date: the injected clock
    assert _parse_retry_after(" 12 ", None, now) == 12.0
    assert _parse_retry_after("soon", None, now) is None


# --- the local folder form -----------------------------------------------------------


def write_folder(folder: Path, data: dict[str, list[dict[str, Any]]]) -> None:
    folder.mkdir(parents=True)
    for name, items in data.items():
        (folder / f"{name}.json").write_text(json.dumps({"data": items, "next": None}), encoding="utf-8")


def test_reads_the_local_folder_form(tmp_path: Path) -> None:
    write_folder(tmp_path / "content" / "data", DATA)
    archive = fetch(SourceConfig(url="content/data"), tmp_path)
    assert as_lists(archive) == DATA
    assert archive.stats.requests == 0
    assert archive.source == str(tmp_path / "content" / "data")


def test_a_missing_local_file_is_named(tmp_path: Path) -> None:
    write_folder(tmp_path / "data", {name: items for name, items in DATA.items() if name != "people"})
    message = fetch_error(SourceConfig(url="data"), tmp_path)
    assert message.startswith(f"{tmp_path / 'data' / 'people.json'}: is missing")
    assert "create it" in message and "[source] url" in message
    (tmp_path / "data" / "people.json").symlink_to(tmp_path / "gone.json")
    message = fetch_error(SourceConfig(url="data"), tmp_path)
    assert message.startswith(f"{tmp_path / 'data' / 'people.json'}: is a link to a file that does not exist")


def test_bad_json_in_a_local_file_gives_line_and_column(tmp_path: Path) -> None:
    write_folder(tmp_path / "data", DATA)
    (tmp_path / "data" / "events.json").write_text('{"data": [\n  {"id": "e1"},\n]}', encoding="utf-8")
    message = fetch_error(SourceConfig(url="data"), tmp_path)
    assert message.startswith(f"{tmp_path / 'data' / 'events.json'}: is not valid JSON")
    assert "line 3, column 1" in message and 'write it as {"data": [...], "next": null}' in message


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ('{"data": [[]], "next": null}', "data[0] must be an object, not an array"),
        ('{"data": [], "next": "page2.json"}', "has a non-null 'next'"),
    ],
)
def test_a_local_file_of_the_wrong_shape(tmp_path: Path, content: str, said: str) -> None:
    write_folder(tmp_path / "data", DATA)
    (tmp_path / "data" / "topics.json").write_text(content, encoding="utf-8")
    message = fetch_error(SourceConfig(url="data"), tmp_path)
    assert str(tmp_path / "data" / "topics.json") in message and said in message


def test_a_missing_local_folder(tmp_path: Path) -> None:
    # The folder form's check runs at fetch's entry, before any work: the config's mistake, named as such.
    with pytest.raises(ConfigError) as info:
        fetch(SourceConfig(url="nowhere"), tmp_path)
    message = str(info.value)
    assert f"sitegen.toml [source]: url = 'nowhere' is neither an http(s) URL nor a folder under {tmp_path}" in message
    assert "a folder holding <collection>.json files" in message


# --- the incremental fetch: a local copy kept up to date through the change feed ------

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
#: DATA as the contract has it: every object with an updated_at, here long before T0.
FEED_DATA = {name: [{**item, "updated_at": "2025-01-01T00:00:00Z"} for item in items] for name, items in DATA.items()}
#: The initial data is in the feed as one upsert per object; the feed_api pages it by 10.
FEED_PAGES = -(-sum(len(items) for items in DATA.values()) // 10)
SESSIONS = "/api/v1/sessions"


@pytest.fixture
def server_time() -> list[datetime]:
    """The feed_api's clock (Date headers, and the updated_at its upserts stamp); tests move it."""
    return [T0]


@pytest.fixture
def feed_api(server_time: list[datetime]) -> Iterator[ApiServer]:
    with ApiServer(FEED_DATA, change_feed=True, feed_page_size=10, clock=lambda: server_time[0]) as server:
        yield server


def full_fetch(api: ApiServer, tmp_path: Path) -> dict[str, list[Any]]:
    """What a fresh, full fetch gives now: the reference every incremental fetch must equal."""
    return as_lists(fetch(config(api.url), tmp_path, cache="reference", incremental=False))


def some_changes(api: ApiServer, server_time: list[datetime]) -> None:
    """An hour later: a session changed (to text JSON allows but UTF-8 cannot hold), two added (two
    pages with updated_since), a person deleted, and a venue that came and went."""
    server_time[0] = T0 + timedelta(hours=1)
    api.upsert("sessions", {"id": "x3", "title": "Retitled \ud800"})
    api.upsert("sessions", {"id": "x9", "title": "New"})
    api.upsert("sessions", {"id": "x10", "title": "Newer"})
    api.delete("people", "p2")
    api.upsert("venues", {"id": "v9"})
    api.delete("venues", "v9")


def test_a_full_fetch_keeps_a_local_copy_in_the_folder_form(feed_api: ApiServer, tmp_path: Path) -> None:
    archive = fetch(config(feed_api.url), tmp_path)

    assert as_lists(archive) == FEED_DATA
    assert not archive.stats.incremental and "no usable local copy" in archive.stats.full_fetch_reason
    assert archive.stats.requests == FEED_PAGES + LISTING == feed_api.count()
    assert [r.path for r in feed_api.requests[:FEED_PAGES]] == [FEED] * FEED_PAGES  # the cursor first, then the listing
    objects = tmp_path / "cache" / "objects"
    state = load_kept(objects / "state.json", 1 << 20, "local-copy", "state", KEY)
    assert state["synced_at"] == T0.isoformat() and state["cursor"]
    assert as_lists(fetch(SourceConfig(url=str(objects)), tmp_path)) == FEED_DATA  # usable for an offline build


def test_an_incremental_fetch_reads_only_the_changes_and_equals_a_full_fetch(
    feed_api: ApiServer, server_time: list[datetime], tmp_path: Path
) -> None:
    fetch(config(feed_api.url), tmp_path)
    some_changes(feed_api, server_time)
    feed_api.clear_requests()

    archive = fetch(config(feed_api.url), tmp_path)

    stats = archive.stats
    assert stats.incremental and stats.full_fetch_reason == ""
    assert stats.changed_objects == 5  # x3, x9, x10, p2, v9
    assert stats.requests == 3 == feed_api.count()  # the feed, then two pages of sessions changed since the last sync
    feed, *sessions = feed_api.requests
    assert feed.path == FEED and "since=" in feed.target
    since = (T0 - SYNC_OVERLAP).strftime("%Y-%m-%dT%H%%3A%M%%3A%SZ")
    assert [r.path for r in sessions] == [SESSIONS] * 2 and all(f"updated_since={since}" in r.target for r in sessions)
    assert as_lists(archive) == full_fetch(feed_api, tmp_path)  # the same objects, in the same order
    assert [p["id"] for p in archive.collections["people"]] == ["p0", "p1", "p3"]
    assert [s["id"] for s in archive.collections["sessions"]][-3:] == ["x8", "x9", "x10"]


def test_an_incremental_fetch_without_changes_costs_one_request(feed_api: ApiServer, server_time: list[datetime], tmp_path: Path) -> None:
    fetch(config(feed_api.url), tmp_path)
    some_changes(feed_api, server_time)
    fetch(config(feed_api.url), tmp_path)
    feed_api.clear_requests()

    archive = fetch(config(feed_api.url), tmp_path)

    assert archive.stats.incremental and archive.stats.changed_objects == 0
    assert [r.path for r in feed_api.requests] == [FEED]
    assert as_lists(archive) == full_fetch(feed_api, tmp_path)


def test_without_a_change_feed_every_fetch_is_full_and_sees_deletions(api: ApiServer, tmp_path: Path) -> None:
    fetch(config(api.url), tmp_path)
    api.set_collection("people", DATA["people"][:2])
    api.clear_requests()

    archive = fetch(config(api.url), tmp_path)

    assert not archive.stats.incremental and "HTTP 404" in archive.stats.full_fetch_reason
    assert as_lists(archive) == full_fetch(api, tmp_path)
    assert [p["id"] for p in archive.collections["people"]] == ["p0", "p1"]
    assert api.count(FEED) == 1 and archive.stats.not_modified == LISTING - PAGES["people"]
    assert not (tmp_path / "cache" / "objects" / "state.json").exists()


def corrupt(objects: Path) -> None:
    (objects / "sessions.json").write_text('{"data": [{"id": "x0"', encoding="utf-8")


def edit(objects: Path) -> None:
    """Valid JSON, but not what was fetched: only the checksum tells."""
    path = objects / "people.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"Person 1"', '"Someone else"'), encoding="utf-8")


@pytest.mark.parametrize(
    "damage",
    [
        corrupt,
        edit,
        lambda objects: (objects / "events.json").unlink(),
        lambda objects: (objects / "state.json").write_text("{", encoding="utf-8"),
        lambda objects: (objects / "state.json").write_text('{"version": 1}', encoding="utf-8"),
        lambda objects: (objects / "state.json").unlink(),
    ],
    ids=["truncated", "edited", "file-missing", "state-corrupt", "state-incomplete", "state-missing"],
)
def test_a_damaged_local_copy_means_a_full_fetch(
    feed_api: ApiServer, server_time: list[datetime], tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    fetch(config(feed_api.url), tmp_path)
    damage(tmp_path / "cache" / "objects")
    some_changes(feed_api, server_time)
    feed_api.clear_requests()

    archive = fetch(config(feed_api.url), tmp_path)

    assert not archive.stats.incremental and "no usable local copy" in archive.stats.full_fetch_reason
    feed_reads = [r.target for r in feed_api.requests if r.path == FEED]
    assert "since" not in feed_reads[0]  # the copy was not even tried: the feed is read from its start for a new cursor
    listing = [r.target for r in feed_api.requests if r.path != FEED]
    assert len(listing) == LISTING + 1 and not any("updated_since" in t for t in listing)  # sessions has a page more
    assert as_lists(archive) == full_fetch(feed_api, tmp_path)
    assert fetch(config(feed_api.url), tmp_path).stats.incremental  # the copy is whole again


@pytest.mark.parametrize(
    ("trouble", "said"),
    [
        (lambda api: api.expire_cursors(), "HTTP 410 Gone: the server refused the cursor"),
        (lambda api: api.add_fault("changes", Fault(status=400)), "HTTP 400 Bad Request: the server refused the cursor"),
        (lambda api: api.add_fault("changes", Fault(status=404)), "the server has no change feed"),
        (lambda api: api.add_fault("changes", Fault(status=500, times=3)), "failed after 3 attempt(s)"),
        (lambda api: api.add_fault("changes", Fault(body=b'{"data": [], "next": "changes?since=x", "cursor": "x"}', times=2)), "a loop"),
        (lambda api: api.add_fault("changes", Fault(body=b'{"data": [], "next": null}')), "has no 'cursor'"),
        (lambda api: api.add_fault("changes", Fault(body=b'{"data": [], "next": null, "cursor": 7}')), "'cursor' must be a string"),
        (
            lambda api: api.add_fault(
                "changes", Fault(body=b'{"data": [{"type": "room", "id": "r1", "op": "upsert"}], "next": null, "cursor": "x"}')
            ),
            "an entry the contract does not define",
        ),
        (lambda api: api.add_fault("sessions", Fault(status=400)), "HTTP 400"),  # updated_since not supported after all
    ],
    ids=["expired", "rejected", "feed-gone", "feed-down", "feed-loop", "no-cursor", "bad-cursor", "unknown-type", "no-updated-since"],
)
def test_any_doubt_about_the_changes_means_a_full_fetch(
    feed_api: ApiServer, server_time: list[datetime], tmp_path: Path, trouble: Callable[[ApiServer], None], said: str
) -> None:
    fetch(config(feed_api.url), tmp_path)
    some_changes(feed_api, server_time)
    trouble(feed_api)

    archive = fetch(config(feed_api.url), tmp_path)

    assert not archive.stats.incremental
    assert "could not be brought up to date" in archive.stats.full_fetch_reason and said in archive.stats.full_fetch_reason
    assert as_lists(archive) == full_fetch(feed_api, tmp_path)
    feed_api.upsert("topics", {"id": "t1"})
    again = fetch(config(feed_api.url), tmp_path)
    assert again.stats.incremental and as_lists(again) == full_fetch(feed_api, tmp_path)


def test_an_upsert_that_updated_since_does_not_confirm_means_a_full_fetch(
    feed_api: ApiServer, server_time: list[datetime], tmp_path: Path
) -> None:
    fetch(config(feed_api.url), tmp_path)
    server_time[0] = T0 + timedelta(hours=1)
    feed_api.upsert("people", {"id": "p1", "name": "Renamed", "updated_at": "2025-01-01T00:00:00Z"}, stamp=False)

    archive = fetch(config(feed_api.url), tmp_path)

    assert not archive.stats.incremental
    assert "lists person 'p1' as changed, but people listed with updated_since does not return it" in archive.stats.full_fetch_reason
    assert archive.collections["people"][1]["name"] == "Renamed"
    assert as_lists(archive) == full_fetch(feed_api, tmp_path)


@pytest.mark.parametrize("local", [datetime(1999, 1, 1, tzinfo=UTC), datetime(2099, 1, 1, tzinfo=UTC)])
def test_the_local_clock_does_not_matter(feed_api: ApiServer, server_time: list[datetime], tmp_path: Path, local: datetime) -> None:
    fetch(config(feed_api.url), tmp_path, now=lambda: local)
    some_changes(feed_api, server_time)

    archive = fetch(config(feed_api.url), tmp_path, now=lambda: local)

    assert archive.stats.incremental  # updated_since comes from the server's Date, not from here
    assert as_lists(archive) == full_fetch(feed_api, tmp_path)


def test_a_change_the_listing_missed_is_caught_next_time(feed_api: ApiServer, tmp_path: Path) -> None:
    """The cursor is read before the listing, so a change made while listing is in the feed after it."""

    def change_people_once_they_are_listed(request: RecordedRequest) -> None:
        if request.path == SESSIONS and not changed:
            changed.append(feed_api.upsert("people", {"id": "p0", "name": "Changed meanwhile"}))

    changed: list[dict[str, Any]] = []
    feed_api.on_request = change_people_once_they_are_listed
    first = fetch(config(feed_api.url), tmp_path)
    assert changed and first.collections["people"][0]["name"] == "Person 0"

    second = fetch(config(feed_api.url), tmp_path)

    assert second.stats.incremental and second.stats.changed_objects == 1
    assert second.collections["people"][0]["name"] == "Changed meanwhile"
    assert as_lists(second) == full_fetch(feed_api, tmp_path)


def test_another_token_or_url_is_another_local_copy(feed_api: ApiServer, tmp_path: Path) -> None:
    fetch(config(feed_api.url), tmp_path, environ={"SITEGEN_API_TOKEN": "alice"})
    assert fetch(config(feed_api.url), tmp_path, environ={"SITEGEN_API_TOKEN": "alice"}).stats.incremental
    assert not fetch(config(feed_api.url), tmp_path, environ={"SITEGEN_API_TOKEN": "bob"}).stats.incremental
    assert not fetch(config(feed_api.url + "/"), tmp_path, environ={"SITEGEN_API_TOKEN": "bob"}).stats.incremental
    assert b"alice" not in (tmp_path / "cache" / "objects" / "state.json").read_bytes()


def test_objects_without_unique_ids_are_never_merged(feed_api: ApiServer, tmp_path: Path) -> None:
    feed_api.set_collection("topics", [{"id": "t1"}, {"id": "t1"}])
    fetch(config(feed_api.url), tmp_path)
    archive = fetch(config(feed_api.url), tmp_path)
    assert not archive.stats.incremental
    assert archive.collections["topics"] == ({"id": "t1"}, {"id": "t1"})  # as sent: the model reports the duplicate


def test_collections_outside_the_feed_and_incremental_false_skip_the_feed(feed_api: ApiServer, tmp_path: Path) -> None:
    feed_api.set_collection("follows", [{"user": "u1", "follows": "p1"}])
    archive = fetch(config(feed_api.url), tmp_path, collections=("follows",))
    assert archive.collections["follows"] == ({"user": "u1", "follows": "p1"},)
    assert "covers only the contract's collections" in archive.stats.full_fetch_reason
    fetch(config(feed_api.url), tmp_path, incremental=False)
    assert feed_api.count(FEED) == 0 and not (tmp_path / "cache" / "objects").exists()


def test_a_feed_that_cannot_be_read_from_its_start_means_full_fetches(feed_api: ApiServer, tmp_path: Path) -> None:
    feed_api.add_fault("changes", Fault(status=400, times=None))
    fetch(config(feed_api.url), tmp_path)
    archive = fetch(config(feed_api.url), tmp_path)
    assert not archive.stats.incremental and "refused to read the feed from its start" in archive.stats.full_fetch_reason
    assert as_lists(archive) == FEED_DATA
    assert not (tmp_path / "cache" / "objects" / "state.json").exists()
