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

import hashlib
import json
import multiprocessing
import os
import struct
from collections.abc import Iterator, Sequence
from typing import Any

from sitegen.search import cbor
from sitegen.search.bundle import ENTRY, encode_file
from sitegen.search.pages import MetaPlace, Page, Place, Reader
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
    pages = _unique(read_pages(records, language, workers))
    pages = [page for page in pages if page.words]
    words: dict[str, list[Any]] = {}
    filters: dict[str, dict[str, list[int]]] = {}
    fields = sorted({key for page in pages for key in page.meta_keys})
    field_number = {name: number for number, name in enumerate(fields)}
    out: dict[str, bytes] = {}
    metapages = []
    for number, page in enumerate(pages):
        _add_words(words, page, number, [field_number[key] for key in page.meta_keys])
        for name, values in page.filters.items():
            for value in values:
                filters.setdefault(name, {}).setdefault(value, []).append(number)
        name = _short(f"{language}_{_full_hash(page.fragment)}", language, out, "fragment/{}.pf_fragment")
        out[f"fragment/{name}.pf_fragment"] = encode_file(page.fragment)
        metapages.append([name, page.word_count])
    meta_filters = []
    for name, values in sorted(filters.items()):
        payload = cbor.encode([name, [[value, numbers] for value, numbers in sorted(values.items())]])
        hashed = _short(f"{language}_{_full_hash(payload)}", language, out, "filter/{}.pf_filter")
        out[f"filter/{hashed}.pf_filter"] = encode_file(payload)
        meta_filters.append([name, hashed])
    chunks = _chunk_meta(words, language, out)
    meta = cbor.encode([VERSION, metapages, chunks, meta_filters, _sorts(pages), fields])
    meta_hash = f"{language}_{_full_hash(meta)[: len(language) + 8]}"
    out[f"pagefind.{meta_hash}.pf_meta"] = encode_file(meta)
    entry = {"version": VERSION, "languages": {language: {"hash": meta_hash, "wasm": language, "page_count": len(pages)}}}
    out[ENTRY] = json.dumps({**entry, "include_characters": list(WORD_SYMBOLS)}, ensure_ascii=False, separators=(",", ":")).encode()
    return out


def read_pages(records: Sequence[dict[str, Any]], language: str, workers: int | None) -> list[Page]:
    """Every record read; in a fork pool when there are many (same pages either way)."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(records) < POOL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        reader = Reader(language)
        return [reader.page(record) for record in records]
    size = -(-len(records) // (workers * 4))
    batches = [records[i : i + size] for i in range(0, len(records), size)]
    with multiprocessing.get_context("fork").Pool(workers, initializer=_init, initargs=(language,)) as pool:
        return [page for batch in pool.map(_read_batch, batches) for page in batch]


_READER: list[Reader] = []


def _init(language: str) -> None:
    _READER.append(Reader(language))


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


def _add_words(words: dict[str, list[Any]], page: Page, number: int, field_ids: list[int]) -> None:
    """This page's entries, appended to each word's: [word, pages, variants] with absolute page numbers."""
    for word, places in page.words.items():
        plain = [p for p in places if p[2] is None]
        variants: dict[str, list[Place]] = {}
        for p in places:
            if p[2] is not None:
                variants.setdefault(p[2], []).append(p)
        entry = words.get(word)
        if entry is None:
            entry = words[word] = [word, [], []]
        if plain:
            entry[1].append([number, _locs(plain), []])
        for form, found in sorted(variants.items()):
            _variant(entry, form).append([number, _locs(found), []])
    for word, mplaces in page.meta_words.items():
        mapped = [(field_ids[f], pos, original) for f, pos, original in mplaces]
        entry = words.get(word)
        if entry is None:
            entry = words[word] = [word, [], []]
        plain_meta = [m for m in mapped if m[2] is None]
        if plain_meta:
            _set_meta(entry[1], number, _meta_locs(plain_meta))
        mvariants: dict[str, list[MetaPlace]] = {}
        for m in mapped:
            if m[2] is not None:
                mvariants.setdefault(m[2], []).append(m)
        for form, found_meta in sorted(mvariants.items()):
            _set_meta(_variant(entry, form), number, _meta_locs(found_meta))


def _variant(entry: list[Any], form: str) -> list[Any]:
    for variant in entry[2]:
        if variant[0] == form:
            return variant[1]  # type: ignore[no-any-return]
    pages: list[Any] = []
    entry[2].append([form, pages])
    return pages


def _set_meta(pages: list[Any], number: int, meta_locs: list[int]) -> None:
    if pages and pages[-1][0] == number:
        pages[-1][2] = meta_locs
    else:
        pages.append([number, [], meta_locs])


def _locs(places: list[Place]) -> list[int]:
    """``positions_to_packed_page``: by weight then position; a weight change is marked -(w)-1."""
    ordered = sorted(places, key=lambda p: (0 if p[1] == 25 else p[1], p[0]))
    out: list[int] = []
    current, last = 25, 0
    for position, weight, _ in ordered:
        if weight != current:
            out += (-weight - 1, position)
            current = weight
        else:
            out.append(position - last)
        last = position
    return out


def _meta_locs(places: list[MetaPlace]) -> list[int]:
    ordered = sorted(places, key=lambda p: (p[0], p[1]))
    out: list[int] = []
    current, last = -1, 0
    for field, position, _ in ordered:
        if field != current:
            out.append(-field - 1)
            current, last = field, 0
        out.append(position - last)
        last = position
    return out


def _chunks(words: dict[str, list[Any]]) -> Iterator[list[list[Any]]]:
    chunk: list[list[Any]] = []
    size = 0
    for word in sorted(words):
        entry = words[word]
        size += sum(len(p[1]) + len(p[2]) + 1 for p in entry[1])
        chunk.append(entry)
        if size >= CHUNK_SIZE:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _chunk_meta(words: dict[str, list[Any]], language: str, out: dict[str, bytes]) -> list[list[str]]:
    """Write the index chunks (page numbers as deltas); their [from, to, hash] for the meta."""
    named: list[list[str]] = []
    for chunk in _chunks(words):
        for entry in chunk:
            _delta(entry[1])
            for variant in entry[2]:
                _delta(variant[1])
        payload = cbor.encode([chunk])
        hashed = _short(f"{language}_{_full_hash(payload)}", language, out, "index/{}.pf_index")
        out[f"index/{hashed}.pf_index"] = encode_file(payload)
        named.append([chunk[0][0], chunk[-1][0], hashed])
    for before, after in zip(named, named[1:], strict=False):
        a_prefix, b_prefix = _prefixes(before[1], after[0])
        if a_prefix >= before[0]:
            before[1] = a_prefix
        after[0] = b_prefix
    return named


def _delta(pages: list[list[Any]]) -> None:
    pages.sort(key=lambda p: p[0])
    last = 0
    for page in pages:
        page[0], last = page[0] - last, page[0]


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


def _full_hash(data: bytes) -> str:
    """SHA-1 with each byte as unpadded hex (Rust's ``{:x?}``), as Pagefind names files."""
    return "".join(format(b, "x") for b in hashlib.sha1(data).digest())


def _short(full: str, language: str, out: dict[str, bytes], pattern: str) -> str:
    """The name Pagefind gives: ``lang_`` and 7 characters, longer on a collision
    (by one for a fragment, by two for an index chunk or a filter, as its loops do)."""
    length = len(language) + 8
    step = 1 if pattern.startswith("fragment/") else 2
    while pattern.format(full[:length]) in out and length < len(full):
        length = min(length + step, len(full))
    return full[:length]
