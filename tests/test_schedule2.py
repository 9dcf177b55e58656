"""c3voc schedule v2 sources (sitegen/sources/schedule2/): the fixture against
the schema, the conversion (participants and their roles, times across
midnight, room objects, tracks, media), the output through the model and a
whole build, hostile documents, and the entry points for files and for
``schedule2+http://`` against a real local server.

tests/fixtures/schedule2/README.md says where the schema comes from.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import TESTS, TODAY
from jsonschema import Draft6Validator, FormatChecker
from test_frab import ScheduleServer

from sitegen.build import build_site
from sitegen.config import SourceConfig, load_config
from sitegen.errors import SourceError
from sitegen.fetch import source_problems
from sitegen.fetch.formats.frab import SCHEDULE2
from sitegen.fetch.source import Reading
from sitegen.model import build_archive
from sitegen.sources.schedule2 import convert

FIXTURES = TESTS / "fixtures" / "schedule2"
SCHEDULES = FIXTURES / "schedules"
ORIGIN = "schedules/kongress25.json"
HALL = "Großer Saal Köln"
JOERDIS, ADA, KAI = (f"guid:a5e0c2b4-1d3f-4e5a-9b8c-7d6e5f4a3b0{n}" for n in (1, 2, 3))


def load() -> dict[str, Any]:
    return json.loads((SCHEDULES / "kongress25.json").read_text(encoding="utf-8"))


def converted(document: Any = None, origin: str = ORIGIN) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    result = convert([(origin, load() if document is None else document)])
    return result.collections, [f"{w.where}: {w.what}" for w in result.warnings]


def sessions_by_title(collections: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    return {session["title"]: session for session in collections["sessions"]}


def mini(*events: Any, **conference: Any) -> dict[str, Any]:
    """A one-room, one-track schedule v2 around ``events``."""
    return {
        "schedule": {
            "version": "2025-12-20T18:30:00+01:00",
            "conference": {
                "acronym": "mini25",
                "title": "Mini",
                "start": "2025-12-27T10:00:00+01:00",
                "end": "2025-12-27T22:00:00+01:00",
                "time_zone_name": "Europe/Berlin",
                "rooms": [{"name": "Saal Straße", "guid": "00000000-0000-4000-8000-000000000001"}],
                "tracks": [{"name": "Track", "slug": "track"}],
                "days": [{"index": 1, "date": "2025-12-27", "start": "2025-12-27T10:00:00+01:00", "end": "2025-12-28T04:00:00+01:00"}],
                **conference,
            },
            "events": list(events),
        }
    }


def event(number: int, **fields: Any) -> dict[str, Any]:
    return {
        "guid": f"00000000-0000-4000-8000-0000000001{number:02d}",
        "title": f"Talk {number}",
        "slug": f"talk-{number}",
        "start": "2025-12-27T11:00:00+01:00",
        "end": "2025-12-27T11:30:00+01:00",
        "room": {"guid": "00000000-0000-4000-8000-000000000001"},
        "track": {"slug": "track"},
        "participants": [{"guid": "00000000-0000-4000-8000-000000000201", "name": "Someone"}],
        **fields,
    }


# --- the fixture is schedule v2 -----------------------------------------------------


def test_the_fixture_follows_schema2() -> None:
    schema = json.loads((FIXTURES / "schema2.json").read_text(encoding="utf-8"))
    Draft6Validator.check_schema(schema)
    validator = Draft6Validator(schema, format_checker=FormatChecker(formats=("uuid", "date", "date-time")))
    assert [error.message for error in validator.iter_errors(load())] == []
    # Not vacuous: an event without its participants, or with a key the schema does not know, is refused.
    broken = load()
    del broken["schedule"]["events"][0]["participants"]
    assert not validator.is_valid(broken)
    broken = load()
    broken["schedule"]["events"][0]["speakers"] = []
    assert not validator.is_valid(broken)


# --- the conversion ------------------------------------------------------------------


def test_the_fixture_converts_and_passes_the_model_without_warnings() -> None:
    collections, warnings = converted()
    assert warnings == []
    modelled = build_archive(collections)
    assert modelled.warnings == ()
    assert len(modelled.archive.sessions) == 3 and len(modelled.archive.people) == 3
    assert {topic.name for topic in modelled.archive.topics.values()} == {"Sicherheit & Recht", "Hardware & Making"}


def test_one_event_in_its_timezone_with_translated_text_in_the_default_language() -> None:
    collections, _ = converted()
    (only,) = collections["events"]
    assert only | {"description": None} == {
        "id": "kongress25",
        "slug": "kongress25",
        "name": "Kongress 2025",
        "series": None,
        "venue": None,
        "start_date": "2025-12-27",
        "end_date": "2025-12-28",
        "timezone": "Europe/Berlin",
        "url": "https://kongress.example/2025/",
        "description": None,
        "topics": [],
        "updated_at": "2025-12-20T18:30:00+01:00",
    }
    assert only["description"] == "Two days of talks on technology and society."  # defaults.language is "en"


def test_two_speakers_and_a_contributor() -> None:
    collections, _ = converted()
    keys = sessions_by_title(collections)["Schlüsselverwaltung für alle"]
    # All three are the talk's people (the contract's one tie), speakers first; the contributor is named as such.
    assert keys["speakers"] == [JOERDIS, ADA, KAI]
    assert keys["abstract"] == (
        "*Keys for everyone*\n\nHow to keep keys safe.\n\nHardware tokens, backups and the people who lose them.\n\nContributions: Kai Helper"
    )
    assert keys["id"] == "kongress25:c1a0e5d2-3f4b-4c6d-8e9f-0a1b2c3d4e01" and keys["slug"] == "kongress25-schluesselverwaltung"
    people = {person["id"]: person for person in collections["people"]}
    assert people[JOERDIS]["slug"] == "jordis-weiss" and people[JOERDIS]["name"] == "Jördis Weiß"
    assert people[JOERDIS]["bio"] == "Jördis verwaltet Schlüssel, seit es Schlösser gibt."
    assert people[JOERDIS]["avatar_url"] == "https://hub.kongress.example/2025/media/avatars/joerdis.png"
    assert people[KAI]["bio"] == "Kai wrote the demo code."


def test_roles_order_the_people_and_a_speaker_named_twice_keeps_the_first_role() -> None:
    participants = [
        {"guid": "00000000-0000-4000-8000-000000000201", "name": "Con Tributor", "role": "CONTRIBUTOR"},
        {"guid": "00000000-0000-4000-8000-000000000202", "name": "Mo Derator", "role": "MODERATOR"},
        {"guid": "00000000-0000-4000-8000-000000000203", "name": "Spea_ker *One*"},
        {"guid": "00000000-0000-4000-8000-000000000202", "name": "Mo Derator", "role": "SPEAKER"},
    ]
    collections, warnings = converted(mini(event(1, participants=participants)))
    (talk,) = collections["sessions"]
    names = {person["id"]: person["name"] for person in collections["people"]}
    assert [names[pid] for pid in talk["speakers"]] == ["Spea_ker *One*", "Mo Derator", "Con Tributor"]
    assert talk["abstract"] == "Moderation: Mo Derator · Contributions: Con Tributor"
    assert warnings == []


def test_talks_across_and_after_midnight_keep_their_absolute_times() -> None:
    collections, _ = converted()
    talks = sessions_by_title(collections)
    night, after = talks["Nachtschicht"], talks["Löten nach Mitternacht"]
    assert (night["start"], night["end"]) == ("2025-12-27T23:30:00+01:00", "2025-12-28T00:30:00+01:00")
    assert (after["start"], after["end"]) == ("2025-12-28T00:45:00+01:00", "2025-12-28T01:30:00+01:00")
    # Without an offset a time is the conference's local time; the ISO duration stands in for a missing end.
    collections, warnings = converted(mini(event(1, start="2025-12-28T00:15:00", end=None, duration="PT1H15M")))
    (talk,) = collections["sessions"]
    assert (talk["start"], talk["end"]) == ("2025-12-28T00:15:00+01:00", "2025-12-28T01:30:00+01:00")
    assert warnings == []


def test_rooms_by_guid_and_tracks_by_slug() -> None:
    collections, _ = converted()
    talks = sessions_by_title(collections)
    assert talks["Nachtschicht"]["room"] == HALL  # the reference has only the guid
    assert talks["Löten nach Mitternacht"]["room"] == "Werkstatt Süd"
    topics = {topic["id"]: topic for topic in collections["topics"]}
    assert [topics[tid]["name"] for tid in talks["Nachtschicht"]["topics"]] == ["Hardware & Making"]
    assert topics["track:sicherheit & recht"]["slug"] == "sicherheit-recht"


def test_links_and_attachments_become_media_and_breaks_feedback_and_cancelled_talks_are_left_out() -> None:
    collections, _ = converted()
    talks = sessions_by_title(collections)
    assert set(talks) == {"Schlüsselverwaltung für alle", "Nachtschicht", "Löten nach Mitternacht"}  # no break, no cancelled talk
    assert talks["Schlüsselverwaltung für alle"]["media"] == [
        {"kind": "video", "url": "https://media.ccc.de/v/kongress25-schluesselverwaltung", "title": "Recording"},
        {"kind": "other", "url": "https://hub.kongress.example/2025/event/schluesselverwaltung/", "title": None},
        {"kind": "slides", "url": "https://hub.kongress.example/2025/media/schluessel.pdf", "title": "Folien"},
    ]
    assert talks["Löten nach Mitternacht"]["media"] == [
        {"kind": "code", "url": "https://github.com/kongress-example/loetkit", "title": "Kit"}
    ]


def test_ids_and_slugs_are_the_same_on_every_run_and_in_any_event_order() -> None:
    first, _ = converted()
    shuffled = load()
    shuffled["schedule"]["events"].reverse()
    second, _ = converted(shuffled)
    key = lambda s: s["id"]  # noqa: E731
    assert sorted(first["sessions"], key=key) == sorted(second["sessions"], key=key)
    assert sorted(first["people"], key=key) == sorted(second["people"], key=key)
    assert converted()[0] == first


# --- hostile and odd documents -------------------------------------------------------

HOSTILE_EVENTS: list[tuple[Any, str]] = [
    ("not an event", "events[0]: 'not an event' is not an event object; left out"),
    (event(1, title=None), "events[0] (guid 00000000-0000-4000-8000-000000000101): has no title (null); left out"),
    (event(1, start="soon"), "has no usable start ('soon'); shown as not yet scheduled"),
    (event(1, end="2025-12-27T10:00:00+01:00"), "ends (2025-12-27T10:00:00+01:00) before it starts"),
    (
        event(1, room={"guid": "11111111-1111-4111-8111-111111111111"}),
        '.room: {"guid": "11111111-1111-4111-8111-111111111111"} names no room',
    ),
    (event(1, room=[1, 2]), ".room: [1, 2] names no room"),
    (event(1, track={"slug": "nope"}), '.track: {"slug": "nope"} names no track'),
    (event(1, participants="everyone"), ".participants: is 'everyone', not a list"),
    (event(1, participants=[{"role": "SPEAKER"}]), '.participants[0]: {"role": "SPEAKER"} has no name'),
    (event(1, participants=[{"name": "X", "role": "DJ"}]), ".participants[0].role: 'DJ' is not one of SPEAKER"),
    (
        event(1, participants=[{"name": "X", "avatar": {"url": "javascript:alert(1)"}}]),
        ".participants[0].avatar: 'javascript:alert(1)' is not",
    ),
    (event(1, links=[{"url": "javascript:alert(1)"}]), '.links[0]: {"url": "javascript:alert(1)"} has no http(s) URL'),
    (event(1, attachments="slides.pdf"), ".attachments: is 'slides.pdf', not a list"),
    (event(1, participants=[{"name": f"P{n}"} for n in range(150)]), ".participants: names 150 people; the first 100 are kept"),
    (event(1, links=[{"url": f"https://example.org/{n}"} for n in range(101)]), ": has 101 links and attachments; the first 100 are kept"),
]


@pytest.mark.parametrize("raw, expected", HOSTILE_EVENTS, ids=range(len(HOSTILE_EVENTS)))
def test_odd_events_give_one_warning_naming_the_document_and_object(raw: Any, expected: str) -> None:
    collections, warnings = converted(mini(raw), origin="https://hub.example/schedule.json")
    assert len(warnings) == 1, warnings
    (warning,) = warnings
    assert warning.startswith("https://hub.example/schedule.json: events[0]") and expected in warning
    modelled = build_archive(collections)  # whatever is kept passes the model
    assert modelled.warnings == ()


@pytest.mark.parametrize(
    "conference, expected",
    [
        (
            {"time_zone_name": "Mars/Olympus"},
            "conference.time_zone_name: 'Mars/Olympus' is not an IANA timezone; times are shown in Etc/GMT-1",
        ),
        ({"title": None}, "conference.title: is null; the event is called 'mini25'"),
        ({"start": "2025-12-28T10:00:00+01:00", "end": "2025-12-27T10:00:00+01:00"}, "conference.start: start '2025-12-28' and end"),
        ({"url": "javascript:alert(1)"}, "conference.url: 'javascript:alert(1)' is not an http(s) URL"),
    ],
)
def test_odd_conferences_are_filled_in_with_a_warning(conference: dict[str, Any], expected: str) -> None:
    collections, warnings = converted(mini(event(1), **conference))
    assert [warning for warning in warnings if expected in warning] != [], warnings
    assert build_archive(collections).warnings == ()


def test_junk_in_every_field_never_crashes() -> None:
    junk: list[Any] = [None, 7, -1.5, True, "", "x" * 5000, [], {}, [None], {"de": 5}, {"guid": 5}, [[[]]]]
    for value in junk:
        for key in (
            "title",
            "start",
            "end",
            "duration",
            "room",
            "track",
            "participants",
            "links",
            "abstract",
            "subtitle",
            "guid",
            "code",
            "slug",
            "type",
            "state",
        ):
            convert([("j.json", mini(event(1, **{key: value})))])
        participant = {"name": "P", "role": value, "avatar": value, "guid": value}
        link = {"url": "https://a.example/", "type": value, "title": value}
        convert([("j.json", mini(event(1, participants=[participant], links=[link], attachments=[value])))])
        for key in ("rooms", "tracks", "days", "description", "languages", "defaults", "start", "end", "acronym", "time_zone_name"):
            convert([("j.json", mini(event(1), **{key: value}))])
        document = mini(event(1))
        document["schedule"]["persons"] = value
        document["schedule"]["version"] = value
        convert([("j.json", document)])


def test_an_event_with_no_events_yet_is_kept_with_a_warning() -> None:
    document = mini()
    del document["schedule"]["events"]
    collections, warnings = converted(document, origin="s.json")
    assert [event["id"] for event in collections["events"]] == ["mini25"]
    assert warnings == ["s.json: schedule.events: is null, not a list of events; the conference has no talks"]


@pytest.mark.parametrize("document", [[], {"schedule": {}}, {"schedule": {"conference": []}}, {"events": []}])
def test_a_document_that_is_no_schedule_is_an_error_naming_it(document: Any) -> None:
    with pytest.raises(SourceError) as caught:
        convert([("https://example.org/schedule.json", document)])
    assert str(caught.value).startswith("https://example.org/schedule.json: is not a c3voc schedule")


def test_a_v1_document_is_an_error_that_says_to_read_it_as_v1() -> None:
    v1 = json.loads((TESTS / "fixtures" / "frab" / "schedules" / "nordcon25.json").read_text(encoding="utf-8"))
    with pytest.raises(SourceError) as caught:
        convert([("nordcon25.json", v1)])
    message = str(caught.value)
    assert "is a schedule v1 document" in message and 'url = "frab:' in message


# --- a whole build -------------------------------------------------------------------


def test_a_site_built_from_the_converted_fixture(tmp_path: Path) -> None:
    """The converted collections in the contract's folder form, built: the German room, the
    talk after midnight on its calendar day, and every participant's page linking the talk."""
    site = tmp_path / "site"
    (site / "data").mkdir(parents=True)
    collections, _ = converted()
    for name, items in collections.items():
        (site / "data" / f"{name}.json").write_text(json.dumps({"data": items, "next": None}), encoding="utf-8")
    (site / "sitegen.toml").write_text('[site]\nbase_url = "https://archive.example.org/"\n\n[source]\nurl = "data"\n', encoding="utf-8")
    report = build_site(load_config(site), today=TODAY)
    assert list(report.warnings) == []

    def page(path: str) -> str:
        return (site / "build" / path / "index.html").read_text(encoding="utf-8")

    after = page("2025/kongress25/kongress25-loeten-nach-mitternacht")
    assert "Sunday 28 December 2025, 00:45–01:30</time> (Europe/Berlin)" in after and "Werkstatt Süd" in after
    night = page("2025/kongress25/kongress25-nachtschicht")
    assert "Saturday 27 December 2025, 23:30–00:30</time> (Europe/Berlin)" in night and HALL in night
    keys = page("2025/kongress25/kongress25-schluesselverwaltung")
    assert "Contributions: Kai Helper" in keys
    for person in ("jordis-weiss", "ada-example", "kai-helper"):
        assert 'href="/2025/kongress25/kongress25-schluesselverwaltung/"' in page(f"people/{person}")
        assert f'href="/people/{person}/"' in keys


