"""The words pass kept between builds (``search.wordmemo``): a rebuild puts together only the
words of the batches that changed, and its index is the same bytes as one made from nothing."""

from __future__ import annotations

import random
from typing import Any

import pytest
from conftest import CACHE_KEY as KEY

from sitegen.search import assemble, batches, wordmemo
from sitegen.search.writer import write_index


def record(url: str, content: str, **meta: str) -> dict[str, Any]:
    return {"url": url, "content": content, "meta": {"title": url, **meta}, "filters": {}, "sort": {}}


VOCABULARY = [f"w{n}" for n in range(400)] + ["café", "naïve", "running", "runs", "ran", "Straße", "ΣΟΦΟΣ", "zebra"]


def archive(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Records of common words, each with a word of its own (most of an archive's words are on few pages)."""
    return [record(f"/r{i:05d}/", " ".join(rng.choices(VOCABULARY, k=rng.randint(3, 30))) + f" own{i}z") for i in range(count)]


class Counts:
    """How often each words pass ran: whole (``words``), or for some words of a shard."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.whole = 0
        self.remade: list[int] = []
        whole, shard_words = assemble.words, assemble._shard_words

        def counted_whole(*args: Any) -> Any:
            self.whole += 1
            return whole(*args)

        def counted_shard(shard: int, only: set[str] | None = None) -> Any:
            if only is not None:
                self.remade.append(len(only))
            return shard_words(shard, only)

        monkeypatch.setattr(assemble, "words", counted_whole)
        monkeypatch.setattr(assemble, "_shard_words", counted_shard)

    def clear(self) -> None:
        self.whole, self.remade = 0, []


def test_an_edit_puts_together_only_the_words_of_its_batch_and_gives_the_same_bytes(tmp_path, monkeypatch):
    rng = random.Random(7)
    records = archive(rng, 3_000)
    kept = batches.KeptReads(tmp_path / "kept", KEY)
    counts = Counts(monkeypatch)
    assert write_index(records, "en", workers=1, kept=kept) == write_index(records, "en", workers=1)
    assert (tmp_path / "kept" / wordmemo.NAME).is_file()
    counts.clear()
    edited = [*records[:1500], record("/r01500/", "zebra brandnewword café"), *records[1501:]]
    assert write_index(edited, "en", workers=1, kept=kept) == write_index(edited, "en", workers=1)
    assert counts.whole == 1  # the fresh build's only
    memo = wordmemo.load(kept.folder, _salt(edited), KEY)
    assert memo is not None and "brandnewword" in {word for word, _, _ in memo.words}
    assert 0 < sum(counts.remade) < len(memo.words) / 4  # the words of one batch, old and new, not the index's


def test_a_word_changed_in_place_puts_together_only_the_words_it_changed(tmp_path, monkeypatch):
    """A title edited in place (its batch in the same place, its pages numbered the same):
    only the words whose entries differ are put together again, not every word of the batch."""
    rng = random.Random(5)
    records = archive(rng, 2_000)
    kept = batches.KeptReads(tmp_path / "kept", KEY)
    counts = Counts(monkeypatch)
    write_index(records, "en", workers=1, kept=kept)
    words = records[900]["content"].split()
    edited = [*records[:900], record("/r00900/", " ".join(["quokka", *words[1:]])), *records[901:]]
    counts.clear()
    assert write_index(edited, "en", workers=1, kept=kept) == write_index(edited, "en", workers=1)
    assert 0 < sum(counts.remade) <= 2  # the word gone (unless another entry of it stays, then changed) and quokka


def test_random_edits_inserts_and_removals_give_the_bytes_of_a_fresh_index(tmp_path, monkeypatch):
    """Edits, inserts, removals, a page that loses all its words (numbered -1), a URL twice
    (the later record wins), and many changes at once (the whole pass runs)."""
    rng = random.Random(11)
    records = archive(rng, 1_500)
    kept = batches.KeptReads(tmp_path / "kept", KEY)
    counts = Counts(monkeypatch)
    write_index(records, "en", workers=1, kept=kept)
    kinds: set[str] = set()
    for _ in range(14):
        kind = rng.choice(["edit", "insert", "remove", "empty", "twice", "many"])
        kinds.add(kind)
        at = rng.randrange(len(records))
        if kind == "edit":
            records[at] = record(records[at]["url"], " ".join(rng.choices(VOCABULARY, k=9)) + f" new{at}")
        elif kind == "insert":
            records.insert(at, record(records[at]["url"].rstrip("/") + "b/", "inserted zebra words"))
        elif kind == "remove":
            del records[at]
        elif kind == "empty":
            records[at] = record(records[at]["url"], "")
        elif kind == "twice":
            records.append(record(records[at]["url"], "the later record wins with zebra"))
        else:
            records = [record(r["url"], r["content"] + " everywhere") if i % 3 == 0 else r for i, r in enumerate(records)]
        counts.clear()
        assert write_index(records, "en", workers=1, kept=kept) == write_index(records, "en", workers=1), kind
    assert kinds >= {"edit", "insert", "remove"}


@pytest.mark.parametrize(
    "damage",
    ["cut short", "garbage", "a folder", "other fields", "flipped byte"],
)
def test_a_damaged_or_foreign_memo_runs_the_whole_words_pass(tmp_path, monkeypatch, damage):
    rng = random.Random(3)
    records = archive(rng, 2_000)
    kept = batches.KeptReads(tmp_path / "kept", KEY)
    write_index(records, "en", workers=1, kept=kept)
    memo = tmp_path / "kept" / wordmemo.NAME
    data = memo.read_bytes()
    if damage == "cut short":
        memo.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        memo.write_bytes(b"\0" * 100)
    elif damage == "a folder":
        memo.unlink()
        memo.mkdir()
    elif damage == "other fields":
        records = [record(r["url"], r["content"], speaker="x") for r in records]
    else:
        memo.write_bytes(data[:-40] + bytes([data[-40] ^ 1]) + data[-39:])
    counts = Counts(monkeypatch)
    edited = [*records[:10], record("/r00010/", "one edit"), *records[11:]]
    assert write_index(edited, "en", workers=1, kept=kept) == write_index(edited, "en", workers=1)
    assert counts.whole == 2  # ours and the fresh one: the memo was not used
    if damage != "a folder":
        assert wordmemo.load(kept.folder, _salt(edited), KEY) is not None  # written anew


def test_a_build_that_is_not_trusted_does_not_use_the_memo(tmp_path, monkeypatch):
    rng = random.Random(5)
    records = archive(rng, 2_000)
    write_index(records, "en", workers=1, kept=batches.KeptReads(tmp_path / "kept", KEY))
    counts = Counts(monkeypatch)
    edited = [*records[:10], record("/r00010/", "one edit"), *records[11:]]
    assert write_index(edited, "en", workers=1, kept=batches.KeptReads(tmp_path / "kept", KEY, trusted=False)) == write_index(
        edited, "en", workers=1
    )
    assert counts.whole == 2 and counts.remade == []


def test_a_memo_whose_batch_reads_are_gone_runs_the_whole_pass(tmp_path, monkeypatch):
    """The changed batch's last read is needed to know which words it held."""
    rng = random.Random(9)
    records = archive(rng, 2_000)
    kept = batches.KeptReads(tmp_path / "kept", KEY)
    write_index(records, "en", workers=1, kept=kept)
    for read in kept.folder.glob("*" + batches.SUFFIX):
        read.unlink()
    counts = Counts(monkeypatch)
    edited = [*records[:10], record("/r00010/", "one edit"), *records[11:]]
    assert write_index(edited, "en", workers=1, kept=kept) == write_index(edited, "en", workers=1)
    assert counts.whole == 2


def _salt(records: list[dict[str, Any]]) -> bytes:
    fields = sorted({key for r in records for key in r["meta"]})
    return batches.BatchCache(batches.KeptReads(batches.Path("/nowhere"), KEY), "en", fields, len(assemble.SPLITS) + 1).salt


def test_a_sealed_memo_of_another_shape_is_not_used(tmp_path):
    """The seal is a checksum, not a signature: a memo of the wrong shape that passes it is still refused."""
    import marshal

    from sitegen.kept import save_frames

    salt = b"salt"

    def planted(keys: Any, numbers: Any, words: Any, count: int = 1) -> None:
        frames = [marshal.dumps((wordmemo.FORMAT, keys, numbers, count)), marshal.dumps(words)]
        save_frames(tmp_path / wordmemo.NAME, 1 << 20, salt, iter(frames), KEY)

    for words in ([("word", "not bytes", 1)], [("word", b"x")], [["word", b"x", 1]], [("word", b"x", 1.5)]):
        planted(["k"], [[0]], words)
        assert wordmemo.load(tmp_path, salt, KEY) is None
    planted(["k"], [["0"]], [("word", b"x", 1)])
    assert wordmemo.load(tmp_path, salt, KEY) is None
    planted(["k"], [[0]], [("word", b"x", 1)], count=2)  # fewer words than its head says
    assert wordmemo.load(tmp_path, salt, KEY) is None
    wordmemo.save(tmp_path, salt, KEY, ["k"], [[0]], [("word", b"x", 1)])
    memo = wordmemo.load(tmp_path, salt, KEY)
    assert memo is not None and memo.words == [("word", b"x", 1)]
    assert wordmemo.load(tmp_path, b"other salt", KEY) is None


def test_a_memo_is_kept_and_read_a_frame_at_a_time(tmp_path, monkeypatch):
    """Frames of about ``FRAME_BYTES`` of CBOR each: a save or a load never holds the whole memo's bytes at once."""
    from sitegen import kept

    monkeypatch.setattr(wordmemo, "FRAME_BYTES", 100)
    words = [(f"w{n:04d}", bytes([n % 256]) * 30, n) for n in range(50)]
    wordmemo.save(tmp_path, b"salt", KEY, ["a", "b"], [[0, 1], [2]], words)
    frames = kept.load_frames(tmp_path / wordmemo.NAME, wordmemo.MAX_MEMO, b"salt", KEY)
    assert frames is not None and len(list(frames)) == 1 + 13  # the head, then 4 words (120 bytes) a frame
    memo = wordmemo.load(tmp_path, b"salt", KEY)
    assert memo is not None and memo.words == words and memo.keys == ["a", "b"] and memo.numbers == [[0, 1], [2]]
