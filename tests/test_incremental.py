"""Incremental builds: a rebuild renders only what changed, and gives the same
build/ as a clean full build, byte for byte."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import MINIMAL_SITE, TODAY, tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sitegen.build import Superseded, Warm, build_site
from sitegen.config import load_config
from sitegen.write import REPORT_FILE, STATE_CHECK, staging_path

WORDS = ("gears", "engines", "looms", "punch", "cards", "steam", "brass", "tables")


def read(site: Path, collection: str) -> list[dict[str, Any]]:
    return json.loads((site / "data" / f"{collection}.json").read_text(encoding="utf-8"))["data"]


def save(site: Path, collection: str, items: list[dict[str, Any]]) -> None:
    (site / "data" / f"{collection}.json").write_text(json.dumps({"data": items, "next": None}, ensure_ascii=False), encoding="utf-8")


# --- edits: each takes the site and a random source, and leaves valid data ---------------


def change_session(site: Path, pick: st.DataObject) -> None:
    sessions = read(site, "sessions")
    if sessions:
        session = pick.draw(st.sampled_from(sessions))
        field = pick.draw(st.sampled_from(["title", "abstract", "room"]))
        session[field] = f"{pick.draw(st.sampled_from(WORDS))} {len(sessions)}"
        save(site, "sessions", sessions)


def add_session(site: Path, pick: st.DataObject) -> None:
    sessions, people, events = read(site, "sessions"), read(site, "people"), read(site, "events")
    if not events:
        return
    number = pick.draw(st.integers(100, 999))
    if any(s["id"] == f"n{number}" for s in sessions):
        return
    event = pick.draw(st.sampled_from(events))
    speakers = pick.draw(st.lists(st.sampled_from([p["id"] for p in people]), max_size=2, unique=True)) if people else []
    sessions.append(
        {
            "id": f"n{number}",
            "slug": f"new-{number}",
            "event": event["id"],
            "title": f"New talk {number}",
            "abstract": f"About *{pick.draw(st.sampled_from(WORDS))}*.",
            "speakers": speakers,
            "topics": ["t1"],
            "media": [],
            "start": f"{event['start_date']}T1{number % 8}:00:00+01:00",
            "end": f"{event['start_date']}T1{number % 8}:30:00+01:00",
            "room": pick.draw(st.sampled_from(["Main", "Side"])),
            "updated_at": "2025-01-01T00:00:00+00:00",
        }
    )
    save(site, "sessions", sessions)


def delete_session(site: Path, pick: st.DataObject) -> None:
    sessions = read(site, "sessions")
    if sessions:
        sessions.remove(pick.draw(st.sampled_from(sessions)))
        save(site, "sessions", sessions)


def rename_person(site: Path, pick: st.DataObject) -> None:
    people = read(site, "people")
    if people:
        pick.draw(st.sampled_from(people))["name"] = f"Person {pick.draw(st.sampled_from(WORDS)).title()}"
        save(site, "people", people)


def add_person(site: Path, pick: st.DataObject) -> None:
    people = read(site, "people")
    number = pick.draw(st.integers(10, 99))
    if all(p["id"] != f"q{number}" for p in people):
        people.append(
            {
                "id": f"q{number}",
                "slug": f"person-{number}",
                "name": f"Person {number}",
                "links": [],
                "updated_at": "2025-01-01T00:00:00+00:00",
            }
        )
        save(site, "people", people)


def delete_person(site: Path, pick: st.DataObject) -> None:
    people, sessions = read(site, "people"), read(site, "sessions")
    if people:
        gone = pick.draw(st.sampled_from(people))["id"]
        save(site, "people", [p for p in people if p["id"] != gone])
        for session in sessions:
            session["speakers"] = [s for s in session["speakers"] if s != gone]
        save(site, "sessions", sessions)


def add_event(site: Path, pick: st.DataObject) -> None:
    events = read(site, "events")
    year = pick.draw(st.integers(2019, 2028))
    if all(e["id"] != f"y{year}" for e in events):
        events.append(
            {
                "id": f"y{year}",
                "slug": "otherconf",
                "name": f"OtherConf {year}",
                "series": "s1",
                "venue": "v1",
                "start_date": f"{year}-06-01",
                "end_date": f"{year}-06-02",
                "timezone": "Europe/Zurich",
                "topics": ["t1"],
                "updated_at": "2025-01-01T00:00:00+00:00",
            }
        )
        save(site, "events", events)


def delete_event(site: Path, pick: st.DataObject) -> None:
    events, sessions = read(site, "events"), read(site, "sessions")
    if events:
        gone = pick.draw(st.sampled_from(events))["id"]
        save(site, "events", [e for e in events if e["id"] != gone])
        save(site, "sessions", [s for s in sessions if s["event"] != gone])


def change_event(site: Path, pick: st.DataObject) -> None:
    """Rename an event or move it: its sessions' pages move with its slug and year."""
    events = read(site, "events")
    if events:
        event = pick.draw(st.sampled_from(events))
        match pick.draw(st.sampled_from(["name", "slug", "dates"])):
            case "name":
                event["name"] = f"{pick.draw(st.sampled_from(WORDS)).title()}Con"
            case "slug":
                event["slug"] = f"{event['slug']}-{pick.draw(st.sampled_from(WORDS))}"
            case "dates":  # a year of its own: two events of one slug may not share a year
                year = 2010 + events.index(event)
                event["start_date"], event["end_date"] = f"{year}-05-04", f"{year}-05-05"
        save(site, "events", events)