# --- the entry points ------------------------------------------------------------------


def read_schedule2_files(source: SourceConfig, root: Path) -> Any:
    """``schedule2:FILE,FOLDER`` read by its format (``fetch.formats.frab.SCHEDULE2``)."""
    return SCHEDULE2.read(source.url, Reading(source, root, root / ".cache"))


def test_files_through_the_entry_point(tmp_path: Path) -> None:
    (tmp_path / "v2").mkdir()
    (tmp_path / "v2" / "kongress25.json").write_bytes((SCHEDULES / "kongress25.json").read_bytes())
    raw = read_schedule2_files(SourceConfig(url="schedule2:v2"), tmp_path)
    assert raw.warnings == () and raw.source == "schedule2:v2"
    assert [event["id"] for event in raw.collections["events"]] == ["kongress25"] and len(raw.collections["sessions"]) == 3
    assert read_schedule2_files(SourceConfig(url="schedule2:v2/kongress25.json"), tmp_path).collections == raw.collections
    with pytest.raises(SourceError) as caught:
        read_schedule2_files(SourceConfig(url="schedule2:gone.json"), tmp_path)
    assert str(caught.value).startswith(f"{tmp_path / 'gone.json'}: does not exist") and 'url = "schedule2:…"' in str(caught.value)
    (tmp_path / "big.json").write_bytes(b" " * 2000)
    with pytest.raises(SourceError, match="max_response_bytes"):
        read_schedule2_files(SourceConfig(url="schedule2:big.json", max_response_bytes=1000), tmp_path)


