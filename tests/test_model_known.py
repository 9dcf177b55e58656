"""The model's known objects (``sitegen.model.known``): a rebuild reads the raw objects the
last build found valid with the trusted readers, checks only what changed, and builds the
same archive; a damaged, foreign or missing file only means every object is checked."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import CACHE_KEY as KEY
from conftest import TODAY

import sitegen.model.build as model_build
from sitegen.build import build_site
from sitegen.config import load_config
from sitegen.errors import DataError
from sitegen.kept import load_kept, save_kept
from sitegen.model import KnownObjects, build_archive, source_digest
from sitegen.model import known as known_module
from sitegen.model.known import NAME, identical

#: The checking and fast readers, by collection: what "checking an object" calls.
CHECKS = {
    "_read_series": "series",
    "_read_venue": "venues",
    "_read_topic": "topics",
    "_read_person": "people",
    "_fast_person": "people",
    "_read_event": "events",
    "_fast_event": "events",
    "_read_session": "sessions",
    "_fast_session": "sessions",
}
COLLECTIONS = ("series", "venues", "topics", "people", "events", "sessions")


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts each collection's objects read with checks (a fast reader that gives up and the
    checking reader after it count once each)."""
    counts: Counter[str] = Counter()
    for name, collection in CHECKS.items():
        original = getattr(model_build, name)

        def counted(*args: Any, _original: Any = original, _collection: str = collection) -> Any:
            counts[_collection] += 1
            return _original(*args)

        monkeypatch.setattr(model_build, name, counted)
    return counts


def collections(site: Path) -> dict[str, list[dict[str, Any]]]:
    return {name: json.loads((site / "data" / f"{name}.json").read_text(encoding="utf-8"))["data"] for name in COLLECTIONS}


def edit(site: Path, collection: str, object_id: str, **fields: Any) -> None:
    path = site / "data" / f"{collection}.json"
    body = json.loads(path.read_text(encoding="utf-8"))
    next(item for item in body["data"] if item["id"] == object_id).update(fields)
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")


def test_a_rebuild_after_a_one_session_edit_checks_only_that_session(minimal_site: Path, checks: Counter[str]) -> None:
    build_site(load_config(minimal_site), today=TODAY)
    assert checks == Counter({name: len(items) for name, items in collections(minimal_site).items()})
    checks.clear()
    build_site(load_config(minimal_site), today=TODAY)
    assert checks == Counter()  # nothing changed: nothing checked
    edit(minimal_site, "sessions", "x1", title="Difference engines")
    report = build_site(load_config(minimal_site), today=TODAY)
    assert checks == Counter({"sessions": 1})
    assert report.files_rendered > 0 and "Difference engines" in (minimal_site / "build/2024/minicon/engines/index.html").read_text()
    checks.clear()
    edit(minimal_site, "people", "p1", name="Ada King")  # its sessions are read trusted, with the new person
    build_site(load_config(minimal_site), today=TODAY)
    assert checks == Counter({"people": 1})
    assert "Ada King" in (minimal_site / "build/2024/minicon/engines/index.html").read_text()


def test_full_checks_every_object_again(minimal_site: Path, checks: Counter[str]) -> None:
    build_site(load_config(minimal_site), today=TODAY)
    checks.clear()
    build_site(load_config(minimal_site), today=TODAY, full=True)
    assert checks == Counter({name: len(items) for name, items in collections(minimal_site).items()})


def test_trusted_readers_build_the_archive_the_checking_readers_build(minimal_site: Path, tmp_path: Path, checks: Counter[str]) -> None:
    raw = collections(minimal_site)
    checked = build_archive(raw, KnownObjects(tmp_path, KEY))
    checks.clear()
    trusted = build_archive(raw, KnownObjects(tmp_path, KEY))
    assert checks == Counter()
    assert trusted.sources == checked.sources and trusted.warnings == checked.warnings
    for name in ("series", "venues", "topics", "people", "events", "sessions"):
        before, after = getattr(checked.archive, name), getattr(trusted.archive, name)
        assert before.keys() == after.keys()
        assert all(identical(before[key], after[key]) for key in before), name
    assert not identical(checked.archive.sessions["x1"], checked.archive.sessions["x2"])


def test_an_object_with_a_warning_is_checked_again_and_warns_again(minimal_site: Path, tmp_path: Path, checks: Counter[str]) -> None:
    raw = collections(minimal_site)
    raw["sessions"][0]["media"] = [{"kind": "hologram", "url": "https://video.example.org/1"}]
    first = build_archive(raw, KnownObjects(tmp_path, KEY))
    checks.clear()
    again = build_archive(raw, KnownObjects(tmp_path, KEY))
    assert checks == Counter({"sessions": 2})  # its fast reader gives up, and its checking reader warns
    assert again.warnings == first.warnings and any("hologram" in str(w) for w in again.warnings)