def move_session(site: Path, pick: st.DataObject) -> None:
    """Give a session another event, other speakers or other topics."""
    sessions, events, people = read(site, "sessions"), read(site, "events"), read(site, "people")
    if sessions and events:
        session = pick.draw(st.sampled_from(sessions))
        match pick.draw(st.sampled_from(["event", "speakers", "topics"])):
            case "event":
                session["event"] = pick.draw(st.sampled_from(events))["id"]
            case "speakers":
                session["speakers"] = (
                    pick.draw(st.lists(st.sampled_from([p["id"] for p in people]), max_size=2, unique=True)) if people else []
                )
            case "topics":
                session["topics"] = pick.draw(st.lists(st.sampled_from(["t1", "t2"]), max_size=2, unique=True))
        save(site, "sessions", sessions)


def redate_session(site: Path, pick: st.DataObject) -> None:
    """Give a session a time, only a day (the contract's ``date``), or neither:
    its place in schedules, calendars and feeds changes."""
    sessions, events = read(site, "sessions"), {e["id"]: e for e in read(site, "events")}
    if sessions:
        session = pick.draw(st.sampled_from(sessions))
        day = events[session["event"]]["start_date"]
        session["start"], session["end"], session["date"] = None, None, None
        match pick.draw(st.sampled_from(["time", "day", "neither"])):
            case "time":
                session["start"] = f"{day}T{pick.draw(st.integers(8, 18)):02d}:00:00+01:00"
            case "day":
                session["date"] = day
        save(site, "sessions", sessions)


def rename_linked(site: Path, pick: st.DataObject) -> None:
    """Rename a topic or series, or move the venue to another city: pages that only show them through a link change."""
    choices = [("topics", "name"), ("series", "name"), ("venues", "city"), ("venues", "name")]  # a venue's name is in JSON-LD
    collection, field = pick.draw(st.sampled_from(choices))
    items = read(site, collection)
    if items:
        pick.draw(st.sampled_from(items))[field] = pick.draw(st.sampled_from(WORDS)).title()
        save(site, collection, items)


#: Media of each kind the session page turns into a player, a card and JSON-LD, or a labelled link.
MEDIA = (
    {"kind": "video", "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=90"},
    {"kind": "video", "url": "https://vimeo.com/76979871", "title": "Recording"},
    {"kind": "video", "url": "https://media.ccc.de/v/38c3-1234-talk"},
    {"kind": "video", "url": "https://cdn.example.org/talk.webm"},
    {"kind": "video", "url": "https://video.example.org/7"},
    {"kind": "slides", "url": "https://example.org/deck.pdf"},
)


def change_media(site: Path, pick: st.DataObject) -> None:
    """Give a session other media: its page's player, card and structured data change."""
    sessions = read(site, "sessions")
    if sessions:
        media = pick.draw(st.lists(st.sampled_from(MEDIA), max_size=3, unique_by=lambda m: m["url"]))
        pick.draw(st.sampled_from(sessions))["media"] = media
        save(site, "sessions", sessions)


