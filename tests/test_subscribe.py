"""Subscriptions (a calendar and an Atom feed for every person, topic and
series) and talks known only by their day, through the CLI and the build."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import icalendar
import pytest
from conftest import TODAY, edit_collection

from sitegen.build import build_site
from sitegen.config import load_config

ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE = 'Gears ]]></title></entry></feed> "quoted"; a, b\\c <script>x</script>'


def sitegen_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true"}
    return subprocess.run([sys.executable, "-m", "sitegen", *args], capture_output=True, text=True, env=env, timeout=120)


def build_cli(site: Path) -> None:
    result = sitegen_cli("build", "--root", str(site), "--today", TODAY.isoformat())
    assert result.returncode == 0, result.stderr


def talk(number: int, **fields: Any) -> dict[str, Any]:
    base = {"id": f"d{number}", "slug": f"dated-{number}", "event": "e1", "title": f"Dated {number}", "speakers": ["p1"], "topics": ["t1"]}
    return {**base, "media": [], "updated_at": "2024-01-02T00:00:00+00:00", **fields}


@pytest.fixture
def dated_site(minimal_site: Path) -> Path:
    """The minimal site with a talk known only by its day (Ada's, on Python, at
    MiniCon 2024), one with a start but no end, one of the ended event with
    neither, and a hostile title."""
    edit_collection(
        minimal_site,
        "sessions",
        lambda sessions: sessions.extend(
            [
                talk(1, date="2024-03-31", title=HOSTILE, room=None),
                talk(2, start="2024-03-30T15:00:00+01:00", speakers=["p2"]),
                talk(3, speakers=["p3"], topics=[]),
            ]
        ),
    )
    return minimal_site


def calendars(output: Path) -> dict[str, icalendar.Calendar]:
    return {p.relative_to(output).as_posix(): icalendar.Calendar.from_ical(p.read_bytes()) for p in sorted(output.rglob("*.ics"))}


def feeds(output: Path) -> dict[str, ET.Element]:
    return {p.relative_to(output).as_posix(): ET.parse(p).getroot() for p in sorted(output.rglob("*.atom"))}


def uids(calendar: icalendar.Calendar) -> dict[str, Any]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_every_person_topic_and_series_has_a_calendar_and_a_feed_that_parse(dated_site: Path) -> None:
    build_cli(dated_site)
    output = dated_site / "build"
    owners = ["people/ada/", "people/bo/", "people/zoe/", "topics/python/", "topics/web/", "series/minicon/"]
    found = calendars(output)
    assert sorted(found) == sorted(["2024/minicon/event.ics", "2027/minicon/event.ics", *(f"{o}calendar.ics" for o in owners)])
    for path, calendar in found.items():
        events = calendar.walk("VEVENT")
        assert all("DTSTART" in e and ("DTEND" in e or "DURATION" in e) and "UID" in e for e in events), path
        assert len(uids(calendar)) == len(events), path
        assert all(len(line) <= 75 for line in (output / path).read_bytes().split(b"\r\n")), path
    assert sorted(feeds(output)) == sorted(["feed.atom", *(f"{o}feed.atom" for o in owners)])
    for path, feed in feeds(output).items():
        assert feed.tag == f"{ATOM}feed" and feed.findtext(f"{ATOM}id") and feed.findtext(f"{ATOM}updated"), path
        entries = feed.findall(f"{ATOM}entry")
        ids = [e.findtext(f"{ATOM}id") for e in entries]
        assert len(set(ids)) == len(ids) and all(i and i.startswith("urn:uuid:") for i in ids), path
        assert all(e.findtext(f"{ATOM}title") and e.findtext(f"{ATOM}updated") for e in entries), path
    ada = feeds(output)["people/ada/feed.atom"]
    assert HOSTILE in [e.findtext(f"{ATOM}title") for e in ada.findall(f"{ATOM}entry")]
    assert str(uids(found["people/ada/calendar.ics"])["d1@mini.example.org"]["SUMMARY"]) == HOSTILE
    # Each page links them: webcal:// for the calendar, <link rel="alternate"> in the head for the feed.
    page = (output / "topics/python/index.html").read_text(encoding="utf-8")
    head = page[: page.index("</head>")]
    assert (
        '<link rel="alternate" type="application/atom+xml" title="Mini archive: talks about Python" href="/topics/python/feed.atom">'
        in head
    )
    assert 'href="webcal://mini.example.org/topics/python/calendar.ics"' in page


def test_a_session_has_the_same_uid_and_entry_id_in_every_calendar_and_feed(dated_site: Path) -> None:
    build_cli(dated_site)
    output = dated_site / "build"
    holding = ["2024/minicon/event.ics", "people/ada/calendar.ics", "people/zoe/calendar.ics", "topics/python/calendar.ics"]
    holding.append("series/minicon/calendar.ics")
    found = calendars(output)
    for path in holding:
        event = uids(found[path])["x1@mini.example.org"]
        assert event["DTSTART"].dt.isoformat() == "2024-03-30T08:00:00+00:00", path
        assert str(event["URL"]) == "https://mini.example.org/2024/minicon/engines/", path
    assert "x1@mini.example.org" not in uids(found["people/bo/calendar.ics"])
    entry_ids = set()
    for path in ("feed.atom", "people/ada/feed.atom", "people/zoe/feed.atom", "topics/python/feed.atom", "series/minicon/feed.atom"):
        entries = feeds(output)[path].findall(f"{ATOM}entry")
        entry_ids |= {e.findtext(f"{ATOM}id") for e in entries if e.findtext(f"{ATOM}title") == "Analytical engines"}
    assert len(entry_ids) == 1
    # The series' calendar has its editions as all-day entries, with the UIDs of the event calendars.
    assert {"e1@event.mini.example.org", "e2@event.mini.example.org"} <= set(uids(found["series/minicon/calendar.ics"]))
    # A start without an end: zero duration.
    assert uids(found["people/zoe/calendar.ics"])["d2@mini.example.org"]["DURATION"].dt.total_seconds() == 0


def test_an_event_and_a_session_with_the_same_id_have_different_uids_in_every_calendar(dated_site: Path) -> None:
    """Ids are unique per type only: session "e1" of event "e1" (with its day, so it is in the calendars)."""
    edit_collection(dated_site, "sessions", lambda sessions: sessions.append(talk(9, id="e1", date="2024-03-30")))
    build_cli(dated_site)
    found = calendars(dated_site / "build")
    for path in ("2024/minicon/event.ics", "series/minicon/calendar.ics"):
        entries = list(found[path].walk("VEVENT"))
        assert len({str(entry["UID"]) for entry in entries}) == len(entries), path
        assert str(uids(found[path])["e1@event.mini.example.org"]["SUMMARY"]) == "MiniCon 2024", path
    for path in ("2024/minicon/event.ics", "series/minicon/calendar.ics", "people/ada/calendar.ics", "topics/python/calendar.ics"):
        assert str(uids(found[path])["e1@mini.example.org"]["SUMMARY"]) == "Dated 9", path


def test_a_talk_known_only_by_its_day_shows_that_day_everywhere(dated_site: Path) -> None:
    build_cli(dated_site)
    output = dated_site / "build"
    page = (output / "2024/minicon/dated-1/index.html").read_text(encoding="utf-8")
    assert '<time datetime="2024-03-31">Sunday 31 March 2024</time>' in page
    assert "Not yet scheduled" not in page and "not recorded" not in page
    # The event's schedule places it on its day, before that day's timed talks; the talk with neither is listed apart.
    event = (output / "2024/minicon/index.html").read_text(encoding="utf-8")
    day2 = event.index('id="day-2024-03-31"')
    assert event.index('id="day-2024-03-30"') < event.index("Dated 2") < day2 < event.index("Gears ]]&gt;") < event.index("After midnight")
    assert event.index("After midnight") < event.index("Day and time not recorded") < event.index("Dated 3")
    assert "Not yet scheduled" not in event
    # An all-day event in every calendar that holds it.
    for path in ("2024/minicon/event.ics", "people/ada/calendar.ics", "topics/python/calendar.ics", "series/minicon/calendar.ics"):
        raw = (output / path).read_bytes()
        assert b"DTSTART;VALUE=DATE:20240331\r\nDTEND;VALUE=DATE:20240401\r\n" in raw, path
        event_ics = uids(icalendar.Calendar.from_ical(raw))["d1@mini.example.org"]
        assert event_ics["DTSTART"].dt.isoformat() == "2024-03-31" and event_ics["DTEND"].dt.isoformat() == "2024-04-01"
    # The talk with neither is in no calendar, and its page does not call it "not yet scheduled": its event is over.
    assert all("d3@mini.example.org" not in uids(c) for c in calendars(output).values())
    bo = (output / "2024/minicon/dated-3/index.html").read_text(encoding="utf-8")
    assert "Day and time not recorded (30–31 March 2024)" in bo and "Not yet scheduled" not in bo
    # A talk with neither, of an event still to come, is "not yet scheduled".
    assert "Not yet scheduled (1 April 2027)" in (output / "2027/minicon/future/index.html").read_text(encoding="utf-8")


def test_a_date_that_is_not_a_date_is_one_message_naming_it(minimal_site: Path) -> None:
    edit_collection(minimal_site, "sessions", lambda sessions: sessions.append(talk(1, date="31/03/2024 " + "x" * 5000)))
    result = sitegen_cli("build", "--root", str(minimal_site), "--today", TODAY.isoformat())
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "sessions[4] (id 'd1').date: '31/03/2024 xxxxx" in result.stderr and "is not a date (fix: use YYYY-MM-DD)" in result.stderr
    assert len(result.stderr) < 2000
    assert not (minimal_site / "build").exists()


def test_a_date_outside_its_event_is_a_warning_and_a_start_wins(minimal_site: Path) -> None:
    edit_collection(
        minimal_site,
        "sessions",
        lambda sessions: sessions.extend([talk(1, date="2024-05-01"), talk(2, start="2024-03-30T15:00:00+01:00", date="not a date")]),
    )
    result = sitegen_cli("build", "--root", str(minimal_site), "--today", TODAY.isoformat())
    assert result.returncode == 0, result.stderr
    assert "sessions[4] (id 'd1').date: 2024-05-01 is outside its event's dates 2024-03-30..2024-03-31" in result.stderr
    assert "sessions[5]" not in result.stderr
    assert "Saturday 30 March 2024, 15:00" in (minimal_site / "build/2024/minicon/dated-2/index.html").read_text(encoding="utf-8")


def test_feeds_and_calendars_of_a_big_topic_hold_the_newest(minimal_site: Path) -> None:
    edit_collection(
        minimal_site,
        "sessions",
        lambda sessions: sessions.extend(
            talk(n, start=f"2024-03-{30 + n // 200}T{8 + n % 200 // 20:02d}:{n % 20 * 3:02d}:00+01:00", speakers=[]) for n in range(300)
        ),
    )
    build_site(load_config(minimal_site), today=TODAY)
    output = minimal_site / "build"
    calendar = uids(icalendar.Calendar.from_ical((output / "topics/python/calendar.ics").read_bytes()))
    assert len(calendar) == 250 and "d299@mini.example.org" in calendar and "d49@mini.example.org" not in calendar
    feed = ET.parse(output / "topics/python/feed.atom").getroot().findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in feed]
    # Newest first; the topic's unscheduled talk of 2027 is the newest of all.
    assert len(titles) == 50 and titles[:3] == ["The future", "Dated 299", "Dated 298"]
    assert "Dated 251" in titles and "Dated 250" not in titles


def written_since(output: Path, before: dict[str, tuple[int, int]]) -> set[str]:
    now = stamps(output)
    return {path for path, stamp in now.items() if before.get(path) != stamp}


def stamps(output: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(output).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns) for p in output.rglob("*") if p.is_file()}


def test_one_changed_session_rewrites_only_the_calendars_and_feeds_that_hold_it(dated_site: Path) -> None:
    build_site(load_config(dated_site), today=TODAY)
    output = dated_site / "build"
    before = stamps(output)
    edit_collection(dated_site, "sessions", lambda sessions: sessions[0].update(title="Difference engines"))  # x1: Ada, Zoë, Python
    build_site(load_config(dated_site), today=TODAY)
    written = {p for p in written_since(output, before) if p.endswith((".ics", ".atom"))}
    holding = {
        f"{owner}/{name}"
        for owner in ("people/ada", "people/zoe", "topics/python", "series/minicon")
        for name in ("calendar.ics", "feed.atom")
    }
    assert written == holding | {"2024/minicon/event.ics", "feed.atom"}
    assert "Difference engines" in (output / "people/zoe/calendar.ics").read_text(encoding="utf-8")


def test_a_session_joining_an_edition_is_in_its_series_calendar_and_feed_after_a_rebuild(minimal_site: Path) -> None:
    """No speaker or topic links it to anything but its event: the series'
    files must list their editions' sessions to be rendered again."""
    build_site(load_config(minimal_site), today=TODAY)
    edit_collection(minimal_site, "sessions", lambda sessions: sessions.append(talk(1, date="2024-03-31", speakers=[], topics=[])))
    build_site(load_config(minimal_site), today=TODAY)
    calendar = uids(icalendar.Calendar.from_ical((minimal_site / "build/series/minicon/calendar.ics").read_bytes()))
    assert "d1@mini.example.org" in calendar
    assert "Dated 1" in (minimal_site / "build/series/minicon/feed.atom").read_text(encoding="utf-8")
