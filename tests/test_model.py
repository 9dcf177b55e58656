"""The model stage: every contract violation is named by its object path, and
hostile text never breaks the build."""

from __future__ import annotations

import copy
import gc
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import MINIMAL_SITE

from sitegen.contract import is_web_url
from sitegen.errors import DataError
from sitegen.fetch import COLLECTIONS
from sitegen.model import build as model_build
from sitegen.model import build_archive, city_slug, clean_text, event_order, session_order
from sitegen.model.text import _UNPRINTABLE_RE

Raw = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def base() -> Raw:
    return {name: json.loads((MINIMAL_SITE / "data" / f"{name}.json").read_text())["data"] for name in COLLECTIONS}


def broken(base: Raw, change: Callable[[Raw], None]) -> str:
    """Apply ``change`` to a copy of the minimal data and return the error text."""
    raw = copy.deepcopy(base)
    change(raw)
    with pytest.raises(DataError) as caught:
        build_archive(raw)
    return str(caught.value)


def test_minimal_data_is_valid(base):
    result = build_archive(base)
    assert len(result.archive.sessions) == 4 and result.warnings == ()
    assert [s.id for s in result.archive.sessions_by_event["e1"]] == ["x1", "x3", "x2"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda r: r["sessions"][1].update(speakers=["p1", "ghost"]),
            r"sessions\[1\] \(id 'x2'\)\.speakers\[1\]: refers to unknown people id 'ghost'",
        ),
        (lambda r: r["events"][0].update(venue="nowhere"), r"events\[0\] \(id 'e1'\)\.venue: refers to unknown venues id 'nowhere'"),
        (lambda r: r["events"][1].update(topics=["t1", 7]), r"events\[1\] \(id 'e2'\)\.topics\[1\]: refers to unknown topics id 7"),
        (lambda r: r["people"][1].update(slug="ada"), r"people\[1\] \(id 'p2'\)\.slug: 'ada' is already used by people\[0\]"),
        (
            lambda r: r["sessions"][2].update(slug="engines"),
            r"sessions\[2\] \(id 'x3'\)\.slug: 'engines' is already used by sessions\[0\] \(fix: slugs must be unique within its event\)",
        ),
        (lambda r: r["people"][1].update(id="p1"), r"people\[1\] \(id 'p1'\): duplicate id, first used by people\[0\]"),
        (lambda r: r["people"][0].update(slug="../x"), r"people\[0\] \(id 'p1'\)\.slug: '\.\./x' is not a safe slug"),
        (lambda r: r["people"][0].update(slug="a/b"), r"people\[0\] \(id 'p1'\)\.slug: 'a/b' is not a safe slug"),
        (lambda r: r["people"][0].update(slug=""), r"people\[0\] \(id 'p1'\)\.slug: '' is not a safe slug"),
        (lambda r: r["topics"][0].pop("slug"), r"topics\[0\] \(id 't1'\)\.slug: None is not a safe slug"),
        (
            lambda r: r["events"][0].update(start_date="2024-02-30"),
            r"events\[0\] \(id 'e1'\)\.start_date: '2024-02-30' is not a date \(fix: use YYYY-MM-DD\)",
        ),
        (
            lambda r: r["events"][0].update(end_date="2024-03-01"),
            r"events\[0\] \(id 'e1'\)\.end_date: 2024-03-01 is before start_date 2024-03-30",
        ),
        (
            lambda r: r["events"][0].update(timezone="Mars/Olympus"),
            r"events\[0\] \(id 'e1'\)\.timezone: 'Mars/Olympus' is not an IANA timezone",
        ),
        (
            lambda r: r["events"][0].update(timezone="../../etc/passwd"),
            r"events\[0\] \(id 'e1'\)\.timezone: '\.\./\.\./etc/passwd' is not an IANA timezone",
        ),
        (
            lambda r: r["sessions"][0].update(end="2024-03-30T08:00:00+01:00"),
            r"sessions\[0\] \(id 'x1'\)\.end: 2024-03-30T08:00:00\+01:00 is before start",
        ),
        (
            lambda r: r["sessions"][0].update(start="2024-03-30T09:00:00"),
            r"sessions\[0\] \(id 'x1'\)\.start: '2024-03-30T09:00:00' is not an RFC 3339 timestamp with an offset",
        ),
        (
            lambda r: r["sessions"][0].update(updated_at="yesterday"),
            r"sessions\[0\] \(id 'x1'\)\.updated_at: 'yesterday' is not an RFC 3339",
        ),
        (lambda r: r["sessions"][0].update(title=None), r"sessions\[0\] \(id 'x1'\)\.title: must be a string, got None"),
        (lambda r: r["sessions"][0].update(title=["a"]), r"sessions\[0\] \(id 'x1'\)\.title: must be a string, got \['a'\]"),
        (lambda r: r["sessions"][0].update(id=17), r"sessions\[0\]\.id: must be a non-empty string"),
        (lambda r: r["sessions"].append("not an object"), r"sessions\[4\]: is a str, not an object"),
        (
            lambda r: r["venues"][0].update(country="XX"),
            r"venues\[0\] \(id 'v1'\)\.country: 'XX' is not an ISO 3166-1 alpha-2 country code",
        ),
        (lambda r: r["venues"][0].update(lat=123), r"venues\[0\] \(id 'v1'\)\.lat: 123 is not a number from -90 to 90"),
        (lambda r: r["people"][0].update(links="https://x"), r"people\[0\] \(id 'p1'\)\.links: must be a list"),
        (
            lambda r: r["events"][0].update(end_date="9999-12-31"),
            r"events\[0\] \(id 'e1'\)\.end_date: 9999-12-31 is outside the years 1900-2199",
        ),
        (
            lambda r: r["sessions"][0].update(updated_at="0001-01-01T00:00:00+01:00"),
            r"sessions\[0\] \(id 'x1'\)\.updated_at: 0001-01-01T00:00:00\+01:00 is outside the years",
        ),
        (lambda r: r["events"][0].update(timezone="localtime"), r"events\[0\] \(id 'e1'\)\.timezone: 'localtime' is not an IANA timezone"),
        (lambda r: r["events"][0].update(timezone="right/UTC"), r"events\[0\] \(id 'e1'\)\.timezone: 'right/UTC' is not an IANA timezone"),
        (lambda r: r["events"][0].update(timezone="Factory"), r"events\[0\] \(id 'e1'\)\.timezone: 'Factory' is not an IANA timezone"),
        (
            lambda r: r["sessions"][0].update(id="x1\r\nBEGIN:VEVENT"),
            r"sessions\[0\] \(id 'x1\\r\\nBEGIN:VEVENT'\)\.id: must be a non-empty string of at most 200 printable characters",
        ),
    ],
    ids=lambda value: "" if callable(value) else None,
)
def test_contract_violations_are_named_by_path(base, change, expected):
    message = broken(base, change)
    assert re.search(expected, message), message


