"""The rest of the outside tester's findings (issue 12 follow-up, findings 7
and 10): messages that leaked Python's advice or raw input, and input that
was silently accepted. Each test goes through the CLI and fails without its fix."""

from __future__ import annotations

from pathlib import Path

from apiserver import ApiServer, Fault
from test_hostile_data import api_site, assert_one_message, make_site, minimal_data, run_cli


def test_a_100000_digit_number_in_api_data_is_one_plain_message(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    path = site / "data" / "sessions.json"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"room": "Main"', '"room": ' + "9" * 100_000, 1), encoding="utf-8")
    code, output = run_cli("build", "--root", str(site), "-q")
    assert_one_message(code, output, "sessions.json", "holds a number of more than 4,300 digits")
    assert "set_int_max_str_digits" not in output and "9" * 100 not in output


def test_a_theme_with_dotdot_in_the_config_is_a_config_error(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    config = site / "sitegen.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[build]", '[build]\ntheme = "../../../../etc"', 1), encoding="utf-8")
    code, output = run_cli("build", "--root", str(site), "-q")
    assert_one_message(code, output, "[build]", "theme = '../../../../etc' is not a plain folder name", exit_code=2)
    assert "template" not in output


def test_a_theme_option_with_a_newline_is_echoed_escaped(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    code, output = run_cli("build", "--root", str(site), "--theme", "../../x\n", "-q")
    assert_one_message(
        code, output, "the command-line option for [build] theme", r"theme = '../../x\n' is not a plain folder name", exit_code=2
    )
    assert "x\n'" not in output


def test_an_empty_source_says_the_source_is_empty(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    code, output = run_cli("build", "--root", str(site), "--source", "", "-q")
    assert_one_message(code, output, "[source] url", "the source is empty", exit_code=2)
    assert "overlaps" not in output


def test_a_cache_dir_that_is_a_file_is_a_config_error(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    (tmp_path / "afile").write_text("keep me\n")
    config = site / "sitegen.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[build]", f'[build]\ncache_dir = "{tmp_path / "afile"}"', 1), encoding="utf-8")
    code, output = run_cli("build", "--root", str(site), "-q")
    assert_one_message(code, output, "[build]", "afile' is a file, not a folder", exit_code=2)
    assert (tmp_path / "afile").read_text() == "keep me\n"


def test_a_hostile_retry_after_is_echoed_capped_and_escaped(tmp_path: Path) -> None:
    with ApiServer(minimal_data()) as api:
        api.add_fault("events", Fault(status=503, times=10, retry_after="\x00\x01" + "9" * 5_000))
        code, output = run_cli("build", "--root", str(api_site(tmp_path, api.url)), "-q")
        assert_one_message(code, output, f"{api.url}/events", "RemoteProtocolError")
    assert "9" * 60 not in output and "\x00" not in output and "\x01" not in output


def build_page(tmp_path: Path, text: str) -> tuple[int, str, Path]:
    site = make_site(tmp_path)
    page = site / "content" / "pages" / "p.md"
    page.write_text(text, encoding="utf-8")
    code, output = run_cli("build", "--root", str(site), "-q")
    return code, output, page


def test_too_deep_yaml_front_matter_gets_a_fix_that_fits(tmp_path: Path) -> None:
    code, output, page = build_page(tmp_path, "---\ntitle: T\nx: " + "[" * 50 + "]" * 50 + "\n---\nbody\n")
    assert_one_message(code, output, f"{page}: front matter is nested more than 16 levels deep", "keep front matter to the page's few keys")
    assert "& and *" not in output


def test_a_title_that_is_a_number_is_reported_once(tmp_path: Path) -> None:
    code, output, page = build_page(tmp_path, "+++\ntitle = 5\n+++\nbody\n")
    assert_one_message(code, output, "front matter title = 5 is not a string")
    assert "has no title" not in output


def test_a_toml_error_gives_the_line_of_the_file(tmp_path: Path) -> None:
    code, output, page = build_page(tmp_path, '+++\ntitle = "T"\ndescription = oops\n+++\nbody\n')
    assert_one_message(code, output, f"{page}: front matter is not valid TOML", "(at line 3, column")


def test_a_yaml_key_twice_is_one_message_naming_the_key_and_file(tmp_path: Path) -> None:
    code, output, page = build_page(tmp_path, "---\ntitle: a\ntitle: b\n---\nbody\n")
    assert_one_message(code, output, f"{page}: front matter has the key 'title' twice, at line 2 and line 3", "keep one of them")


def test_a_theme_asset_name_not_in_nfc_is_refused_at_build_with_rename_it(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    theme = site / "themes" / "mine"
    (theme / "static" / "img").mkdir(parents=True)
    (theme / "theme.toml").write_text('extends = "default"\n')
    (theme / "static" / "img" / "cafe\u0301.png").write_bytes(b"PNG")
    code, output = run_cli("build", "--root", str(site), "--theme", "mine", "-q")
    assert_one_message(code, output, "is not in Unicode NFC form", "rename it")
    assert not (site / "build").exists()


def test_fragments_load_of_no_users_refuses_to_empty_a_store_unless_allowed(tmp_path: Path) -> None:
    import json
    import sqlite3

    site = make_site(tmp_path)
    store = str(tmp_path / "store.sqlite3")
    full = tmp_path / "full.json"
    full.write_text(json.dumps({"users": [{"id": "alice", "name": "Alice"}], "follows": [{"user": "alice", "follows": "p1"}]}))
    empty = tmp_path / "empty.json"
    empty.write_text('{"users": []}')

    def stored() -> list[tuple[str, str]]:
        with sqlite3.connect(store) as db:
            return db.execute("SELECT user, target FROM follows").fetchall()

    code, output = run_cli("fragments", "--root", str(site), "--store", store, "load", str(full))
    assert code == 0, output
    code, output = run_cli("fragments", "--root", str(site), "--store", store, "load", str(empty))
    assert_one_message(code, output, f"{empty}: lists no users", "--allow-empty")
    assert stored() == [("alice", "p1")]  # nothing was lost
    code, output = run_cli("fragments", "--root", str(site), "--store", store, "load", "--allow-empty", str(empty))
    assert code == 0, output
    assert stored() == []