#: Where each template edit goes: a spot that shows in the pages made with it.
TEMPLATE_SPOTS = {
    "session.html": "</article>",
    "topic.html": "</h1>",
    "person.html": "{% block content %}",
    "base.html": "</footer>",
    "_macros.html": '<ul class="tags"',
}


def change_template(site: Path, pick: st.DataObject) -> None:
    """Edit a template of a child theme (created on first use) that the site builds with."""
    theme = site / "themes" / "child"
    (theme / "templates").mkdir(parents=True, exist_ok=True)
    (theme / "theme.toml").write_text('extends = "default"\n')
    name = pick.draw(st.sampled_from(sorted(TEMPLATE_SPOTS)))
    source = (Path(__file__).parent.parent / "themes" / "default" / "templates" / name).read_text(encoding="utf-8")
    spot = TEMPLATE_SPOTS[name]
    assert spot in source
    word = pick.draw(st.sampled_from(WORDS))
    edit = f' data-edit="{word}"' if name == "_macros.html" else f"<!-- edit {word} -->"
    (theme / "templates" / name).write_text(source.replace(spot, spot + edit, 1), encoding="utf-8")
    config = site / "sitegen.toml"
    if 'theme = "child"' not in config.read_text():
        config.write_text(config.read_text().replace("[build]\n", '[build]\ntheme = "child"\n'))


EDITS = [
    change_session,
    add_session,
    delete_session,
    move_session,
    redate_session,
    rename_person,
    add_person,
    delete_person,
    add_event,
    change_event,
    delete_event,
    rename_linked,
    change_media,
    change_template,
    "next_day",
]


def site_files(output: Path) -> dict[str, bytes]:
    files = tree(output)
    files.pop(REPORT_FILE)
    return files


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pick=st.data())
def test_incremental_builds_equal_clean_full_builds(pick: st.DataObject, tmp_path_factory: pytest.TempPathFactory) -> None:
    site = tmp_path_factory.mktemp("incremental") / "site"
    shutil.copytree(MINIMAL_SITE, site)
    today = TODAY
    # Two items a page: topic, person, series, year and place lists run over several pages,
    # and every session page shows related talks (tests/test_lists.py).
    lists = {"build.page_size": 2}
    # Half the time, builds as ``sitegen serve`` makes them: in one process, keeping the last one's state,
    # objects and texts in memory (``Warm``), on one worker so the texts are this process's own.
    warm = Warm() if pick.draw(st.booleans()) else None
    if warm is not None:
        lists["build.workers"] = 1
    build_site(load_config(site, lists), today=today, warm=warm)
    for edit in pick.draw(st.lists(st.sampled_from(EDITS), min_size=1, max_size=5)):
        if edit == "next_day":  # talks and events pass from upcoming to past
            today = pick.draw(st.sampled_from([date(2024, 3, 30), date(2024, 3, 31), date(2027, 1, 1), TODAY]))
        else:
            edit(site, pick)
        incremental = build_site(load_config(site, lists), today=today, warm=warm)
        # clean: a build of its own, with nothing kept (no record, no known objects, no kept search reads)
        clean = build_site(load_config(site, {**lists, "build.output_dir": "clean", "build.cache_dir": "clean-cache"}), today=today)
        assert site_files(site / "build") == site_files(site / "clean"), edit
        assert incremental.files_rendered <= clean.files_rendered
        shutil.rmtree(site / "clean")
        shutil.rmtree(site / "clean-cache")


def test_a_rebuild_with_no_change_renders_nothing_and_writes_nothing(minimal_site: Path) -> None:
    first = build_site(load_config(minimal_site), today=TODAY)
    assert first.files_rendered > 20
    again = build_site(load_config(minimal_site), today=TODAY)
    assert again.files_rendered == 0 and again.files_written == 0 and again.files_deleted == 0