def test_event_slugs_may_repeat_across_years_but_not_within_one(base):
    assert build_archive(base).archive.events["e2"].slug == base["events"][0]["slug"]  # 2024 and 2027
    message = broken(base, lambda r: r["events"][1].update(start_date="2024-05-01", end_date="2024-05-01"))
    assert "events[1] (id 'e2').slug: 'minicon' is already used by events[0]" in message
    assert "within the year of its start_date" in message


def test_all_problems_are_reported_together_in_source_order(base):
    def many(raw: Raw) -> None:
        for session in raw["sessions"]:
            session["speakers"] = ["ghost"]
        raw["people"][2]["slug"] = "Bad Slug"

    message = broken(base, many)
    assert message.startswith("The event data has 5 problem(s):")
    assert message.index("people[2]") < message.index("sessions[0]") < message.index("sessions[3]")


def test_one_bad_event_does_not_cascade_into_its_sessions(base):
    message = broken(base, lambda r: r["events"][0].update(timezone="Nowhere/Land"))
    assert message.count("\n  - ") == 1


def test_unsafe_urls_are_dropped_with_a_warning(base):
    raw = copy.deepcopy(base)
    raw["people"][0]["links"].append({"kind": "home", "url": "javascript:alert(1)"})
    raw["sessions"][0]["media"].append({"kind": "hologram", "url": "https://x.example.org/"})
    raw["people"][0]["avatar_url"] = "data:image/png;base64,AAAA"
    result = build_archive(raw)
    warnings = sorted(str(w) for w in result.warnings)
    assert any("people[0] (id 'p1').links[1].url: 'javascript:alert(1)' is not an http(s) URL" in w for w in warnings)
    assert any("people[0] (id 'p1').avatar_url: 'data:image" in w for w in warnings)
    assert any("sessions[0] (id 'x1').media[1].kind: 'hologram' is not one of video" in w for w in warnings)
    person = result.archive.people["p1"]
    assert [link.url for link in person.links] == ["https://ada.example.org/"] and person.avatar_url is None
    assert result.archive.sessions["x1"].media[1].kind == "other"


