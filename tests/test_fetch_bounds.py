"""Hostile servers and files: decompression bombs, JSON nested 100,000 deep, unknown
or broken content codings. Each is one clear message naming the URL or file, exit 1,
no traceback, the last build untouched, and memory within max_response_bytes.

Builds run ``sitegen build`` as a subprocess against a real HTTP server on
127.0.0.1 (apiserver.py); its own peak memory is measured by ``peak.run_measured``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import resource
import shutil
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from apiserver import ApiServer, Fault
from conftest import CACHE_KEY as KEY
from conftest import MINIMAL_SITE, tree
from peak import run_measured

import sitegen.fetch
import sitegen.fetch.paging
from sitegen.config import SourceConfig
from sitegen.errors import SourceError
from sitegen.fetch import fetch_archive
from sitegen.fetch.httpcache import ENTRY_FORMAT, MAX_ENTRY_BYTES
from sitegen.kept import load_kept, save_kept

MIB = 1 << 20
#: SourceConfig's default max_response_bytes, which the builds here keep.
CAP = SourceConfig().max_response_bytes
#: The build's subprocess may not map more than this: a regression fails the test, not the machine.
ADDRESS_SPACE_LIMIT = 3 << 30


def gzip_of_zeros(size: int) -> bytes:
    """A gzip member holding ``size`` zero bytes (a multiple of 1 MiB), made without compressing
    them all: after a full flush a deflate segment decodes alike wherever it stands, so one
    segment of 1 MiB of zeros is repeated. 1 GiB takes about 1 MB."""
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(MIB)
    segment = raw.compress(zeros) + raw.flush(zlib.Z_FULL_FLUSH)
    end = raw.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(size // MIB):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + segment * (size // MIB) + end + struct.pack("<II", crc, size & 0xFFFFFFFF)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def minimal_data() -> dict[str, list[dict[str, Any]]]:
    folder = MINIMAL_SITE / "data"
    return {p.stem: json.loads(p.read_text(encoding="utf-8"))["data"] for p in folder.glob("*.json")}


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))


def sitegen_measured(*args: str) -> tuple[int, str, int]:
    """Run ``sitegen *args``: its exit code, its stderr, and its own peak RSS in bytes."""
    run = run_measured([sys.executable, "-m", "sitegen", *args], env={**os.environ, "CI": "true"}, preexec_fn=limit_memory, timeout=300)
    return run.returncode, run.stderr, run.peak_bytes


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(MINIMAL_SITE, site, ignore=shutil.ignore_patterns("build", ".sitegen-cache"))
    return site


# --- decompression bombs through `sitegen build` -------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("codings", "decoded"), [("gzip, gzip", 4 << 30), ("gzip", 1 << 30)], ids=["4GiB-gzip-gzip", "1GiB-gzip"])
def test_a_decompression_bomb_is_refused_within_max_response_bytes(site: Path, codings: str, decoded: int, record_property: Any) -> None:
    body = gzip_of_zeros(decoded)
    if codings == "gzip, gzip":
        body = gzip.compress(body, 9)
    with ApiServer(minimal_data()) as api:
        code, stderr, baseline = sitegen_measured("build", "--root", str(site), "--source", api.url)
        assert code == 0, stderr
        before = tree(site / "build")
        api.add_fault("series", Fault(body=body, headers={"Content-Encoding": codings}))

        code, stderr, peak = sitegen_measured("build", "--root", str(site), "--source", api.url)
        url = api.url

    record_property("compressed_bytes", len(body))
    record_property("baseline_peak_rss", baseline)
    record_property("bomb_peak_rss", peak)
    assert code == 1 and "Traceback" not in stderr
    assert (
        f"{url}/series?page_size=500: the response exceeds max_response_bytes = {CAP} once decoded (Content-Encoding: {codings})"
    ) in stderr
    assert "raise [source] max_response_bytes" in stderr
    assert tree(site / "build") == before
    assert peak < baseline + 2 * CAP, f"peak RSS {peak / MIB:.0f} MiB, a normal build {baseline / MIB:.0f} MiB"


# --- codings: unknown, truncated, and the ones decoded --------------------------------


def config(url: str, **overrides: Any) -> SourceConfig:
    settings: dict[str, Any] = dict(url=url, page_size=2, retries=0, backoff=0.0, connect_timeout=2.0, read_timeout=2.0, total_timeout=20.0)
    return SourceConfig(**{**settings, **overrides})


def fetch_error(source: SourceConfig, tmp_path: Path) -> str:
    with pytest.raises(SourceError) as caught:
        fetch_archive(source, root=tmp_path, cache_dir=tmp_path / "cache", environ={}, cache_key=KEY)
    return str(caught.value)


PAGE = json.dumps({"data": [{"id": "v1", "name": "Hall"}], "next": None}).encode()


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("gzip, deflate", lambda data: zlib.compress(gzip.compress(data))),
        ("identity", lambda data: data),
    ],
)
def test_encoded_pages_are_decoded_and_accept_encoding_asks_for_what_is_decoded(tmp_path: Path, coding: str, encode: Any) -> None:
    with ApiServer({}) as api:
        api.add_fault("venues", Fault(body=encode(PAGE), headers={"Content-Encoding": coding}))
        raw = fetch_archive(config(api.url), root=tmp_path, cache_dir=tmp_path / "cache", environ={}, cache_key=KEY)
        assert raw.collections["venues"] == ({"id": "v1", "name": "Hall"},)
        assert {r.headers["accept-encoding"] for r in api.requests} == {"gzip, deflate"}


def test_an_unknown_content_coding_is_one_message_naming_the_url_and_the_coding(tmp_path: Path) -> None:
    with ApiServer({}) as api:
        api.add_fault("venues", Fault(body=b"\x0b\x02\x80{}\x03", headers={"Content-Encoding": "br"}))
        message = fetch_error(config(api.url), tmp_path)
        assert message.startswith(f"{api.url}/venues?page_size=2: the response has Content-Encoding 'br', which sitegen does not decode")
        assert "Accept-Encoding: gzip, deflate" in message
        api.add_fault("venues", Fault(body=PAGE, headers={"Content-Encoding": "x" * 5000}))
        message = fetch_error(config(api.url), tmp_path)
        assert "Content-Encoding 'xxxx" in message and len(message) < 400


def test_a_truncated_gzip_body_is_one_message_naming_the_url(tmp_path: Path) -> None:
    whole = gzip.compress(PAGE * 50)
    with ApiServer({}) as api:
        api.add_fault("venues", Fault(body=whole[: len(whole) // 2], headers={"Content-Encoding": "gzip"}))
        message = fetch_error(config(api.url), tmp_path)
        assert message.startswith(f"{api.url}/venues?page_size=2: the gzip encoded body is cut short or corrupt")
        assert "does not follow the API contract" in message


def test_endless_next_links_stop_at_max_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sitegen.fetch.paging, "MAX_PAGES", 3)
    with ApiServer({"venues": [{"id": f"v{i}"} for i in range(10)]}) as api:
        message = fetch_error(config(api.url), tmp_path)
        assert message.startswith(f"{api.url}/venues?page_size=2")
        assert "venues has more than 3 pages" in message and "raise [source] page_size" in message
        assert api.count("/api/v1/venues") == 3


def test_a_redirect_loop_stops_at_max_redirects(tmp_path: Path) -> None:
    with ApiServer({}) as api:
        api.add_fault("venues", Fault(status=302, headers={"Location": f"{api.url}/venues?page_size=2"}, times=None))
        message = fetch_error(config(api.url), tmp_path)
        assert message.startswith(f"{api.url}/venues?page_size=2: redirects more than {sitegen.fetch.MAX_REDIRECTS} times")
        assert api.count("/api/v1/venues") == sitegen.fetch.MAX_REDIRECTS + 1


# --- JSON nested deeper than MAX_JSON_DEPTH, at every entry point ----------------------

DEPTHS = [1_000, 100_000]
DEEP = "nested more than 64 levels deep"


def deep_page(depth: int) -> bytes:
    return ('{"data": [{"id": "x1", "title": ' + nested(depth) + '}], "next": null}').encode()


@pytest.mark.parametrize("depth", DEPTHS)
def test_deep_json_in_an_api_page_is_one_message_naming_the_url(site: Path, depth: int) -> None:
    with ApiServer(minimal_data()) as api:
        api.add_fault("sessions", Fault(body=deep_page(depth)))
        url = api.url
        code, stderr, _ = sitegen_measured("build", "--root", str(site), "--source", url)
    assert code == 1 and "Traceback" not in stderr
    assert f"{url}/sessions?page_size=500: is JSON {DEEP}" in stderr
    assert not (site / "build").exists()


@pytest.mark.parametrize("depth", DEPTHS)
def test_deep_json_in_a_folder_file_is_one_message_naming_the_file(site: Path, depth: int) -> None:
    (site / "data" / "sessions.json").write_bytes(deep_page(depth))
    code, stderr, _ = sitegen_measured("build", "--root", str(site))
    assert code == 1 and "Traceback" not in stderr
    assert f"{site / 'data' / 'sessions.json'}: is JSON {DEEP}" in stderr


@pytest.mark.parametrize("depth", DEPTHS)
def test_deep_json_in_a_pretalx_answer_is_one_message_naming_the_url(site: Path, depth: int) -> None:
    with ApiServer({}, base_path="/api") as api:
        api.add_fault("events/democon/", Fault(body=('{"slug": "democon", "name": ' + nested(depth) + "}").encode()))
        url = api.url
        code, stderr, _ = sitegen_measured("build", "--root", str(site), "--source", f"pretalx+{url}/events/democon/")
    assert code == 1 and "Traceback" not in stderr
    assert f"{url}/events/democon/: is JSON {DEEP}" in stderr


@pytest.mark.parametrize("depth", DEPTHS)
def test_deep_json_in_a_frab_schedule_is_one_message_naming_it(site: Path, depth: int) -> None:
    schedule = ('{"schedule": {"version": "1", "conference": {"title": ' + nested(depth) + "}}}").encode()
    (site / "schedule.json").write_bytes(schedule)
    code, stderr, _ = sitegen_measured("build", "--root", str(site), "--source", "frab:schedule.json")
    assert code == 1 and "Traceback" not in stderr
    assert f"{site / 'schedule.json'}: is JSON {DEEP}" in stderr
    with ApiServer({}, base_path="/files") as api:
        api.add_fault("schedule.json", Fault(body=schedule))
        url = api.url
        code, stderr, _ = sitegen_measured("build", "--root", str(site), "--source", f"frab+{url}/schedule.json")
    assert code == 1 and "Traceback" not in stderr
    assert f"{url}/schedule.json: is JSON {DEEP}" in stderr


# --- the local copy, its state and the HTTP cache: deep or corrupt means doubt ----------


def test_deep_json_in_the_local_copy_or_the_change_feed_means_a_full_fetch(tmp_path: Path) -> None:
    data = {"venues": [{"id": "v1", "updated_at": "2025-01-01T00:00:00Z"}]}
    with ApiServer(data, change_feed=True) as api:
        fetch_archive(config(api.url), root=tmp_path, cache_dir=tmp_path / "cache", environ={}, cache_key=KEY)
        objects = tmp_path / "cache" / "objects"
        deep = ('{"data": [{"id": "v1", "updated_at": "2025-01-01T00:00:00Z", "x": ' + nested(1_000) + '}], "next": null}').encode()
        (objects / "venues.json").write_bytes(deep)
        state = load_kept(objects / "state.json", 1 << 20, "local-copy", "state", KEY)
        state["sha256"]["venues"], state["size"]["venues"] = hashlib.sha256(deep).hexdigest(), len(deep)  # as if sitegen had written it
        save_kept(objects / "state.json", 1 << 20, "local-copy", "state", state, KEY)
        api.upsert("venues", {"id": "v1", "name": "Renamed"})

        second = fetch_archive(config(api.url), root=tmp_path, cache_dir=tmp_path / "cache", environ={}, cache_key=KEY)
        assert not second.stats.incremental and "no usable local copy" in second.stats.full_fetch_reason
        assert [v.get("name") for v in second.collections["venues"]] == ["Renamed"]

        api.upsert("venues", {"id": "v1", "name": "Again"})
        api.add_fault(
            "changes",
            Fault(
                body=(
                    '{"data": [{"type": "venue", "id": "v1", "op": "upsert", "x": ' + nested(100_000) + '}], "next": null, "cursor": "c"}'
                ).encode()
            ),
        )
        third = fetch_archive(config(api.url), root=tmp_path, cache_dir=tmp_path / "cache", environ={}, cache_key=KEY)
        assert not third.stats.incremental and DEEP in third.stats.full_fetch_reason
        assert [v.get("name") for v in third.collections["venues"]] == ["Again"]


def test_a_deep_http_cache_entry_is_ignored(tmp_path: Path) -> None:
    with ApiServer({"venues": [{"id": "v1"}]}) as api:
        fetch_archive(config(api.url), root=tmp_path, cache_dir=tmp_path / "cache", environ={}, cache_key=KEY)
        url = f"{api.url}/venues?page_size=2"
        entry = tmp_path / "cache" / "http" / (hashlib.sha256(url.encode()).hexdigest() + ".json")
        body = load_kept(entry, MAX_ENTRY_BYTES, ENTRY_FORMAT, url, KEY)  # sealed with the key, as if sitegen had written it
        body["body"] = json.dumps({"data": [{"id": "v1", "x": json.loads(nested(900))}], "next": None})
        save_kept(entry, MAX_ENTRY_BYTES, ENTRY_FORMAT, url, body, KEY)
        api.clear_requests()
        raw = fetch_archive(config(api.url), root=tmp_path, cache_dir=tmp_path / "cache", environ={}, cache_key=KEY)
        assert raw.collections["venues"] == ({"id": "v1"},)
        [venues] = [r for r in api.requests if r.path.endswith("/venues")]
        assert (
            raw.stats.not_modified == raw.stats.requests - 2 and "if-none-match" not in venues.headers
        )  # the feed probe, then venues whole


def _depth(value: Any) -> int:
    """The nesting of parsed JSON, the plain way (a reference for ``json_depth_exceeds``)."""
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def test_the_depth_check_agrees_with_a_plain_walk_at_every_limit() -> None:
    """``json_depth_exceeds`` walks a level at a time; at each limit it says what the plain
    recursive walk says, over random documents of mixed arrays, objects and values."""
    import random

    from sitegen.bounded import json_depth_exceeds

    rng = random.Random(7)

    def document(depth: int) -> Any:
        if depth == 0 or rng.random() < 0.2:
            return rng.choice([1, "x", None, True, 2.5, [], {}])
        children = [document(depth - 1) for _ in range(rng.randint(1, 3))]
        return children if rng.random() < 0.5 else {f"k{i}": child for i, child in enumerate(children)}

    for _ in range(300):
        value = document(rng.randint(0, 9))
        for limit in range(1, 11):
            assert json_depth_exceeds(value, limit) == (_depth(value) > limit), (value, limit)
