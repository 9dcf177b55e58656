"""sitegen's own writer of Pagefind's index (sitegen/search/writer.py) against
the Pagefind binary (1.5.2, locked): the same records give the same bundle,
file by file, after ``bundle.canonical`` -- on the sample site (built through
the real build), on a hostile corpus, and (slow) on the 10,000-session
synthetic archive."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import orjson
import pytest
from conftest import CACHE_KEY as KEY
from conftest import REPO, TODAY, tree

import sitegen.search
from sitegen.errors import SearchError
from sitegen.search import bundle as bundle_module
from sitegen.search import cbor, writer
from sitegen.search import run as run_module
from sitegen.search.bundle import canonical, content_addressed, decode_file
from sitegen.search.job import write_bundle
from sitegen.search.records import SearchRecord
from sitegen.search.run import run_pagefind
from sitegen.search.runtime import runtime_files
from sitegen.search.writer import PAGEFIND_CHUNK_SIZE, write_index


def index_data(files: dict[str, bytes]) -> dict[str, bytes]:
    """The index's files (not Pagefind's runtime files), made canonical."""
    return canonical({p: d for p, d in files.items() if content_addressed(p) or p == bundle_module.ENTRY})


def pagefinds(records: list[dict[str, Any]], language: str = "en") -> dict[str, bytes]:
    return index_data(run_pagefind([SearchRecord(**r) for r in records], language))


def assert_same(ours: dict[str, bytes], theirs: dict[str, bytes]) -> None:
    differ = sorted(p for p in set(ours) | set(theirs) if ours.get(p) != theirs.get(p))
    assert not differ, f"{len(differ)} files differ, e.g. {differ[:6]}"


def words_of(files: dict[str, bytes]) -> list[Any]:
    """Every word of a bundle's index chunks with its pages, in chunk order: what
    the chunking may not change."""
    meta_path = next(p for p in files if p.endswith(".pf_meta"))
    chunks = cbor.decode(decode_file(meta_path, files[meta_path]))[2]
    return [word for _, _, name in chunks for word in cbor.decode(decode_file(name, files[f"index/{name}.pf_index"]))[0]]


def assert_pagefinds_but_chunked(built: dict[str, bytes], records: list[dict[str, Any]]) -> None:
    """The build's bundle is the writer's (at sitegen's chunk size); at Pagefind's
    chunk size the writer's bundle is Pagefind's, byte for byte; and the two
    chunkings hold the same words, pages and locations."""
    assert_same(index_data(built), index_data(write_index(records, "en")))
    at_pagefinds = index_data(write_index(records, "en", chunk_size=PAGEFIND_CHUNK_SIZE))
    assert_same(at_pagefinds, pagefinds(records))
    assert words_of(index_data(built)) == words_of(at_pagefinds)


class Capture:
    """The index job run in the test's process (not forked), with the records it indexed kept for the test."""

    seen: list[list[dict[str, Any]]] = []

    @staticmethod
    def install(monkeypatch: pytest.MonkeyPatch) -> None:
        Capture.seen.clear()
        monkeypatch.setattr(sitegen.search, "can_fork", lambda: False)

        def write_index(records: list[dict[str, Any]], *args: Any, **kwargs: Any) -> dict[str, bytes]:
            Capture.seen.append(list(records))  # a copy: the job lets its list go (consume)
            return writer.write_index(records, *args, **kwargs)

        monkeypatch.setattr(sitegen.search.job, "write_index", write_index)


def test_the_sample_sites_bundle_is_pagefinds_byte_for_byte(build, minimal_site, monkeypatch):
    Capture.install(monkeypatch)
    build()
    (records,) = Capture.seen
    built = tree(minimal_site / "build" / "pagefind")
    assert_pagefinds_but_chunked(built, records)
    # and the runtime files are Pagefind's, the same version's
    pagefind = run_pagefind([SearchRecord(**records[0])], "en")
    assert {p: built[p] for p in ("pagefind.js", "pagefind-worker.js", "wasm.en.pagefind")} == {
        p: pagefind[p] for p in ("pagefind.js", "pagefind-worker.js", "wasm.en.pagefind")
    }


def record(
    url: str,
    content: str,
    meta: dict[str, str] | None = None,
    filters: dict[str, list[str]] | None = None,
    sort: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {"url": url, "content": content, "meta": meta or {"title": url}, "filters": filters or {}, "sort": sort or {}}


WORDS = "alpha\u2028beta\x1cgamma\x1fdelta\u00a0epsilon\u3000zeta\u200bzeta eta\u200b \u200b theta"
HOSTILE = [
    record("/ws/", WORDS),
    record("/marks/", "cafe\u0301 Cafe\u0301 naïve résumé Ångström e\u0301\u0301 \u0301alone"),
    record("/greek/", "ΣΊΣΥΦΟΣ ΟΔΟΣ σοφός Σ ΣΑ Ͻ"),
    record("/title/", "ǅemal ǈubljana ǋ Ǆ DŽEMAL ᾈ"),
    record("/turkish/", "İstanbul İ ISTANBUL ıi KIRIKKALE"),
    record("/cjk/", "東京 日本語のテキスト 한국어 텍스트 中文 ｆｕｌｌｗｉｄｔｈ Ⅻ ⅻ ① ²"),
    record("/emoji/", "cloud🌦️cannon 👋👨‍👩‍👧‍👦🌾 🇫🇷flag 👍🏽ok #1 #️⃣ keycap1️⃣ ❤️love ☕"),
    record("/cases/", "camelCase snake_case dotted.name.here hyphen-ated WKWebVIEWComponent HTTPServer2Go l'alphabet"),
    record("/urls/", "https://example.org/path?q=1&r=2#frag mailto:someone@example.org <script>alert('x')</script>"),
    record("/empty/", ""),
    record("/blank/", " \t\n\u2028 "),
    record("/nothing/", "!!! ... ---"),
    record("/dup/", "first version of a duplicated url", filters={"kind": ["talk"]}),
    record("/numbers/", "sorted by numbers", sort={"n": "10", "mixed": "b"}),
    record("/numbers2/", "sorted by numbers too", sort={"n": "-3.5", "mixed": "10"}),
    record("/numbers3/", "sorted 1e3", sort={"n": "1e3", "mixed": "2", "a": "1", "b": "x", "c": "2.5", "d": "y", "e": "-1"}),
    record("/filters/", "filter text", filters={"speaker": ["Same Text", "Other"], "topic": ["Same Text"]}),
    record("/long/", "x" * 20_000 + " y" + "z" * 300),
    record(
        "/markers/",
        "before ___PAGEFIND_WEIGHT___3 heavy words ___END_PAGEFIND_WEIGHT___ after ___PAGEFIND_ANCHOR___h2:id:x tail",
        meta={"title": "a ___PAGEFIND_X meta", "kind": "talk"},
    ),
    record("/meta/", "content here", meta={"title": "Ünïcödé Title with CamelCase", "speakers": "Zoë, İlker", "date": "2024-01-01"}),
    record("/dup/", "second version replaces the first in place", filters={"kind": ["event"]}),
]


def test_a_hostile_corpus_gives_pagefinds_bundle(tmp_path):
    ours = index_data(write_index(HOSTILE, "en", workers=1, chunk_size=PAGEFIND_CHUNK_SIZE))
    assert_same(ours, pagefinds(HOSTILE))
    assert words_of(index_data(write_index(HOSTILE, "en", workers=1))) == words_of(ours)


@pytest.mark.parametrize("language", ["fr", "zz"])
def test_the_index_job_in_another_language_gives_pagefinds_bundle(tmp_path, language):
    """The job's bundle (``job.write_bundle``): another stemmer, or none and no wasm for a
    language Pagefind does not know; the runtime files from one run of the binary, whose
    temporary folder goes in the scratch folder given and is removed."""
    records = [record("/a/", "Les élèves étudiaient des systèmes distribués"), record("/b/", "Œuvres complètes, naïvement")]
    built = write_bundle(records, language, scratch=tmp_path / "scratch")
    assert list((tmp_path / "scratch").iterdir()) == []
    assert_same(index_data(built), pagefinds(records, language))
    assert ("wasm." + language + ".pagefind" in built) == (language == "fr")


def test_the_pool_and_hash_seeds_do_not_change_the_bytes(tmp_path):
    """Same records, same bytes: in a fork pool or not, under another PYTHONHASHSEED."""
    records = [record(f"/r{i}/", f"word{i % 7} Shared text number {i} café", sort={"n": str(i % 5)}) for i in range(2_500)]
    serial = write_index(records, "en", workers=1)
    assert write_index(records, "en", workers=2) == serial
    # canonical as written: the build takes the writer's bundle without canonical()
    assert canonical(serial) == serial
    (tmp_path / "records.json").write_bytes(orjson.dumps(records))
    script = "import sys, orjson; from sitegen.search.writer import write_index; r = orjson.loads(open(sys.argv[1], 'rb').read()); sys.stdout.buffer.write(orjson.dumps(sorted((p, d.hex()) for p, d in write_index(r, 'en').items())))"
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "records.json")],
        capture_output=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "123"},
    ).stdout
    assert orjson.loads(out) == [[p, d.hex()] for p, d in sorted(serial.items())]