def test_session_outside_its_event_dates_is_a_warning(base):
    raw = copy.deepcopy(base)
    raw["sessions"][0].update(start="2024-06-01T09:00:00+02:00", end="2024-06-01T10:00:00+02:00")
    warnings = [str(w) for w in build_archive(raw).warnings]
    assert warnings == [
        "sessions[0] (id 'x1').start: falls on 2024-06-01, outside its event's dates 2024-03-30..2024-03-31"
        " (fix: check the session time or the event dates)"
    ]


def test_hostile_text_is_kept_as_text(base):
    raw = copy.deepcopy(base)
    raw["sessions"][0]["title"] = "<script>alert('x')</script>\x00\x1b[31m\ud800 Title\u2028"
    raw["sessions"][0]["abstract"] = "x" * 1_000_000
    archive = build_archive(raw).archive
    assert archive.sessions["x1"].title == "<script>alert('x')</script>[31m Title"
    assert len(archive.sessions["x1"].abstract) == 1_000_000


def test_clean_text_keeps_tabs_newlines_and_unicode():
    assert clean_text("a\tb\r\nc\rd Zoë 東京 \x7f\x85") == "a\tb\nc\nd Zoë 東京 "


def test_city_slugs_are_safe_for_any_name():
    assert city_slug("São Paulo") == "sao-paulo"
    assert city_slug("Zürich") == "zurich"
    assert city_slug("Łódź") == "lodz"  # spelled as the converters spell names (sitegen.contract.slugify)
    # No Latin letters: the romanisation and a digest, so homophones stay apart (苏州 and 宿州 are both Suzhou).
    assert re.fullmatch(r"dongjing-[0-9a-f]{8}", city_slug("東京"))
    assert city_slug("苏州") != city_slug("宿州")
    assert re.fullmatch(r"[0-9a-f]{8}", city_slug("../.."))


def test_country_names_are_the_common_ones():
    from sitegen.model import country_name

    assert [country_name(c) for c in ("GB", "BO", "KR", "KP", "DE", "VG")] == [
        "United Kingdom",
        "Bolivia",
        "South Korea",
        "North Korea",
        "Germany",
        "British Virgin Islands",
    ]


# ---------------------------------------------------------------------------
# The fast readers: the same archive, warnings and errors as reading every
# object through the checking readers, only sooner.


def outcome(raw: Raw) -> tuple[Any, ...]:
    """What build_archive makes of ``raw``: the archive (as its repr, which shows
    every field and every index in order) and the warnings, or the error."""
    try:
        result = build_archive(raw)
    except DataError as error:
        return ("error", str(error))
    return ("ok", repr(result.archive), [str(w) for w in result.warnings])


