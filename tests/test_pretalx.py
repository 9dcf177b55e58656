"""pretalx as a source: the mapping on small documents in the real API's shapes, then
(slow) a site built from a real pretalx installed from the package registry."""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from conftest import TODAY
from packaging.specifiers import SpecifierSet

from sitegen.errors import SourceError
from sitegen.model import build_archive
from sitegen.sources import Converted, frab, pretalx

BASE = "https://cfp.example.org/api/events/democon/"
LISTING = f"{BASE}submissions/?state=confirmed&expand={pretalx.EXPAND}&page_size={pretalx.PAGE_SIZE}"

# --- documents in the shapes pretalx 2025.2 (API v1) sends, trimmed ---------------------

EVENT = {
    "name": {"en": "DemoCon", "de": "DemoKonf"},
    "slug": "democon",
    "is_public": True,
    "date_from": "2026-11-22",
    "date_to": "2026-11-24",
    "timezone": "Europe/Berlin",
    "email": "org@example.org",
    "custom_domain": None,
    "locale": "en",
    "locales": ["en", "de"],
}
SCHEDULES = {
    "count": 3,
    "next": None,
    "previous": None,
    "results": [
        {"id": 2, "version": "v1.1", "published": "2026-11-23T01:49:55.336322+01:00"},
        {"id": 1, "version": "v1.0", "published": "2026-11-23T01:47:23.295541+01:00"},
        {"id": 3, "version": "wip", "published": None},
    ],
}
BLACK_ROOM = {"id": 2, "name": {"en": "Black Room"}, "description": None, "capacity": None, "position": 8}
GERMAN_ROOM = {"id": 1, "name": {"de": "Großer Saal"}, "description": None, "capacity": None, "position": 6}
TRACK = {"id": 2, "name": {"en": "Networked", "de": "Vernetzt"}, "description": {"en": ""}, "color": "#c324ca"}


def speaker(code: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "name": name, "biography": f"About *{name}*.", "submissions": [], "avatar_url": "", "answers": [], **extra}


def slot(start: str | None, end: str | None, room: Any = BLACK_ROOM, duration: int = 30) -> dict[str, Any]:
    return {"id": 31, "room": room, "start": start, "end": end, "description": None, "duration": duration}


def submission(code: str, title: str = "A talk", **extra: Any) -> dict[str, Any]:
    return {
        "code": code,
        "title": title,
        "speakers": [speaker("W3NE9K", "Sara Mann")],
        "submission_type": 1,
        "track": TRACK,
        "tags": [],
        "state": "confirmed",
        "abstract": "Short **abstract**.",
        "description": "Long description.",
        "duration": 30,
        "slot_count": 1,
        "content_locale": "en",
        "do_not_record": False,
        "image": None,
        "resources": [],
        "answers": [],
        "slots": [slot("2026-11-22T09:00:00+01:00", "2026-11-22T09:30:00+01:00")],
        **extra,
    }


class FakeApi:
    """``GetJson`` over a dict of URL -> document, recording each request's headers."""

    def __init__(self, documents: Mapping[str, Any]) -> None:
        self.documents = dict(documents)
        self.requests: list[tuple[str, dict[str, str]]] = []

    def __call__(self, url: str, headers: Mapping[str, str]) -> Any:
        self.requests.append((url, dict(headers)))
        assert url in self.documents, f"unexpected request {url}"
        return copy.deepcopy(self.documents[url])


def api(*pages: list[dict[str, Any]], event: Mapping[str, Any] = EVENT) -> FakeApi:
    """The event, its schedules, and the talk listing split over ``pages`` linked by ``next``."""
    urls = [LISTING] + [f"{BASE}submissions/?page={n}&page_size=100&state=confirmed" for n in range(2, len(pages) + 1)]
    documents: dict[str, Any] = {BASE: event, f"{BASE}schedules/": SCHEDULES}
    for number, (url, results) in enumerate(zip(urls, pages, strict=True)):
        following = urls[number + 1] if number + 1 < len(urls) else None
        documents[url] = {"count": sum(map(len, pages)), "next": following, "previous": None, "results": results}
    return FakeApi(documents)


def read(*pages: list[dict[str, Any]], token: str | None = None, event: Mapping[str, Any] = EVENT) -> Converted:
    return pretalx.read(BASE, api(*pages, event=event), token)


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


# --- the mapping ----------------------------------------------------------------------