def test_one_changed_session_renders_only_what_shows_it(minimal_site: Path) -> None:
    build_site(load_config(minimal_site), today=TODAY)
    index = minimal_site / "build/pagefind"
    index_before = {p: p.read_bytes() for p in index.rglob("*") if p.is_file()}
    sessions = read(minimal_site, "sessions")
    next(s for s in sessions if s["id"] == "x1")["title"] = "Difference engines"
    save(minimal_site, "sessions", sessions)
    report = build_site(load_config(minimal_site), today=TODAY)
    # the search index's changed files are written too (tests/test_search.py); the build's record of the
    # bundle (.sitegen/search.json: the runtime files' SHA-256) is the same, and is not
    index_written = sum(1 for p in index.rglob("*") if p.is_file() and index_before.get(p) != p.read_bytes())
    # Its page, its event's page and calendar, its speakers' pages (Ada, Zoë) and its topic's page, with
    # their calendars and feeds, its series' page, calendar and feed (the page is the same bytes), and the
    # pages of x3 and x4, whose related talks show it (x2 shares no speaker or topic with it);
    # the year page lists events, not talks, so it stays as it is.
    assert report.files_rendered == 6 + 6 + 3 + 2
    # and the site feed, which lists it; the sitemap is made again, the same
    assert report.files_written == 6 + 6 + 2 + 2 + 1 + index_written
    assert "Difference engines" in (minimal_site / "build/2024/minicon/engines/index.html").read_text()
    assert "Difference engines" in (minimal_site / "build/topics/python/index.html").read_text()


def test_a_full_build_restores_a_page_removed_by_hand_and_writes_only_that(minimal_site: Path) -> None:
    first = build_site(load_config(minimal_site), today=TODAY)
    page = minimal_site / "build/people/ada/index.html"
    original = page.read_bytes()
    page.unlink()
    # A rebuild trusts the record (listing build/ would cost more than a small rebuild) ...
    assert build_site(load_config(minimal_site), today=TODAY).files_rendered == 0 and not page.exists()
    # ... and --full renders everything again, and writes what differs.
    report = build_site(load_config(minimal_site), today=TODAY, full=True)
    assert report.files_rendered == first.files_rendered and report.files_written == 1
    assert page.read_bytes() == original


def test_parallel_and_serial_builds_are_identical(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(MINIMAL_SITE, site)
    sessions = read(site, "sessions")
    for number in range(300):  # enough pages for the work to be split
        sessions.append({**sessions[0], "id": f"m{number}", "slug": f"many-{number}", "title": f"Talk {number}"})
    save(site, "sessions", sessions)
    serial = build_site(load_config(site, {"build.workers": 1, "build.output_dir": "serial"}), today=TODAY)
    parallel = build_site(load_config(site, {"build.workers": 2, "build.output_dir": "parallel"}), today=TODAY)
    assert serial.files_rendered == parallel.files_rendered > 300
    assert site_files(site / "serial") == site_files(site / "parallel")


def test_a_rebuild_that_drops_every_page_of_a_template_records_what_a_clean_build_does(minimal_site: Path) -> None:
    """Found by the random test: the record once kept the analysis of event.html
    after the last event was deleted, which a clean build never saw."""
    build_site(load_config(minimal_site), today=TODAY)
    save(minimal_site, "events", [])
    save(minimal_site, "sessions", [])
    build_site(load_config(minimal_site), today=TODAY)
    build_site(load_config(minimal_site, {"build.output_dir": "clean"}), today=TODAY)
    assert site_files(minimal_site / "build") == site_files(minimal_site / "clean")


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        ("garbage", "does not match .sitegen/state.check"),
        ("another format", "was written by another version of sitegen"),
        ("cut short", "does not match .sitegen/state.check"),
        ("deleted", "is missing or unreadable"),
    ],
)
def test_a_damaged_foreign_or_deleted_build_record_gives_a_full_build_and_a_warning(minimal_site: Path, damage: str, said: str) -> None:
    """The build's record (``build/.sitegen/state.marshal``) damaged, from
    another format, cut short or deleted: the next build renders everything,
    says so in one warning (which ``strict`` does not fail on), and ``build/``
    is a clean build's, byte for byte."""
    import marshal

    from sitegen.write import STATE_CHECK, STATE_FILE
    from sitegen.write.state import check_bytes

    config = load_config(minimal_site, {"build.strict": True})
    first = build_site(config, today=TODAY)
    clean = site_files(minimal_site / "build")
    edit = read(minimal_site, "sessions")
    edit[0]["title"] = "Retitled while the record was lost"
    save(minimal_site, "sessions", edit)
    state = minimal_site / "build" / STATE_FILE
    if damage == "garbage":
        state.write_bytes(b"\x00not marshal at all" * 50)
    elif damage == "another format":
        other = marshal.dumps({"format": 99, "files": ("index.html",), "record": None})
        state.write_bytes(other)  # as another version writes it: with its check
        (minimal_site / "build" / STATE_CHECK).write_bytes(check_bytes(other))
    elif damage == "cut short":
        state.write_bytes(state.read_bytes()[:100])
    else:
        state.unlink()
    again = build_site(config, today=TODAY)
    assert again.files_rendered == first.files_rendered
    assert [w for w in again.warnings if STATE_FILE in w and said in w] and len(again.warnings) == 1
    fresh = build_site(load_config(minimal_site, {"build.output_dir": "clean"}), today=TODAY)
    assert site_files(minimal_site / "build") == site_files(minimal_site / "clean") != clean
    assert fresh.warnings == [] and build_site(config, today=TODAY).warnings == []  # the record is whole again


