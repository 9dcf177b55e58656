"""Long lists stay light (pagination by ``[build] page_size``) and related talks on session pages."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import TODAY, edit_collection, tree

from sitegen.build import build_site
from sitegen.config import load_config
from sitegen.write import REPORT_FILE

TOPIC = "build/topics/python"


def session(
    number: int, *, day: int = 1, minute: int = 0, speakers: tuple[str, ...] = (), topics: tuple[str, ...] = ("t1",)
) -> dict[str, Any]:
    """A talk of the 2027 event (e2, one day), at 10:00 + ``minute`` on April ``day``."""
    start = f"2027-04-{day:02}T{10 + minute // 60:02}:{minute % 60:02}:00+02:00"
    return {
        "id": f"m{number:03}",
        "slug": f"talk-{number:03}",
        "event": "e2",
        "title": f"Talk {number:03}",
        "speakers": list(speakers),
        "topics": list(topics),
        "media": [],
        "start": start,
        "end": start,
        "room": "Main",
        "updated_at": "2025-01-01T00:00:00+00:00",
    }


def talks(page: Path) -> list[str]:
    """The talk links of a topic page's list, in order."""
    html = page.read_text(encoding="utf-8")
    section = html.split('<section aria-labelledby="talks">', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<a class="title" href="([^"]+)"', section)


def related(page: Path) -> list[str]:
    html = page.read_text(encoding="utf-8")
    if '<section class="related"' not in html:
        return []
    section = html.split('<section class="related"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<a class="title" href="([^"]+)"', section)


def topic_of_250(site: Path) -> None:
    """Topic t1 (Python) gets 250 talks: x1 and x4, and 248 new ones, each a minute after the last."""
    edit_collection(site, "sessions", lambda items: items.extend(session(n, minute=n) for n in range(248)))


