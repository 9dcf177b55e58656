"""sitegen.toml: typed, strict about unknown keys, all problems at once, CLI overrides win."""

from __future__ import annotations

import pytest

from sitegen.config import Config, load_config, resolve_theme_chain
from sitegen.errors import ConfigError
from sitegen.fetch import source_problems


def write_config(site, text: str) -> None:
    (site / "sitegen.toml").write_text(text, encoding="utf-8")


def test_defaults_without_a_file(tmp_path):
    (tmp_path / "content" / "data").mkdir(parents=True)
    config = load_config(tmp_path)
    assert isinstance(config, Config)
    assert config.source.url == "content/data" and config.build.theme == "default"
    assert config.output_dir == tmp_path.resolve() / "build"


def test_every_problem_is_reported_at_once(minimal_site):
    write_config(
        minimal_site,
        """
[site]
title = 3
base_url = "ftp://x"
colour = "blue"

[source]
url = "data"
retries = -1
page_size = "many"

[biuld]
theme = "x"
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(minimal_site)
    message = str(caught.value)
    assert message.startswith("The configuration has 6 problem(s):")
    assert "unknown table [biuld] (fix: use one of [site], [source], [build], [publish], [fragments])" in message
    assert "[site]: unknown key 'colour' (fix: known keys: base_url, description, language, static_url, title)" in message
    assert "[site]: title = 3 is not a string (fix: give title a string)" in message
    assert "[source]: page_size = 'many' is not a whole number" in message
    assert "[source]: retries must not be negative" in message
    assert "base_url = 'ftp://x' is not an absolute http(s) URL ending in '/'" in message
    assert caught.value.exit_code == 2


def test_invalid_toml_names_the_file(minimal_site):
    write_config(minimal_site, "[site\ntitle = 'x'")
    with pytest.raises(ConfigError, match=r"sitegen\.toml: is not valid TOML: .*line 1"):
        load_config(minimal_site)


def test_a_site_root_that_is_not_a_folder_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"no-such-site: is not a folder \(fix: pass --root the folder"):
        load_config(tmp_path / "no-such-site")


def test_unreadable_config_is_a_config_error(minimal_site):
    (minimal_site / "sitegen.toml").unlink()
    (minimal_site / "sitegen.toml").mkdir()
    with pytest.raises(ConfigError, match=r"sitegen\.toml: cannot be read: Is a directory"):
        load_config(minimal_site)


def test_overrides_win_and_none_means_not_given(minimal_site):
    config = load_config(minimal_site, {"site.base_url": "https://other.example.org/", "build.theme": None})
    assert config.site.base_url == "https://other.example.org/"
    assert config.site.title == "Mini archive"  # from the file
    assert config.build.theme == "default"


def test_missing_source_folder_and_theme_are_config_errors(minimal_site):
    with pytest.raises(ConfigError) as caught:
        # The source's check is its format's (sitegen.fetch), which the commands pass to load_config.
        load_config(minimal_site, {"source.url": "nope", "build.theme": "fancy"}, source_check=source_problems)
    message = str(caught.value)
    assert "url = 'nope' is neither an http(s) URL nor a folder" in message
    assert "theme 'fancy': no folder themes/fancy" in message


def test_output_dir_may_not_be_the_site_root(minimal_site):
    with pytest.raises(ConfigError, match="output_dir = '.' would be the site root itself"):
        load_config(minimal_site, {"build.output_dir": "."})


def test_site_theme_overrides_builtin_and_can_extend_another(minimal_site):
    child = minimal_site / "themes" / "child"
    child.mkdir(parents=True)
    (child / "theme.toml").write_text('extends = "default"\n')
    chain = resolve_theme_chain(minimal_site, "child")
    assert chain[0] == child.resolve() and chain[-1].name == "default"
    (minimal_site / "themes" / "default").mkdir()
    chain = resolve_theme_chain(minimal_site, "default")
    assert chain[0] == (minimal_site / "themes" / "default").resolve() and len(chain) == 2


def test_theme_cycle_is_an_error(minimal_site):
    for name, parent in (("a", "b"), ("b", "a")):
        (minimal_site / "themes" / name).mkdir(parents=True)
        (minimal_site / "themes" / name / "theme.toml").write_text(f'extends = "{parent}"\n')
    with pytest.raises(ConfigError, match="extends itself through a -> b -> a"):
        resolve_theme_chain(minimal_site, "a")