def test_a_state_restored_into_a_new_checkout_builds_incrementally(minimal_site: Path, tmp_path: Path) -> None:
    """What publish.yml's cache step does: build/ and cache_dir saved after one
    run, restored into a fresh checkout at another path (new mtimes, files
    copied), then a commit that changes one talk. The build is a rebuild (a few
    files rendered, no warning) and equals a clean build."""
    first = build_site(load_config(minimal_site), today=TODAY)
    checkout = tmp_path / "checkout"
    shutil.copytree(minimal_site, checkout, ignore=shutil.ignore_patterns("build", ".sitegen-cache"))
    for kept in ("build", ".sitegen-cache"):
        shutil.copytree(minimal_site / kept, checkout / kept, copy_function=shutil.copy)  # new mtimes, as a restore gives
    edit = read(checkout, "sessions")
    edit[0]["title"] = "Changed in the next commit"
    save(checkout, "sessions", edit)
    again = build_site(load_config(checkout), today=TODAY)
    assert 0 < again.files_rendered < first.files_rendered / 2 and again.warnings == []
    build_site(load_config(checkout, {"build.output_dir": "clean"}), today=TODAY)
    assert site_files(checkout / "build") == site_files(checkout / "clean")


def test_the_publish_workflow_installs_locked_versions_and_keys_its_state_by_the_code() -> None:
    """publish.yml: locked, hash-checked installs; the build state it restores is
    keyed by everything that decides how pages are made, so a new sitegen or
    theme starts from nothing; restore-keys is the key without the commit."""
    import yaml
    from conftest import REPO

    steps = yaml.safe_load((REPO / ".github/workflows/publish.yml").read_text())["jobs"]["publish"]["steps"]
    install = next(s for s in steps if s.get("name") == "Install sitegen")["run"]
    assert "--require-hashes --no-deps -r locks/run.txt" in install and "--no-deps" in install.splitlines()[-1]
    cache = next(s for s in steps if str(s.get("uses", "")).startswith("actions/cache@"))["with"]
    assert set(cache["path"].split()) == {"build", ".sitegen-cache"}
    prefix = cache["restore-keys"].strip()
    assert cache["key"] == prefix + "${{ github.sha }}"
    for covered in ("'pyproject.toml'", "'locks/run.txt'", "'sitegen/**'", "'themes/**'", "'sitegen.toml'"):
        assert covered in prefix
    names = [s.get("name") for s in steps]
    assert names.index("Restore the last build") < names.index("Build") < names.index("Publish")