def checked_outcome(raw: Raw, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    """``outcome`` with the fast readers off, so every object goes through ``_Fields``."""
    with monkeypatch.context() as patch:
        for name in ("_fast_person", "_fast_event", "_fast_session"):
            patch.setattr(model_build, name, None)
        return outcome(raw)


def _set(collection: str, index: int, **fields: Any) -> Callable[[Raw], None]:
    return lambda raw: raw[collection][index].update(fields)


def _set_media(**fields: Any) -> Callable[[Raw], None]:
    return lambda raw: raw["sessions"][0]["media"][0].update(fields)


UNUSUAL_BUT_VALID = [
    _set("sessions", 0, title="  Spaced\tout \n title "),
    _set("sessions", 0, title="Zoë\u00a0and the £5 ticket"),
    _set("sessions", 0, title="Full-width，comma \u2028 and \x85 next line"),
    _set("sessions", 0, title="Bell\x07 and DEL\x7f and \ufffe"),
    _set("sessions", 0, abstract="line\r\nline\rline\x00 \ud800 end"),
    _set("sessions", 0, abstract="   "),
    _set("sessions", 0, abstract=""),
    _set("sessions", 0, room=""),
    _set("sessions", 0, room="  Main \t Hall "),
    _set("sessions", 0, room=None),
    lambda raw: raw["sessions"][0].pop("room"),
    _set("sessions", 0, id="x1é"),
    _set("sessions", 0, id="x1\u00a0b"),
    _set("sessions", 0, speakers=["p1", "p1", "p2", "p1"]),
    _set("sessions", 0, speakers=None, topics=None, media=None),
    _set("sessions", 0, start=None, end=None),
    _set("sessions", 0, start=None, end=None, date="2024-03-31"),  # known only by its day
    _set("sessions", 0, start=None, end=None, date="2024-05-01"),  # outside its event: a warning
    _set("sessions", 0, date="not a date"),  # ignored: start is given
    _set("sessions", 3, date="2027-04-01"),
    _set("sessions", 0, start="2024-03-30T08:00:00Z", end="2024-03-30T08:00:00+00:00"),
    _set("sessions", 1, start="2024-03-30T09:00:00+01:00"),  # same start text as sessions[0]
    _set_media(title=5),
    _set_media(title=" \t "),
    _set_media(title=" Re\tcording "),
    _set_media(url=None),
    _set_media(url="https://x.example.org:8080/a"),
    _set_media(url="HTTPS://X.EXAMPLE.ORG/"),
    _set_media(url="https://x.example.org/ "),
    _set_media(url=" https://x.example.org/\t"),
    _set_media(url="https://x.example.org"),
    _set_media(url="https://x.example.org?q#f"),
    _set_media(url="https://user@x.example.org/"),
    _set_media(url="https://[::1]/"),
    _set_media(url="https://exämple.org/"),
    _set_media(url="https://x.example.org/a\x00b"),
    _set("people", 0, links=[{"kind": "  ", "url": "https://a.example.org/"}, {"kind": "web\tsite", "url": None}]),
    _set("people", 0, avatar_url="http://a.example.org/me.png", bio=" "),
    _set("people", 1, name=" Zoë  Müller "),
    _set("people", 1, name="Zoë  Müller"),
    _set("events", 0, venue=None, series=None, url=None, description=""),
    _set("events", 0, topics=["t1", "t1"]),
    _set("events", 1, end_date="2027-04-03"),
]


@pytest.mark.parametrize("change", UNUSUAL_BUT_VALID)
def test_fast_readers_agree_on_unusual_but_valid_data(base, monkeypatch, change):
    raw = copy.deepcopy(base)
    change(raw)
    result = outcome(raw)
    assert result[0] == "ok", result
    assert result == checked_outcome(raw, monkeypatch)


HOSTILE_VALUES = [
    None,
    "",
    " ",
    0,
    1.5,
    True,
    [],
    {},
    ["x"],
    {"a": 1},
    "x",
    "a\r\nb",
    "\x00",
    "\ud800",
    "Zoë",
    "a" * 201,
    "https://x.example.org/",
    "https://",
    "javascript:alert(1)",
    "https://ex ample.org/",
    "2024-03-30",
    "2024-02-30",
    "9999-12-31",
    "2024-03-30T09:00:00+01:00",
    "2024-03-30T09:00:00",
    "0001-01-01T00:00:00+01:00",
    "2024-06-01T09:00:00+02:00",
    "Europe/London",
    "localtime",
    "GB",
    "xx",
    "video",
    "hologram",
    "p1",
    "t2",
    "e1",
]


def _mutate(raw: Raw, rng: random.Random) -> None:
    items = raw[rng.choice([name for name in raw if raw[name]])]
    obj = rng.choice(items)
    if not isinstance(obj, dict):
        return
    if rng.random() < 0.05:
        items.append(copy.deepcopy(obj) if rng.random() < 0.7 else "not an object")
        return
    key = rng.choice([*obj, "extra"])
    value = obj.get(key)
    if isinstance(value, list) and value and rng.random() < 0.5:
        position = rng.randrange(len(value))
        if isinstance(value[position], dict):
            value[position][rng.choice(["kind", "url", "title"])] = rng.choice(HOSTILE_VALUES)
        else:
            value[position] = rng.choice(HOSTILE_VALUES)
    elif rng.random() < 0.1:
        obj.pop(key, None)
    else:
        obj[key] = rng.choice(HOSTILE_VALUES)


def test_fast_readers_agree_on_random_breakage(base, monkeypatch):
    rng = random.Random(20261122)
    kinds = Counter()
    for _ in range(300):
        raw = copy.deepcopy(base)
        for _ in range(rng.choice([1, 1, 2, 4])):
            _mutate(raw, rng)
        result = outcome(raw)
        assert result == checked_outcome(raw, monkeypatch), raw
        kinds[result[0]] += 1
    assert kinds["ok"] > 30 and kinds["error"] > 100  # both kinds of outcome were compared


def test_clean_text_fast_path_matches_the_rule():
    def by_the_rule(value: str) -> str:
        return _UNPRINTABLE_RE.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))

    specials = [0x2028, 0x3000, 0xD800, 0xDFFF, 0xE000, 0xF8FF, 0xFEFF, 0xFF0C, 0xFFFD, 0xFFFE, 0xFFFF, 0x1F600, 0x10FFFF]
    for code in [*range(0x800), *specials]:
        for value in (chr(code), f"ab{chr(code)}cd\n", f"Zoë {chr(code)}\r\n"):
            assert clean_text(value) == by_the_rule(value), hex(code)


