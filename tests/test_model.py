"""The model stage: every contract violation is named by its object path, and
hostile text never breaks the build."""

from __future__ import annotations

import copy
import re
import json
from collections.abc import Callable
from typing import Any

import pytest
from conftest import MINIMAL_SITE

from sitegen.errors import DataError
from sitegen.fetch import COLLECTIONS
from sitegen.model import build_archive, city_slug, clean_text

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
        (lambda r: r["sessions"][1].update(speakers=["p1", "ghost"]),
         r"sessions\[1\] \(id 'x2'\)\.speakers\[1\]: refers to unknown people id 'ghost'"),
        (lambda r: r["events"][0].update(venue="nowhere"),
         r"events\[0\] \(id 'e1'\)\.venue: refers to unknown venues id 'nowhere'"),
        (lambda r: r["events"][1].update(topics=["t1", 7]),
         r"events\[1\] \(id 'e2'\)\.topics\[1\]: refers to unknown topics id 7"),
        (lambda r: r["people"][1].update(slug="ada"),
         r"people\[1\] \(id 'p2'\)\.slug: 'ada' is already used by people\[0\]"),
        (lambda r: r["sessions"][2].update(slug="engines"),
         r"sessions\[2\] \(id 'x3'\)\.slug: 'engines' is already used by sessions\[0\] \(fix: slugs must be unique within its event\)"),
        (lambda r: r["people"][1].update(id="p1"),
         r"people\[1\] \(id 'p1'\): duplicate id, first used by people\[0\]"),
        (lambda r: r["people"][0].update(slug="../x"), r"people\[0\] \(id 'p1'\)\.slug: '\.\./x' is not a safe slug"),
        (lambda r: r["people"][0].update(slug="a/b"), r"people\[0\] \(id 'p1'\)\.slug: 'a/b' is not a safe slug"),
        (lambda r: r["people"][0].update(slug=""), r"people\[0\] \(id 'p1'\)\.slug: '' is not a safe slug"),
        (lambda r: r["topics"][0].pop("slug"), r"topics\[0\] \(id 't1'\)\.slug: None is not a safe slug"),
        (lambda r: r["events"][0].update(start_date="2024-02-30"), r"events\[0\] \(id 'e1'\)\.start_date: '2024-02-30' is not a date \(fix: use YYYY-MM-DD\)"),
        (lambda r: r["events"][0].update(end_date="2024-03-01"), r"events\[0\] \(id 'e1'\)\.end_date: 2024-03-01 is before start_date 2024-03-30"),
        (lambda r: r["events"][0].update(timezone="Mars/Olympus"), r"events\[0\] \(id 'e1'\)\.timezone: 'Mars/Olympus' is not an IANA timezone"),
        (lambda r: r["events"][0].update(timezone="../../etc/passwd"), r"events\[0\] \(id 'e1'\)\.timezone: '\.\./\.\./etc/passwd' is not an IANA timezone"),
        (lambda r: r["sessions"][0].update(end="2024-03-30T08:00:00+01:00"), r"sessions\[0\] \(id 'x1'\)\.end: 2024-03-30T08:00:00\+01:00 is before start"),
        (lambda r: r["sessions"][0].update(start="2024-03-30T09:00:00"), r"sessions\[0\] \(id 'x1'\)\.start: '2024-03-30T09:00:00' is not an RFC 3339 timestamp with an offset"),
        (lambda r: r["sessions"][0].update(updated_at="yesterday"), r"sessions\[0\] \(id 'x1'\)\.updated_at: 'yesterday' is not an RFC 3339"),
        (lambda r: r["sessions"][0].update(title=None), r"sessions\[0\] \(id 'x1'\)\.title: must be a string, got None"),
        (lambda r: r["sessions"][0].update(title=["a"]), r"sessions\[0\] \(id 'x1'\)\.title: must be a string, got \['a'\]"),
        (lambda r: r["sessions"][0].update(id=17), r"sessions\[0\]\.id: must be a non-empty string"),
        (lambda r: r["sessions"].append("not an object"), r"sessions\[4\]: is a str, not an object"),
        (lambda r: r["venues"][0].update(country="XX"), r"venues\[0\] \(id 'v1'\)\.country: 'XX' is not an ISO 3166-1 alpha-2 country code"),
        (lambda r: r["venues"][0].update(lat=123), r"venues\[0\] \(id 'v1'\)\.lat: 123 is not a number from -90 to 90"),
        (lambda r: r["people"][0].update(links="https://x"), r"people\[0\] \(id 'p1'\)\.links: must be a list"),
        (lambda r: r["events"][0].update(end_date="9999-12-31"), r"events\[0\] \(id 'e1'\)\.end_date: 9999-12-31 is outside the years 1900-2199"),
        (lambda r: r["sessions"][0].update(updated_at="0001-01-01T00:00:00+01:00"), r"sessions\[0\] \(id 'x1'\)\.updated_at: 0001-01-01T00:00:00\+01:00 is outside the years"),
        (lambda r: r["events"][0].update(timezone="localtime"), r"events\[0\] \(id 'e1'\)\.timezone: 'localtime' is not an IANA timezone"),
        (lambda r: r["events"][0].update(timezone="right/UTC"), r"events\[0\] \(id 'e1'\)\.timezone: 'right/UTC' is not an IANA timezone"),
        (lambda r: r["events"][0].update(timezone="Factory"), r"events\[0\] \(id 'e1'\)\.timezone: 'Factory' is not an IANA timezone"),
        (lambda r: r["sessions"][0].update(id="x1\r\nBEGIN:VEVENT"), r"sessions\[0\] \(id 'x1\\r\\nBEGIN:VEVENT'\)\.id: must be a non-empty string of at most 200 printable characters"),
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
    assert city_slug("東京").startswith("city-") and len(city_slug("東京")) == 15
    assert city_slug("../..").startswith("city-")


def test_country_names_are_the_common_ones():
    from sitegen.model import country_name

    assert [country_name(c) for c in ("GB", "BO", "KR", "KP", "DE", "VG")] == [
        "United Kingdom", "Bolivia", "South Korea", "North Korea", "Germany", "British Virgin Islands",
    ]