@pytest.mark.parametrize("foreign", ["another build's", "an older one put back", "a link to /dev/zero", "a pipe"])
def test_a_build_record_that_is_not_this_builds_is_not_used(minimal_site: Path, tmp_path: Path, foreign: str) -> None:
    """A record copied from another build, or an older one of this build put back, does not
    match its check file (``state.check``); a link to a device or a pipe is not read. Each is
    one warning naming the record and a full build equal to a clean one, never a stale page."""
    import os

    from sitegen.write import STATE_FILE

    config = load_config(minimal_site)
    build_site(config, today=TODAY)
    state = minimal_site / "build" / STATE_FILE
    original = read(minimal_site, "sessions")[0]["title"]
    if foreign == "another build's":  # a build whose session already has the title this one is about to get
        other = tmp_path / "other"
        shutil.copytree(MINIMAL_SITE, other)
        retitled = read(other, "sessions")
        retitled[0]["title"] = "Retitled elsewhere"
        save(other, "sessions", retitled)
        build_site(load_config(other), today=TODAY)
        replacement = (other / "build" / STATE_FILE).read_bytes()
    elif foreign == "an older one put back":
        replacement = state.read_bytes()
        between = read(minimal_site, "sessions")
        between[0]["title"] = "Retitled elsewhere"
        save(minimal_site, "sessions", between)
        build_site(config, today=TODAY)
    edit = read(minimal_site, "sessions")
    # The data the foreign record describes, so that trusting it would leave the pages stale.
    edit[0]["title"] = {"another build's": "Retitled elsewhere", "an older one put back": original}.get(foreign, "Changed")
    save(minimal_site, "sessions", edit)
    state.unlink()
    if foreign == "a link to /dev/zero":
        state.symlink_to("/dev/zero")
    elif foreign == "a pipe":
        os.mkfifo(state)
    else:
        state.write_bytes(replacement)
    again = build_site(config, today=TODAY)
    assert len(again.warnings) == 1 and STATE_FILE in again.warnings[0] and "not used" in again.warnings[0]
    build_site(load_config(minimal_site, {"build.output_dir": "clean"}), today=TODAY)
    assert site_files(minimal_site / "build") == site_files(minimal_site / "clean")
    assert build_site(config, today=TODAY).warnings == []


def test_the_states_early_part_is_read_alone_and_checked_on_its_own(tmp_path):
    """``read_early`` (what the index job, forked before the build reads the state, reads
    itself): the early part as written, read without the rest, under its own digest in
    the check file. A damaged rest leaves it usable (the build itself then warns and renders
    everything); a damaged early part, another version's header, a header cut short, a
    length past the end, a missing state or check: None. However large the file, only the
    early part is read."""
    from sitegen.write.state import STATE_CHECK, STATE_FILE, check_bytes, read_early, read_last_build, state_bytes

    (tmp_path / ".sitegen").mkdir()
    state = state_bytes(["b.html", "a.html"], {"render": [1, 2]}, early={"digest": "d", "files": ("x",)})
    check = check_bytes(state)
    (tmp_path / STATE_FILE).write_bytes(state)
    (tmp_path / STATE_CHECK).write_bytes(check)
    assert read_early(tmp_path) == {"digest": "d", "files": ("x",)}
    last = read_last_build(tmp_path)
    assert last.files == {"a.html", "b.html"} and last.record == {"render": [1, 2]} and last.problem is None
    (tmp_path / STATE_FILE).write_bytes(state[:-1])  # the rest damaged: the build warns, the early part stands
    assert read_early(tmp_path) == {"digest": "d", "files": ("x",)} and read_last_build(tmp_path).problem is not None
    for bad in (state.replace(b"digest", b"digesT"), b"sitegen state 2\n" + state[16:], state[:20]):
        (tmp_path / STATE_FILE).write_bytes(bad)
        assert read_early(tmp_path) is None
    for other in (b"sitegen state 2\n" + state[16:], state[:20]):  # with its own check: another version's, or cut in its header
        (tmp_path / STATE_FILE).write_bytes(other)
        (tmp_path / STATE_CHECK).write_bytes(check_bytes(other))
        assert read_early(tmp_path) is None and read_last_build(tmp_path).files is None
    (tmp_path / STATE_FILE).write_bytes(b"sitegen state 3\n" + (10**9).to_bytes(8, "big") + b"\0")  # a length past the end
    (tmp_path / STATE_CHECK).write_bytes(check_bytes((tmp_path / STATE_FILE).read_bytes()))
    assert read_early(tmp_path) is None and read_last_build(tmp_path).files is None
    (tmp_path / STATE_FILE).write_bytes(state + b"\0" * (64 << 20))  # a damaged rest of 64 MB: not read
    (tmp_path / STATE_CHECK).write_bytes(check)
    import tracemalloc

    tracemalloc.start()
    assert read_early(tmp_path) == {"digest": "d", "files": ("x",)}
    assert tracemalloc.get_traced_memory()[1] < 1 << 20
    tracemalloc.stop()
    (tmp_path / STATE_CHECK).unlink()
    assert read_early(tmp_path) is None
    (tmp_path / STATE_FILE).unlink()
    (tmp_path / STATE_FILE).mkdir()  # a folder in its place: named as a folder, not as missing
    assert read_early(tmp_path) is None
    assert "is a folder" in read_last_build(tmp_path).problem.what


