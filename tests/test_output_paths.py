"""The write stage's one rule for output paths (``write.output_path_problem``), which
runs for every file of a build and every key publish reads back: its string-only
reading gives PurePosixPath's answer, tricky and random paths alike."""

from __future__ import annotations

import random
import re
import unicodedata
from pathlib import PurePosixPath

import pytest

from sitegen.write import Stager, output_path_problem

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def by_pure_path(path: str) -> str | None:
    """The rule as first written, on PurePosixPath."""
    pure = PurePosixPath(path)
    if not pure.parts or pure.parts == (".",):
        return "is empty"
    if pure.is_absolute():
        return "is absolute"
    if ".." in pure.parts:
        return "has a '..' part"
    if "\\" in path:
        return "has a backslash"
    if _CONTROL.search(path):
        return "has a control character"
    if pure.as_posix() != path:
        return "is not in normal form (an empty or '.' part, or a trailing '/')"
    if unicodedata.normalize("NFC", path) != path:
        return "is not in Unicode NFC form"
    return None


TRICKY = [
    "",
    ".",
    "./",
    "./.",
    "/",
    "//",
    "//a",
    "/a",
    "a",
    "a/",
    "a//b",
    "a/./b",
    "./a",
    "a/..",
    "..",
    "../a",
    "./..",
    "a/../b",
    "a\\b",
    "a\x00b",
    "a\x85b",
    "a/\x7f",
    "cafe\u0301/index.html",
    "café/index.html",
    "a/b/c.html",
    "...",
    "a/.../b",
    ".hidden/x",
    "a/.b",
    "é/../x",
    "/..",
    "a/b/",
    "\u212b",
    "x\u212b",
]


@pytest.mark.parametrize("path", TRICKY)
def test_the_string_rule_is_pure_paths(path):
    assert output_path_problem(path) == by_pure_path(path)


def test_random_paths_get_pure_paths_answer():
    rng = random.Random(7)
    alphabet = ["a", "b", "/", ".", "..", "\\", "\x01", "\u0301", "é", "e", "-", "_", " ", "\u212b"]
    for _ in range(20_000):
        path = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        assert output_path_problem(path) == by_pure_path(path), repr(path)


def test_a_fresh_stager_makes_each_folder_on_its_first_file(tmp_path):
    stager = Stager(tmp_path / "out")
    assert stager.put("a/b/index.html", b"1") and stager.put("a/b/feed.atom", b"2") and stager.put("c.html", b"3")
    assert stager.staged("a/b/feed.atom").read_bytes() == b"2" and stager.staged("c.html").read_bytes() == b"3"
