"""The command line as a user meets it: exit codes and one clear message per failure."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from apiserver import ApiServer, Fault
from conftest import TODAY, edit_collection

import sitegen


def sitegen_cli(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true"}
    return subprocess.run([sys.executable, "-m", "sitegen", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_version():
    result = sitegen_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"sitegen, version {sitegen.__version__}"


def test_build_prints_stages_and_a_summary_in_ci(minimal_site):
    result = sitegen_cli("build", "--root", str(minimal_site), "--today", TODAY.isoformat())
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert [line.split()[0] for line in lines[:7]] == ["fetch", "model", "content", "assets", "render", "search", "write"]
    assert "pages: 22 (37 files rendered, the rest unchanged since the last build)" in lines and "warnings: 0" in lines
    assert "\x1b[" not in result.stderr  # no terminal control codes in CI logs


def test_quiet_build_prints_nothing(minimal_site):
    result = sitegen_cli("build", "-q", "--root", str(minimal_site))
    assert result.returncode == 0 and result.stderr == "" and result.stdout == ""


def test_check_validates_without_writing(minimal_site):
    result = sitegen_cli("check", "--root", str(minimal_site))
    assert result.returncode == 0, result.stderr
    assert "output: none (check only)" in result.stderr
    assert not (minimal_site / "build").exists()


def test_check_reports_bad_data_with_exit_1(minimal_site):
    edit_collection(minimal_site, "people", lambda items: items[0].update(slug="../../etc"))
    result = sitegen_cli("check", "--root", str(minimal_site))
    assert result.returncode == 1
    assert "error: The event data has 1 problem(s):" in result.stderr
    assert "people[0] (id 'p1').slug: '../../etc' is not a safe slug" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_exits_2(minimal_site):
    (minimal_site / "sitegen.toml").write_text('[site]\ntitel = "x"\n')
    result = sitegen_cli("build", "--root", str(minimal_site))
    assert result.returncode == 2
    assert "unknown key 'titel'" in result.stderr and "Traceback" not in result.stderr


def test_bad_option_value_exits_2(minimal_site):
    result = sitegen_cli("build", "--root", str(minimal_site), "--base-url", "example.org")
    assert result.returncode == 2 and "base_url = 'example.org' is not an absolute http(s) URL" in result.stderr


def test_unreachable_api_names_the_url_and_keeps_the_last_build(minimal_site):
    assert sitegen_cli("build", "--root", str(minimal_site)).returncode == 0
    before = (minimal_site / "build/index.html").read_bytes()
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (minimal_site / "sitegen.toml").write_text(
        (minimal_site / "sitegen.toml").read_text().replace('[source]\nurl = "data"', "[source]\nretries = 1\nbackoff = 0.01")
    )
    result = sitegen_cli("build", "--root", str(minimal_site), "--source", f"http://127.0.0.1:{port}/api")
    assert result.returncode == 1
    assert f"http://127.0.0.1:{port}/api/series" in result.stderr and "Traceback" not in result.stderr
    assert (minimal_site / "build/index.html").read_bytes() == before


def test_api_answering_garbage_is_a_clear_error(minimal_site):
    with ApiServer({}) as api:
        api.add_fault("series", Fault(body=b"<html>Gateway</html>", content_type="text/html"))
        result = sitegen_cli("build", "--root", str(minimal_site), "--source", api.url)
    assert result.returncode == 1
    assert "series" in result.stderr and "JSON" in result.stderr and "Traceback" not in result.stderr


BAD_DATA = {
    "dangling reference": (
        "sessions",
        lambda items: items[1].update(speakers=["nobody"]),
        "sessions[1] (id 'x2').speakers[0]: refers to unknown people id 'nobody'",
    ),
    "duplicate slug": (
        "topics",
        lambda items: items[1].update(slug="python"),
        "topics[1] (id 't2').slug: 'python' is already used by topics[0]",
    ),
    "unsafe slug": ("events", lambda items: items[0].update(slug="a/b"), "events[0] (id 'e1').slug: 'a/b' is not a safe slug"),
    "bad timezone": (
        "events",
        lambda items: items[0].update(timezone="Europe/Atlantis"),
        "events[0] (id 'e1').timezone: 'Europe/Atlantis' is not an IANA timezone",
    ),
    "bad date": (
        "events",
        lambda items: items[0].update(end_date="31/03/2024"),
        "events[0] (id 'e1').end_date: '31/03/2024' is not a date",
    ),
    "end before start": (
        "sessions",
        lambda items: items[0].update(end="2024-03-30T08:00:00+01:00"),
        "sessions[0] (id 'x1').end: 2024-03-30T08:00:00+01:00 is before start",
    ),
    "not an object": ("people", lambda items: items.append(["p9"]), "data/people.json: data[3] must be an object, not an array"),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_each_bad_data_case_exits_1_with_its_path(minimal_site, case):
    collection, change, expected = BAD_DATA[case]
    edit_collection(minimal_site, collection, change)
    result = sitegen_cli("build", "--root", str(minimal_site))
    assert result.returncode == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and not (minimal_site / "build").exists()


def test_hostile_text_builds_and_is_escaped(minimal_site):
    def hostile(items):
        items[0]["title"] = '"><script>alert(1)</script>\x07\x1b[2J'
        items[0]["abstract"] = "<iframe src=//evil>" + "A long abstract. " * 62_000  # about 1 MB
        items[1]["room"] = "<b>Room</b>\u0000"

    edit_collection(minimal_site, "sessions", hostile)
    result = sitegen_cli("build", "--root", str(minimal_site))
    assert result.returncode == 0, result.stderr
    assert "shown as plain text, not Markdown" in result.stderr  # the 1 MB abstract's warning
    page = (minimal_site / "build/2024/minicon/engines/index.html").read_text()
    body = page.split("</head>")[1]
    assert "<script>alert" not in page and "<iframe" not in body and "\x1b" not in page and "\x07" not in page
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>Room</b>" not in (minimal_site / "build/2024/minicon/index.html").read_text()


def test_relative_links_in_the_data_do_not_fail_check(minimal_site):
    """A speaker's ``[slides](slides.pdf)`` is shown as its text: as a link it would point into
    this site, and ``sitegen check`` would fail on it and blame the template."""

    def relative(items):
        items[0]["abstract"] = "See the [slides](slides.pdf) and [the talk's page](../talk/), or [their site](https://ok.example.org/)."

    edit_collection(minimal_site, "sessions", relative)
    result = sitegen_cli("check", "--root", str(minimal_site))
    assert result.returncode == 0, result.stderr
    assert "lead to no page" not in result.stderr


def test_a_reader_that_leaves_early_does_not_stop_the_build(minimal_site):
    """``sitegen build 2>&1 | head -1``: the rest of the output goes nowhere, and the build finishes."""
    command = f"{sys.executable} -m sitegen build --root {minimal_site} --today {TODAY.isoformat()} 2>&1 | head -1; exit ${{PIPESTATUS[0]}}"
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env={**os.environ, "CI": "true"}, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("fetch")
    assert (minimal_site / "build" / "index.html").is_file()
    again = sitegen_cli("build", "--root", str(minimal_site), "--today", TODAY.isoformat())
    assert "(0 files rendered" in again.stderr


def test_output_that_cannot_be_written_is_one_message():
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "sitegen", "--version"], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: the output could not be written: No space left on device (fix: free some space, or write it elsewhere)"
    ]
