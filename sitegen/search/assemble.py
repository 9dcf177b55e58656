"""The writer's two passes, each in a fork pool when there are many records.

1. ``read``: records in batches; each page's fragment and summary come back,
   and its words' entries, split by the word's first letters into shards,
   come back as one marshalled blob per batch and shard (cheap to pass on), each
   word's entries packed as a ``runs.Run`` (kept with the batch's read).
2. ``words``: after the pages are numbered, each shard's words are put
   together from every batch's blob (in a process forked after pass 1, so the
   blobs are not copied): one word's CBOR (``PackedWord``), with its pages in
   order and their numbers as deltas, a join per batch holding the word.

Shards are ranges of words in order, so their results, joined, are the
index's words in order. The result is the same with one process or many.
"""

from __future__ import annotations

import bisect
import marshal
import multiprocessing
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice, repeat
from operator import lt, sub
from typing import Any, TypeVar

from sitegen.forked import stop_with_parent
from sitegen.search import batches, cbor, runs, wordmemo
from sitegen.search.batches import BatchCache, BatchRead, KeptReads
from sitegen.search.bundle import encode_file, full_hash
from sitegen.search.entries import Sink, Variants
from sitegen.search.pages import Page, Reader
from sitegen.search.records import Deferred

#: Where the shards split the words (by their first character): a shard per letter (digits
#: and "a" in the first, what sorts after "z" in the last). An edit puts together again
#: the words it changed from the shards they fall in, each read from every batch: a
#: title's words fall in a few of 26 shards, where they fell in most of 8.
SPLITS = tuple("bcdefghijklmnopqrstuvwxyz")
#: Records read in the parent below this many (a pool costs more than it saves).
POOL_FROM = 2_000
#: Index chunks encoded in the parent below this many.
POOL_CHUNKS = 64
#: The file the last build wrote for a chunk, given its hash and payload, or None (``writer.reuse``).
Known = Callable[[str, bytes], bytes | None]
_T = TypeVar("_T")
_R = TypeVar("_R")


@dataclass(frozen=True)
class Read:
    """Pass 1's result: every record's page (without its entries) and the blobs of entries."""

    pages: list[Page]
    #: For each batch, a blob per shard; the page of an entry is its index in the batch.
    blobs: list[list[bytes]]
    #: Where each batch starts in ``pages``.
    starts: list[int]
    #: Each batch's name (``BatchCache.key``) and the cache of reads, when reads are kept.
    keys: list[str] = field(default_factory=list)
    cache: BatchCache | None = None


def read(
    records: Sequence[dict[str, Any]],
    language: str,
    fields: list[str],
    workers: int,
    kept: KeptReads | None = None,
    fingerprints: Sequence[bytes] | None = None,
) -> Read:
    """Pass 1 over records in page order, batch by batch (``batches.bounds``); with ``kept``,
    the reads of batches whose records are unchanged come from there (unless not
    ``kept.trusted``: then every batch is read and kept anew). ``fingerprints``: the records'
    ``batches.fingerprint``, when the caller has them."""
    cut = batches.bounds([str(record["url"]) for record in records])
    cache = BatchCache(kept, language, fields, len(SPLITS) + 1) if kept is not None else None
    if cache and fingerprints is None:
        fingerprints = [batches.fingerprint(record) for record in records]
    keys = [cache.key(fingerprints[start:end]) for start, end in cut] if cache and fingerprints is not None else []
    results: list[BatchRead | None] = [cache.load(key) for key in keys] if cache else [None] * len(cut)
    missing = [index for index, found in enumerate(results) if found is None]
    size = sum(cut[index][1] - cut[index][0] for index in missing)
    records = _made(records, [cut[index] for index in missing])
    _STATE[:] = [records]  # the pool's workers, forked, have them: only each batch's bounds are sent
    try:
        made = _map(_read_batch, [cut[index] for index in missing], workers if size >= POOL_FROM else 1, (language, fields))
    finally:
        _STATE.clear()
    for index, found in zip(missing, made, strict=True):
        results[index] = found
        if cache:
            cache.store(keys[index], found)
    done = [found for found in results if found is not None]
    pages = [page for batch_pages, _ in done for page in batch_pages]
    starts = [0]
    for batch_pages, _ in done:
        starts.append(starts[-1] + len(batch_pages))
    return Read(pages, [blobs for _, blobs in done], starts[:-1], keys, cache)