def test_web_url_fast_path_matches_urlsplit():
    def by_urlsplit(value: str) -> bool:
        # What browsers and urlsplit read differently is refused: a backslash, a control character, an odd host.
        if "\\" in value or any(ord(c) < 0x20 or c == "\x7f" for c in value.strip()):
            return False
        try:
            parts = urlsplit(value.strip())
        except ValueError:
            return False
        host = parts.netloc.rpartition("@")[2]
        plain_host = "%" not in host and not any(c.isspace() for c in host)
        return parts.scheme in ("http", "https") and bool(parts.netloc) and len(value) <= 2000 and plain_host

    for value in [
        "https://x.example.org/",
        "http://a",
        "https://",
        "https:///p",
        "https://?q",
        "https://#f",
        "https://x.org?q",
        "https://x.org#f",
        "https://x.org\n",
        "https://x.org/\n",
        "https://x\n.org/",
        "https://\nx.org/",
        " https://x.org",
        "https://x.org" + "/a" * 1000,
        "HTTPS://X.ORG/",
        "https://-/",
        "https://../",
        "https://[::1]/",
        "https://[::1/",
        "https://x.org:99999/",
        "https://user:pw@x.org/",
        "https://ex\u00e4mple.org/",
        "https://\u2100.org/",
        "ftp://x.org/",
        "https:x.org",
        "https:/x.org",
        "javascript:alert(1)",
        "https://x.org\\@evil.org/",
        "https://x_y.org/",
        "https://x.org/a\\b",
        "https://x.org/a\tb",
        "https://x.org%2eevil.org/",
        "https://x .org/",
    ]:
        assert is_web_url(value) == by_urlsplit(value), value