@pytest.mark.slow
def test_the_10k_synthetic_archive_gives_pagefinds_bundle(tmp_path, monkeypatch):
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "gen.py"), "--sessions", "10000", "--out", str(site)], check=True, capture_output=True
    )
    Capture.install(monkeypatch)
    from sitegen.build import build_site
    from sitegen.config import load_config

    build_site(load_config(site, {}), today=TODAY)
    (records,) = Capture.seen
    assert len(records) > 13_000
    built = tree(site / "build" / "pagefind")
    assert_pagefinds_but_chunked(built, records)
    # sitegen's chunks are smaller than Pagefind's, so there are more of them
    assert sum(p.startswith("index/") for p in built) > 2 * sum(p.startswith("index/") for p in pagefinds(records))
    assert all(decode_file(p, d) for p, d in built.items() if p.startswith("index/"))


BAD_BINARIES = {
    "garbage": ("echo garbage; head -c 300 /dev/urandom", "before it answered|not one of Pagefind's answers"),
    "exits": ("exit 1", "before it answered"),
    "not-an-answer": ('echo "aGVsbG8=,"; sleep 600', "not one of Pagefind's answers"),
    "hangs": ("sleep 600", "gave no answer within 2 s"),
}


@pytest.mark.parametrize("kind", sorted(BAD_BINARIES))
def test_a_bad_pagefind_binary_is_one_message_and_leaves_nothing_running(tmp_path, monkeypatch, kind):
    """PAGEFIND_BINARY_PATH (Pagefind's own setting) naming a binary that prints garbage, exits,
    or hangs: a SearchError naming the setting, within the answer's time limit, and whatever it
    started is killed with it."""
    body, expected = BAD_BINARIES[kind]
    started = tmp_path / "pid"
    binary = tmp_path / "pagefind"
    binary.write_text(f"#!/bin/sh\necho $$ > {started}\n{body}\n")
    binary.chmod(0o755)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(binary))
    monkeypatch.setattr(run_module, "ANSWER_WAIT", 2.0)
    with pytest.raises(SearchError, match=expected) as raised:
        runtime_files("en", scratch=tmp_path / "scratch")
    assert "PAGEFIND_BINARY_PATH" in str(raised.value)
    session = subprocess.run(["ps", "-o", "stat=", "-s", started.read_text().strip()], capture_output=True, text=True).stdout.split()
    assert all(state.startswith("Z") for state in session), session  # all dead (a zombie waits for init to reap it)
    assert list((tmp_path / "scratch").iterdir()) == []


