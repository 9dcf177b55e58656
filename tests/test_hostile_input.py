"""Hostile input gives one short message, never a traceback, and output stays
linear: the model, Markdown pages, ``fragments load``, theme assets, and a
property test over every field of every collection of the API contract."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import MINIMAL_SITE, TODAY
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from peak import run_measured

from sitegen.build import build_site
from sitegen.cli import main
from sitegen.config import load_config
from sitegen.contract import MAX_LIST_ITEMS
from sitegen.errors import DataError, SitegenError
from sitegen.fetch import COLLECTIONS
from sitegen.model import build_archive

#: The most a user-facing message may weigh, in UTF-8 bytes.
MESSAGE_LIMIT = 10 * 1024


class Deep:
    """A JSON value nested ``depth`` arrays deep, written without recursion."""

    def __init__(self, depth: int, leaf: Any = "x") -> None:
        self.depth, self.leaf = depth, leaf

    def __repr__(self) -> str:
        return f"Deep({self.depth}, {self.leaf!r})"


class BigInt:
    """An integer of ``digits`` digits: json.dumps refuses to write one past 4,300."""

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"BigInt({self.digits})"


def dumps(body: Any) -> str:
    """JSON text of ``body``, with ``Deep`` and ``BigInt`` values spliced in as text."""
    spliced: list[str] = []

    def splice(value: Any) -> str:
        if isinstance(value, Deep):
            spliced.append("[" * value.depth + dumps(value.leaf) + "]" * value.depth)
        elif isinstance(value, BigInt):
            spliced.append("1" + "0" * (value.digits - 1))
        else:
            raise TypeError(type(value))
        return f"\x00splice{len(spliced) - 1}\x00"

    text = json.dumps(body, default=splice)  # ensure_ascii: lone surrogates become \ud800 escapes
    for index, piece in enumerate(spliced):
        text = text.replace(f'"\\u0000splice{index}\\u0000"', piece)
    return text


def load_data(site: Path) -> dict[str, list[dict[str, Any]]]:
    return {name: json.loads((site / "data" / f"{name}.json").read_text())["data"] for name in COLLECTIONS}


def write_data(site: Path, data: dict[str, list[Any]]) -> None:
    for name, items in data.items():
        (site / "data" / f"{name}.json").write_text(dumps({"data": items, "next": None}), encoding="utf-8")


def make_site(root: Path) -> Path:
    site = root / "site"
    shutil.copytree(MINIMAL_SITE, site, ignore=shutil.ignore_patterns("build", ".sitegen-cache"))
    return site


def run_cli(*args: str) -> tuple[int, str]:
    """``sitegen ARGS`` in this process, as a user runs it; an escaping exception fails the test."""
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def assert_one_short_message(code: int, output: str, *expected: str) -> None:
    assert code == 1, output
    assert "Traceback" not in output
    assert len(output.encode()) < MESSAGE_LIMIT, f"{len(output.encode()):,} bytes"
    for text in expected:
        assert text in output, output


# ---------------------------------------------------------------------------
# The model


def test_a_title_nested_1000_deep_is_one_message(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    data = load_data(site)
    data["sessions"][0]["title"] = Deep(1000)
    write_data(site, data)
    code, output = run_cli("build", "--root", str(site), "-q")
    # The model names the field; a reader that bounds depth names the file.
    assert_one_short_message(code, output, "sessions")
    assert not (site / "build").exists()


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def test_a_field_nested_100000_deep_names_the_object_path() -> None:
    """Below any reader's depth limit: the model stage itself never recurses over values."""
    data = load_data(MINIMAL_SITE)
    data["sessions"][0]["title"] = nested(100_000)
    with pytest.raises(DataError) as caught:
        build_archive(data)
    message = str(caught.value)
    assert "sessions[0] (id 'x1').title: must be a string, got [[[[...]]]]" in message
    assert len(message) < 1000


def test_an_unknown_key_nested_100000_deep_is_ignored_and_digested() -> None:
    data = load_data(MINIMAL_SITE)
    data["sessions"][0]["extra"] = nested(100_000)
    first = build_archive(data).sources["sessions/x1"]
    data["sessions"][0]["extra"] = nested(100_001)
    assert build_archive(data).sources["sessions/x1"] != first