def test_a_site_builds_from_schedule2_files_named_in_sitegen_toml(minimal_site: Path) -> None:
    """``[source] url = "schedule2:FOLDER"`` chosen by the registry, through ``sitegen build``'s own path."""
    (minimal_site / "v2").mkdir()
    (minimal_site / "v2" / "kongress25.json").write_bytes((SCHEDULES / "kongress25.json").read_bytes())
    config = load_config(minimal_site, {"source.url": "schedule2:v2"}, source_check=source_problems)
    report = build_site(config, today=TODAY)
    assert report.warnings == []
    night = (minimal_site / "build" / "2025" / "kongress25" / "kongress25-nachtschicht" / "index.html").read_text(encoding="utf-8")
    assert "23:30–00:30" in night


@pytest.fixture
def v2_server() -> Iterator[ScheduleServer]:
    """The schedule v2 fixtures on 127.0.0.1 (frab's test server, answering at once)."""
    with ScheduleServer(SCHEDULES, throttle=False) as server:
        yield server


def fetch_over_http(source: SourceConfig, cache_dir: Path) -> Any:
    """``schedule2+URL`` read by its format, over the shared HTTP client, with its own ETag cache."""
    return SCHEDULE2.read(source.url, Reading(source, cache_dir, cache_dir, sleep=lambda seconds: None))