def test_every_page_is_read_and_the_result_passes_the_model():
    fake = api([submission("AAAAAA"), submission("BBBBBB")], [submission("CCCCCC")])
    converted = pretalx.read(BASE, fake, None)
    assert [url for url, _ in fake.requests] == [BASE, f"{BASE}schedules/", *[url for url in fake.documents if "submissions" in url]]
    assert sorted(by_id(converted.collections["sessions"])) == ["AAAAAA", "BBBBBB", "CCCCCC"]
    assert converted.warnings == ()
    model = build_archive(converted.collections)
    assert model.warnings == ()
    assert model.archive.sessions["CCCCCC"].speakers[0].name == "Sara Mann"


def test_the_event_its_dates_zone_and_stable_updated_at():
    converted = read([submission("AAAAAA")])
    [event] = converted.collections["events"]
    assert event == {
        "id": "democon",
        "slug": "democon",
        "name": "DemoCon",
        "start_date": "2026-11-22",
        "end_date": "2026-11-24",
        "timezone": "Europe/Berlin",
        "url": "https://cfp.example.org/democon/",
        "topics": ["track-2"],
        # The latest published schedule dates everything: the same on every run until the next release.
        "updated_at": "2026-11-23T01:49:55.336322+01:00",
    }


def test_version_header_always_and_the_token_only_when_given():
    anonymous, with_token = api([submission("AAAAAA")]), api([submission("AAAAAA")])
    pretalx.read(BASE, anonymous, None)
    pretalx.read(BASE, with_token, "s3cret")
    assert all(headers == {"Pretalx-Version": "v1"} for _, headers in anonymous.requests)
    assert all(headers == {"Pretalx-Version": "v1", "Authorization": "Token s3cret"} for _, headers in with_token.requests)


def test_next_links_are_followed_on_the_events_own_origin():
    """pretalx behind a proxy writes http:// links; and a token never goes to another host."""
    fake = api([submission("AAAAAA")], [submission("BBBBBB")])
    second = next(url for url in fake.documents if "page=2" in url)
    fake.documents[LISTING]["next"] = second.replace("https://cfp.example.org", "http://elsewhere.example.net:8000")
    converted = pretalx.read(BASE, fake, "s3cret")
    assert {url.split("/api/")[0] for url, _ in fake.requests} == {"https://cfp.example.org"}
    assert len(converted.collections["sessions"]) == 2


def test_a_next_link_back_to_a_page_already_read_stops_with_a_warning():
    fake = api([submission("AAAAAA")])
    fake.documents[LISTING]["next"] = LISTING
    converted = pretalx.read(BASE, fake, None)
    assert len(converted.collections["sessions"]) == 1
    assert "leads back to a page already read" in str(converted.warnings)


def test_an_answer_that_is_not_a_listing_names_the_url():
    fake = api([])
    fake.documents[f"{BASE}schedules/"] = {"detail": "Not found."}
    with pytest.raises(SourceError, match=r"schedules/: is not a pretalx listing"):
        pretalx.read(BASE, fake, None)


def test_talk_fields_speakers_rooms_tracks_and_local_times():
    converted = read([submission("AAAAAA", slots=[slot("2026-11-22T08:00:00Z", "2026-11-22T08:30:00Z")])])
    [session] = converted.collections["sessions"]
    assert session == {
        "id": "AAAAAA",
        "slug": "aaaaaa",
        "event": "democon",
        "title": "A talk",
        "abstract": "Short **abstract**.\n\nLong description.",
        "speakers": ["W3NE9K"],
        "topics": ["track-2"],
        "media": [],
        "updated_at": "2026-11-23T01:49:55.336322+01:00",
        # UTC in, the event's local time (with its offset) out.
        "start": "2026-11-22T09:00:00+01:00",
        "end": "2026-11-22T09:30:00+01:00",
        "room": "Black Room",
    }
    [person] = converted.collections["people"]
    assert person == {
        "id": "W3NE9K",
        "slug": "w3ne9k",
        "name": "Sara Mann",
        "bio": "About *Sara Mann*.",
        "links": [],
        "avatar_url": None,
        "updated_at": "2026-11-23T01:49:55.336322+01:00",
    }
    assert converted.collections["topics"] == [
        {"id": "track-2", "slug": "networked", "name": "Networked", "updated_at": "2026-11-23T01:49:55.336322+01:00"}
    ]


