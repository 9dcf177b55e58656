"""sitegen's own writer of Pagefind 1.5.2's index (``index/mod.rs``
``build_indexes``): records in, the bundle's index data out, the same files
Pagefind writes for the same records, byte for byte after
``bundle.canonical`` (which fixes what Pagefind leaves to hash-map order and
its gzip encoder). Pagefind's runtime files (pagefind.js, the worker, the
wasm) are not index data; ``runtime`` provides them.

Records are read in a fork pool (``pages``): each page is read on its own,
and the index is put together in record order, so the result does not depend
on the pool.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import struct
from collections.abc import Sequence
from typing import Any

from sitegen.search import cbor
from sitegen.search.bundle import ENTRY, encode_file
from sitegen.search.pages import Entry, Page, Reader, full_hash
from sitegen.search.words import WORD_SYMBOLS, parse_f32

#: Pagefind's version, written into the meta and the entry.
VERSION = "1.5.2"
#: Pagefind's index chunk size (``index_chunk_size``): locations per chunk, about.
CHUNK_SIZE = 20_000
#: Records read in the parent below this many (a pool costs more than it saves).
POOL_FROM = 2_000
_I32 = (-(2**31), 2**31 - 1)


def write_index(records: Sequence[dict[str, Any]], language: str, workers: int | None = None) -> dict[str, bytes]:
    """The bundle's index files (path -> bytes) for these records (``SearchRecord.data()`` dicts)."""
    fields = sorted({str(key) for record in records for key in record["meta"]})
    pages = [page for page in _unique(read_pages(records, language, fields, workers)) if page.entries]
    kept = sorted({key for page in pages for key in page.meta_keys})
    if kept != fields:  # a meta field only on pages without words: number the fields again
        pages = [page for page in _unique(read_pages(records, language, kept, 1)) if page.entries]
    out: dict[str, bytes] = {}
    words: dict[str, list[Any]] = {}
    filters: dict[str, dict[str, list[int]]] = {}
    metapages = []
    for number, page in enumerate(pages):
        _add_words(words, page.entries, number)
        for filter_name, filter_values in page.filters.items():
            for value in filter_values:
                filters.setdefault(filter_name, {}).setdefault(value, []).append(number)
        name = _short(page.full_hash, language, out, "fragment/{}.pf_fragment")
        out[f"fragment/{name}.pf_fragment"] = page.gzipped
        metapages.append([name, page.word_count])
    meta_filters = []
    for name, values in sorted(filters.items()):
        payload = cbor.encode([name, [[value, numbers] for value, numbers in sorted(values.items())]])
        hashed = _short(f"{language}_{full_hash(payload)}", language, out, "filter/{}.pf_filter")
        out[f"filter/{hashed}.pf_filter"] = encode_file(payload)
        meta_filters.append([name, hashed])
    chunks = _write_chunks(words, language, out)
    meta = cbor.encode([VERSION, metapages, chunks, meta_filters, _sorts(pages), kept])
    meta_hash = f"{language}_{full_hash(meta)[: len(language) + 8]}"
    out[f"pagefind.{meta_hash}.pf_meta"] = encode_file(meta)
    entry = {"version": VERSION, "languages": {language: {"hash": meta_hash, "wasm": language, "page_count": len(pages)}}}
    out[ENTRY] = json.dumps({**entry, "include_characters": list(WORD_SYMBOLS)}, ensure_ascii=False, separators=(",", ":")).encode()
    return out