def test_ten_people_with_2mb_ids_give_a_short_message_in_little_memory(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    data = load_data(site)
    data["people"] += [{"id": chr(65 + i) * 2_000_000, "slug": "Bad Slug", "name": 5, "updated_at": "x"} for i in range(10)]
    write_data(site, data)
    run = run_measured([sys.executable, "-m", "sitegen", "build", "-q", "--root", str(site)], env={**os.environ, "CI": "true"})
    code, peak_kb = run.returncode, run.peak_bytes // 1024
    assert_one_short_message(code, run.stderr, "people[3] (id 'AAAAAAAA", ".id: must be a non-empty string", "… and")
    assert peak_kb < 250_000, f"peak RSS {peak_kb / 1024:.0f} MB"  # 870 MB before; the input alone is 20 MB


def test_a_session_with_more_speakers_than_the_contract_allows_is_refused(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    data = load_data(site)
    data["people"] += [
        {"id": f"q{i}", "slug": f"q{i}", "name": f"Speaker {i}", "updated_at": "2024-01-01T00:00:00+00:00"} for i in range(2000)
    ]
    data["sessions"][0]["speakers"] = [f"q{i}" for i in range(2000)]
    write_data(site, data)
    code, output = run_cli("build", "--root", str(site), "-q")
    assert_one_short_message(
        code, output, f"sessions[0] (id 'x1').speakers: lists 2,000 items; the contract allows at most {MAX_LIST_ITEMS}"
    )
    assert not (site / "build").exists()  # it built 279 MB before


def test_listings_name_ten_speakers_and_count_the_rest(tmp_path: Path) -> None:
    """A talk's by-line is repeated on each speaker's page: it names ten, so the
    build grows with the speakers, not with their square."""
    site = make_site(tmp_path)
    data = load_data(site)
    data["people"] += [
        {"id": f"q{i}", "slug": f"q{i}", "name": f"Speaker {i:03}", "updated_at": "2024-01-01T00:00:00+00:00"}
        for i in range(MAX_LIST_ITEMS)
    ]
    data["sessions"][0]["speakers"] = [f"q{i}" for i in range(MAX_LIST_ITEMS)]
    write_data(site, data)
    code, output = run_cli("build", "--root", str(site), "-q", "--today", TODAY.isoformat())
    assert code == 0, output
    page = (site / "build" / "people" / "q42" / "index.html").read_text()
    assert "Speaker 009</a> and 90 more</span>" in page and "Speaker 010" not in page
    session = next((site / "build").glob("2024/*/engines/index.html")).read_text()
    assert "Speaker 099" in session  # the talk's own page names everyone


# ---------------------------------------------------------------------------
# Markdown pages


def alias_bomb() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 7)]
    return "\n".join(lines) + "\ndescription: *a6\n"


@pytest.mark.parametrize(
    ("front_matter", "expected"),
    [
        (alias_bomb(), "front matter uses a YAML anchor or alias at line 3, which is not allowed"),
        ("description: &d x\n", "front matter uses a YAML anchor or alias at line 3"),
        ("description: " + "[" * 5000 + "]" * 5000 + "\n", "front matter is nested more than 16 levels deep"),
        ("description: " + "x" * 70_000 + "\n", "front matter is 70,026 characters long, more than 65,536"),
        ("1: x\nb: y\n", "unknown front matter key 1"),
        ("weight: " + "9" * 5000 + "\n", "front matter holds a number of more than 4,300 digits"),
    ],
    ids=["alias-bomb", "anchor", "deep", "huge", "mixed-keys", "huge-int"],
)
def test_hostile_yaml_front_matter_is_one_message_naming_the_file(tmp_path: Path, front_matter: str, expected: str) -> None:
    site = make_site(tmp_path)
    page = site / "content" / "pages" / "bomb.md"
    page.write_text(f"---\ntitle: Bomb\n{front_matter}---\nbody\n")
    code, output = run_cli("build", "--root", str(site), "-q")
    assert_one_short_message(code, output, f"{page}: {expected}")