def test_a_build_that_leaves_the_index_for_later_keeps_it_whole_and_the_next_one_updates_it(minimal_site: Path) -> None:
    first = build_site(load_config(minimal_site), today=TODAY, index_later=True)
    assert first.search_indexed and not first.search_left  # no index to keep yet: it is made
    bundle = tree(minimal_site / "build/pagefind")
    sessions = read(minimal_site, "sessions")
    next(s for s in sessions if s["id"] == "x1")["title"] = "Quaternion engines"
    save(minimal_site, "sessions", sessions)
    later = build_site(load_config(minimal_site), today=TODAY, index_later=True)
    assert later.search_left and not later.search_indexed and later.files_rendered > 0
    assert tree(minimal_site / "build/pagefind") == bundle  # the last index, whole, beside the new pages
    caught_up = build_site(load_config(minimal_site), today=TODAY)
    assert caught_up.search_indexed and caught_up.files_rendered == 0
    clean = build_site(load_config(minimal_site, {"build.output_dir": "clean", "build.cache_dir": "clean-cache"}), today=TODAY)
    assert clean.search_indexed
    assert site_files(minimal_site / "build") == site_files(minimal_site / "clean")


def test_a_build_that_would_leave_the_index_but_has_no_record_runs_one_job_and_joins_it(minimal_site: Path) -> None:
    """No record of the last build (its check deleted: serve after "delete build/"): the index is made
    with the pages, by one job, which is joined; none is left behind (it was, blocked on its pipe)."""
    build_site(load_config(minimal_site), today=TODAY)
    (minimal_site / "build" / STATE_CHECK).unlink()
    sessions = read(minimal_site, "sessions")
    next(s for s in sessions if s["id"] == "x1")["title"] = "Quaternion engines"
    save(minimal_site, "sessions", sessions)
    report = build_site(load_config(minimal_site), today=TODAY, index_later=True)
    assert report.search_indexed and not report.search_left
    assert _children_named("sitegen-index") == []
    build_site(load_config(minimal_site, {"build.output_dir": "clean", "build.cache_dir": "clean-cache"}), today=TODAY)
    assert site_files(minimal_site / "build") == site_files(minimal_site / "clean")


def _children_named(name: str) -> list[int]:
    """This process's children (running or not yet reaped) of this name."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
            if fields.get("PPid", "").strip() == str(os.getpid()) and fields.get("Name", "").strip() == name:
                found.append(int(entry))
    return found


@pytest.mark.parametrize("asked_at", [1, 2, 3])  # after the fetch, after the model, after rendering
def test_a_build_told_to_give_up_writes_nothing_and_the_next_one_is_whole(minimal_site: Path, asked_at: int) -> None:
    build_site(load_config(minimal_site), today=TODAY)
    before = tree(minimal_site / "build")
    sessions = read(minimal_site, "sessions")
    next(s for s in sessions if s["id"] == "x1")["title"] = "Quaternion engines"
    save(minimal_site, "sessions", sessions)
    asked: list[int] = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) >= asked_at

    with pytest.raises(Superseded):
        build_site(load_config(minimal_site), today=TODAY, stop_if=stop)
    assert tree(minimal_site / "build") == before
    assert not staging_path(minimal_site / "build").exists()
    build_site(load_config(minimal_site), today=TODAY)
    build_site(load_config(minimal_site, {"build.output_dir": "clean", "build.cache_dir": "clean-cache"}), today=TODAY)
    assert site_files(minimal_site / "build") == site_files(minimal_site / "clean")


def test_a_build_that_would_leave_the_index_runs_it_when_a_page_moved(minimal_site: Path) -> None:
    """The last index would link to the page's old URL: a dead search result, even for a second."""
    build_site(load_config(minimal_site), today=TODAY)
    sessions = read(minimal_site, "sessions")
    next(s for s in sessions if s["id"] == "x1")["slug"] = "engines-moved"
    save(minimal_site, "sessions", sessions)
    moved = build_site(load_config(minimal_site), today=TODAY, index_later=True)
    assert moved.search_indexed and not moved.search_left
    build_site(load_config(minimal_site, {"build.output_dir": "clean", "build.cache_dir": "clean-cache"}), today=TODAY)
    assert site_files(minimal_site / "build") == site_files(minimal_site / "clean")
