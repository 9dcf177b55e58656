"""The contract's shared rules (sitegen.contract) give one answer wherever they
are used: the slug of a name, the media kind of a link and the web-URL rule are
the same in the model and in every converter; and every converter's fixtures
pass the model without a warning."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from sitegen.contract import SLUG_BASE_LENGTH, SLUG_RE, is_web_url, media_kind, slugify
from sitegen.model import build_archive, city_slug
from sitegen.sources import Converted, frab, pretalx

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
PRETALX_BASE = "https://cfp.example.org/api/events/democon/"

#: The issue's cases: one spelling in every place a slug is made.
LATIN = {"Łódź": "lodz", "Straße": "strasse", "Ærøskøbing": "aeroskobing", "München": "munchen", "Đakovo": "dakovo"}
#: Names with letters, none of them Latin: a romanisation and a digest. 苏州 and 宿州 are two cities both romanised "Suzhou".
NON_LATIN = {
    "Москва": "moskva",
    "Юлия Петрова": "yuliya-petrova",
    "Αθήνα": "athina",
    "東京": "dongjing",
    "东京": "dongjing",
    "苏州": "suzhou",
    "宿州": "suzhou",
    "القاهرة": "lqhrh",
    "עברית": "vryt",
    "한국어": "hangugeo",
}


def pretalx_documents(submissions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """URL -> document: the pretalx fixture (tests/fixtures/pretalx), its talks replaced when given."""
    folder = FIXTURES / "pretalx"
    listing = json.loads((folder / "submissions.json").read_text(encoding="utf-8"))
    if submissions is not None:
        listing = {**listing, "count": len(submissions), "results": submissions}
    return {
        PRETALX_BASE: json.loads((folder / "event.json").read_text(encoding="utf-8")),
        f"{PRETALX_BASE}schedules/": json.loads((folder / "schedules.json").read_text(encoding="utf-8")),
        f"{PRETALX_BASE}submissions/?state=confirmed&expand={pretalx.EXPAND}&page_size={pretalx.PAGE_SIZE}": listing,
    }


def read_pretalx(documents: Mapping[str, Any]) -> Converted:
    def get(url: str, headers: Mapping[str, str]) -> Any:
        return documents[url]

    return pretalx.read(PRETALX_BASE, get, None)


def pretalx_talk(**extra: Any) -> dict[str, Any]:
    """The fixture's first talk, changed."""
    first = pretalx_documents()[f"{PRETALX_BASE}submissions/?state=confirmed&expand={pretalx.EXPAND}&page_size={pretalx.PAGE_SIZE}"]
    return {**first["results"][0], **extra}


def frab_schedule(talk: dict[str, Any]) -> list[tuple[str, Any]]:
    talk = {"guid": "0b8e2f57-6f1e-4b5a-8d8c-1a2b3c4d0001", "id": 1, "date": "2026-11-22T10:00:00+01:00", "title": "A talk", **talk}
    day = {"index": 1, "date": "2026-11-22", "rooms": {"Hall": [talk]}}
    conference = {
        "acronym": "x",
        "title": "X",
        "start": "2026-11-22",
        "end": "2026-11-22",
        "time_zone_name": "Europe/Berlin",
        "days": [day],
    }
    return [("x.json", {"schedule": {"version": "1", "conference": conference}})]


def folder_collections(folder: Path) -> dict[str, list[Any]]:
    """A folder source as the fetch stage hands it to the model: each ``<collection>.json``'s ``data``."""
    return {path.stem: json.loads(path.read_text(encoding="utf-8"))["data"] for path in sorted(folder.glob("*.json"))}


# --- one slug -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "slug"), LATIN.items())
def test_one_slug_for_a_name_in_the_model_and_every_converter(name: str, slug: str) -> None:
    """ "Łódź" is "lodz" and "Straße" "strasse" wherever a slug is made: the contract,
    the model's city slugs, frab's people and topics, pretalx's topics."""
    from_frab = frab.convert(frab_schedule({"track": name, "persons": [{"id": 7, "public_name": name}]})).collections
    track = {"id": 2, "name": {"en": name}, "description": {"en": ""}, "color": "#c324ca"}
    from_pretalx = read_pretalx(pretalx_documents([pretalx_talk(track=track, tags=[])])).collections
    assert slugify(name) == slug
    assert city_slug(name) == slug
    assert [person["slug"] for person in from_frab["people"]] == [slug]
    assert [topic["slug"] for topic in from_frab["topics"]] == [slug]
    assert [topic["slug"] for topic in from_pretalx["topics"]] == [slug]


def test_a_name_with_no_latin_letters_is_its_romanisation_and_a_digest() -> None:
    slugs = {name: slugify(name) for name in NON_LATIN}
    for name, spelled in NON_LATIN.items():
        assert re.fullmatch(rf"{spelled}-[0-9a-f]{{8}}", slugs[name]), (name, slugs[name])
        assert city_slug(name) == slugs[name]
    assert len(set(slugs.values())) == len(slugs), "distinct names, distinct slugs (homophones too)"
    # Pinned: slugs are URLs of the built site, so a new library version that spells otherwise must show here.
    assert slugs["Москва"] == "moskva-39ef3db3"
    assert slugs["東京"] == "dongjing-681ee300"
    # The same in another interpreter with another string-hash seed (nothing depends on Python's hash()).
    program = "import json, sys; from sitegen.contract import slugify; print(json.dumps([slugify(n) for n in json.loads(sys.argv[1])]))"
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    run = subprocess.run([sys.executable, "-c", program, json.dumps(list(NON_LATIN))], capture_output=True, text=True, env=env, check=True)
    assert json.loads(run.stdout) == list(slugs.values())