def _made(records: Sequence[dict[str, Any]], bounds: list[tuple[int, int]]) -> Sequence[dict[str, Any]]:
    """The records, those not made yet (``records.Deferred``) in these batches made (here,
    before a pool forks: each is made once, and its plain texts are this process's)."""
    out: list[dict[str, Any]] | None = None
    for start, end in bounds:
        for at in range(start, end):
            record = records[at]
            if isinstance(record, Deferred):
                out = out if out is not None else list(records)
                out[at] = record.make()
    return out if out is not None else records


def kept_words(read: Read, numbers: list[list[int]], workers: int) -> list[wordmemo.Word]:
    """``words``, put together again only for the batches that changed since the last build
    when its words are kept (``wordmemo``); they are then kept for the next build, and the
    batch reads this build did not use are removed."""
    cache = read.cache
    if cache is None:
        return words(read.blobs, numbers, workers)
    memo = wordmemo.load(cache.folder, cache.salt, cache.seal_key) if cache.trusted else None
    made = _from_memo(memo, read, numbers) if memo is not None else None
    if made is None:
        made = words(read.blobs, numbers, workers)
    if memo is None or made is not memo.words:
        wordmemo.save(cache.folder, cache.salt, cache.seal_key, read.keys, numbers, made)
    cache.prune()
    return made