def test_a_missing_pagefind_binary_is_named():
    env = {**os.environ, "PAGEFIND_BINARY_PATH": "/nonexistent/pagefind"}
    script = "from sitegen.search.runtime import runtime_files\nruntime_files('en')"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert "/nonexistent/pagefind could not be started: No such file or directory" in result.stderr
    assert "PAGEFIND_BINARY_PATH is /nonexistent/pagefind" in result.stderr


def test_kept_batch_reads_give_the_same_bytes_and_an_edit_reads_one_batch(tmp_path, monkeypatch):
    """With the reads kept between builds (``batches.BatchCache``): the same
    bundle as without; a rebuild after editing, adding or removing one record
    reads one or two batches again, not all; a damaged kept read is read
    again, never used; reads no build uses are removed."""
    from sitegen.search import assemble, batches

    records = [record(f"/r{i:04d}/", f"word{i % 11} shared text {i} café", sort={"n": str(i % 5)}) for i in range(3_000)]
    kept = batches.KeptReads(tmp_path / "kept", KEY)
    read_bounds: list[tuple[int, int]] = []
    read_batch = assemble._read_batch
    monkeypatch.setattr(assemble, "_read_batch", lambda bounds: read_bounds.append(bounds) or read_batch(bounds))

    def build(some: list[dict[str, Any]]) -> dict[str, bytes]:
        fresh = write_index(some, "en", workers=1)
        read_bounds.clear()
        ours = write_index(some, "en", workers=1, kept=kept)
        assert ours == fresh  # the same bytes as from nothing
        return ours

    build(records)
    cut = batches.bounds([r["url"] for r in records])
    assert len(cut) > 5 and len(list(kept.folder.glob("*.read"))) == len(cut)
    build(records)
    assert read_bounds == []  # nothing changed: every batch read was kept
    edited = [*records[:1500], record("/r1500/", "a new text entirely"), *records[1501:]]
    build(edited)
    assert len(read_bounds) == 1
    grown = [*edited[:700], record("/r0700a/", "inserted"), *edited[700:]]
    build(grown)
    assert 1 <= len(read_bounds) <= 2  # its batch, or it cuts one in two
    build(grown[:-1])
    assert 1 <= len(read_bounds) <= 2
    names = sorted(kept.folder.glob("*.read"))
    names[0].write_bytes(names[0].read_bytes()[:-10])  # cut short
    names[1].write_bytes(b"\0" * 40)  # garbage
    first, second = names[2].read_bytes(), names[3].read_bytes()
    names[2].write_bytes(second)  # two sound files swapped: each fails the checksum of its name
    names[3].write_bytes(first)
    names[4].unlink()
    names[4].symlink_to("/dev/zero")  # not a regular file: never read
    names[5].unlink()
    os.mkfifo(names[5])  # would block a plain open
    build(grown[:-1])
    assert len(read_bounds) == 6
    assert len(list(kept.folder.glob("*.read"))) == len(batches.bounds([r["url"] for r in grown[:-1]]))
    # Not trusted (sitegen build --full): every batch is read, and kept anew.
    read_bounds.clear()
    assert write_index(grown[:-1], "en", workers=1, kept=batches.KeptReads(kept.folder, KEY, trusted=False)) == write_index(
        grown[:-1], "en", workers=1
    )
    assert len(read_bounds) == 2 * len(batches.bounds([r["url"] for r in grown[:-1]]))


