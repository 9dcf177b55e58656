"""The command line as a user meets it: exit codes and one clear message per failure."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from apiserver import ApiServer, Fault
from conftest import TODAY, edit_collection

import sitegen


def sitegen_cli(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true"}
    return subprocess.run(
        [sys.executable, "-m", "sitegen", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


def test_version():
    result = sitegen_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"sitegen, version {sitegen.__version__}"


def test_build_prints_stages_and_a_summary_in_ci(minimal_site):
    result = sitegen_cli("build", "--root", str(minimal_site), "--today", TODAY.isoformat())
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert [line.split()[0] for line in lines[:6]] == ["fetch", "model", "content", "assets", "render", "write"]
    assert "pages: 22" in lines and "warnings: 0" in lines
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
