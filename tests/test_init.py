"""`sitegen init DIR`: a new site that builds at once, offline, from any folder."""

from __future__ import annotations

from conftest import TODAY, tree
from test_cli import sitegen_cli

from sitegen.skeleton import CONTENTS, create_site


def test_init_then_build_works_in_an_empty_folder(tmp_path):
    site = tmp_path / "new" / "my site"  # missing parents, and a name that needs quoting
    result = sitegen_cli("init", str(site), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"cd '{site}' && sitegen build" in result.stderr and "sitegen serve" in result.stderr

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
    assert "\n  sitegen build\n" in result.stderr  # no "cd" into the folder we are in
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
        "(fix: choose an empty or new folder, such as: sitegen init my-site)\n"
    )
    assert tree(tmp_path) == before


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