def test_indexes_list_in_display_order(base):
    """Every index holds what a plain sort by the public order functions gives."""
    raw = copy.deepcopy(base)
    # A second event on the same first day, elsewhere: its sessions interleave with e1's.
    raw["events"].append({**raw["events"][0], "id": "e3", "slug": "other", "timezone": "America/New_York", "topics": ["t2"]})
    # A topic only an event has, none of its sessions.
    raw["topics"].append({**raw["topics"][0], "id": "t9", "slug": "t9"})
    raw["events"][1]["topics"] = ["t9"]
    rng = random.Random(7)
    for i in range(80):
        event = rng.choice(["e1", "e2", "e3"])
        day = {"e1": "2024-03-30", "e2": "2027-04-01", "e3": "2024-03-30"}[event]
        start = f"{day}T{rng.choice(['10', '12', '14'])}:{rng.choice(['00', '30'])}:00{rng.choice(['+01:00', '+02:00', '-04:00'])}"
        scheduled = rng.random() < 0.8
        raw["sessions"].append(
            {
                "id": f"y{i:02d}",
                "slug": f"y{i}",
                "event": event,
                "title": rng.choice(["Alpha", "alpha", "Beta", "beta", "Gamma"]),
                "start": start if scheduled else None,
                "end": None,
                "room": rng.choice(["A", "B", None, ""]),
                "speakers": rng.sample(["p1", "p2", "p3"], rng.randint(0, 2)),
                "topics": rng.sample(["t1", "t2"], rng.randint(0, 2)),
                "media": [],
                "updated_at": "2024-01-01T00:00:00+00:00",
            }
        )
    archive = build_archive(raw).archive

    def grouped(items, keys_of, order):
        groups: dict[Any, list[Any]] = {}
        for item in items:
            for key in keys_of(item):
                groups.setdefault(key, []).append(item)
        return [(key, tuple(sorted(group, key=order))) for key, group in sorted(groups.items())]

    def chronological(session):
        return (session.event.start_date, *session_order(session))

    sessions, events = list(archive.sessions.values()), list(archive.events.values())
    assert list(archive.sessions_by_event.items()) == grouped(sessions, lambda s: [s.event.id], session_order)
    assert list(archive.sessions_by_person.items()) == grouped(sessions, lambda s: [p.id for p in s.speakers], chronological)
    assert list(archive.sessions_by_topic.items()) == grouped(sessions, lambda s: [t.id for t in s.topics], chronological)
    assert list(archive.events_by_series.items()) == grouped(events, lambda e: [e.series.id] if e.series else [], event_order)
    assert list(archive.events_by_year.items()) == grouped(events, lambda e: [e.year], event_order)
    topics_of = {e.id: {t.id for t in e.topics} | {t.id for s in sessions if s.event is e for t in s.topics} for e in events}
    assert list(archive.events_by_topic.items()) == grouped(events, lambda e: sorted(topics_of[e.id]), event_order)
    interleaved = [s.event.id for s in archive.sessions_by_topic["t2"] if s.event.id != "e2"]
    assert "e1" in interleaved and "e3" in interleaved
    assert [e.id for e in archive.events_by_topic["t9"]] == ["e2"]


@pytest.mark.parametrize("enabled", [True, False])
def test_the_garbage_collector_is_left_as_it_was(base, enabled):
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        build_archive(base)
        assert gc.isenabled() is enabled
        with pytest.raises(DataError):
            build_archive({**base, "sessions": [*base["sessions"], "not an object"]})
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_source_digests_are_equal_for_equal_data_and_differ_for_any_change() -> None:
    from sitegen.model import source_digest

    record = {"id": "x1", "title": "Engines", "speakers": ["p1"], "big": 2**70, "odd": "\ud800"}  # orjson refuses the last two
    same = {"id": "x1", "title": "Engines", "speakers": ["p1"], "big": 2**70, "odd": "\ud800"}
    assert source_digest(record) == source_digest(same)
    assert source_digest({"id": "x1", "title": "Engines"}) == source_digest({"id": "x1", "title": "Engines"})
    for changed in ({**record, "title": "Engine"}, {**record, "speakers": ["p1", "p2"]}, {**record, "big": 2**70 + 1}):
        assert source_digest(changed) != source_digest(record)
    assert source_digest({"id": "x1", "title": "Engines"}) != source_digest({"id": "x1", "title": "Engine"})
