"""frab / c3voc ``schedule.json`` sources (sitegen/sources/frab.py): finding the
files, the conversion to the contract's collections, a whole build, and the
``frab+http://`` form against a real local server.

The fixtures in tests/fixtures/frab/schedules are checked against the c3voc
schema (tests/fixtures/frab/README.md says where it comes from), so the
converter is tested on what real exports look like.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import TESTS, TODAY, tree
from jsonschema import Draft6Validator, FormatChecker

from sitegen.build import REPORT_FILE, build_site
from sitegen.config import SourceConfig, load_config
from sitegen.errors import SourceError
from sitegen.fetch import fetch_archive
from sitegen.model import build_archive
from sitegen.sources.frab import convert, schedule_files

FIXTURES = TESTS / "fixtures" / "frab"
SCHEDULES = FIXTURES / "schedules"
ROOM = "Saal Großer Hörsaal ü"
NO_TITLE = 'days[0].rooms["Workshop Room"][0] (guid 0b8e2f57-6f1e-4b5a-8d8c-1a2b3c4d0104)'


def load(name: str) -> dict[str, Any]:
    return json.loads((SCHEDULES / f"{name}.json").read_text(encoding="utf-8"))


def fixture_documents() -> list[tuple[str, Any]]:
    return [(f"schedules/{path.name}", json.loads(path.read_text(encoding="utf-8"))) for path in sorted(SCHEDULES.glob("*.json"))]


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


def sessions_by_title(collections: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    return {session["title"]: session for session in collections["sessions"]}


def schedule(*talks: Any, day_start: str = "2025-12-27T10:00:00+01:00", **conference: Any) -> dict[str, Any]:
    """A one-day, one-room schedule around ``talks``."""
    return {
        "schedule": {
            "version": "1.0",
            "conference": {
                "acronym": "mini25",
                "title": "Mini",
                "start": "2025-12-27",
                "end": "2025-12-28",
                "time_zone_name": "Europe/Berlin",
                **conference,
                "days": [
                    {
                        "index": 1,
                        "date": "2025-12-27",
                        "day_start": day_start,
                        "day_end": "2025-12-28T04:00:00+01:00",
                        "rooms": {"Room": list(talks)},
                    }
                ],
            },
        }
    }


def talk(number: int | None, **fields: Any) -> dict[str, Any]:
    return {"id": number, "title": f"Talk {number}", "slug": f"talk-{number}", **fields}


# --- the fixtures are c3voc schedules ----------------------------------------------


def test_fixtures_follow_the_c3voc_schema() -> None:
    schema = json.loads((FIXTURES / "schema.json").read_text(encoding="utf-8"))
    Draft6Validator.check_schema(schema)
    validator = Draft6Validator(schema, format_checker=FormatChecker(formats=("uuid", "date")))
    documents = fixture_documents()
    assert len(documents) == 2
    for origin, document in documents:
        assert [error.message for error in validator.iter_errors(document)] == [], origin
    # Not vacuous: a talk without its guid, or with a key the schema does not know, is refused.
    broken = load("nordcon25")
    first = broken["schedule"]["conference"]["days"][0]["rooms"][ROOM][0]
    del first["guid"]
    assert not validator.is_valid(broken)
    first["guid"], first["speakers"] = "0b8e2f57-6f1e-4b5a-8d8c-1a2b3c4d0101", []
    assert not validator.is_valid(broken)


# --- finding the files --------------------------------------------------------------


def test_schedule_files_lists_folders_in_name_order_and_each_file_once(tmp_path: Path) -> None:
    folder = tmp_path / "schedules"
    folder.mkdir()
    for name in ("b.json", "a.json", "notes.txt"):
        (folder / name).write_text("{}")
    (tmp_path / "extra.json").write_text("{}")

    files = schedule_files(tmp_path, " schedules , extra.json,schedules/a.json")

    assert files == [folder / "a.json", folder / "b.json", tmp_path / "extra.json"]


@pytest.mark.parametrize("location, what", [("missing.json", "does not exist"), ("empty", "without any *.json")])
def test_schedule_files_names_the_path_and_the_fix(tmp_path: Path, location: str, what: str) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError) as caught:
        schedule_files(tmp_path, location)
    message = str(caught.value)
    assert message.startswith(str(tmp_path / location)) and what in message
    assert "fix:" in message


# --- the conversion -----------------------------------------------------------------


def test_each_schedule_is_one_event_in_its_timezone() -> None:
    converted = convert(fixture_documents())
    events = by_id(converted.collections["events"])
    assert sorted(events) == ["nordcon25", "tinycon26"]
    nordcon = events["nordcon25"]
    assert (nordcon["slug"], nordcon["name"], nordcon["timezone"]) == ("nordcon25", "Nordcon 2025", "Europe/Berlin")
    assert (nordcon["start_date"], nordcon["end_date"]) == ("2025-12-27", "2025-12-28")
    assert nordcon["url"] == "https://nordcon.example/2025/"
    assert nordcon["updated_at"] == "2025-12-20T18:00:00+01:00"  # the version, which is a timestamp
    assert events["tinycon26"]["timezone"] == "America/New_York"
    assert events["tinycon26"]["updated_at"] == "2026-12-05T00:00:00-05:00"  # version "0.7": the first day
    assert converted.collections["series"] == [] and converted.collections["venues"] == []


def test_talk_times_are_absolute_and_cross_midnight() -> None:
    sessions = sessions_by_title(convert(fixture_documents()).collections)
    night = sessions["Night Shift: Soldering after Dark"]
    assert (night["start"], night["end"]) == ("2025-12-27T23:30:00+01:00", "2025-12-28T00:30:00+01:00")
    after = sessions["After Midnight: Threat Models"]  # listed under the 27th, held on the 28th
    assert (after["start"], after["end"]) == ("2025-12-28T00:30:00+01:00", "2025-12-28T01:15:00+01:00")
    assert sessions["Keynote: Small Is Beautiful"]["start"] == "2026-12-05T09:00:00-05:00"
    birds = sessions["Birds of a Feather"]  # no usable date or start: on the day it is listed under, without a time
    assert (birds["start"], birds["date"]) == (None, "2026-12-05")
    assert night["room"] == ROOM


def test_start_without_date_is_on_the_day_or_after_midnight() -> None:
    document = schedule(
        talk(1, start="23:30", duration="01:00"),
        talk(2, start="00:30", duration="00:45"),  # before day_start 10:00: the next calendar day
        talk(3, start="10:00", duration="00:30", end="2025-12-27T11:15:00+01:00"),  # newer exports have end
        talk(4, date="2025-12-27T12:00:00Z", duration="1:30"),
    )
    sessions = sessions_by_title(convert([("mini.json", document)]).collections)
    assert (sessions["Talk 1"]["start"], sessions["Talk 1"]["end"]) == ("2025-12-27T23:30:00+01:00", "2025-12-28T00:30:00+01:00")
    assert (sessions["Talk 2"]["start"], sessions["Talk 2"]["end"]) == ("2025-12-28T00:30:00+01:00", "2025-12-28T01:15:00+01:00")
    assert sessions["Talk 3"]["end"] == "2025-12-27T11:15:00+01:00"
    assert (sessions["Talk 4"]["start"], sessions["Talk 4"]["end"]) == ("2025-12-27T12:00:00+00:00", "2025-12-27T14:30:00+01:00")


def test_duration_is_added_in_absolute_time_across_a_daylight_saving_change() -> None:
    document = schedule(
        talk(1, date="2025-10-26T01:30:00+02:00", duration="02:00"),
        start="2025-10-25",
        end="2025-10-26",
        day_start="2025-10-25T10:00:00+02:00",
    )
    [session] = convert([("dst.json", document)]).collections["sessions"]
    assert session["end"] == "2025-10-26T02:30:00+01:00"  # clocks went back at 03:00 CEST


def test_a_missing_timezone_is_the_first_days_fixed_offset_with_a_warning() -> None:
    converted = convert(
        [
            ("a.json", schedule(talk(1, start="10:00"), time_zone_name=None)),
            (
                "b.json",
                schedule(talk(1, start="10:00"), acronym="other25", time_zone_name="Mars/Olympus", day_start="2025-12-27T10:00:00+05:30"),
            ),
        ]
    )
    events = by_id(converted.collections["events"])
    assert events["mini25"]["timezone"] == "Etc/GMT-1"  # UTC+01:00, as the Etc zones count
    assert events["other25"]["timezone"] == "UTC"  # no Etc zone has +05:30
    assert by_id(converted.collections["sessions"])["mini25:1"]["start"] == "2025-12-27T10:00:00+01:00"
    where = [warning.where for warning in converted.warnings]
    assert where == ["a.json: conference.time_zone_name", "b.json: conference.time_zone_name"]
    assert converted.warnings[0].what == (
        "null is not an IANA timezone; times are shown in Etc/GMT-1 (its first day's UTC offset +01:00, without daylight saving changes)"
    )
    assert converted.warnings[1].what == (
        "'Mars/Olympus' is not an IANA timezone; times are shown in UTC (no fixed-offset zone has its first day's UTC offset +05:30)"
    )


def test_people_in_frab_and_pretalx_form() -> None:
    collections = convert(fixture_documents()).collections
    people = {person["name"]: person for person in collections["people"]}
    assert sorted(people) == ["Ada Lovelace", "Grace Hopper", "Linus Example"]
    ada, grace, linus = people["Ada Lovelace"], people["Grace Hopper"], people["Linus Example"]
    assert ada["id"] == "frab:fahrplan.nordcon.example:7" and ada["slug"] == "ada-lovelace"
    assert grace["id"] == "pretalx:fahrplan.nordcon.example:GRH7Q"
    assert grace["bio"] == "Rear admiral and *compiler* pioneer."  # from her first mention; the second has none
    assert linus["bio"] == "Maintains tiny things."  # HTML, as text
    assert linus["avatar_url"] == "https://pretalx.tinycon.example/media/avatars/lnx42.png"  # against base_url
    sessions = sessions_by_title(collections)
    assert sessions["After Midnight: Threat Models"]["speakers"] == [ada["id"], grace["id"]]
    assert sessions["Closing"]["speakers"] == [ada["id"]]


def test_person_ids_are_per_issuing_system_and_equal_names_get_distinct_slugs() -> None:
    ada = {"id": 7, "public_name": "Ada Lovelace"}
    converted = convert(
        [
            (
                "a.json",
                {
                    "schedule": {
                        **schedule(talk(1, date="2025-12-27T10:00:00+01:00", persons=[ada]))["schedule"],
                        "base_url": "https://one.example/",
                    }
                },
            ),
            (
                "b.json",
                {
                    "schedule": {
                        **schedule(talk(1, date="2025-12-27T10:00:00+01:00", persons=[ada]), acronym="other25")["schedule"],
                        "base_url": "https://two.example/",
                    }
                },
            ),
            (
                "c.json",
                schedule(
                    talk(
                        1,
                        date="2025-12-27T10:00:00+01:00",
                        persons=[{"guid": "C0FFEE00-0000-4000-8000-000000000001", "name": "Ada Lovelace"}, {"name": "Bob"}],
                    ),
                    acronym="third25",
                ),
            ),
        ]
    )
    people = by_id(converted.collections["people"])
    ids = sorted(people)
    assert ids[:3] == ["frab:one.example:7", "frab:two.example:7", "guid:c0ffee00-0000-4000-8000-000000000001"]
    assert ids[3].startswith("name:")  # Bob has nothing but his name
    slugs = sorted(person["slug"] for person in people.values())
    assert len(set(slugs)) == 4 and "bob" in slugs
    assert all(slug.startswith("ada-lovelace-") for slug in slugs if slug != "bob")  # three Adas, none first
    build_archive(converted.collections)


def test_links_and_attachments_become_media() -> None:
    sessions = sessions_by_title(convert(fixture_documents()).collections)
    assert sessions["Opening"]["media"] == [
        {"kind": "video", "url": "https://media.ccc.de/v/nordcon25-101-opening", "title": "Recording"},
        {"kind": "slides", "url": "https://fahrplan.nordcon.example/2025/attachments/101/opening-slides.pdf", "title": "Opening slides"},
    ]
    assert sessions["After Midnight: Threat Models"]["media"] == [
        {"kind": "code", "url": "https://github.com/nordcon/threat-models", "title": None}
    ]
    assert [item["kind"] for item in sessions["Keynote: Small Is Beautiful"]["media"]] == ["video", "slides"]
    assert sessions["Lightning Talks"]["media"] == []  # ftp:// is left out, with a warning


def test_html_descriptions_become_markdown_that_shows_text_as_text() -> None:
    sessions = sessions_by_title(convert(fixture_documents()).collections)
    assert sessions["Night Shift: Soldering after Dark"]["abstract"] == (
        "*Bring your own iron*\n\n"
        "Soldering for night owls.\n\n"
        "We solder until the sun comes up \\& beyond.\n\n"
        "- 1\\. bring flux\n"
        "- bring snacks\n\n"
        "Kits from [our shop](<https://shop.nordcon.example/kits>), not this."
    )
    # frab repeats the abstract at the start of the description: shown once
    assert sessions["After Midnight: Threat Models"]["abstract"] == "Who is awake at this hour? Attackers."
    # pretalx writes Markdown: kept as it is
    assert sessions["Keynote: Small Is Beautiful"]["abstract"] == (
        "Why tiny conferences work.\n\nLonger text, in **Markdown** as pretalx writes it."
    )


def test_broken_data_is_left_out_or_filled_in_with_warnings_naming_it() -> None:
    converted = convert(fixture_documents())
    assert "nordcon25:0b8e2f57-6f1e-4b5a-8d8c-1a2b3c4d0104" not in by_id(converted.collections["sessions"])
    messages = [str(warning) for warning in converted.warnings]
    lightning = 'schedules/nordcon25.json: days[0].rooms["Workshop Room"][1] (guid 0b8e2f57-6f1e-4b5a-8d8c-1a2b3c4d0105)'
    assert messages == [
        f"schedules/nordcon25.json: {NO_TITLE}: has no title (''); left out (fix: give the talk a title in the schedule, or remove it)",
        f'{lightning}.persons[0]: {{"id": 8, "public_name": ""}} has no name; left out of the speakers '
        '(fix: give the person a "public_name" (frab) or "name" (pretalx))',
        f'{lightning}.links[0]: {{"url": "ftp://files.nordcon.example/lightning.zip", "tit... has no http(s) URL; left out '
        "(fix: link to an http:// or https:// address, or set the schedule's base_url for relative ones)",
        'schedules/tinycon26.json: days[0].rooms["Main Hall"][3] (guid 5d7c9a10-3e2f-4a6b-9c8d-7e6f5a4b0004): '
        "has no usable date ('') or start (''); shown on its day, 2026-12-05, without a time "
        "(fix: give the talk a date with an offset, or a start HH:MM on a day with a date)",
    ]


def test_more_broken_data_never_crashes() -> None:
    document = schedule(
        "not a talk",
        talk(1, date="2025-12-27T10:00:00+01:00", end="2025-12-27T09:00:00+01:00"),
        talk(2, start="10:00", persons="Ada", links="https://x.example/", attachments=[{"title": "no url"}]),
        talk(2, start="11:00"),
        talk(None, guid=None, title="No ids", start="12:00"),
    )
    document["schedule"]["conference"]["days"].append({"index": 2, "rooms": []})
    converted = convert([("x.json", document)])
    sessions = by_id(converted.collections["sessions"])
    assert sorted(sessions) == ["mini25:1", "mini25:2", next(key for key in sessions if key.startswith("mini25:") and len(key) == 15)]
    assert sessions["mini25:1"]["end"] is None and sessions["mini25:2"]["start"] == "2025-12-27T10:00:00+01:00"
    assert [warning.where for warning in converted.warnings] == [
        'x.json: days[0].rooms["Room"][0]',
        'x.json: days[0].rooms["Room"][1] (id 1)',
        'x.json: days[0].rooms["Room"][2] (id 2).persons',
        'x.json: days[0].rooms["Room"][2] (id 2).links',
        'x.json: days[0].rooms["Room"][2] (id 2).attachments[0]',
        "x.json: days[1]",
        'x.json: days[0].rooms["Room"][3] (id 2)',  # found when the event's sessions are named, after reading
    ]
    assert "ends (2025-12-27T09:00:00+01:00) before it starts" in converted.warnings[1].what
    assert converted.warnings[6].what.startswith('repeats x.json: days[0].rooms["Room"][2] (id 2) (the same guid or id)')
    build_archive(converted.collections)  # what is left is valid


def test_links_the_contract_refuses_are_left_out_here_with_its_reason() -> None:
    """The converter applies the contract's URL rule (sitegen.contract.url_problem), so
    the warning names the schedule's place, and the model has nothing left to drop."""
    odd = "https://x.example\\@evil.example/"
    person = {"id": 7, "public_name": "Ada", "avatar": "https://a.example/\tme.png"}
    document = schedule(talk(1, start="10:00", persons=[person], links=[odd, "https://ok.example/"]), url="https://x .example/")
    converted = convert([("x.json", document)])
    messages = [str(warning) for warning in converted.warnings]
    assert messages == [
        "x.json: conference.url: 'https://x .example/' has a space or a %-escape in its host name; "
        "the event is shown without its link (fix: write the host name plainly, such as www.example.org)",
        'x.json: days[0].rooms["Room"][0] (id 1).persons[0].avatar: '
        "'https://a.example/\\tme.png' contains a tab, line break or other control character, which browsers drop or refuse; "
        "left out (fix: remove it, or percent-encode it)",
        f'x.json: days[0].rooms["Room"][0] (id 1).links[0]: its URL {odd!r} contains a backslash, which browsers read as '
        "'/' (the link could open another host than it shows); left out (fix: use '/' in the URL, or write a backslash as %5C)",
    ]
    session = converted.collections["sessions"][0]
    assert [item["url"] for item in session["media"]] == ["https://ok.example/"]
    assert converted.collections["events"][0]["url"] is None and converted.collections["people"][0]["avatar_url"] is None
    assert build_archive(converted.collections).warnings == ()


