"""Records kept between builds (sitegen/search/recordmemo.py): a rebuild makes only the
records of the objects that changed, and of the batch the index reads again; an unchanged
archive makes none; a memo that cannot be trusted makes them all; and the index is the
bytes of a clean build. tests/test_incremental.py's random edits hold the objects each
record names to what it shows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import CACHE_KEY as KEY
from conftest import REPO, TODAY, tree

import sitegen.search
from sitegen.build import build_site
from sitegen.config import load_config
from sitegen.kept import save_frames
from sitegen.search import batches, recordmemo, records
from sitegen.write import REPORT_FILE


class Made:
    """Which records were made (their URLs), counted where they are made."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.urls: list[str] = []
        for name in ("session_record", "person_record", "event_record"):
            monkeypatch.setattr(records, name, self._counted(getattr(records, name)))

    def _counted(self, make: Any) -> Any:
        def counted(*args: Any) -> Any:
            record = make(*args)
            self.urls.append(record.url)
            return record

        return counted


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """bench/gen.py's archive of 300 sessions, built once; the index job runs in this process."""
    folder = tmp_path / "gen"
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "gen.py"), "--sessions", "300", "--out", str(folder)], check=True, capture_output=True
    )
    monkeypatch.setenv("SITEGEN_CACHE_KEY", KEY.decode())
    monkeypatch.setattr(sitegen.search, "can_fork", lambda: False)
    build(folder)
    return folder


def build(site: Path, **overrides: Any) -> Any:
    return build_site(load_config(site, {"build.workers": 1, **overrides}), today=TODAY)


def touch(site: Path) -> str:
    """Change one session's title (bench/gen.py --touch-one); its route."""
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "gen.py"), "--touch-one", "--out", str(site)], check=True, capture_output=True
    )
    return str(json.loads(done.stdout)["route"])


def test_an_unchanged_archive_makes_no_record_and_one_edit_makes_only_its_batchs(site, monkeypatch):
    made = Made(monkeypatch)
    assert build(site).search_made == 0 and made.urls == []  # every fingerprint from the memo: the index is kept as it is
    route = touch(site)
    assert build(site).search_made == len(made.urls)  # (the build's report says how many)
    assert any(url.endswith(route) for url in made.urls)  # the edited session's record
    total = len(json.loads((site / "data" / "sessions.json").read_text())["data"])
    assert 0 < len(made.urls) <= batches.BATCH_MAX and len(made.urls) < total / 2  # its batch's, read again; not the archive's
    made.urls.clear()
    build(site, **{"build.output_dir": "clean", "build.cache_dir": "clean-cache"})
    assert len(made.urls) > total  # a build with nothing kept makes them all
    assert tree(site / "build" / "pagefind") == tree(site / "clean" / "pagefind")


def test_a_renamed_event_makes_again_the_records_that_show_it(site, monkeypatch):
    events = json.loads((site / "data" / "events.json").read_text())
    event = events["data"][0]
    event["name"] = "Renamed Conference Zeta"
    (site / "data" / "events.json").write_text(json.dumps(events))
    made = Made(monkeypatch)
    build(site)
    sessions = json.loads((site / "data" / "sessions.json").read_text())["data"]
    assert len(made.urls) >= sum(1 for s in sessions if s["event"] == event["id"]) + 1  # its sessions' and its own
    build(site, **{"build.output_dir": "clean", "build.cache_dir": "clean-cache"})
    assert tree(site / "build" / "pagefind") == tree(site / "clean" / "pagefind")


def test_a_memo_that_cannot_be_trusted_makes_every_record(site, monkeypatch):
    """Garbage, another key, a plausible shape with an index out of range, another format, cut short."""
    import marshal

    path = site / ".sitegen-cache" / "search" / recordmemo.NAME
    salt = f"{recordmemo.FORMAT}\0{recordmemo.memo_code_digest()}".encode()
    damages = {
        "garbage": lambda: path.write_bytes(b"\x00" * 100),
        "other key": lambda: save_frames(path, recordmemo.MAX_MEMO, salt, [path.read_bytes()], b"another key of thirty-two characters"),
        "other shape": lambda: save_frames(
            path, recordmemo.MAX_MEMO, salt, [marshal.dumps((recordmemo.FORMAT, ["k"], b"x" * 32, [("title",)], [1]))], KEY
        ),
        "other format": lambda: save_frames(
            path, recordmemo.MAX_MEMO, salt, [marshal.dumps((recordmemo.FORMAT + 1, [], b"", [], []))], KEY
        ),
        "cut short": lambda: path.write_bytes(path.read_bytes()[:-40]),
    }
    total = len(json.loads((site / "data" / "sessions.json").read_text())["data"])
    made = Made(monkeypatch)
    for damage, spoil in damages.items():
        assert path.is_file(), damage
        spoil()
        route = touch(site)
        made.urls.clear()
        build(site)
        assert len(made.urls) > total and any(url.endswith(route) for url in made.urls), damage
    build(site, **{"build.output_dir": "clean", "build.cache_dir": "clean-cache"})
    assert tree(site / "build" / "pagefind") == tree(site / "clean" / "pagefind")