class _Planted:
    """Unpickling this writes a file: what a planted pickle could do."""

    def __init__(self, mark: str) -> None:
        self.mark = mark

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.mark, "w"))


def test_a_planted_kept_read_that_passes_its_checksum_runs_no_code_and_is_read_again(tmp_path, monkeypatch):
    """A checksum is not a signature: anyone who can write the cache folder can seal a file.
    Kept reads are marshal data checked for shape, so a planted pickle is never unpickled,
    and values of the wrong shape are read again: the same bundle as from nothing."""
    import marshal
    import pickle

    from sitegen.kept import save_frames
    from sitegen.search import assemble, batches

    monkeypatch.setattr(batches, "BATCH_MAX", 40)
    records = [record(f"/r{i:04d}/", f"word{i % 7} planted text {i}") for i in range(400)]
    kept = batches.KeptReads(tmp_path / "kept", KEY)
    fresh = write_index(records, "en", workers=1)
    assert write_index(records, "en", workers=1, kept=kept) == fresh
    names = sorted(kept.folder.glob("*" + batches.SUFFIX))
    sound = marshal.loads(b"".join(batches.load_frames(names[0], batches.MAX_KEPT, names[0].stem.encode(), KEY) or []))
    mark = tmp_path / "ran"
    shards = len(assemble.SPLITS) + 1
    plants = [
        pickle.dumps(([_Planted(str(mark))], [b""] * shards)),
        marshal.dumps(([], [b""] * (shards - 1))),  # a shard short
        marshal.dumps(([(*sound[0][0][:7], {"k": 1})], sound[1])),  # a sort value not text
        marshal.dumps(([sound[0][0][:7]], sound[1])),  # a page a value short
        marshal.dumps(([(*sound[0][0][:5], ["k", 2], *sound[0][0][6:])], sound[1])),
        marshal.dumps((sound[0], [*sound[1][:-1], "text"])),
        marshal.dumps(compile("1", "x", "eval")),
    ]
    assert len(names) >= len(plants)
    for name, payload in zip(names, plants, strict=False):
        save_frames(name, batches.MAX_KEPT, name.stem.encode(), [payload], KEY)
    read_bounds: list[tuple[int, int]] = []
    read_batch = assemble._read_batch
    monkeypatch.setattr(assemble, "_read_batch", lambda bounds: read_bounds.append(bounds) or read_batch(bounds))
    assert write_index(records, "en", workers=1, kept=kept) == fresh
    assert not mark.exists()
    assert len(read_bounds) == len(plants)


