"""pyvideo/data checkouts (sitegen/sources/pyvideo/): real files copied from the
repository (tests/fixtures/pyvideo/README.md) through the reader and the model,
and hostile ones written next to a copy of them: every odd file is a warning
naming it, never a traceback, and ids and slugs do not change between runs."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import TESTS, TODAY

from sitegen.build import build_site
from sitegen.config import load_config
from sitegen.errors import SourceError
from sitegen.fetch import source_problems
from sitegen.model import build_archive
from sitegen.sources import Converted, pyvideo
from sitegen.sources.pyvideo.tree import MAX_FILE_BYTES

FIXTURE = TESTS / "fixtures" / "pyvideo" / "data"
MAX_BYTES = 64 << 20
SHARED_SLUG = "shares its slug with another talk of its event; a suffix keeps them apart"
EMPTY_SPEAKER = "is empty or a placeholder, not a name; left out"


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


def kinds(converted: Converted) -> dict[str, int]:
    return pyvideo.warning_kinds(converted.warnings)


def test_the_fixture_gives_warnings_by_kind_and_the_same_ids_and_slugs_twice() -> None:
    first, second = pyvideo.read(FIXTURE, MAX_BYTES), pyvideo.read(FIXTURE, MAX_BYTES)
    assert first == second
    assert kinds(first) == {
        SHARED_SLUG: 2,  # pycon-apac-2014's "-pycon-apac-2014" and "pycon-apac-2014" (Hangul file names are romanised apart)
        EMPTY_SPEAKER: 1,
        "is listed in NO_PUBLISH.json; left out": 1,
        "is not a day (YYYY-MM-DD); shown as not recorded": 1,
        "names a year none of its talks was recorded in; the event is dated by its talks": 1,
    }
    where = {str(problem.where).split(" ")[0].removesuffix(":") for problem in first.warnings if problem.what == EMPTY_SPEAKER}
    assert where == {"pycon-au-2018/videos/conference-close.json"}
    sessions = by_id(first.collections["sessions"])
    apac = [s for s in sessions.values() if s["event"] == "pyvideo:pycon-apac-2014"]
    assert len({s["slug"] for s in apac}) == len(apac) == 3
    assert "pyvideo:pyohio-2014/diversity-in-tech" not in sessions
    assert sessions["pyvideo:pycascades-2019/josh-weissbock-distributed-web-scraping-in-python"]["date"] is None
    assert sessions["pyvideo:pygotham-2012/gloriajw-apracticalguidetononblockingiocoroutines"]["date"] == "2012-06-08"
    assert all(s["start"] is None for s in sessions.values())


def test_categories_become_events_in_series_and_speakers_people_in_any_script() -> None:
    collections = pyvideo.read(FIXTURE, MAX_BYTES).collections
    events = by_id(collections["events"])
    # A meetup's folder and title name no year: one event per recorded year, one series.
    assert [(e["name"], e["start_date"]) for i, e in sorted(events.items()) if i.startswith("pyvideo:bay-piggies")] == [
        ("Bay Piggies 2013", "2013-11-21"),
        ("Bay Piggies 2014", "2014-05-04"),
        ("Bay Piggies 2015", "2015-05-26"),
    ]
    series = {s["id"]: s for s in collections["series"]}
    assert {series[e["series"]]["name"] for e in events.values() if e["id"].startswith("pyvideo:pycon-apac")} == {"PyCon APAC"}
    assert (events["pyvideo:pycon-apac-2016"]["slug"], events["pyvideo:pycon-apac-2016"]["start_date"]) == ("pycon-apac", "2016-08-23")
    people = {p["name"]: p for p in collections["people"]}
    hangul = [people["김경훈"], people["김정주"], people["勁成 駱"], people["總理 海"]]
    assert len({p["id"] for p in hangul}) == len({p["slug"] for p in hangul}) == 4
    assert people["Guido van Rossum"]["slug"] == "guido-van-rossum"
    talk = by_id(collections["sessions"])["pyvideo:pycon-apac-2014/grs-pycon-apac-2014"]
    assert [m["kind"] for m in talk["media"]][:1] == ["video"] and "code" in [m["kind"] for m in talk["media"]]
    topics = {t["id"]: t["name"] for t in collections["topics"]}
    assert all(topic in topics for s in collections["sessions"] for topic in s["topics"])


def test_the_fixture_passes_the_model_without_warnings() -> None:
    assert build_archive(pyvideo.read(FIXTURE, MAX_BYTES).collections).warnings == ()


def write(path: Path, body: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body if isinstance(body, str) else json.dumps(body), encoding="utf-8")


def video(**fields: Any) -> dict[str, Any]:
    return {"title": "A talk", "recorded": "2020-05-01", "speakers": ["Ada Lovelace"], "videos": [], **fields}


def test_hostile_files_are_warnings_naming_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(FIXTURE, data)
    odd = data / "odd-2020" / "videos"
    write(data / "odd-2020" / "category.json", {"title": "Odd 2020", "url": "javascript:alert(1)", "description": ["x"]})
    write(odd / "bad.json", '{"title": "cut')
    write(odd / "list.json", [1, 2])
    write(odd / "huge.json", " " * (MAX_FILE_BYTES + 1))
    write(odd / "types.json", video(title=7, speakers="Ada", tags=["ok", 3, ""], related_urls=[{"url": "ftp://x"}, "https://a\\b"]))
    write(odd / "same.json", video(speakers=["Ada Lovelace", "ada  lovelace", "Various"], slug="types"))
    write(odd / "long.json", video(title="x" * 600, speakers=["y" * 600], related_urls=[{"url": "https://e.org/", "label": "z" * 600}]))
    write(odd / "many.json", video(tags=[f"tag {i}" for i in range(101)]))
    write(odd / "deep.json", video(title=[[[[[["x"]]]]]] * 1))
    os.symlink(data / "pygotham-2012" / "videos" / "gloriajw-apracticalguidetononblockingiocoroutines.json", odd / "link.json")
    write(data / "meetup" / "category.json", {"title": "Meetup"})  # no dates, no year, no dated talk
    write(data / "meetup" / "videos" / "undated.json", video(recorded=""))
    write(data / "empty" / "category.json", "{}")
    write(data / "NO_PUBLISH.json", '[2845, "x", 5984]')
    converted = pyvideo.read(data, MAX_BYTES)
    found = kinds(converted)
    for what, count in {
        "is not valid JSON: Unterminated string starting at at line 1, column 11; left out": 1,
        "is not a JSON object; left out": 1,
        f"is {MAX_FILE_BYTES + 1:,} bytes, more than the limit of {MAX_FILE_BYTES:,}; left out": 1,
        "is a symbolic link, which is not followed; left out": 1,
        "is not a string; left out": 3,  # types.json's title, deep.json's title, category.json's description
        "is not a list; left out": 1,
        "is not a tag (empty, or not a string); left out": 2,
        "is not an http(s) URL; left out": 2,  # the ftp link, the category's javascript: URL
        "names a speaker the talk already lists; listed once": 1,
        "has more than the contract's 100 items; the rest are left out": 1,
        "is longer than the contract's 500 characters for one line; cut": 3,
        EMPTY_SPEAKER: 2,
        SHARED_SLUG: 4,  # the fixture's two, and same.json's slug is "types", as types.json's file name
        "has no dates, no talk with a recorded day and no year in its name; left out with its talks": 1,
        "holds no usable video file; the category is left out": 1,
        "is missing or empty; the file name is used": None,  # a title that is no string is said once
    }.items():
        assert found.get(what) == count, (what, json.dumps(found, indent=1))
    assert any(p.what.startswith("contains a backslash") for p in converted.warnings)
    assert all(not Path(p.where.split(":")[0].split(" ")[0]).is_absolute() for p in converted.warnings)
    assert {p.where.split(":")[0] for p in converted.warnings if p.what == "is not a list; left out"} == {"odd-2020/videos/types.json"}
    sessions = {s["id"]: s for s in converted.collections["sessions"]}
    assert sessions["pyvideo:odd-2020/types"]["title"] == "types"
    assert not any(s["event"].startswith("pyvideo:meetup") for s in sessions.values())
    assert build_archive(converted.collections).warnings == ()


def test_what_is_no_checkout_stops_the_build_naming_it(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="is not a folder.*pyvideo:PATH"):
        pyvideo.read(tmp_path / "missing", MAX_BYTES)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="holds no <category>/category.json"):
        pyvideo.read(tmp_path / "empty", MAX_BYTES)


def test_a_file_past_max_bytes_is_left_out(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "data")
    converted = pyvideo.read(tmp_path / "data", 2000)
    assert Counter(p.what.split(",")[0] for p in converted.warnings if "more than the limit of 2,000" in p.what)
    assert len(converted.collections["sessions"]) < len(pyvideo.read(FIXTURE, MAX_BYTES).collections["sessions"])


def test_the_cache_reads_only_changed_files_and_gives_what_a_full_read_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sitegen.sources.pyvideo.cache as cache
    import sitegen.sources.pyvideo.tree as tree

    data, folder = tmp_path / "data", tmp_path / "cache"
    shutil.copytree(FIXTURE, data)
    monkeypatch.setattr(cache, "RACY_NS", -(10**12))  # the copies were just written: keep them anyway
    reads: list[str] = []
    real_read = tree.read_file_bounded
    monkeypatch.setattr(tree, "read_file_bounded", lambda path, *rest: reads.append(str(path)) or real_read(path, *rest))
    full = pyvideo.read(data, MAX_BYTES)
    reads.clear()
    assert pyvideo.read(data, MAX_BYTES, folder) == full
    first = len(reads)
    reads.clear()
    assert pyvideo.read(data, MAX_BYTES, folder) == full
    assert first - len(reads) == 18  # the video files; category.json and NO_PUBLISH.json are read every time
    # An edit that keeps the size and the modification time is still seen (its change time moves).
    edited = data / "pycon-au-2018" / "videos" / "conference-close.json"
    info = edited.stat()
    edited.write_bytes(edited.read_bytes().replace(b"Conference Close", b"Conference Cl0se"))
    os.utime(edited, ns=(info.st_atime_ns, info.st_mtime_ns))
    reads.clear()
    after = pyvideo.read(data, MAX_BYTES, folder)
    assert [Path(path).name for path in reads if "/videos/" in path] == ["conference-close.json"]
    assert after == pyvideo.read(data, MAX_BYTES)
    assert any(s["title"] == "Conference Cl0se" for s in after.collections["sessions"])
    (folder / cache.FILE).write_bytes(b'{"version": "x", "talks": {"a": [1]}}')  # damaged or another version: read anew
    assert pyvideo.read(data, MAX_BYTES, folder) == after
    kept = orjson.loads((folder / cache.FILE).read_bytes())
    shapes = [5, [None], [kept["talks"][next(iter(kept["talks"]))][0], "not fields", None, []]]
    wrong = {"version": kept["version"], "talks": {where: shapes[n % 3] for n, where in enumerate(kept["talks"])}}
    for damaged in (b"[" * 5000 + b"]" * 5000, b"\xff not json", orjson.dumps(wrong)):
        (folder / cache.FILE).write_bytes(damaged)  # too deep for orjson, not JSON, entries of the wrong shape
        assert pyvideo.read(data, MAX_BYTES, folder) == after


def test_a_long_lived_process_keeps_the_talks_in_memory_and_writes_the_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``memory`` (``sitegen serve``): the talks come from memory, not the file (which is written
    at the first read only); an edit is read again and shown; another checkout does not take them,
    and what is read is what a read without any cache gives."""
    import sitegen.sources.pyvideo.cache as cache

    data, folder, memory = tmp_path / "data", tmp_path / "cache", {}
    shutil.copytree(FIXTURE, data)
    monkeypatch.setattr(cache, "RACY_NS", -(10**12))
    full = pyvideo.read(data, MAX_BYTES)
    assert pyvideo.read(data, MAX_BYTES, folder, memory) == full
    written = (folder / cache.FILE).read_bytes()
    (folder / cache.FILE).write_bytes(b"\xff not read again")  # memory, not the file, holds the talks now
    assert pyvideo.read(data, MAX_BYTES, folder, memory) == full
    edited = data / "pycon-au-2018" / "videos" / "conference-close.json"
    edited.write_bytes(edited.read_bytes().replace(b"Conference Close", b"Conference Cl0se"))
    after = pyvideo.read(data, MAX_BYTES, folder, memory)
    assert after == pyvideo.read(data, MAX_BYTES) and after != full
    assert (folder / cache.FILE).read_bytes() == b"\xff not read again"  # not written after the first read
    other = tmp_path / "other"
    shutil.copytree(FIXTURE, other)
    assert pyvideo.read(other, MAX_BYTES, folder, memory) == full  # another checkout: its own files are read
    assert written


def test_a_site_builds_from_a_checkout_named_in_sitegen_toml_and_rebuilds_an_edit(minimal_site: Path) -> None:
    """``[source] url = "pyvideo:FOLDER"`` chosen by the registry, through ``sitegen build``'s own
    path; an edit of one video file shows after a rebuild that renders only what shows it."""
    shutil.copytree(FIXTURE, minimal_site / "pv")
    config = load_config(minimal_site, {"source.url": "pyvideo:pv"}, source_check=source_problems)
    first = build_site(config, today=TODAY)
    assert first.files_written > 100
    video = sorted((minimal_site / "pv").glob("*/videos/*.json"))[0]
    data = json.loads(video.read_text(encoding="utf-8"))
    data["title"] = "An edited title, shown after the rebuild"
    video.write_text(json.dumps(data), encoding="utf-8")
    second = build_site(load_config(minimal_site, {"source.url": "pyvideo:pv"}), today=TODAY)
    assert 0 < second.files_rendered < first.files_rendered
    assert any(
        "An edited title, shown after the rebuild" in page.read_text(encoding="utf-8")
        for page in (minimal_site / "build").rglob("index.html")
    )
