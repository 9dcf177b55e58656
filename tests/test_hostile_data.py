"""Hostile data from the API side (issue 12 follow-up): text sizes, bidi
controls, local files read within a cap, links to other hosts, absurd numbers.
Each test goes through the CLI and fails without its fix."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from conftest import MINIMAL_SITE

from sitegen.cli import main
from sitegen.contract import MAX_LINE_CHARS
from sitegen.errors import SitegenError

MESSAGE_LIMIT = 10 * 1024


def make_site(root: Path) -> Path:
    site = root / "site"
    shutil.copytree(MINIMAL_SITE, site, ignore=shutil.ignore_patterns("build", ".sitegen-cache"))
    return site


def change(site: Path, collection: str, edit: Any) -> None:
    path = site / "data" / f"{collection}.json"
    body = json.loads(path.read_text(encoding="utf-8"))
    edit(body["data"])
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def assert_one_message(code: int, output: str, *expected: str) -> None:
    assert code == 1, output
    assert "Traceback" not in output
    assert len(output.encode()) < MESSAGE_LIMIT, f"{len(output.encode()):,} bytes"
    for text in expected:
        assert text in output, output


def du(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.exists() else 0


# ---------------------------------------------------------------------------
# 1: text fields have contract limits


def test_megabyte_names_of_many_people_are_refused_naming_the_field_and_limit(tmp_path: Path) -> None:
    site = make_site(tmp_path)

    def long_names(people: list[dict[str, Any]]) -> None:
        for i in range(20):
            people.append({"id": f"n{i}", "slug": f"n{i}", "name": "N" * 1_000_000, "updated_at": "2024-01-01T00:00:00+00:00"})
        people[0]["name"] = "N" * 1_000_000

    change(site, "people", long_names)
    code, output = run_cli("build", "--root", str(site), "-q")
    assert_one_message(code, output, "people[0] (id 'p1').name: is 1,000,000 characters long", f"at most {MAX_LINE_CHARS}")
    assert du(site / "build") == 0  # 454 MB before


def test_a_20_million_character_title_is_refused(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    change(site, "sessions", lambda sessions: sessions[0].update(title="T" * 20_000_000))
    code, output = run_cli("build", "--root", str(site), "-q")
    assert_one_message(code, output, "sessions[0] (id 'x1').title: is 20,000,000 characters long")
    assert du(site / "build") == 0  # 177 MB before


def test_a_long_media_title_and_link_kind_are_refused(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    change(site, "sessions", lambda sessions: sessions[0]["media"][0].update(title="M" * 600))
    change(site, "people", lambda people: people[0].update(links=[{"kind": "K" * 600, "url": "https://example.org/"}]))
    code, output = run_cli("build", "--root", str(site), "-q")
    assert_one_message(code, output, "media[0].title: is 600 characters long", "links[0].kind: is 600 characters long")


def test_names_and_titles_at_the_limit_still_build(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    change(site, "sessions", lambda sessions: sessions[0].update(title="T" * MAX_LINE_CHARS, room="R " * 250))
    code, output = run_cli("build", "--root", str(site), "-q")
    assert code == 0, output


# ---------------------------------------------------------------------------
# 9: bidi controls are removed from text


def test_bidi_overrides_are_removed_from_titles_and_the_calendar(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    spoof = "Engines \u202egnp.exe\u202c and \u2066isolates\u2069 \u200fRTL mark\u200e kept"
    change(site, "sessions", lambda sessions: sessions[0].update(title=spoof))
    change(site, "people", lambda people: people[0].update(name="Ada \u202dLovelace"))
    code, output = run_cli("build", "--root", str(site), "-q")
    assert code == 0, output
    text = "".join(p.read_text(encoding="utf-8") for p in (site / "build").rglob("*") if p.suffix in (".html", ".ics", ".xml"))
    for control in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
        assert control not in text, f"U+{ord(control):04X} kept"
    assert "Engines gnp.exe and isolates \u200fRTL mark\u200e kept" in text
    assert "Ada Lovelace" in text