def test_unchanged_index_chunks_are_read_back_from_the_last_bundle_not_encoded_again(monkeypatch):
    """``previous`` (the last build's bundle): a chunk whose payload is the same is
    taken from it, checked by decoding; a file under the right name with other
    bytes, or a broken one, is encoded again. Same bytes as from nothing either way."""
    from sitegen.search import assemble

    records = [record(f"/r{i:04d}/", f"word{i % 13} text number {i} {'alpha' if i % 2 else 'omega'}") for i in range(600)]
    last = write_index(records, "en", workers=1, chunk_size=300)
    encoded: list[bytes] = []
    encode = assemble.encode_file
    monkeypatch.setattr(assemble, "encode_file", lambda payload: encoded.append(payload) or encode(payload))
    edited = [*records[:300], record("/r0300/", "zzzunique brand new words"), *records[301:]]
    fresh = write_index(edited, "en", workers=1, chunk_size=300)
    chunks = len(encoded)
    assert chunks > 5
    encoded.clear()
    assert write_index(edited, "en", workers=1, chunk_size=300, previous=lambda path: last.get(path)) == fresh
    assert 0 < len(encoded) < chunks / 2
    damaged = {path: (b"\x1f\x8b" + data[2:-9] + b"\0" * 9 if path.startswith("index/") else data) for path, data in last.items()}
    swapped = {
        path: next(d for p, d in last.items() if p.startswith("index/") and p != path) if path.startswith("index/") else data
        for path, data in last.items()
    }
    for previous in (damaged, swapped):
        encoded.clear()
        assert write_index(edited, "en", workers=1, chunk_size=300, previous=previous.get) == fresh
        assert len(encoded) == chunks