def test_a_session_across_midnight_keeps_its_day_and_ends_the_next():
    talk = submission("LATELY", slots=[slot("2026-11-22T23:30:00+01:00", "2026-11-23T01:00:00+01:00", duration=90)])
    converted = read([talk])
    session = build_archive(converted.collections).archive.sessions["LATELY"]
    assert session.day == date(2026, 11, 22)
    assert session.local_start and session.local_end
    assert session.local_start.isoformat() == "2026-11-22T23:30:00+01:00"
    assert session.local_end.isoformat() == "2026-11-23T01:00:00+01:00"


def test_an_end_missing_is_start_plus_duration_and_an_end_before_start_is_dropped():
    converted = read(
        [
            submission("NOEND1", slots=[slot("2026-11-22T09:00:00+01:00", None, duration=45)]),
            submission("BACKWD", slots=[slot("2026-11-22T09:00:00+01:00", "2026-11-22T08:00:00+01:00", duration=0)]),
        ]
    )
    sessions = by_id(converted.collections["sessions"])
    assert sessions["NOEND1"]["end"] == "2026-11-22T09:45:00+01:00"
    assert sessions["BACKWD"]["end"] is None
    assert [w.where for w in converted.warnings] == ["submissions[BACKWD]"]
    build_archive(converted.collections)  # no DataError: the model gets nothing it refuses


def test_i18n_fields_use_the_events_locale_else_the_first_language():
    talk = submission("AAAAAA", slots=[slot("2026-11-22T09:00:00+01:00", "2026-11-22T09:30:00+01:00", GERMAN_ROOM)])
    english = read([talk])
    german = read([talk], event={**EVENT, "locale": "de"})
    assert english.collections["sessions"][0]["room"] == "Großer Saal"  # named in German only
    assert english.collections["topics"][0]["name"] == "Networked"
    assert german.collections["topics"][0]["name"] == "Vernetzt"
    assert german.collections["events"][0]["name"] == "DemoKonf"


def test_a_submission_without_a_slot_is_kept_without_times():
    converted = read([submission("LOOSE1", slots=[slot(None, None, room=None)]), submission("LOOSE2", slots=[])])
    sessions = by_id(converted.collections["sessions"])
    for code in ("LOOSE1", "LOOSE2"):
        assert (sessions[code]["start"], sessions[code]["end"], sessions[code]["room"]) == (None, None, None)
    assert converted.warnings == ()
    assert not build_archive(converted.collections).archive.sessions["LOOSE1"].is_scheduled


def test_a_talk_given_twice_is_two_sessions_in_time_order():
    slots = [slot("2026-11-23T10:00:00+01:00", "2026-11-23T10:30:00+01:00"), slot("2026-11-22T10:00:00+01:00", "2026-11-22T10:30:00+01:00")]
    sessions = read([submission("TWICE1", slots=slots)]).collections["sessions"]
    assert [(s["id"], s["slug"], s["start"][:10]) for s in sessions] == [
        ("TWICE1", "twice1", "2026-11-22"),
        ("TWICE1-2", "twice1-2", "2026-11-23"),
    ]


def test_missing_data_degrades_with_a_warning_naming_the_object():
    nameless = speaker("NONAME", "", avatar_url="ftp://example.org/me.png")
    converted = read(
        [
            submission("ABCDEF", title=""),
            submission("GHIJKL", speakers=[nameless, "GHOST1"]),
            {"title": "no code at all"},
        ]
    )
    messages = [str(w) for w in converted.warnings]
    assert any(m.startswith("submissions[ABCDEF]: no title") for m in messages)
    assert any(m.startswith("speakers[NONAME]: no name") for m in messages)
    assert any(m.startswith("speakers[NONAME]: avatar 'ftp://") for m in messages)
    assert any(m.startswith("submissions[GHIJKL]: speaker GHOST1 is not in") for m in messages)
    assert any(m.startswith("submissions[2]: has no code") for m in messages)
    sessions, people = by_id(converted.collections["sessions"]), by_id(converted.collections["people"])
    assert sessions["ABCDEF"]["title"] == "Untitled (ABCDEF)"
    assert sessions["GHIJKL"]["speakers"] == ["NONAME"]
    assert (people["NONAME"]["name"], people["NONAME"]["avatar_url"]) == ("NONAME", None)
    build_archive(converted.collections)


