"""Hostile data from the API side (issue 12 follow-up): text sizes, bidi
controls, local files read within a cap, links to other hosts, absurd numbers.
Each test goes through the CLI and fails without its fix."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from apiserver import ApiServer, Fault
from click.testing import CliRunner
from conftest import MINIMAL_SITE

from sitegen.cli import main
from sitegen.contract import MAX_LINE_CHARS

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


def assert_one_message(code: int, output: str, *expected: str, exit_code: int = 1) -> None:
    assert code == exit_code, output
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


# ---------------------------------------------------------------------------
# 2: local files are read within a cap


def sparse(path: Path, size: int) -> Path:
    with path.open("wb") as file:
        file.truncate(size)  # no disk used, but it reads as `size` zero bytes
    return path


def test_a_collection_file_linked_to_dev_zero_is_one_message(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    (site / "data" / "topics.json").unlink()
    (site / "data" / "topics.json").symlink_to("/dev/zero")
    code, output = run_cli("build", "--root", str(site), "-q")
    assert_one_message(code, output, "topics.json: is not a regular file")


def test_a_300_mb_collection_file_is_refused_by_max_response_bytes(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    sparse(site / "data" / "people.json", 300_000_000)
    code, output = run_cli("build", "--root", str(site), "-q")
    assert_one_message(code, output, "people.json: is 300,000,000 bytes, more than the limit of 67,108,864", "max_response_bytes")


def test_max_response_bytes_caps_a_collection_file(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    with (site / "sitegen.toml").open("a") as config:
        config.write("\n[source]\n" if "[source]" not in (site / "sitegen.toml").read_text() else "")
    text = (site / "sitegen.toml").read_text().replace('url = "data"', 'url = "data"\nmax_response_bytes = 1000')
    (site / "sitegen.toml").write_text(text)
    code, output = run_cli("build", "--root", str(site), "-q")
    assert_one_message(code, output, "sessions.json: is ", "more than the limit of 1,000")


def test_a_frab_schedule_linked_to_dev_zero_is_one_message(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    (site / "schedule.json").symlink_to("/dev/zero")
    code, output = run_cli("build", "--root", str(site), "-q", "--source", "frab:schedule.json")
    assert_one_message(code, output, "schedule.json: is not a regular file")


def fragments_load(site: Path, tmp_path: Path, path: Path, *flags: str) -> tuple[int, str]:
    return run_cli("fragments", "--root", str(site), "--store", str(tmp_path / "store.sqlite3"), "load", *flags, str(path))


def test_fragments_load_of_dev_zero_and_a_huge_file_is_one_message(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    code, output = fragments_load(site, tmp_path, Path("/dev/zero"))
    assert_one_message(code, output, "/dev/zero: is not a regular file")
    code, output = fragments_load(site, tmp_path, sparse(tmp_path / "big.json", 300_000_000))
    assert_one_message(code, output, "big.json: is 300,000,000 bytes, more than the limit of 268,435,456")
    assert not (tmp_path / "store.sqlite3").exists()


def test_a_markdown_page_linked_to_dev_zero_is_one_message(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    pages = site / "content" / "pages"
    pages.mkdir(parents=True, exist_ok=True)
    (pages / "zero.md").symlink_to("/dev/zero")
    code, output = run_cli("build", "--root", str(site), "-q")
    assert_one_message(code, output, "zero.md: is not a regular file")


def test_a_300_mb_frab_schedule_is_refused_by_max_response_bytes(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    sparse(site / "schedule.json", 300_000_000)
    code, output = run_cli("build", "--root", str(site), "-q", "--source", "frab:schedule.json")
    assert_one_message(code, output, "schedule.json: is 300,000,000 bytes, more than the limit of 67,108,864")


# ---------------------------------------------------------------------------
# 4: next links and redirects stay on the API's own origin


def api_site(tmp_path: Path, url: str) -> Path:
    site = make_site(tmp_path)
    text = (site / "sitegen.toml").read_text().replace('url = "data"', f'url = "{url}"\nretries = 0')
    (site / "sitegen.toml").write_text(text)
    return site


def minimal_data() -> dict[str, list[dict[str, Any]]]:
    return {
        name: json.loads((MINIMAL_SITE / "data" / f"{name}.json").read_text())["data"]
        for name in ("series", "venues", "topics", "people", "events", "sessions")
    }


def test_a_next_link_to_another_host_is_refused_and_never_requested(tmp_path: Path) -> None:
    with ApiServer({}) as other, ApiServer(minimal_data()) as api:
        body = json.dumps({"data": [], "next": f"{other.url}/latest/meta-data/"}).encode()
        api.add_fault("topics", Fault(body=body))
        code, output = run_cli("build", "--root", str(api_site(tmp_path, api.url)), "-q")
        assert_one_message(code, output, f"{api.url}/topics", "the server sent a 'next' link to another host")
        assert "TOKEN" not in output
        assert other.count() == 0


def test_a_redirect_to_another_host_is_refused_and_never_requested(tmp_path: Path) -> None:
    with ApiServer({}) as other, ApiServer(minimal_data()) as api:
        api.add_fault("topics", Fault(status=302, headers={"Location": f"{other.url}/x"}))
        code, output = run_cli("build", "--root", str(api_site(tmp_path, api.url)), "-q")
        assert_one_message(code, output, f"{api.url}/topics", "HTTP 302: the server redirected to another host")
        assert other.count() == 0


def test_a_redirect_within_the_api_is_followed(tmp_path: Path) -> None:
    with ApiServer(minimal_data()) as api:
        api.add_fault("topics", Fault(status=307, headers={"Location": "/api/v1/topics?page_size=500&moved=1"}))
        code, output = run_cli("build", "--root", str(api_site(tmp_path, api.url)), "-q")
        assert code == 0, output
        assert api.count("/api/v1/topics") == 2


# ---------------------------------------------------------------------------
# 8: absurd numbers; 7: an option's value is blamed on the option


def add_config(site: Path, section: str, line: str) -> None:
    path = site / "sitegen.toml"
    text = path.read_text()
    text = text.replace(f"[{section}]\n", f"[{section}]\n{line}\n") if f"[{section}]" in text else f"{text}\n[{section}]\n{line}\n"
    path.write_text(text)


@pytest.mark.parametrize(
    ("section", "line", "expected"),
    [
        ("source", "backoff = nan", "backoff = nan is not a finite number"),
        ("source", "total_timeout = 1e400", "total_timeout = inf is not a finite number"),
        ("build", "workers = 100000", "workers = 100000 is more than 256"),
        ("publish", "concurrency = 1000000", "concurrency = 1000000 is more than 256"),
    ],
)
def test_absurd_numbers_in_the_config_are_refused(tmp_path: Path, section: str, line: str, expected: str) -> None:
    site = make_site(tmp_path)
    add_config(site, section, line)
    code, output = run_cli("build", "--root", str(site), "-q")
    assert_one_message(code, output, f"[{section}]: {expected}", exit_code=2)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_serve_poll_api_must_be_finite(tmp_path: Path, value: str) -> None:
    site = make_site(tmp_path)
    code, output = run_cli("serve", "--root", str(site), "--port", "0", "--poll-api", value)
    assert code == 2, output
    assert "--poll-api" in output and "Traceback" not in output


def test_a_bad_option_value_is_blamed_on_the_command_line(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    code, output = run_cli("publish", "--root", str(site), "--bucket", "b", "--max-deletes", "-1")
    assert_one_message(code, output, "the command-line option for [publish] max_deletes: max_deletes = -1 is too small", exit_code=2)
    assert "sitegen.toml" not in output


def test_a_collection_file_that_is_a_folder_is_one_message_with_a_fix_that_fits(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    (site / "data" / "topics.json").unlink()
    (site / "data" / "topics.json").mkdir()
    code, output = run_cli("build", "--root", str(site), "-q")
    assert_one_message(code, output, "topics.json: is a folder, not a file")
    assert "permissions" not in output
