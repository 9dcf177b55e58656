"""The fetch stage against a real HTTP server on 127.0.0.1 (see apiserver.py)."""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from apiserver import ApiServer, Fault
from sitegen.config import SourceConfig
from sitegen.errors import SourceError
from sitegen.fetch import COLLECTIONS, RawArchive, _parse_retry_after, fetch_archive

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
EVENTS = "/api/v1/events"


@pytest.fixture
def api() -> Iterator[ApiServer]:
    with ApiServer(DATA) as server:
        yield server


def config(url: str, **overrides: Any) -> SourceConfig:
    settings: dict[str, Any] = dict(url=url, page_size=PAGE_SIZE, retries=2, backoff=0.0,
                                    connect_timeout=2.0, read_timeout=2.0, total_timeout=20.0)
    return SourceConfig(**{**settings, **overrides})


def fetch(source: SourceConfig, tmp_path: Path, **kwargs: Any) -> RawArchive:
    kwargs.setdefault("environ", {})
    return fetch_archive(source, root=tmp_path, cache_dir=tmp_path / "cache", **kwargs)


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
    assert archive.stats.requests == sum(PAGES.values()) == api.count()
    assert archive.stats.retries == archive.stats.not_modified == 0
    assert archive.stats.bytes_received > 0
    assert api.count(EVENTS) == 3
    first = api.requests[0]
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
    assert json.loads(cache_file.read_text(encoding="utf-8"))["etag"].startswith('"')
    api.clear_requests()

    second = fetch(config(api.url), tmp_path)

    pages = sum(PAGES.values())
    assert as_lists(second) == as_lists(first) == DATA
    assert second.stats.not_modified == second.stats.requests == pages
    assert second.stats.bytes_received == 0
    assert [r.status for r in api.requests] == [304] * pages
    assert all(r.headers["if-none-match"].startswith('"') for r in api.requests)


def test_last_modified_is_sent_back_as_if_modified_since(tmp_path: Path) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    with ApiServer(DATA, last_modified=stamp) as api:
        fetch(config(api.url), tmp_path)
        api.clear_requests()
        fetch(config(api.url), tmp_path)
        assert {r.headers["if-modified-since"] for r in api.requests} == {stamp}


def test_changed_data_is_fetched_again(api: ApiServer, tmp_path: Path) -> None:
    fetch(config(api.url), tmp_path)
    api.set_collection("topics", [{"id": "t1"}])
    archive = fetch(config(api.url), tmp_path)
    assert archive.collections["topics"] == ({"id": "t1"},)
    assert archive.stats.not_modified == sum(PAGES.values()) - 1


def test_a_corrupt_cache_file_is_ignored_and_overwritten(api: ApiServer, tmp_path: Path) -> None:
    fetch(config(api.url), tmp_path)
    url = f"{api.url}/events?page_size=2"
    cache_file = tmp_path / "cache" / "http" / (hashlib.sha256(url.encode()).hexdigest() + ".json")
    cache_file.write_text('{"url": "trunc', encoding="utf-8")
    api.clear_requests()

    archive = fetch(config(api.url), tmp_path)

    assert as_lists(archive) == DATA
    assert archive.stats.not_modified == sum(PAGES.values()) - 1
    [request] = [r for r in api.requests if r.target == "/api/v1/events?page_size=2"]
    assert "if-none-match" not in request.headers and request.status == 200
    assert json.loads(cache_file.read_text(encoding="utf-8"))["url"] == url


def test_cache_entries_no_longer_used_are_pruned(api: ApiServer, tmp_path: Path) -> None:
    fetch(config(api.url), tmp_path)
    cache = tmp_path / "cache" / "http"
    assert len(list(cache.glob("*.json"))) == sum(PAGES.values())
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
    assert archive.stats.requests == sum(PAGES.values()) + 1
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

    message = fetch_error(config(api.url, retries=10, backoff=1.0, total_timeout=5.0), tmp_path,
                          sleep=sleep, clock=lambda: now[0])
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
        (b'{"data": [{"id": "a"}, 1], "next": null}', "data[1] must be an object, not a number"),
        (b'{"data": [], "next": 5}', "'next' must be a URL string or null"),
        (b'{"data": [], "next": "ftp://elsewhere/x"}', "'next' is not an http(s) URL"),
        (b'{"data": [], "next": null, "x": "\xff"}', "not UTF-8"),
        (b'{"data": [' + b"[" * 100_000 + b"]", "nested too deeply"),
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
    assert api.count() == 1  # no retries


def test_401_names_the_token_variable(tmp_path: Path) -> None:
    with ApiServer(DATA, token="s3cret") as api:
        message = fetch_error(config(api.url), tmp_path)
        assert "HTTP 401 Unauthorized" in message
        assert "set the environment variable SITEGEN_API_TOKEN" in message

        message = fetch_error(config(api.url, token_env="MY_TOKEN"), tmp_path, environ={"MY_TOKEN": "wrong-one"})
        assert "check the token in $MY_TOKEN" in message and "wrong-one" not in message
        assert api.count() == 2


def test_the_bearer_token_is_sent(tmp_path: Path) -> None:
    with ApiServer(DATA, token="s3cret") as api:
        archive = fetch(config(api.url, token_env="MY_TOKEN"), tmp_path, environ={"MY_TOKEN": "s3cret"})
        assert as_lists(archive) == DATA
        assert {r.headers["authorization"] for r in api.requests} == {"Bearer s3cret"}


def test_retry_after_as_an_http_date_counts_from_the_response_date() -> None:
    def now():
        return datetime(2015, 10, 21, 7, 28, 20, tzinfo=timezone.utc)

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


def test_bad_json_in_a_local_file_gives_line_and_column(tmp_path: Path) -> None:
    write_folder(tmp_path / "data", DATA)
    (tmp_path / "data" / "events.json").write_text('{"data": [\n  {"id": "e1"},\n]}', encoding="utf-8")
    message = fetch_error(SourceConfig(url="data"), tmp_path)
    assert message.startswith(f"{tmp_path / 'data' / 'events.json'}: is not valid JSON")
    assert "line 3, column 1" in message and 'write it as {"data": [...], "next": null}' in message


@pytest.mark.parametrize(
    ("content", "said"),
    [('{"data": [[]], "next": null}', "data[0] must be an object, not an array"),
     ('{"data": [], "next": "page2.json"}', "has a non-null 'next'")],
)
def test_a_local_file_of_the_wrong_shape(tmp_path: Path, content: str, said: str) -> None:
    write_folder(tmp_path / "data", DATA)
    (tmp_path / "data" / "topics.json").write_text(content, encoding="utf-8")
    message = fetch_error(SourceConfig(url="data"), tmp_path)
    assert str(tmp_path / "data" / "topics.json") in message and said in message


def test_a_missing_local_folder(tmp_path: Path) -> None:
    message = fetch_error(SourceConfig(url="nowhere"), tmp_path)
    assert message.startswith(f"{tmp_path / 'nowhere'}: is not a folder")
    assert "point [source] url at a folder" in message