def test_batches_numbered_otherwise_take_the_general_path_and_give_pagefinds_bundle(monkeypatch):
    """Words are put together from runs packed in the read pass (``runs``): a join per batch
    when a batch's pages are numbered base + index, the general path when not. Many small
    batches, one holding a page without words, one a URL a later batch replaces, the others
    regular: Pagefind's bundle, byte for byte, and the same with one batch."""
    from sitegen.search import batches, runs

    records = [record(f"/p{i:03d}/", f"common words here {'rare' if i % 9 == 0 else 'often'} w{i % 4} page {i}") for i in range(60)]
    records[17] = record("/p017/", "!!! ---")  # no words
    records[44] = record("/p005/", "the fifth page again, replaced common words")  # replaces /p005/ in place
    one_batch = write_index(records, "en", workers=1, chunk_size=PAGEFIND_CHUNK_SIZE)
    monkeypatch.setattr(batches, "BATCH_MAX", 7)
    seen: list[list[int | None]] = []
    bases = runs.bases
    monkeypatch.setattr(runs, "bases", lambda numbers: seen.append(bases(numbers)) or seen[-1])
    ours = write_index(records, "en", workers=1, chunk_size=PAGEFIND_CHUNK_SIZE)
    assert None in seen[-1] and sum(base is not None for base in seen[-1]) >= 5
    assert ours == one_batch
    assert_same(index_data(ours), pagefinds(records))


@pytest.mark.parametrize("gaps", [[], [1], [1, 1, 1], [300, 2, 4095], [4096, 70_000, 1]])
def test_a_run_unpacks_to_the_entries_it_was_packed_from(gaps):
    from sitegen.search import runs

    indexes = [5, *(5 + sum(gaps[: i + 1]) for i in range(len(gaps)))]
    flat = [item for n, index in enumerate(indexes) for item in (index, bytes([0x80 | n % 20]) + b"x" * n, n + 3)]
    run = runs.pack(flat)
    assert runs.unpack(run) == flat
    joined, count, size = runs.join([(0, run)], [10])
    assert count == len(indexes) and size == sum(flat[2::3])
    assert joined == b"".join(b"\x83" + cbor.encode_int(delta) + body for delta, body in zip([15, *gaps], flat[1::3], strict=True))


def test_an_archive_with_nothing_to_index_gets_an_index_of_no_pages():
    """A new site before its data (no sessions, people, events or pages): the index has no pages, and
    the build does not fail (it did: the job's numbering met no batches)."""
    files = write_index([], "en", workers=1)
    entry = orjson.loads(files["pagefind-entry.json"])
    assert entry["languages"]["en"]["page_count"] == 0
    meta = next(name for name in files if name.endswith(".pf_meta"))
    assert decode_file(meta, files[meta])[:1] == b"\x86"  # the meta's six items, its page list empty


@pytest.mark.parametrize("seed", [1, 2])
def test_the_integer_shortcuts_give_the_general_encoders_bytes(seed):
    """Page numbers past 65,535 (a large archive's filters) take ``encode_int``'s four-byte
    shortcut; every width and sign gives what ``encode`` gives."""
    import random

    rng = random.Random(seed)
    edges = [0, 23, 24, 255, 256, 65_535, 65_536, 2**32 - 1, 2**32, 2**64 - 1, -1, -24, -25, -256, -257, -(2**32)]
    values = edges + [
        rng.choice([rng.randrange(300), rng.randrange(300_000), -rng.randrange(1, 2**40), rng.randrange(2**40)]) for _ in range(5_000)
    ]
    assert [cbor.encode_int(v) for v in values] == [cbor.encode(v) for v in values]
    assert cbor.encode_ints(values) == cbor.encode(values)
    pages = sorted(rng.sample(range(140_000), 3_000))
    assert cbor.encode_ints(pages) == cbor.encode(pages)