def _from_memo(memo: wordmemo.Memo, read: Read, numbers: list[list[int]]) -> list[wordmemo.Word] | None:
    """The words from ``memo``, those of the changed batches put together again; None when
    the last build's reads of its changed batches are gone, or most batches changed."""
    assert read.cache is not None
    new, gone = memo.changed(read.keys, numbers)
    if not new and not gone:
        return memo.words
    if len(new) + len(gone) > max(2, len(read.keys) // 4):  # then the whole pass costs about as much
        return None
    before = [read.cache.load(memo.keys[index], use=False) for index in gone]
    old = [found[1] for found in before if found is not None]
    if len(old) != len(gone):
        return None
    if len(new) == len(gone) and all(numbers[n] == memo.numbers[g] for n, g in zip(new, gone, strict=True)):
        # Each changed batch in the place of one of the last build's, its pages numbered the same:
        # a word is the same bytes unless its entries in the pair differ (an edited title: its words).
        pairs = [(read.blobs[n], blobs) for n, blobs in zip(new, old, strict=True)]
        remade = [set().union(*(_words_differing(a[shard], b[shard]) for a, b in pairs)) for shard in range(len(SPLITS) + 1)]
    else:
        changed = [read.blobs[index] for index in new] + old
        remade = [_words_in(changed, shard) for shard in range(len(SPLITS) + 1)]
    _STATE[:] = [read.blobs, numbers, runs.bases(numbers)]
    try:
        made = [item for shard, only in enumerate(remade) if only for item in _shard_words(shard, only)]
    finally:
        _STATE.clear()
    return wordmemo.merged(memo.words, made, set().union(*remade))


def _words_in(blobs: list[list[bytes]], shard: int) -> set[str]:
    """The words of one shard of these batches (their entries and their variants)."""
    found: set[str] = set()
    for batch in blobs:
        entries, variants = marshal.loads(batch[shard])
        found.update(entries.keys(), variants.keys())
    return found


def _words_differing(blob: bytes, before: bytes) -> set[str]:
    """The words whose entries or variants differ between two reads of one shard of a batch."""
    if blob == before:
        return set()
    (entries, variants), (old_entries, old_variants) = marshal.loads(blob), marshal.loads(before)
    found = {word for word in entries.keys() | old_entries.keys() if entries.get(word) != old_entries.get(word)}
    return found | {word for word in variants.keys() | old_variants.keys() if variants.get(word) != old_variants.get(word)}


def words(blobs: list[list[bytes]], numbers: list[list[int]], workers: int) -> list[tuple[str, bytes, int]]:
    """Every word's (word, CBOR, size for chunking), in order; ``numbers`` maps each
    batch's pages to their page numbers (-1: not in the index)."""
    _STATE[:] = [blobs, numbers, runs.bases(numbers)]
    try:
        shards = _map(_shard_words, list(range(len(SPLITS) + 1)), workers, None)
    finally:
        _STATE.clear()
    return [item for shard in shards for item in shard]


def encode_all(payloads: list[bytes], workers: int, known: Known | None = None) -> list[tuple[str, bytes]]:
    """Each payload's Pagefind hash and its file (gzip), in order; ``known`` gives the
    file of a payload the last build already wrote (checked), which is not encoded again."""
    hashes = [full_hash(payload) for payload in payloads]
    files: list[bytes | None] = (
        [known(name, payload) for name, payload in zip(hashes, payloads, strict=True)] if known else [None] * len(payloads)
    )
    missing = [index for index, found in enumerate(files) if found is None]
    made = _map(encode_file, [payloads[index] for index in missing], workers if len(missing) >= POOL_CHUNKS else 1, None)
    for index, data in zip(missing, made, strict=True):
        files[index] = data
    return [(name, data) for name, data in zip(hashes, files, strict=True) if data is not None]


_STATE: list[Any] = []
_READER: list[Reader] = []


def _map(function: Callable[[_T], _R], items: list[_T], workers: int, init: tuple[str, list[str]] | None) -> list[_R]:
    if workers <= 1 or len(items) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        if init is not None:
            _init(*init)
        try:
            return [function(item) for item in items]
        finally:
            _READER.clear()
    with multiprocessing.get_context("fork").Pool(workers, initializer=_worker_init, initargs=(os.getpid(), init)) as pool:
        # A few tasks per worker: hundreds of index chunks are not sent one by one.
        return pool.map(function, items, chunksize=max(1, len(items) // (workers * 4)))


def _worker_init(parent: int, init: tuple[str, list[str]] | None) -> None:
    """A pool worker dies with the job (``forked.stop_with_parent``), then reads with ``init``'s reader."""
    stop_with_parent(parent)
    if init is not None:
        _init(*init)


def _init(language: str, fields: list[str]) -> None:
    _READER[:] = [Reader(language, fields)]


#: One shard of a batch's words: their entries and variants (``Sink``'s), the pages numbered in the batch.
Shard = tuple[dict[str, runs.Run], dict[str, list[tuple[int, Variants]]]]


def _read_batch(bounds: tuple[int, int]) -> tuple[list[Page], list[bytes]]:
    reader, sink, (start, end) = _READER[0], Sink(), bounds
    pages = [reader.page(record, sink, local) for local, record in enumerate(_STATE[0][start:end])]
    shards: list[Shard] = [({}, {}) for _ in range(len(SPLITS) + 1)]
    for word, entries in sink.entries.items():
        shards[bisect.bisect_right(SPLITS, word[0])][0][word] = runs.pack(entries)
    for word, variants in sink.variants.items():
        shards[bisect.bisect_right(SPLITS, word[0])][1][word] = variants
    return pages, [marshal.dumps(shard) for shard in shards]


def _shard_words(shard: int, only: set[str] | None = None) -> list[tuple[str, bytes, int]]:
    """One shard's words, put together from every batch (``only``: just these words)."""
    blobs, numbers, bases = _STATE
    parts: list[Shard] = [marshal.loads(batch_blobs[shard]) for batch_blobs in blobs]
    # Each word's runs with their batches: a word is looked up only where it is, however many batches there are.
    holders: dict[str, list[tuple[int, runs.Run]]] = {}
    forms_in: dict[str, list[int]] = {}
    for batch, (entries, variants) in enumerate(parts):
        for word, run in entries.items() if only is None else [(word, entries[word]) for word in entries.keys() & only]:
            slot = holders.get(word)
            if slot is None:
                holders[word] = [(batch, run)]
            else:
                slot.append((batch, run))
        for word in variants.keys() if only is None else variants.keys() & only:
            forms_in.setdefault(word, []).append(batch)
    regular = None not in bases
    out = []
    for word in sorted(holders.keys() | forms_in.keys()):
        found, size = _pages_of(holders.get(word, []), numbers, bases, regular)
        forms = _forms(word, [(batch, parts[batch][1]) for batch in forms_in[word]], numbers) if word in forms_in else {}
        if found is not None or forms:
            out.append((word, _word(word, found or b"\x80", forms), size))
    return out


def _pages_of(
    held: list[tuple[int, runs.Run]], numbers: list[list[int]], bases: list[int | None], regular: bool
) -> tuple[bytes | None, int]:
    """The CBOR of a word's pages (their numbers in order, as deltas, and their CBOR), or None;
    their size for chunking. ``held``: the word's runs with their batches, in order; ``bases``:
    each batch's base when its pages are numbered base + index (``runs.bases``), and ``regular``
    when every batch's is."""
    if regular or all(bases[batch] is not None for batch, _ in held):  # the usual case: a join per batch
        joined, count, size = runs.join(held, bases)
        return (cbor.array_head(count) + joined if count else None), size
    found: list[int] = []
    bodies: list[bytes] = []
    sizes: list[int] = []
    for batch, run in held:
        flat = runs.unpack(run)
        found += map(numbers[batch].__getitem__, flat[0::3])
        bodies += flat[1::3]
        sizes += flat[2::3]
    if found and (min(found) < 0 or not all(map(lt, found, islice(found, 1, None)))):  # pages left out or moved: rare
        kept = sorted((item for item in zip(found, bodies, sizes, strict=True) if item[0] >= 0), key=_first)
        found, bodies, sizes = [n for n, _, _ in kept], [b for _, b, _ in kept], [s for _, _, s in kept]
    return (_pages(found, bodies) if found else None), sum(sizes)


def _forms(
    word: str, holders: list[tuple[int, dict[str, list[tuple[int, Variants]]]]], numbers: list[list[int]]
) -> dict[str, list[tuple[int, int, bytes]]]:
    """The word's variants: each form's (page number, place in the page's variants, CBOR)."""
    forms: dict[str, list[tuple[int, int, bytes]]] = {}
    for batch, variants in holders:
        for local, found in variants[word]:
            number = numbers[batch][local]
            if number >= 0:
                for order, (form, data) in enumerate(found):
                    forms.setdefault(form, []).append((number, order, data))
    return forms


def _word(word: str, pages: bytes, forms: dict[str, list[tuple[int, int, bytes]]]) -> bytes:
    """A ``PackedWord``: [word, pages (their CBOR), additional variants]; variants in the order Pagefind meets them."""
    ordered = sorted(forms.items(), key=lambda item: min(place[:2] for place in item[1]))
    variants = []
    for form, places in ordered:
        places.sort(key=_first)
        variants.append(b"\x82" + cbor.encode_text(form) + _pages([n for n, _, _ in places], [data for _, _, data in places]))
    return b"\x83" + cbor.encode_text(word) + pages + cbor.array_head(len(variants)) + b"".join(variants)


def _pages(numbers: list[int], bodies: list[bytes]) -> bytes:
    """The CBOR of a word's pages (their numbers in order, and their CBOR), the numbers as deltas."""
    try:
        deltas = list(map(cbor._INTS.__getitem__, map(sub, numbers, chain((0,), numbers))))
    except KeyError:  # pages 65,536 or more apart
        deltas = [cbor.encode_int(delta) for delta in map(sub, numbers, chain((0,), numbers))]
    return cbor.array_head(len(numbers)) + b"".join(chain.from_iterable(zip(repeat(b"\x83"), deltas, bodies)))


def _first(item: tuple[int, Any, Any]) -> int:
    return item[0]


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
