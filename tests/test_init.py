"""`sitegen init DIR`: a new site that builds at once, offline, from any folder."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from conftest import TODAY, tree
from test_cli import sitegen_cli

from sitegen.skeleton import CONTENTS, create_site

PYTHON_M = f"{shlex.quote(sys.executable)} -m sitegen"  # how sitegen_cli runs it, so how the hint says to
LAUNCHER = Path(sys.executable).parent / "sitegen"


def test_the_next_hint_works_as_printed_when_sitegen_is_not_on_path(tmp_path):
    """The README's newcomer: .venv/bin/sitegen init, .venv not activated."""
    env = {**os.environ, "CI": "true", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([str(LAUNCHER), "init", "my-site"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    hint = result.stderr.split("Next:\n", 1)[1].splitlines()[0].strip()
    assert hint == f"cd my-site && {shlex.quote(str(LAUNCHER))} build"
    built = subprocess.run(["bash", "-c", hint], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "my-site" / "build" / "index.html").is_file()
    on_path = subprocess.run(
        ["sitegen", "init", "other"], capture_output=True, text=True, env={**env, "PATH": f"{LAUNCHER.parent}:/usr/bin:/bin"}, cwd=tmp_path
    )
    assert "\n  cd other && sitegen build\n" in on_path.stderr  # activated: the short name works


def test_init_then_build_works_in_an_empty_folder(tmp_path):
    site = tmp_path / "new" / "my site"  # missing parents, and a name that needs quoting
    result = sitegen_cli("init", str(site), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"cd '{site}' && {PYTHON_M} build" in result.stderr and f"{PYTHON_M} serve" in result.stderr

    result = sitegen_cli("build", "--today", TODAY.isoformat(), cwd=site)
    assert result.returncode == 0, result.stderr
    assert "warnings: 0" in result.stderr.splitlines()
    built = site / "build"
    for page in ("index.html", "about/index.html", "2025/exampleconf/welcome/index.html", "people/ada-example/index.html"):
        assert (built / page).is_file(), page
    about = (built / "about/index.html").read_text(encoding="utf-8")
    assert "<h1>About</h1>" in about  # the Markdown page...
    assert "This layout is <code>themes/mine/templates/page.html</code>." in about  # ...in the overriding template
    assert 'href="/about/"' in (built / "index.html").read_text(encoding="utf-8")  # menu = true


def test_init_in_the_current_folder_then_check_passes(tmp_path):
    result = sitegen_cli("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"\n  {PYTHON_M} build\n" in result.stderr  # no "cd" into the folder we are in
    assert (tmp_path / "themes/mine/theme.toml").read_text(encoding="utf-8").count('extends = "default"') == 1

    result = sitegen_cli("check", "--strict", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "build").exists()


def test_init_refuses_a_folder_that_is_not_empty_and_leaves_it_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("mine\n", encoding="utf-8")
    before = tree(tmp_path)
    result = sitegen_cli("init", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr == (
        f"error: {tmp_path}: is not empty; sitegen init only creates a site in an empty or new folder "
        f"(fix: choose an empty or new folder, such as: sitegen init {tmp_path}-2)\n"
    )
    assert tree(tmp_path) == before


def test_init_on_a_non_empty_folder_suggests_a_name_that_does_not_exist(tmp_path):
    for name in ("my-site", "my-site-2"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "notes.txt").write_text("mine\n", encoding="utf-8")
    result = sitegen_cli("init", "my-site", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.endswith("(fix: choose an empty or new folder, such as: sitegen init my-site-3)\n"), result.stderr
    assert not (tmp_path / "my-site-3").exists()


def test_init_refuses_a_file(tmp_path):
    (tmp_path / "site").write_text("", encoding="utf-8")
    result = sitegen_cli("init", "site", cwd=tmp_path)
    assert result.returncode == 2 and "site: is a file, not a folder" in result.stderr


def test_the_summary_names_only_what_init_makes(tmp_path):
    create_site(tmp_path / "site")
    for path, _ in CONTENTS:
        assert (tmp_path / "site" / path).exists(), path
    assert "build/" in (tmp_path / "site" / ".gitignore").read_text(encoding="utf-8")
    assert not (tmp_path / "site" / "gitignore").exists()