def test_public_tags_become_topics_and_private_ones_are_left_out():
    tags = [
        {"id": 1, "tag": "Beginner friendly", "description": {"en": ""}, "color": "", "is_public": True},
        {"id": 2, "tag": "Needs review", "description": {"en": ""}, "color": "", "is_public": False},
        {"id": 3, "tag": "Networked", "description": {"en": ""}, "color": "", "is_public": True},
    ]
    converted = read([submission("AAAAAA", tags=tags)])
    assert converted.collections["sessions"][0]["topics"] == ["track-2", "tag-1", "tag-3"]
    assert [(t["id"], t["slug"]) for t in converted.collections["topics"]] == [
        ("track-2", "networked"),
        ("tag-1", "beginner-friendly"),
        ("tag-3", "networked-tag-3"),
    ]
    assert converted.collections["events"][0]["topics"] == ["track-2", "tag-1", "tag-3"]


def test_topic_slugs_spell_letters_as_frab_does():
    """One folding for every source (sitegen.contract.slugify): "Łódź" is "lodz", not "odz"."""
    converted = read([submission("AAAAAA", track={**TRACK, "name": {"en": "Łódź Straße"}})])
    talk = {"id": 1, "title": "A talk", "date": "2026-11-22T10:00:00+01:00", "track": "Łódź Straße"}
    day = {"date": "2026-11-22", "rooms": {"Hall": [talk]}}
    conference = {"acronym": "x", "start": "2026-11-22", "end": "2026-11-22", "time_zone_name": "Europe/Berlin", "days": [day]}
    from_frab = frab.convert([("x.json", {"schedule": {"conference": conference}})])
    assert [t["slug"] for t in converted.collections["topics"]] == [t["slug"] for t in from_frab.collections["topics"]] == ["lodz-strasse"]


def test_resources_become_media_and_relative_links_absolute():
    resources = [
        {"id": 1, "resource": "https://media.example.org/talk.mp4", "description": "Recording"},
        {"id": 2, "resource": "/media/democon/submissions/AAAAAA/resources/slides.pdf", "description": ""},
        {"id": 3, "resource": "https://www.youtube.com/watch?v=x", "description": "On video"},
        4,
    ]
    avatar = speaker("W3NE9K", "Sara Mann", avatar_url="/media/avatars/sara.png")
    converted = read([submission("AAAAAA", resources=resources, speakers=[avatar])])
    assert converted.collections["sessions"][0]["media"] == [
        {"kind": "video", "url": "https://media.example.org/talk.mp4", "title": "Recording"},
        {"kind": "slides", "url": "https://cfp.example.org/media/democon/submissions/AAAAAA/resources/slides.pdf", "title": None},
        {"kind": "video", "url": "https://www.youtube.com/watch?v=x", "title": "On video"},
    ]
    assert converted.collections["people"][0]["avatar_url"] == "https://cfp.example.org/media/avatars/sara.png"


def test_resources_the_contract_refuses_are_left_out_here_with_its_reason():
    """pretalx applies the contract's URL rule (sitegen.contract.url_problem): the warning
    names the talk, gives the rule's reason, and the model has nothing left to drop."""
    resources = [{"id": 1, "resource": "https://media.example.org\\@evil.example/talk.mp4", "description": "Recording"}]
    event = {**EVENT, "custom_domain": "https://"}
    converted = read([submission("AAAAAA", resources=resources)], event=event)
    assert [str(w) for w in converted.warnings] == [
        "submissions[AAAAAA]: resource 'https://media.example.org\\\\@evil.example/talk.mp4' contains a backslash, "
        "which browsers read as '/' (the link could open another host than it shows); left out "
        "(fix: use '/' in the URL, or write a backslash as %5C)"
    ]
    assert converted.collections["sessions"][0]["media"] == []
    assert converted.collections["events"][0]["url"] == "https://cfp.example.org/democon/"  # not "https:///democon/"
    assert build_archive(converted.collections).warnings == ()