def test_shared_acronyms_and_slugs_get_stable_suffixes() -> None:
    twice = schedule(talk(1, start="10:00"), talk(2, start="11:00", slug="talk-1"))
    next_year = schedule(talk(1, start="10:00"), start="2026-12-27", end="2026-12-28")
    converted = convert([("a.json", twice), ("b.json", next_year), ("c.json", twice)])
    events = [event["id"] for event in converted.collections["events"]]
    assert events == ["mini25-2025-12-27", "mini25-2026-12-27", "mini25-2025-12-27-2"]
    assert [w.where for w in converted.warnings] == ["c.json: conference.acronym"]
    assert "also the conference of a.json" in converted.warnings[0].what
    slugs = {session["id"]: session["slug"] for session in converted.collections["sessions"]}
    assert slugs["mini25-2025-12-27:1"] == "talk-1-1" and slugs["mini25-2025-12-27:2"] == "talk-1-2"
    assert slugs["mini25-2026-12-27:1"] == "talk-1"
    build_archive(converted.collections)  # no id or slug collides


def test_ids_and_slugs_do_not_depend_on_document_order() -> None:
    def names(documents: list[tuple[str, Any]]) -> dict[str, set[tuple[str, str]]]:
        collections = convert(documents).collections
        return {name: {(item["id"], item["slug"]) for item in items} for name, items in collections.items()}

    documents = fixture_documents()
    assert names(documents) == names(documents[::-1])
    assert names(documents) == names(fixture_documents())