def test_composed_or_decomposed_a_name_has_one_slug() -> None:
    """NFC and NFD spellings are one name (macOS file names come decomposed)."""
    for name in ("Йошкар-Ола", "Łódź", "Việt Nam", "Ελληνικά"):
        decomposed = unicodedata.normalize("NFD", name)
        assert decomposed != name
        assert slugify(decomposed) == slugify(name)


def test_names_of_which_nothing_is_spelled_blank_names_and_long_names() -> None:
    assert re.fullmatch(r"[0-9a-f]{8}", slugify("???")) and slugify("???") != slugify("!!!")
    assert slugify("   ") == "" and city_slug("   ") == "city"
    assert slugify("🐍 Python") == "snake-python"  # emoji are spelled by their names, as anyascii writes them
    assert slugify("PyCon 東京") == "pycon-dongjing"  # Latin letters: folded, no digest
    for name in ("x" * 500, "Ж" * 500, "a-" * 300, "東" * 500):
        slug = slugify(name)
        assert SLUG_RE.fullmatch(slug) and len(slug) <= SLUG_BASE_LENGTH, (name[:5], slug)
    assert slugify("Ж" * 500) != slugify("Ж" * 499), "the digest reads the whole name"


# --- one media kind, one URL rule ------------------------------------------------------------

LINKS = [
    "https://media.example.org/talk.flac",
    "https://media.example.org/talk.m4v",
    "https://bitbucket.org/democon/talk",
    "https://github.com/democon/talk/raw/main/slides.pdf",
    "https://media.ccc.de/v/x",
    "https://media.example.org/notes.md",
    "https://media.example.org/page",
]


def test_one_media_kind_for_a_link_in_every_converter() -> None:
    expected = ["audio", "video", "code", "slides", "video", "notes", "other"]
    assert [media_kind(url) for url in LINKS] == expected
    from_frab = frab.convert(frab_schedule({"links": LINKS})).collections["sessions"][0]["media"]
    resources = [{"id": number, "resource": url, "description": ""} for number, url in enumerate(LINKS)]
    from_pretalx = read_pretalx(pretalx_documents([pretalx_talk(resources=resources)])).collections["sessions"][0]["media"]
    assert [item["kind"] for item in from_frab] == [item["kind"] for item in from_pretalx] == expected


def test_one_web_url_rule_in_the_model_and_every_converter() -> None:
    """Each converter keeps exactly the links the model accepts, so the model has none left to drop."""
    urls = [
        "https://example.org/ok",
        "https://media.example.org\\@evil.example/talk.mp4",
        "javascript:alert(1)",
        "https://exa mple.org/x",
        "https://example.org/a\tb",
        "ftp://example.org/file.pdf",
        "https://example.org/" + "x" * 2100,
    ]
    accepted = [url for url in urls if is_web_url(url)]
    assert accepted == ["https://example.org/ok"]
    from_frab = frab.convert(frab_schedule({"links": urls}))
    resources = [{"id": number, "resource": url, "description": ""} for number, url in enumerate(urls)]
    from_pretalx = read_pretalx(pretalx_documents([pretalx_talk(resources=resources)]))
    for converted in (from_frab, from_pretalx):
        assert [item["url"] for item in converted.collections["sessions"][0]["media"]] == accepted
        assert len(converted.warnings) == len(urls) - len(accepted)
        assert build_archive(converted.collections).warnings == ()


# --- every converter's fixtures pass the model ----------------------------------------------


def fixture_sources() -> dict[str, Any]:
    frab_documents = [
        (f"schedules/{path.name}", json.loads(path.read_text(encoding="utf-8")))
        for path in sorted((FIXTURES / "frab" / "schedules").glob("*.json"))
    ]
    return {
        "frab": lambda: frab.convert(frab_documents).collections,
        "pretalx": lambda: read_pretalx(pretalx_documents()).collections,
        "folder: content/data": lambda: folder_collections(ROOT / "content" / "data"),
        "folder: tests/sites/minimal/data": lambda: folder_collections(ROOT / "tests" / "sites" / "minimal" / "data"),
        "folder: sitegen init's sample": lambda: folder_collections(ROOT / "sitegen" / "_skeleton" / "content" / "data"),
    }


@pytest.mark.parametrize("source", fixture_sources())
def test_every_converters_fixtures_pass_the_model_without_a_warning(source: str) -> None:
    collections = fixture_sources()[source]()
    assert collections["sessions"], "the fixture has talks"
    result = build_archive(collections)
    assert [str(warning) for warning in result.warnings] == []
    for kind in ("people", "topics", "sessions"):
        assert all(SLUG_RE.fullmatch(item["slug"]) for item in collections.get(kind, [])), kind


def test_the_pretalx_fixture_converts_without_a_warning_and_spells_every_script() -> None:
    converted = read_pretalx(pretalx_documents())
    assert [str(warning) for warning in converted.warnings] == []
    people = {person["name"]: person["slug"] for person in converted.collections["people"]}
    topics = {topic["name"]: topic["slug"] for topic in converted.collections["topics"]}
    assert people["Юлия Петрова"] == "pq7rzt"  # pretalx people are slugged by their code, which never changes
    assert topics["Łódź Straße"] == "lodz-strasse" and topics["Ærøskøbing"] == "aeroskobing"


def test_a_declared_type_that_is_not_a_string_is_no_type():
    """A frab link's ``type`` is outside input: a list or an object is not a type (and no traceback)."""
    from sitegen.contract import media_kind

    assert media_kind("https://example.org/talk.mp4", declared=["slides"]) == "video"
    assert media_kind("https://example.org/x", declared={"a": 1}) == "other"