def test_resource_kinds_come_from_the_table_frab_uses():
    """One media-kind table for every source (sitegen.contract.media_kind): the file type
    before the host, and frab's longer lists; pretalx's description is no hint."""
    links = [
        "https://github.com/democon/talk/raw/main/slides.pdf",  # the file type wins over the host
        "https://bitbucket.org/democon/talk",
        "https://git.sr.ht/~democon/talk",
        "https://media.example.org/talk.flac",
        "https://media.example.org/talk.m4v",
        "https://media.example.org/notes.md",
        "https://media.example.org/page",
    ]
    resources = [{"id": i, "resource": url, "description": "Slides"} for i, url in enumerate(links)]
    converted = read([submission("AAAAAA", resources=resources)])
    kinds = [item["kind"] for item in converted.collections["sessions"][0]["media"]]
    assert kinds == ["slides", "code", "code", "audio", "video", "notes", "other"]


def test_legacy_shapes_from_servers_older_than_api_v1():
    """What pretalx answers with ``Pretalx-Version: LEGACY`` (and older servers always)."""
    legacy = {
        "code": "9EKTQB",
        "speakers": [{"code": "8EZRK3", "name": "Mark Powers", "biography": "Bio.", "avatar": None}],
        "title": "Multi-channeled value-added access",
        "submission_type": "Workshop",
        "submission_type_id": 2,
        "track": "Visionary",
        "track_id": 3,
        "state": "confirmed",
        "abstract": "Enhance!",
        "description": "",
        "duration": 90,
        "slot_count": 1,
        "do_not_record": False,
        "is_featured": False,
        "content_locale": "en",
        "slot": {"room_id": 2, "room": "Black Room", "start": "2026-11-24T14:00:00+01:00", "end": "2026-11-24T15:30:00+01:00"},
        "image": None,
        "resources": [{"id": 1, "resource": "https://media.example.org/talk.mp4", "description": "Recording"}],
        "answers": [],
    }
    converted = read([legacy])
    [session] = converted.collections["sessions"]
    assert (session["start"], session["end"], session["room"]) == ("2026-11-24T14:00:00+01:00", "2026-11-24T15:30:00+01:00", "Black Room")
    assert session["topics"] == ["track-3"] and session["abstract"] == "Enhance!"
    assert converted.collections["people"][0]["name"] == "Mark Powers"
    assert converted.warnings == ()


def test_a_bad_timezone_falls_back_to_utc_with_a_warning():
    converted = read([submission("AAAAAA")], event={**EVENT, "timezone": "Mars/Olympus"})
    assert converted.collections["events"][0]["timezone"] == "UTC"
    assert converted.collections["sessions"][0]["start"] == "2026-11-22T08:00:00+00:00"
    assert [w.where for w in converted.warnings] == ["event[democon]"]


def test_missing_event_dates_come_from_the_sessions_local_days():
    event = {key: value for key, value in EVENT.items() if key not in ("date_from", "date_to")}
    converted = read(
        [
            submission("AAAAAA", slots=[slot("2026-11-21T23:30:00Z", "2026-11-22T00:30:00Z")]),
            submission("BBBBBB", slots=[slot("2026-11-23T10:00:00+01:00", "2026-11-23T10:30:00+01:00")]),
        ],
        event=event,
    )
    dates = converted.collections["events"][0]
    assert (dates["start_date"], dates["end_date"]) == ("2026-11-22", "2026-11-23")  # 00:30 in Berlin
    assert [w.where for w in converted.warnings] == ["event[democon]"]
    build_archive(converted.collections)


def test_before_a_schedule_is_published_updated_at_is_still_stable():
    unpublished = [{"id": 3, "version": "wip", "published": None}]
    converted = pretalx.convert(EVENT, [submission("AAAAAA", slots=[])], unpublished, base_url=BASE)
    assert {s["updated_at"] for s in converted.collections["sessions"]} == {"2026-11-22T00:00:00+00:00"}


def test_through_the_fetch_stage_with_its_headers(tmp_path, monkeypatch):
    """fetch hands pretalx.read its GetJson: Accept plus ours, and the token from token_env."""
    from sitegen.config import SourceConfig
    from sitegen.fetch import fetch_archive

    fake = api([submission("AAAAAA")])
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=fake(str(request.url), {}))

    source = SourceConfig(url=f"pretalx+{BASE}")
    for environ, authorization in (({}, None), ({"SITEGEN_API_TOKEN": "s3cret"}, "Token s3cret")):
        seen.clear()
        with httpx.Client(transport=httpx.MockTransport(answer)) as client:
            raw = fetch_archive(source, root=tmp_path, cache_dir=tmp_path / "cache", client=client, environ=environ)
        assert [s["id"] for s in raw.collections["sessions"]] == ["AAAAAA"]
        assert {(r.headers["Accept"], r.headers["Pretalx-Version"], r.headers.get("Authorization")) for r in seen} == {
            ("application/json", "v1", authorization)
        }