@pytest.mark.parametrize("document", [[], {"schedule": {}}, {"schedule": {"conference": []}}, {"events": []}])
def test_a_document_that_is_no_schedule_is_an_error_naming_it(document: Any) -> None:
    with pytest.raises(SourceError) as caught:
        convert([("https://example.org/schedule.json", document)])
    assert str(caught.value).startswith("https://example.org/schedule.json: is not a frab/c3voc schedule")


def test_the_converted_fixtures_are_a_valid_archive() -> None:
    modelled = build_archive(convert(fixture_documents()).collections)
    assert len(modelled.archive.sessions) == 9 and len(modelled.archive.people) == 3
    assert {topic.name for topic in modelled.archive.topics.values()} == {"Security", "Hardware & Making"}
    assert modelled.warnings == ()


# --- a whole build ------------------------------------------------------------------


def frab_site(root: Path) -> Path:
    shutil.copytree(SCHEDULES, root / "schedules")
    (root / "sitegen.toml").write_text(
        '[site]\ntitle = "Schedules"\nbase_url = "https://archive.example.org/"\n\n[source]\nurl = "frab:schedules"\n',
        encoding="utf-8",
    )
    return root


def test_build_from_frab_schedules(tmp_path: Path) -> None:
    site = frab_site(tmp_path / "site")
    report = build_site(load_config(site), today=TODAY)
    out = site / "build"

    def page(path: str) -> str:
        return (out / path / "index.html").read_text(encoding="utf-8")

    night = page("2025/nordcon25/nordcon25-102-night-shift")
    assert "Saturday 27 December 2025, 23:30–00:30</time> (Europe/Berlin)" in night
    assert ROOM in night
    assert "Sunday 28 December 2025, 00:30–01:15</time> (Europe/Berlin)" in page("2025/nordcon25/nordcon25-103-after-midnight")
    assert "Saturday 5 December 2026, 09:00–09:45</time> (America/New_York)" in page("2026/tinycon26/tinycon26-1-keynote")
    bof = page("2026/tinycon26/tinycon26-4-bof")  # listed under its day, without a time
    assert '<time datetime="2026-12-05">Saturday 5 December 2026</time>' in bof and "Not yet scheduled" not in bof
    # On the event page the after-midnight talk is on the next calendar day.
    event = page("2025/nordcon25")
    assert event.index("Night Shift") < event.index("Sunday 28 December 2025") < event.index("After Midnight")
    assert ROOM in event
    talks = {
        "ada-lovelace": "2025/nordcon25/nordcon25-101-opening",
        "grace-hopper": "2025/nordcon25/nordcon25-102-night-shift",
        "linus-example": "2026/tinycon26/tinycon26-1-keynote",
    }  # frab form, pretalx form, pretalx with an HTML bio
    for person, talk_path in talks.items():
        assert f'href="/{talk_path}/"' in page(f"people/{person}")
        assert f'href="/people/{person}/"' in page(talk_path)
    assert "Maintains tiny things." in page("people/linus-example")
    opening = page("2025/nordcon25/nordcon25-101-opening")
    assert 'href="https://media.ccc.de/v/nordcon25-101-opening"' in opening
    assert 'href="https://fahrplan.nordcon.example/2025/attachments/101/opening-slides.pdf"' in opening
    # media.ccc.de plays on the page (issue 14); the slides are a link
    assert 'data-embed="https://media.ccc.de/v/nordcon25-101-opening/oembed"' in opening and "badge-slides" in opening
    # The HTML description: its text and link, and no trace of its script.
    assert '<a href="https://shop.nordcon.example/kits" rel="nofollow ugc noopener">our shop</a>' in night
    assert "<li>1. bring flux</li>" in night
    for path, data in tree(out).items():
        if path.endswith((".html", ".ics", ".atom", ".xml")):
            text = data.decode("utf-8")
            assert "alert(" not in text and "javascript:" not in text, path
    assert any(f"nordcon25.json: {NO_TITLE}: has no title" in warning for warning in report.warnings)
    assert len(report.warnings) == 4