def test_the_pages_of_a_250_talk_topic_hold_every_talk_once_in_order(minimal_site: Path) -> None:
    topic_of_250(minimal_site)
    build_site(load_config(minimal_site), today=TODAY)
    pages = [minimal_site / TOPIC / "index.html", *(minimal_site / TOPIC / f"page/{n}/index.html" for n in (2, 3))]
    listed = [talks(page) for page in pages]
    assert [len(items) for items in listed] == [100, 100, 50]
    # x4 (the future) has no time yet: it counts as the last of its event's day.
    newest_first = ["/2027/minicon/future/", *(f"/2027/minicon/talk-{n:03}/" for n in reversed(range(248))), "/2024/minicon/engines/"]
    assert [url for items in listed for url in items] == newest_first
    assert not (minimal_site / TOPIC / "page/4").exists() and not (minimal_site / TOPIC / "page/1").exists()
    first, middle, last = (page.read_text(encoding="utf-8") for page in pages)
    assert '<link rel="next" href="/topics/python/page/2/">' in first and 'rel="prev"' not in first.split("</head>")[0]
    assert '<link rel="prev" href="/topics/python/">' in middle and '<link rel="next" href="/topics/python/page/3/">' in middle
    assert '<link rel="prev" href="/topics/python/page/2/">' in last and '<link rel="next"' not in last
    nav = middle.split('<nav class="pagination" aria-label="Pages of talks about Python">', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', nav) == ["/topics/python/page/2/"]
    assert '<link rel="canonical" href="https://mini.example.org/topics/python/page/3/">' in last
    sitemap = (minimal_site / "build/sitemap.xml").read_text()
    for url in ("topics/python/", "topics/python/page/2/", "topics/python/page/3/"):
        assert f"<loc>https://mini.example.org/{url}</loc>" in sitemap


def test_an_added_talk_rewrites_only_the_pages_it_shifts(minimal_site: Path) -> None:
    topic_of_250(minimal_site)
    build_site(load_config(minimal_site), today=TODAY)
    pages = {n: minimal_site / TOPIC / (f"page/{n}/index.html" if n > 1 else "index.html") for n in (1, 2, 3)}
    before = {n: (page.stat().st_ino, page.read_bytes()) for n, page in pages.items()}
    # The oldest talk of the topic: last in its newest-first list, so only page 3 shifts.
    edit_collection(
        minimal_site, "sessions", lambda items: items.append({**session(900), "event": "e1", "start": "2024-03-29T08:00:00+01:00"})
    )
    build_site(load_config(minimal_site), today=TODAY)
    after = {n: (page.stat().st_ino, page.read_bytes()) for n, page in pages.items()}
    assert after[2] == before[2]  # not written again
    assert talks(pages[3])[-1] == "/2024/minicon/talk-900/" and after[3][0] != before[3][0]
    # Page 1 holds the topic's counts (and nothing else of the change).
    assert after[1][1] == before[1][1].replace(b">250<", b">251<").replace(b"250 talks", b"251 talks") != before[1][1]


def test_a_talk_on_the_border_of_a_page_moves_to_the_next_page_and_back(minimal_site: Path) -> None:
    """Deleting the newest talk shifts every page by one; the last page disappears when it empties."""
    edit_collection(minimal_site, "sessions", lambda items: items.extend(session(n, minute=n) for n in range(99)))
    build_site(load_config(minimal_site), today=TODAY)  # 101 talks: pages 1 and 2
    assert talks(minimal_site / TOPIC / "page/2/index.html") == ["/2024/minicon/engines/"]
    edit_collection(minimal_site, "sessions", lambda items: items.remove(next(s for s in items if s["id"] == "m098")))
    report = build_site(load_config(minimal_site), today=TODAY)
    assert not (minimal_site / TOPIC / "page/2").exists() and report.files_deleted >= 1
    assert talks(minimal_site / TOPIC / "index.html")[-1] == "/2024/minicon/engines/"
    assert "topics/python/page/2/" not in (minimal_site / "build/sitemap.xml").read_text()


def test_related_talks_same_speakers_first_then_topics_in_common_then_newest(minimal_site: Path) -> None:
    edit_collection(minimal_site, "topics", lambda items: items.append({**items[0], "id": "t3", "slug": "c", "name": "C"}))
    edit_collection(
        minimal_site,
        "sessions",
        lambda items: items.extend(
            [
                session(0, minute=0, speakers=("p3",), topics=("t1", "t2")),  # the page under test
                session(1, minute=1, speakers=("p3",), topics=()),  # same speaker, oldest: first
                session(2, minute=2, topics=("t1", "t2", "t3")),  # two topics in common
                session(3, minute=3, topics=("t2",)),  # one in common
                session(4, minute=4, topics=("t2",)),  # one in common, newer
                session(5, minute=5, topics=("t3",)),  # nothing in common
                session(6, minute=6, topics=("t1", "t2")),  # two in common, newest
            ]
        ),
    )
    build_site(load_config(minimal_site), today=TODAY)
    shown = related(minimal_site / "build/2027/minicon/talk-000/index.html")
    # Bo's: x2 (t2 in common too) before m001; then two topics in common, newest first: x4 (the future:
    # no time yet, so last of its day), m006, m002; the talks with one topic in common do not fit.
    assert shown == [
        "/2024/minicon/late-night/",
        "/2027/minicon/talk-001/",
        "/2027/minicon/future/",
        "/2027/minicon/talk-006/",
        "/2027/minicon/talk-002/",
    ]
    assert "/2027/minicon/talk-000/" not in shown
    assert related(minimal_site / "build/2027/minicon/talk-005/index.html") == ["/2027/minicon/talk-002/"]


def test_related_talks_count_every_shared_speaker_and_topic_however_they_were_found(minimal_site: Path) -> None:
    """Bo has 257 talks on C: the oldest five (m000-m004) are on D too, which has
    only those. m000's related talks are its four fellows (Bo and two topics in
    common), found through D though outside Bo's and C's windows of 100, before
    the newest talks that share Bo and C only."""
    edit_collection(
        minimal_site,
        "topics",
        lambda items: items.extend({**items[0], "id": key, "slug": slug, "name": slug.upper()} for key, slug in (("t3", "c"), ("t4", "d"))),
    )

    def add(items: list[dict[str, Any]]) -> None:
        items.extend(session(n, minute=n, speakers=("p3",), topics=("t3", "t4")) for n in range(5))
        items.extend(session(n, minute=n, speakers=("p3",), topics=("t3",)) for n in range(5, 257))

    edit_collection(minimal_site, "sessions", add)
    build_site(load_config(minimal_site), today=TODAY)
    assert related(minimal_site / "build/2027/minicon/talk-000/index.html") == [
        "/2027/minicon/talk-004/",
        "/2027/minicon/talk-003/",
        "/2027/minicon/talk-002/",
        "/2027/minicon/talk-001/",
        "/2027/minicon/talk-256/",
    ]


def test_a_talk_leaving_a_huge_topic_changes_the_related_talks_it_was_a_candidate_for(minimal_site: Path) -> None:
    """A topic of 101 talks gives its 100 newest as candidates. When one of them leaves
    it, an older talk enters that window: the pages whose related talks it changes are
    rendered again, though the talk that left was not shown on them."""
    edit_collection(minimal_site, "topics", lambda items: items.append({**items[0], "id": "t3", "slug": "c", "name": "C"}))

    def add(items: list[dict[str, Any]]) -> None:
        items.extend(session(n, minute=n) for n in range(97))  # t1 only: with x1, x4, m900 and m901, 101 talks
        items.append(session(900, minute=500, topics=("t1", "t3")))  # the page under test
        items.append(session(901, minute=0, topics=("t1", "t3")))  # two topics in common, but old: outside both windows
        items[-1]["start"] = items[-1]["end"] = "2024-03-30T08:00:00+01:00"
        items[-1]["event"] = "e1"
        # t3 only, newer than all t1 talks: 101 of them, so t3's window does not reach m901 either.
        items.extend(session(950 + n, minute=600 + n, topics=("t3",)) for n in range(101))

    edit_collection(minimal_site, "sessions", add)
    build_site(load_config(minimal_site), today=TODAY)
    page = minimal_site / "build/2027/minicon/talk-900/index.html"
    assert "/2024/minicon/talk-901/" not in related(page)
    # m050 is in t1's window but not shown; it leaves t1, so m901 comes within the window.
    edit_collection(minimal_site, "sessions", lambda items: next(s for s in items if s["id"] == "m050").update(topics=[]))
    build_site(load_config(minimal_site), today=TODAY)
    build_site(load_config(minimal_site, {"build.output_dir": "clean"}), today=TODAY)
    assert related(minimal_site / "clean/2027/minicon/talk-900/index.html")[0] == "/2024/minicon/talk-901/"
    built, clean = tree(minimal_site / "build"), tree(minimal_site / "clean")
    built.pop(REPORT_FILE), clean.pop(REPORT_FILE)
    assert built == clean


def test_page_size_must_be_a_positive_count(minimal_site: Path) -> None:
    config = minimal_site / "sitegen.toml"
    config.write_text(config.read_text().replace("[build]\n", "[build]\npage_size = 0\n"))
    env = {**os.environ, "CI": "true"}
    result = subprocess.run(
        [sys.executable, "-m", "sitegen", "build", "--root", str(minimal_site)], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "[build]: page_size = 0 must be at least 1" in result.stderr
    assert not (minimal_site / "build").exists()


def test_a_page_size_of_the_wrong_type_is_echoed_as_toml_spells_it(minimal_site: Path) -> None:
    config = minimal_site / "sitegen.toml"
    original = config.read_text()
    env = {**os.environ, "CI": "true"}
    for written, echoed in (("true", "page_size = true is not a whole number"), ("1e3", "page_size = 1000.0 is not a whole number")):
        config.write_text(original.replace("[build]\n", f"[build]\npage_size = {written}\n"))
        result = subprocess.run(
            [sys.executable, "-m", "sitegen", "build", "--root", str(minimal_site)], capture_output=True, text=True, env=env, timeout=120
        )
        assert result.returncode != 0 and "Traceback" not in result.stderr
        assert f"[build]: {echoed}" in result.stderr, result.stderr
        assert not (minimal_site / "build").exists()


def test_the_topic_index_files_letters_nfkd_cannot_take_apart_under_their_base_letter(minimal_site: Path) -> None:
    names = {"t3": "ßtraße", "t4": "Øresund", "t5": "Ärger", "t6": "Łódź", "t7": "Þing", "t8": "Œuvre", "t9": "Æther", "t10": "Đakovo"}
    # Spelled by the contract's one transliteration (sitegen.contract.ascii_spelling), so any Latin letter has its
    # base letter; another script is filed under "#", not under its romanisation (a reader looks up "Москва" as written).
    names |= {"t11": "Ħamrun", "t12": "Ŋoni", "t13": "Москва", "t14": "東京"}
    edit_collection(
        minimal_site,
        "topics",
        lambda items: items.extend({**items[0], "id": key, "slug": f"topic-{key}", "name": name} for key, name in names.items()),
    )
    build_site(load_config(minimal_site), today=TODAY)
    html = (minimal_site / "build/topics/index.html").read_text(encoding="utf-8")
    sections = re.findall(r'<h2 id="topics-[^"]+">([^<]+)</h2>\s*<ul class="directory">(.*?)</ul>', html, re.S)
    filed = {name: letter for letter, items in sections for name in re.findall(r'<a href="[^"]+">([^<]+)</a>', items)}
    expected = {"ßtraße": "S", "Øresund": "O", "Ärger": "A", "Łódź": "L", "Þing": "T", "Œuvre": "O", "Æther": "A", "Đakovo": "D"}
    expected |= {"Ħamrun": "H", "Ŋoni": "N", "Москва": "#", "東京": "#"}
    assert {name: filed.get(name) for name in expected} == expected


def test_an_event_that_moves_in_time_reorders_the_related_talks_of_other_events(minimal_site: Path) -> None:
    """A talk's place in "newest first" follows its event's dates: moving an event
    renders again the pages whose related talks its talks now enter."""
    edit_collection(minimal_site, "topics", lambda items: items.append({**items[0], "id": "t3", "slug": "c", "name": "C"}))
    edit_collection(
        minimal_site,
        "events",
        lambda items: items.append({**items[1], "id": "e3", "slug": "oldcon", "start_date": "2020-01-01", "end_date": "2020-01-01"}),
    )

    def add(items: list[dict[str, Any]]) -> None:
        items.extend(session(n, minute=n, topics=("t3",)) for n in range(7))  # m000's page shows five of m001-m006
        items.append({**session(7, topics=("t3",)), "event": "e3", "start": None, "end": None})

    edit_collection(minimal_site, "sessions", add)
    build_site(load_config(minimal_site), today=TODAY)
    page = "2027/minicon/talk-000/index.html"
    assert "/2020/oldcon/talk-007/" not in related(minimal_site / "build" / page)
    edit_collection(minimal_site, "events", lambda items: items[-1].update(start_date="2028-01-01", end_date="2028-01-01"))
    build_site(load_config(minimal_site), today=TODAY)
    build_site(load_config(minimal_site, {"build.output_dir": "clean"}), today=TODAY)
    assert related(minimal_site / "clean" / page)[0] == "/2028/oldcon/talk-007/"
    assert (minimal_site / "build" / page).read_bytes() == (minimal_site / "clean" / page).read_bytes()