def test_an_unpublished_event_says_to_publish_it_or_give_a_token(tmp_path):
    from sitegen.config import SourceConfig
    from sitegen.errors import SourceError
    from sitegen.fetch import fetch_archive

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"detail": "Authentication credentials were not provided."})

    with httpx.Client(transport=httpx.MockTransport(refuse)) as client, pytest.raises(SourceError) as caught:
        fetch_archive(
            SourceConfig(url=f"pretalx+{BASE}", retries=0), root=tmp_path, cache_dir=tmp_path / "cache", client=client, environ={}
        )
    assert "publish the event's schedule in pretalx, or set SITEGEN_API_TOKEN" in str(caught.value)


# --- a real pretalx -------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_pretalx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """pretalx from the registry (newest for our Python), seeded, served; stopped afterwards."""
    from pretalxserver import PretalxServer, install_pretalx

    install = install_pretalx()
    assert SpecifierSet(install.requires_python).contains(install.python_version), (
        f"pretalx {install.version} requires Python {install.requires_python}, not {install.python_version}"
    )
    with PretalxServer(install, tmp_path_factory.mktemp("pretalx")) as server:
        yield server
    assert not server.running(), "pretalx's process group outlived the tests"


def api_listing(server: Any, token: str | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The event and the confirmed talks, read here with httpx, to compare the site against."""
    headers = {"Pretalx-Version": "v1", **({"Authorization": f"Token {token}"} if token else {})}
    event = httpx.get(server.api_url, headers=headers, timeout=30).json()
    url: str | None = f"{server.api_url}submissions/?state=confirmed&expand=speakers,slots,slots.room&page_size=100"
    talks: list[dict[str, Any]] = []
    while url:
        page = httpx.get(url, headers=headers, timeout=30).json()
        talks += page["results"]
        url = page["next"]
    return event, talks


def build_from(server: Any, root: Path, monkeypatch: pytest.MonkeyPatch, token: str | None = None) -> Any:
    from sitegen.build import build_site
    from sitegen.config import load_config

    root.mkdir()
    (root / "sitegen.toml").write_text(
        f'[site]\ntitle = "pretalx archive"\nbase_url = "https://archive.example.org/"\n\n[source]\nurl = "pretalx+{server.api_url}"\n',
        encoding="utf-8",
    )
    if token:
        monkeypatch.setenv("SITEGEN_API_TOKEN", token)
    else:
        monkeypatch.delenv("SITEGEN_API_TOKEN", raising=False)
    return build_site(load_config(root), today=TODAY)


def page_text(path: Path) -> str:
    """A page's visible text, unescaped, with whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))).split())


def local_name(value: Any, locale: str) -> str:
    return value if isinstance(value, str) else value.get(locale) or next(iter(value.values()))


def local(moment: str, zone: str) -> datetime:
    return datetime.fromisoformat(moment).astimezone(ZoneInfo(zone))


@pytest.mark.slow
def test_a_site_built_from_a_real_pretalx_shows_what_its_api_says(real_pretalx, tmp_path, monkeypatch, record_property):
    from sitegen.render.templates import day_heading

    record_property("pretalx_version", real_pretalx.install.version)
    print(f"pretalx {real_pretalx.install.version} (Requires-Python {real_pretalx.install.requires_python})")
    event, talks = api_listing(real_pretalx)
    report = build_from(real_pretalx, tmp_path / "site", monkeypatch)
    assert report.warnings == []
    zone, locale = event["timezone"], event["locale"]
    year = event["date_from"][:4]
    event_dir = tmp_path / "site" / "build" / year / event["slug"]
    schedule = page_text(event_dir / "index.html")
    assert local_name(event["name"], locale) in schedule and f"Times are local to the event ({zone})" in schedule
    assert f"{len(talks)} sessions" in schedule
    seen = real_pretalx.seeded
    assert seen["unscheduled"] not in {talk["code"] for talk in talks}  # only the published schedule, anonymously
    rooms = set()
    for talk in talks:
        [talk_slot] = talk["slots"]
        start, end = local(talk_slot["start"], zone), local(talk_slot["end"], zone)
        room = local_name(talk_slot["room"]["name"], locale)
        rooms.add(room)
        page = page_text(event_dir / talk["code"].lower() / "index.html")
        assert talk["title"] in page
        assert f"{day_heading(start.date())}, {start:%H:%M}–{end:%H:%M} ({zone})" in page
        assert f"· {room}" in page
        for person in talk["speakers"]:
            assert person["name"] in page
            speaker_page = page_text(tmp_path / "site" / "build" / "people" / person["code"].lower() / "index.html")
            assert person["name"] in speaker_page and talk["title"] in speaker_page
        day = schedule.split(day_heading(start.date()), 1)[1]  # the schedule from this talk's day on
        assert f"{start:%H:%M}–{end:%H:%M} {talk['title']}" in day
    assert seen["german_room"] in rooms  # named only in German: the first language there is
    late = next(talk for talk in talks if talk["code"] == seen["late"])
    late_page = page_text(event_dir / seen["late"].lower() / "index.html")
    assert local(late["slots"][0]["start"], zone).strftime("%H:%M") == "23:30"
    assert f"{day_heading(date.fromisoformat(event['date_from']))}, 23:30–" in late_page
    tagged = page_text(event_dir / seen["tagged"].lower() / "index.html")
    assert "Beginner friendly" in tagged and "Needs review" not in tagged and "Recording" in tagged
    assert (tmp_path / "site" / "build" / "topics" / "beginner-friendly" / "index.html").exists()
    assert report.api_requests >= 2 + -(-len(talks) // 10)  # event, schedules, and every page of talks


@pytest.mark.slow
def test_with_a_token_the_unscheduled_talk_is_kept_and_nothing_unconfirmed(real_pretalx, tmp_path, monkeypatch):
    token = real_pretalx.seeded["token"]
    _, talks = api_listing(real_pretalx, token)
    report = build_from(real_pretalx, tmp_path / "site", monkeypatch, token)
    assert report.warnings == []
    event_dir = next((tmp_path / "site" / "build").glob("20*/democon"))
    pages = {path.parent.name for path in event_dir.glob("*/index.html")}
    assert pages == {talk["code"].lower() for talk in talks}
    loose = page_text(event_dir / real_pretalx.seeded["unscheduled"].lower() / "index.html")
    # pretalx dates its demo event from the real clock; the build's date is pinned: before or after it ends.
    assert "Not yet scheduled" in loose or "Day and time not recorded" in loose


def test_malformed_urls_and_machine_timezones_are_warnings_not_crashes():
    event = {**EVENT, "timezone": "localtime", "custom_domain": "http://[::1"}
    talk = submission("AAAAAA")
    talk["resources"] = [{"resource": "http://[::1", "description": "Broken"}]
    converted = pretalx.convert(event, [talk], [], base_url=BASE)
    (converted_event,) = converted.collections["events"]
    assert converted_event["timezone"] == "UTC"  # the model accepts no machine-dependent zone
    assert any("localtime" in str(w) for w in converted.warnings)


def test_times_outside_the_contracts_years_are_warnings_not_crashes():
    """A slot time past year 9999 or before year 1 in UTC overflowed when moved to the event's
    timezone, and so did a huge duration: now the slot (or its end) is left out, and a
    published date outside the years is no date."""
    slots = {
        "YEAR01": [slot("0001-01-01T00:00:00+01:00", None)],
        "Y9999A": [slot("9999-12-31T23:00:00-05:00", None)],
        "HUGE01": [slot("2026-11-22T10:00:00+01:00", None, duration=10**12)],
    }
    talks = [submission(code, slots=value) for code, value in slots.items()]
    converted = pretalx.convert(EVENT, talks, [{"published": "0001-01-01T00:00:00+00:00"}], base_url=BASE)
    assert [str(w) for w in converted.warnings] == [
        f"submissions[{code}]: slot start {value[0]['start']!r} is outside the years 1900-2199; the slot is left out "
        "(fix: report it to the pretalx server's operator)"
        for code, value in list(slots.items())[:2]
    ]
    sessions = by_id(converted.collections["sessions"])
    assert (sessions["YEAR01"]["start"], sessions["HUGE01"]["start"], sessions["HUGE01"]["end"]) == (
        None,
        "2026-11-22T10:00:00+01:00",
        None,
    )
    assert converted.collections["events"][0]["updated_at"] == "2026-11-22T00:00:00+00:00"  # as if unpublished
    build_archive(converted.collections)