def test_a_record_is_keyed_by_its_url_its_objects_and_their_data(tmp_path):
    from datetime import UTC, datetime

    from sitegen.model.types import Person, Topic

    when = datetime(2024, 1, 1, tzinfo=UTC)
    ada, bob, ml = (
        Person("p1", "ada", "Ada", None, (), None, when),
        Person("p2", "bob", "Bob", None, (), None, when),
        Topic("t1", "ml", "ML", when),
    )
    sources = {"people/p1": "a", "people/p2": "b", "topics/t1": "c"}
    kept = batches.KeptReads(tmp_path, KEY)
    memo = recordmemo.RecordMemo(kept, sources)
    key = memo.key("/talk/", [ada, bob, None, ml])
    assert key is not None and memo.key("/talk/", [ada, bob, None, ml]) == key  # (the second time from the objects' tokens)
    assert recordmemo.RecordMemo(kept, dict(sources)).key("/talk/", [ada, bob, None, ml]) == key  # another build, the same key
    assert memo.key("/other/", [ada, bob, None, ml]) != key  # another URL
    assert memo.key("/talk/", [bob, ada, None, ml]) != key  # in another order
    assert memo.key("/talk/", [ada, None, bob, ml]) != key  # in other places
    assert memo.key("/talk/", [ada, None, ml]) != key  # fewer objects
    assert recordmemo.RecordMemo(kept, {**sources, "people/p2": "changed"}).key("/talk/", [ada, bob, None, ml]) != key  # data changed
    stranger = Person("p3", "cy", "Cy", None, (), None, when)
    assert memo.key("/talk/", [ada, stranger]) is None and memo.key("/talk/", [stranger]) is None  # no digest: nothing kept, each time
    assert recordmemo.RecordMemo(kept, None).key("/talk/", [ada]) is None


def test_the_zones_rules_are_in_the_digest(tmp_path, monkeypatch):
    """A session's local day comes from the zone database, not from its raw data."""
    import shutil
    import zoneinfo

    from sitegen.model import zone_rules_digest

    folder = tmp_path / "tz"
    (folder / "Europe").mkdir(parents=True)
    shutil.copyfile(Path(zoneinfo.TZPATH[0]) / "Europe" / "Zurich", folder / "Europe" / "Zurich")
    system = zoneinfo.TZPATH[0]
    zoneinfo.reset_tzpath([str(folder)])
    try:
        before = zone_rules_digest(["Europe/Zurich", "Europe/Zurich"])
        assert before == zone_rules_digest(["Europe/Zurich"])
        shutil.copyfile(Path(system) / "Pacific" / "Pago_Pago", folder / "Europe" / "Zurich")
        assert zone_rules_digest(["Europe/Zurich"]) != before  # the rules changed
        assert zone_rules_digest(["Europe/Zurich", "Asia/Tokyo"]) != zone_rules_digest(["Europe/Zurich"])
        from sitegen.model import digest

        assert digest._zone_bytes("../../etc/passwd") == digest._zone_bytes("/etc/passwd") == b"-"  # not a zone: never read
    finally:
        zoneinfo.reset_tzpath()


def test_new_zone_rules_make_the_records_and_pages_again(site, tmp_path, monkeypatch):
    """The helper's case: the zone database updated under an unchanged archive."""
    import shutil
    import zoneinfo

    from sitegen.contract import limits

    rules = tmp_path / "tz"
    shutil.copytree(zoneinfo.TZPATH[0], rules, symlinks=False, ignore=shutil.ignore_patterns("posix", "right"))
    zones = {event["timezone"] for event in json.loads((site / "data" / "events.json").read_text())["data"]}
    for zone in zones:
        shutil.copyfile(rules / "Pacific" / "Pago_Pago", rules / zone)
    zoneinfo.reset_tzpath([str(rules)])
    zoneinfo.ZoneInfo.clear_cache()
    limits.place_timezones.cache_clear()
    try:
        made = Made(monkeypatch)
        result = build(site)
        assert made.urls and result.files_rendered > 0
        build(site, **{"build.output_dir": "clean", "build.cache_dir": "clean-cache"})
        incremental, clean = tree(site / "build"), tree(site / "clean")
        incremental.pop(REPORT_FILE), clean.pop(REPORT_FILE)
        assert incremental == clean
    finally:
        zoneinfo.reset_tzpath()
        zoneinfo.ZoneInfo.clear_cache()
        limits.place_timezones.cache_clear()
