"""The rest of the outside tester's findings (issue 12 follow-up, findings 7
and 10): messages that leaked Python's advice or raw input, and input that
was silently accepted. Each test goes through the CLI and fails without its fix."""

from __future__ import annotations

from pathlib import Path

from test_hostile_data import assert_one_message, make_site, run_cli


def test_a_100000_digit_number_in_api_data_is_one_plain_message(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    path = site / "data" / "sessions.json"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"room": "Main"', '"room": ' + "9" * 100_000, 1), encoding="utf-8")
    code, output = run_cli("build", "--root", str(site), "-q")
    assert_one_message(code, output, "sessions.json", "holds a number of more than 4,300 digits")
    assert "set_int_max_str_digits" not in output and "9" * 100 not in output

