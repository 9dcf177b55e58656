"""The plain texts of Markdown fields kept between builds (sitegen/search/plains.py):
reused when the text is the same, made again when it is new or the file cannot be
trusted, kept with the last build's until they pass the archive's size, and never the only copy of anything."""

from __future__ import annotations

import os

import pytest
from conftest import CACHE_KEY as KEY

from sitegen.kept import load_kept, save_kept
from sitegen.search import plains, records
from sitegen.search.batches import KeptReads

TEXTS = ["**Bold** and _emphasis_ in [a link](https://example.org)", "# Heading\n\n- item one\n- item two", "plain words"]


@pytest.fixture
def made(monkeypatch):
    """The texts plain_from_markdown was called with."""
    calls: list[str] = []
    plain = records.plain_from_markdown
    monkeypatch.setattr(plains, "plain_from_markdown", lambda text: calls.append(text) or plain(text))
    return calls


def run(kept: KeptReads, texts: list[str], most: int = 100) -> list[str]:
    plain = plains.PlainTexts(kept)
    out = [plain(text) for text in texts]
    plain.save(most)
    return out


def test_a_text_seen_by_the_last_build_is_not_made_again(tmp_path, made):
    kept = KeptReads(tmp_path / "search", KEY)
    expected = [records.plain_from_markdown(text) for text in TEXTS]
    made.clear()
    assert run(kept, [*TEXTS, TEXTS[0], "", None]) == [*expected, expected[0], "", ""]  # type: ignore[list-item]
    assert made == TEXTS  # each text once, empty ones never
    made.clear()
    stamp = os.stat(kept.folder / plains.NAME).st_mtime_ns
    assert run(kept, TEXTS) == expected and made == []
    assert os.stat(kept.folder / plains.NAME).st_mtime_ns == stamp  # nothing new: not written again
    assert run(kept, [TEXTS[1], "a new *text*"]) == [expected[1], "a new text"] and made == ["a new *text*"]
    kept_texts = load_kept(kept.folder / plains.NAME, plains.MAX_BYTES, plains.code_digest(), "plain", KEY)
    assert sorted(kept_texts.values()) == sorted([*expected, "a new text"])  # a rebuild's few, with the last build's
    made.clear()
    assert run(kept, [TEXTS[2], "another *one*"], most=3) == [expected[2], "another one"] and made == ["another *one*"]
    kept_texts = load_kept(kept.folder / plains.NAME, plains.MAX_BYTES, plains.code_digest(), "plain", KEY)
    assert sorted(kept_texts.values()) == sorted([expected[2], "another one"])  # more than ``most``: this build's only


@pytest.mark.parametrize(
    "damage",
    [
        b"not json",
        b'{"code": "CODE", "plain": {}}',  # what an earlier version kept: JSON without a seal
        ("another version", {}),
        ("CODE", {"short": "x"}),
        ("CODE", {"0123456789abcdef0123456789abcdef": 7}),
        ("CODE", []),
        "link",
        "folder",
    ],
)
def test_a_file_that_cannot_be_trusted_is_made_again_with_the_same_texts(tmp_path, made, damage):
    """Damaged, unsealed, of another version, of another shape (sealed with the key), a link
    to /dev/zero, a folder in its place: the texts are made again, the same; and (but for
    the folder) kept anew."""
    kept = KeptReads(tmp_path / "search", KEY)
    expected = run(kept, TEXTS)
    path = kept.folder / plains.NAME
    path.unlink()
    if damage == "link":
        path.symlink_to("/dev/zero")
    elif damage == "folder":
        path.mkdir()
    elif isinstance(damage, tuple):
        code, value = damage
        save_kept(path, plains.MAX_BYTES, code.replace("CODE", plains.code_digest()), "plain", value, KEY)
    else:
        path.write_bytes(damage.replace(b"CODE", plains.code_digest().encode()))  # type: ignore[union-attr]
    made.clear()
    assert run(kept, TEXTS) == expected and made == TEXTS
    if damage != "folder":
        made.clear()
        assert run(kept, TEXTS) == expected and made == []


def test_a_swapped_text_is_not_trusted_under_full(tmp_path, made):
    """``--full`` (not trusted): every text is made again, and kept anew, so a file edited
    by hand (a text that does not match its digest) is repaired. An edit sealed with
    another key is never used."""
    kept = KeptReads(tmp_path / "search", KEY)
    run(kept, TEXTS)
    path = kept.folder / plains.NAME
    code = plains.code_digest()
    planted = {key: "planted" for key in load_kept(path, plains.MAX_BYTES, code, "plain", KEY)}
    save_kept(path, plains.MAX_BYTES, code, "plain", planted, b"another key, of 32 characters or more")
    assert run(kept, TEXTS) == [records.plain_from_markdown(text) for text in TEXTS]  # not sealed by this key
    save_kept(path, plains.MAX_BYTES, code, "plain", planted, KEY)
    assert run(kept, TEXTS) == ["planted"] * 3  # sealed by the key: trusted, as the batch reads are
    expected = [records.plain_from_markdown(text) for text in TEXTS]
    made.clear()
    assert run(KeptReads(kept.folder, KEY, trusted=False), TEXTS) == expected and made == TEXTS
    assert run(kept, TEXTS) == expected
