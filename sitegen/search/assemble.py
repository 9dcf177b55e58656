"""The writer's two passes, each in a fork pool when there are many records.

1. ``read``: records in batches; each page's fragment and summary come back,
   and its words' entries, split by the word's first letters into shards,
   come back as one pickled blob per batch and shard (cheap to pass on).
2. ``words``: after the pages are numbered, each shard's words are put
   together from every batch's blob (in a process forked after pass 1, so the
   blobs are not copied): one word's CBOR (``PackedWord``), with its pages in
   order and their numbers as deltas.

Shards are ranges of words in order, so their results, joined, are the
index's words in order. The result is the same with one process or many.
"""

from __future__ import annotations

import bisect
import multiprocessing
import os
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sitegen.search import cbor
from sitegen.search.bundle import encode_file, full_hash
from sitegen.search.orphan import stop_with_parent
from sitegen.search.pages import Entry, Page, Reader

#: Where the shards split the words (by their first letters): about even for English.
SPLITS = ("c", "e", "i", "m", "p", "s", "u")
#: Records read in the parent below this many (a pool costs more than it saves).
POOL_FROM = 2_000
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


def read(records: Sequence[dict[str, Any]], language: str, fields: list[str], workers: int) -> Read:
    batches = _batches(records, workers)
    results = _map(_read_batch, batches, workers, (language, fields))
    pages = [page for batch_pages, _ in results for page in batch_pages]
    starts = [0]
    for batch_pages, _ in results:
        starts.append(starts[-1] + len(batch_pages))
    return Read(pages, [blobs for _, blobs in results], starts[:-1])


def words(blobs: list[list[bytes]], numbers: list[list[int]], workers: int) -> list[tuple[str, bytes, int]]:
    """Every word's (word, CBOR, size for chunking), in order; ``numbers`` maps each
    batch's pages to their page numbers (-1: not in the index)."""
    _STATE[:] = [blobs, numbers]
    try:
        shards = _map(_shard_words, list(range(len(SPLITS) + 1)), workers, None)
    finally:
        _STATE.clear()
    return [item for shard in shards for item in shard]


def encode_all(payloads: list[bytes], workers: int) -> list[tuple[str, bytes]]:
    """Each payload's Pagefind hash and its file (gzip), in order."""
    return _map(_encode, payloads, workers, None)


def _encode(payload: bytes) -> tuple[str, bytes]:
    return full_hash(payload), encode_file(payload)


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
        return pool.map(function, items, chunksize=1)


def _batches(records: Sequence[dict[str, Any]], workers: int) -> list[Sequence[dict[str, Any]]]:
    if workers <= 1 or len(records) < POOL_FROM:
        return [records]
    size = -(-len(records) // (workers * 4))
    return [records[i : i + size] for i in range(0, len(records), size)]


def _worker_init(parent: int, init: tuple[str, list[str]] | None) -> None:
    """A pool worker dies with the job (``orphan``), then reads with ``init``'s reader."""
    stop_with_parent(parent)
    if init is not None:
        _init(*init)


def _init(language: str, fields: list[str]) -> None:
    _READER[:] = [Reader(language, fields)]


#: One shard of a batch's entries: words, their CBOR (None: variants only), their
#: sizes, their pages (index in the batch), and the variants of some (by entry index).
Shard = tuple[list[str], list["bytes | None"], list[int], list[int], dict[int, list[tuple[str, bytes]]]]


def _read_batch(batch: Sequence[dict[str, Any]]) -> tuple[list[Page], list[bytes]]:
    reader = _READER[0]
    shards: list[Shard] = [([], [], [], [], {}) for _ in range(len(SPLITS) + 1)]
    shard_of: dict[str, Shard] = {}
    pages = []
    for local, record in enumerate(batch):
        page = reader.page(record)
        for word, (body, size, variants) in page.entries.items():
            shard = shard_of.get(word[0])
            if shard is None:
                shard = shard_of[word[0]] = shards[bisect.bisect_right(SPLITS, word[0])]
            if variants:
                shard[4][len(shard[0])] = variants
            shard[0].append(word)
            shard[1].append(body)
            shard[2].append(size)
            shard[3].append(local)
        pages.append(replace(page, fragment=b"", entries={"": _NO_ENTRY} if page.entries else {}))
    return pages, [pickle.dumps(shard, protocol=pickle.HIGHEST_PROTOCOL) for shard in shards]


_NO_ENTRY: Entry = (None, 0, [])


def _shard_words(shard: int) -> list[tuple[str, bytes, int]]:
    blobs, numbers = _STATE
    found: dict[str, list[Any]] = {}
    for batch, batch_blobs in enumerate(blobs):
        words_, bodies, sizes, owners, forms = pickle.loads(batch_blobs[shard])
        batch_numbers = numbers[batch]
        for i, (word, body, size, owner) in enumerate(zip(words_, bodies, sizes, owners, strict=True)):
            number = batch_numbers[owner]
            if number < 0:
                continue
            entry = found.get(word)
            if entry is None:
                entry = found[word] = [[], 0, {}]
            if body is not None:
                entry[0].append((number, body))
                entry[1] += size
            if forms and i in forms:
                for order, (form, data) in enumerate(forms[i]):
                    entry[2].setdefault(form, []).append((number, order, data))
    return [(word, _word(word, *found[word][::2]), found[word][1]) for word in sorted(found)]


def _word(word: str, pages: list[tuple[int, bytes]], forms: dict[str, list[tuple[int, int, bytes]]]) -> bytes:
    """A ``PackedWord``: [word, pages, additional variants]; variants in the order Pagefind meets them."""
    ordered = sorted(forms.items(), key=lambda item: min(place[:2] for place in item[1]))
    variants = [b"\x82" + cbor.encode(form) + _pages([(n, data) for n, _, data in places]) for form, places in ordered]
    return b"\x83" + cbor.encode(word) + _pages(pages) + cbor.array_head(len(variants)) + b"".join(variants)


def _pages(pages: list[tuple[int, bytes]]) -> bytes:
    """The CBOR of a word's pages, by page number, the numbers as deltas."""
    pages.sort(key=_first)
    parts = [cbor.array_head(len(pages))]
    last = 0
    ints, encode_int = cbor._INTS, cbor.encode_int
    for number, body in pages:
        parts += (b"\x83", ints.get(number - last) or encode_int(number - last), body)
        last = number
    return b"".join(parts)


def _first(page: tuple[int, bytes]) -> int:
    return page[0]


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