def test_two_builds_of_the_same_schedules_are_identical(tmp_path: Path) -> None:
    outputs = []
    for name in ("one", "two"):
        site = frab_site(tmp_path / name)
        build_site(load_config(site), today=TODAY)
        outputs.append({path: data for path, data in tree(site / "build").items() if path != REPORT_FILE})
    assert outputs[0] == outputs[1]
    assert "2026/tinycon26/lightning-2/index.html" in outputs[0] and "2026/tinycon26/lightning-3/index.html" in outputs[0]


# --- frab+http://: the schedules from a real server ---------------------------------


class ScheduleServer:
    """Serves the schedules of ``folder`` (frab's fixtures) on 127.0.0.1; with ``throttle``,
    the first request of each file answers 429 with ``Retry-After: 3``. Records (path,
    status) per request."""

    def __init__(self, folder: Path = SCHEDULES, throttle: bool = True) -> None:
        self.requests: list[tuple[str, int]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
                path = folder / self.path.lstrip("/")
                if not path.is_file():
                    self.answer(404, b"{}")
                elif throttle and self.path not in {seen for seen, _ in owner.requests}:
                    self.answer(429, b"{}", {"Retry-After": "3"})
                else:
                    self.answer(200, path.read_bytes())

            def answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                owner.requests.append((self.path, status))
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> ScheduleServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def schedule_server() -> Iterator[ScheduleServer]:
    with ScheduleServer() as server:
        yield server


def test_frab_over_http_retries_429_as_retry_after_says(schedule_server: ScheduleServer, tmp_path: Path) -> None:
    base = schedule_server.url
    source = SourceConfig(
        url=f"frab+{base}/nordcon25.json, {base}/tinycon26.json",
        retries=2,
        backoff=0.0,
        connect_timeout=2.0,
        read_timeout=2.0,
        total_timeout=20.0,
    )
    sleeps: list[float] = []

    raw = fetch_archive(source, root=tmp_path, cache_dir=tmp_path / "cache", sleep=sleeps.append, environ={})

    assert sleeps == [3.0, 3.0]
    assert schedule_server.requests == [
        ("/nordcon25.json", 429),
        ("/nordcon25.json", 200),
        ("/tinycon26.json", 429),
        ("/tinycon26.json", 200),
    ]
    assert raw.stats.retries == 2 and raw.stats.requests == 4
    assert [event["id"] for event in raw.collections["events"]] == ["nordcon25", "tinycon26"]
    assert len(raw.collections["sessions"]) == 9
    assert f"{base}/nordcon25.json: {NO_TITLE}" in [warning.where for warning in raw.warnings]


def test_frab_over_http_names_the_url_that_is_missing(schedule_server: ScheduleServer, tmp_path: Path) -> None:
    source = SourceConfig(url=f"frab+{schedule_server.url}/gone.json", retries=0)
    with pytest.raises(SourceError) as caught:
        fetch_archive(source, root=tmp_path, cache_dir=tmp_path / "cache", sleep=lambda s: None, environ={})
    message = str(caught.value)
    assert message.startswith(f"{schedule_server.url}/gone.json: HTTP 404 Not Found")
    assert "fix: check [source] url" in message