def test_a_session_is_checked_again_when_its_event_moves_it_out_of_its_dates(
    minimal_site: Path, tmp_path: Path, checks: Counter[str]
) -> None:
    raw = collections(minimal_site)
    build_archive(raw, KnownObjects(tmp_path, KEY))
    event = next(item for item in raw["events"] if item["id"] == "e1")
    event["start_date"] = event["end_date"] = "2024-04-02"  # its sessions' times now fall outside its dates
    again = build_archive(raw, KnownObjects(tmp_path, KEY))
    assert any("outside its event's dates" in str(w) for w in again.warnings)
    assert checks["events"] == 3 and checks["sessions"] > len(raw["sessions"])  # the first build's, then e1 and its sessions


def test_a_reference_to_a_deleted_object_is_still_a_problem(minimal_site: Path, tmp_path: Path) -> None:
    raw = collections(minimal_site)
    build_archive(raw, KnownObjects(tmp_path, KEY))
    raw["people"] = [item for item in raw["people"] if item["id"] != "p1"]
    with pytest.raises(Exception, match="p1"):
        build_archive(raw, KnownObjects(tmp_path, KEY))


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(path.read_bytes()[:-20]),  # cut short
        lambda path: path.write_text('{"code": "another version", "known": {}}'),
        lambda path: path.write_text('{"code": 1, "known": {"sessions": "abc"}}'),
        lambda path: path.write_bytes(b"\xff\x00" * 100),
        lambda path: (path.unlink(), path.mkdir()),  # a folder in its place
        lambda path: path.unlink(),
    ],
    ids=["cut", "foreign", "odd", "binary", "folder", "deleted"],
)
def test_a_damaged_foreign_or_missing_file_checks_every_object(
    minimal_site: Path, tmp_path: Path, checks: Counter[str], damage: Any
) -> None:
    raw = collections(minimal_site)
    first = build_archive(raw, KnownObjects(tmp_path, KEY))
    damage(tmp_path / NAME)
    checks.clear()
    again = build_archive(raw, KnownObjects(tmp_path, KEY))
    assert checks == Counter({name: len(items) for name, items in raw.items()})
    assert again.sources == first.sources


@pytest.mark.parametrize(
    ("collection", "change", "said"),
    [
        ("sessions", {"media": [{"kind": "video", "url": "javascript:alert(1)"}]}, "not an http"),
        ("sessions", {"title": 12345}, "title"),
        ("people", {"slug": ".sitegen"}, "not a safe slug"),
        ("people", {"avatar_url": "javascript:alert(1)"}, "avatar_url"),
        ("venues", {"country": "<b>"}, "country code"),
    ],
    ids=["script-link", "int-title", "dot-slug", "script-avatar", "no-country"],
)
def test_a_planted_digest_does_not_let_a_harmful_object_through(
    minimal_site: Path, tmp_path: Path, collection: str, change: dict[str, Any], said: str
) -> None:
    """CI restores the cache folder from a cache other branches may write. A file planted
    there is not sealed by the build's key, so it is not read at all; even one that were
    must not let a bad object skip the checks that keep the site safe."""
    raw = collections(minimal_site)
    build_archive(raw, KnownObjects(tmp_path, KEY))
    raw[collection][0].update(change)
    path, code = tmp_path / NAME, known_module._code()
    data = load_kept(path, known_module.MAX_BYTES, code, "known", KEY)
    data[collection] += source_digest(raw[collection][0])
    # Sealed with the key, as a planted file could not be (kept.cache_key): the readers still refuse harm.
    save_kept(path, known_module.MAX_BYTES, code, "known", data, KEY)
    try:
        result = build_archive(raw, KnownObjects(tmp_path, KEY))
    except DataError as exc:  # refused, as a clean build refuses it
        assert said in str(exc.problems)
    else:  # or dropped with a warning, as a clean build drops it
        assert any(said in str(warning) for warning in result.warnings)


def test_sitegen_check_checks_every_object_and_keeps_nothing(minimal_site: Path, checks: Counter[str]) -> None:
    build_site(load_config(minimal_site), today=TODAY)
    checks.clear()
    build_site(load_config(minimal_site), today=TODAY, write=False)
    assert checks == Counter({name: len(items) for name, items in collections(minimal_site).items()})
    (minimal_site / ".sitegen-cache/model" / NAME).unlink()
    build_site(load_config(minimal_site), today=TODAY, write=False)
    assert not (minimal_site / ".sitegen-cache/model" / NAME).exists()