def test_deep_toml_front_matter_is_one_message(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    page = site / "content" / "pages" / "deep.md"
    page.write_text('+++\ntitle = "Deep"\nx = ' + "[" * 30_000 + "]" * 30_000 + "\n+++\nbody\n")
    code, output = run_cli("build", "--root", str(site), "-q")
    assert_one_short_message(code, output, f"{page}: front matter is nested too deeply")


def test_plain_yaml_front_matter_still_works(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    (site / "content" / "pages" / "team.md").write_text(
        "---\ntitle: The team\ndescription: Who we are\nmenu: true\nweight: 3\n---\nWe are *few*.\n"
    )
    code, output = run_cli("build", "--root", str(site), "-q", "--today", TODAY.isoformat())
    assert code == 0, output
    assert "<em>few</em>" in (site / "build" / "team" / "index.html").read_text()


# ---------------------------------------------------------------------------
# sitegen fragments load


def fragments_load(site: Path, tmp_path: Path, body: str) -> tuple[int, str]:
    path = tmp_path / "personal.json"
    path.write_text(body, encoding="utf-8")
    return run_cli("fragments", "--root", str(site), "--store", str(tmp_path / "store.sqlite3"), "load", str(path))


def test_fragments_load_of_deeply_nested_json_is_one_message(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    code, output = fragments_load(site, tmp_path, '{"users": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert_one_short_message(code, output, f"{tmp_path / 'personal.json'}: is JSON nested more than")


def test_fragments_load_names_a_duplicate_by_its_row_and_clips_names(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    users = [
        {"id": "alice", "name": "Alice"},
        {"id": "bad id", "name": "B"},
        {"id": "c", "name": "\x01"},
        {"id": "d", "name": "x" * 1_000_000},
        {"id": "alice", "name": "Again"},
    ]
    code, output = fragments_load(site, tmp_path, json.dumps({"users": users}))
    assert_one_short_message(code, output, "users[4]: id 'alice' appears twice, first at users[0]", "users[3]: name = 'xxxxxxxx")
    assert "users[1]: id 'alice'" not in output
    assert not (tmp_path / "store.sqlite3").exists()


# ---------------------------------------------------------------------------
# Theme assets


@pytest.mark.parametrize(
    "name", ["new\nline.png", "tab\there.png", "del\x7f.png", "c1\x85.png", "what?.png", "hash#.png", "bidi\u202e.png"]
)
def test_an_asset_name_that_cannot_be_published_is_refused_at_build(tmp_path: Path, name: str) -> None:
    site = make_site(tmp_path)
    theme = site / "themes" / "mine"
    (theme / "static" / "img").mkdir(parents=True)
    (theme / "theme.toml").write_text('extends = "default"\n')
    (theme / "static" / "img" / name).write_bytes(b"PNG")
    code, output = run_cli("build", "--root", str(site), "--theme", "mine", "-q")
    assert_one_short_message(
        code,
        output,
        f"{'img/' + name!r} in {theme / 'static'}: has ",
        "in its name, which S3 keys and URLs do not carry safely",
        "rename it",
    )
    assert not (site / "build").exists()


LONG_ASSET_NAMES = {
    "a 250-character file name (too long once hashed)": ("img/" + "n" * 246 + ".png", "name part longer than 255 bytes"),
    "a 246-byte file name (257 once hashed)": ("img/" + "é" * 120 + "ab.png", "name part longer than 255 bytes"),
    "a path over S3's key budget": ("/".join(["f" * 60] * 9) + "/x.png", "path longer than 512 bytes"),
}


@pytest.mark.parametrize("case", LONG_ASSET_NAMES)
def test_an_asset_name_too_long_to_publish_is_refused_at_build_with_rename_it(tmp_path: Path, case: str) -> None:
    name, said = LONG_ASSET_NAMES[case]
    site = make_site(tmp_path)
    theme = site / "themes" / "mine"
    (theme / "theme.toml").parent.mkdir(parents=True)
    (theme / "theme.toml").write_text('extends = "default"\n')
    target = theme / "static" / name
    target.parent.mkdir(parents=True)
    target.write_bytes(b"PNG")
    code, output = run_cli("build", "--root", str(site), "--theme", "mine", "-q")
    assert_one_short_message(code, output, said, "rename it")
    assert "free space" not in output and "Errno" not in output and name not in output
    assert not (site / "build").exists()


def test_an_asset_name_that_is_not_utf8_is_called_so(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    theme = site / "themes" / "mine"
    (theme / "static").mkdir(parents=True)
    (theme / "theme.toml").write_text('extends = "default"\n')
    with open(os.path.join(os.fsencode(theme / "static"), b"caf\xe9.png"), "wb") as file:
        file.write(b"PNG")
    code, output = run_cli("build", "--root", str(site), "--theme", "mine", "-q")
    assert_one_short_message(code, output, "the byte 0xE9, which is not UTF-8", "rename it")


def test_an_error_shows_at_most_its_budget_of_problems() -> None:
    problems = [(f"where{i}" + "w" * 5000, "what" * 5000, "fix" * 5000) for i in range(1000)]
    from sitegen.errors import Problem

    for summary in ("Many problems:", ""):
        message = str(DataError(summary, [Problem(*parts) for parts in problems]))
        assert len(message.encode()) < MESSAGE_LIMIT
        assert message.endswith("more") and "where0" in message


# ---------------------------------------------------------------------------
# The property: any JSON value in any field of any collection


#: Every field of every collection of the contract (api-contract.md, sitegen/model/),
#: as a path into the first object that has it; "extra" is an unknown key.
FIELDS: list[tuple[str, tuple[Any, ...]]] = [
    *[("series", (key,)) for key in ("id", "slug", "name", "description", "updated_at", "extra")],
    *[("venues", (key,)) for key in ("id", "slug", "name", "city", "country", "lat", "lon", "updated_at", "extra")],
    *[("topics", (key,)) for key in ("id", "slug", "name", "updated_at", "extra")],
    *[("people", (key,)) for key in ("id", "slug", "name", "bio", "links", "avatar_url", "updated_at", "extra")],
    ("people", ("links", 0)),
    ("people", ("links", 0, "kind")),
    ("people", ("links", 0, "url")),
    *[
        ("events", (key,))
        for key in (
            "id",
            "slug",
            "name",
            "series",
            "venue",
            "start_date",
            "end_date",
            "timezone",
            "url",
            "description",
            "topics",
            "updated_at",
            "extra",
        )
    ],
    ("events", ("topics", 0)),
    *[
        ("sessions", (key,))
        for key in (
            "id",
            "slug",
            "event",
            "title",
            "abstract",
            "start",
            "end",
            "date",
            "room",
            "speakers",
            "topics",
            "media",
            "updated_at",
            "extra",
        )
    ],
    ("sessions", ("speakers", 0)),
    ("sessions", ("topics", 0)),
    ("sessions", ("media", 0)),
    ("sessions", ("media", 0, "kind")),
    ("sessions", ("media", 0, "url")),
    ("sessions", ("media", 0, "title")),
]

_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)  # surrogates and controls too
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT
    | st.sampled_from(
        [
            "",
            " ",
            "x1",
            "p1",
            "e1",
            "t1",
            "2024-03-30",
            "2024-03-30T09:00:00+01:00",
            "Europe/Berlin",
            "https://example.org/",
            "javascript:alert(1)",
            "GB",
            "video",
            "\ud800",
            "\x00\x85\u2028",
        ]
    )
    | st.integers(1, 200_000).map(lambda n: "x" * n)
    | st.integers(20, 4300).map(BigInt)
)
JSON_VALUES = (
    st.recursive(
        _SCALARS,
        lambda children: st.lists(children, max_size=5) | st.dictionaries(_TEXT, children, max_size=5),
        max_leaves=12,
    )
    | st.builds(Deep, st.integers(1, 3000), _SCALARS)
    | st.lists(st.sampled_from(["p1", "p2", "t1", "x"]), max_size=150)
)


def listing(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def check_any_value(field: tuple[str, tuple[Any, ...]], value: Any) -> None:
    collection, path = field
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        site = make_site(root)
        (site / "sitegen.toml").write_text((site / "sitegen.toml").read_text() + "workers = 1\n")
        data = load_data(site)
        target: Any = data[collection][0]
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        write_data(site, data)
        before = listing(root)
        try:
            build_site(load_config(site, {}), today=TODAY)
        except SitegenError as exc:
            assert len(str(exc).encode("utf-8", "surrogatepass")) < MESSAGE_LIMIT
        # The output, the cache, and the write stage's lock and staging beside the output.
        ours = ("site/build/", "site/.sitegen-cache/", "site/.build.lock", "site/.build.staging/")
        after = {name: data for name, data in listing(root).items() if not name.startswith(ours)}
        assert after == before, "the build wrote outside its output and cache folders"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from(FIELDS), JSON_VALUES)
@example(("sessions", ("title",)), Deep(1000))  # crashes found before: a RecursionError in the message,
@example(("people", ("id",)), "x" * 2_000_000)  # and a 2 MB message
@example(("venues", ("lat",)), BigInt(4300))
@example(("sessions", ("speakers",)), ["p1"] * 150)
def test_any_json_value_in_any_field_builds_or_is_one_short_message(field: tuple[str, tuple[Any, ...]], value: Any) -> None:
    check_any_value(field, value)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from(FIELDS), JSON_VALUES)
def test_many_json_values_in_any_field_build_or_are_one_short_message(field: tuple[str, tuple[Any, ...]], value: Any) -> None:
    check_any_value(field, value)


@pytest.mark.slow
def test_every_field_with_each_kind_of_hostile_value() -> None:
    """Each field once with each kind of value the property draws from, so none is left to chance."""
    kinds = [
        Deep(1000),
        Deep(3000, {"a": 1}),
        "x" * 2_000_000,
        "\ud800\x00\x85",
        BigInt(4300),
        1e308,
        -(2**63),
        {"k": [1]},
        ["p1"] * 150,
        True,
    ]
    for field in FIELDS:
        for value in kinds:
            check_any_value(field, value)