def read_pages(records: Sequence[dict[str, Any]], language: str, fields: list[str], workers: int | None) -> list[Page]:
    """Every record read; in a fork pool when there are many (same pages either way)."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(records) < POOL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        reader = Reader(language, fields)
        return [reader.page(record) for record in records]
    size = -(-len(records) // (workers * 4))
    batches = [records[i : i + size] for i in range(0, len(records), size)]
    with multiprocessing.get_context("fork").Pool(workers, initializer=_init, initargs=(language, fields)) as pool:
        return [page for batch in pool.map(_read_batch, batches) for page in batch]


_READER: list[Reader] = []


def _init(language: str, fields: list[str]) -> None:
    _READER.append(Reader(language, fields))


def _read_batch(batch: Sequence[dict[str, Any]]) -> list[Page]:
    return [_READER[0].page(record) for record in batch]


def _unique(pages: list[Page]) -> list[Page]:
    """A later record with the same URL replaces the earlier one, in its place."""
    at: dict[str, int] = {}
    out: list[Page] = []
    for page in pages:
        if page.url in at:
            out[at[page.url]] = page
        else:
            at[page.url] = len(out)
            out.append(page)
    return out


def _add_words(words: dict[str, list[Any]], entries: dict[str, Entry], number: int) -> None:
    """This page's entries, appended to each word's [pages, size, variants by form]."""
    for word, (body, size, variants) in entries.items():
        found = words.get(word)
        if found is None:
            found = words[word] = [[], 0, {}]
        if body is not None:
            found[0].append((number, body))
            found[1] += size
        for form, data in variants:
            found[2].setdefault(form, []).append((number, data))


def _pages(pages: list[tuple[int, bytes]]) -> bytes:
    """The CBOR of a word's pages, their numbers as deltas."""
    parts = [cbor.array_head(len(pages))]
    last = 0
    for number, body in pages:
        parts += (b"\x83", cbor.encode_int(number - last), body)
        last = number
    return b"".join(parts)


def _write_chunks(words: dict[str, list[Any]], language: str, out: dict[str, bytes]) -> list[list[str]]:
    """Write the index chunks; their [from, to, hash] for the meta."""
    named: list[list[str]] = []
    chunk: list[bytes] = []
    size, first = 0, ""
    ordered = sorted(words)
    for i, word in enumerate(ordered):
        pages, word_size, variants = words[word]
        if not chunk:
            first = word
        forms = [b"\x82" + cbor.encode(form) + _pages(found) for form, found in variants.items()]
        chunk.append(b"\x83" + cbor.encode(word) + _pages(pages) + cbor.array_head(len(forms)) + b"".join(forms))
        size += word_size + 0
        if size >= CHUNK_SIZE or i == len(ordered) - 1:
            payload = b"\x81" + cbor.array_head(len(chunk)) + b"".join(chunk)
            hashed = _short(f"{language}_{full_hash(payload)}", language, out, "index/{}.pf_index")
            out[f"index/{hashed}.pf_index"] = encode_file(payload)
            named.append([first, word, hashed])
            chunk, size = [], 0
    for before, after in zip(named, named[1:], strict=False):
        a_prefix, b_prefix = _prefixes(before[1], after[0])
        if a_prefix >= before[0]:
            before[1] = a_prefix
        after[0] = b_prefix
    return named


def _prefixes(a: str, b: str) -> tuple[str, str]:
    common = 0
    for x, y in zip(b, a, strict=False):
        if x != y:
            break
        common += 1
    return a[: common + 1], b[: common + 1]


def _sorts(pages: list[Page]) -> list[list[Any]]:
    """Each sort key's page order: numbers when every value parses as one, else strings."""
    out = []
    for key in sorted({key for page in pages for key in page.sort}):
        values = [(page.sort[key], number) for number, page in enumerate(pages) if key in page.sort]
        numbers = [_sort_number(value) for value, _ in values]
        if all(n is not None for n in numbers):
            order = [number for _, (_, number) in sorted(zip(numbers, values, strict=True), key=lambda item: _total(item[0]))]
        else:
            order = [number for _, number in sorted(values, key=lambda item: item[0])]
        out.append([key, order])
    return out


def _sort_number(value: str) -> float | None:
    """lexical_core's i32 parse, else its f32 parse (as f32)."""
    body = value[1:] if value[:1] in "+-" else value
    if body.isascii() and body.isdigit():
        number = int(value)
        if _I32[0] <= number <= _I32[1]:
            return float(number)
    return parse_f32(value)


def _total(value: float | None) -> int:
    """f32 ``total_cmp``'s order, as an integer key (-NaN < -inf < ... < -0 < +0 < ... < inf < NaN)."""
    assert value is not None
    bits: int = struct.unpack("<i", struct.pack("<f", value))[0]
    return bits ^ 0x7FFFFFFF if bits < 0 else bits


def _short(full: str, language: str, out: dict[str, bytes], pattern: str) -> str:
    """The name Pagefind gives: ``lang_`` and 7 characters, longer on a collision
    (by one for a fragment, by two for an index chunk or a filter, as its loops do)."""
    length = len(language) + 8
    step = 1 if pattern.startswith("fragment/") else 2
    while pattern.format(full[:length]) in out and length < len(full):
        length = min(length + step, len(full))
    return full[:length]