def test_urls_through_the_entry_point_give_the_same_ids_and_slugs_twice(v2_server: ScheduleServer, tmp_path: Path) -> None:
    source = SourceConfig(url=f"schedule2+{v2_server.url}/kongress25.json", retries=0, total_timeout=20.0)
    first = fetch_over_http(source, tmp_path / "one")
    second = fetch_over_http(source, tmp_path / "two")
    assert v2_server.requests == [("/kongress25.json", 200), ("/kongress25.json", 200)]
    assert first.collections == second.collections and first.warnings == ()
    assert [(s["id"], s["slug"]) for s in first.collections["sessions"]] == [
        ("kongress25:c1a0e5d2-3f4b-4c6d-8e9f-0a1b2c3d4e01", "kongress25-schluesselverwaltung"),
        ("kongress25:c1a0e5d2-3f4b-4c6d-8e9f-0a1b2c3d4e02", "kongress25-nachtschicht"),
        ("kongress25:c1a0e5d2-3f4b-4c6d-8e9f-0a1b2c3d4e03", "kongress25-loeten-nach-mitternacht"),
    ]
    assert first.stats.requests == 1
    missing = SourceConfig(url=f"schedule2+{v2_server.url}/gone.json", retries=0)
    with pytest.raises(SourceError) as caught:
        fetch_over_http(missing, tmp_path / "three")
    assert str(caught.value).startswith(f"{v2_server.url}/gone.json: HTTP 404 Not Found")


def test_the_fixture_is_not_changed_by_reading_it() -> None:
    document = load()
    before = copy.deepcopy(document)
    convert([(ORIGIN, document)])
    assert document == before


def test_schema2_types_in_capitals_name_the_media_kind() -> None:
    links = [{"type": "SLIDES", "url": "https://files.example/deck"}, {"type": "MEDIA", "url": "https://files.example/rec"}]
    collections, warnings = converted(mini(event(1, links=links)))
    assert [item["kind"] for item in collections["sessions"][0]["media"]] == ["slides", "video"] and warnings == []
