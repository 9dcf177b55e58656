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
import struct
from collections.abc import Callable, Sequence
from typing import Any

from sitegen.errors import SearchError
from sitegen.search import assemble, bundle, cbor
from sitegen.search.batches import KeptReads
from sitegen.search.bundle import ENTRY, decode_file, encode_file
from sitegen.search.pages import Page
from sitegen.search.words import WORD_SYMBOLS, parse_f32

#: Pagefind's version, written into the meta and the entry.
VERSION = "1.5.2"
#: Pagefind's index chunk size (``index_chunk_size``): locations per chunk, about.
PAGEFIND_CHUNK_SIZE = 20_000
#: sitegen's: a query loads the chunks its words fall in, and on a 10,000-session
#: archive a cold "django testing" loads 41 KB of chunks instead of 89 KB, for
#: 2.4 KB more meta (bench/results/search_tuning.md). The only way sitegen's
#: bundle differs from Pagefind's; tests compare both ways.
CHUNK_SIZE = 2_000
_I32 = (-(2**31), 2**31 - 1)
#: Reads a file of the last build's bundle by its path in the bundle; None when there is none.
Previous = Callable[[str], bytes | None]


def write_index(
    records: Sequence[dict[str, Any]],
    language: str,
    workers: int | None = None,
    wasm: bool = True,
    chunk_size: int = CHUNK_SIZE,
    kept: KeptReads | None = None,
    previous: Previous | None = None,
    fingerprints: Sequence[bytes] | None = None,
    *,
    consume: bool = False,
) -> dict[str, bytes]:
    """The bundle's index files (path -> bytes) for these records (``SearchRecord.data()`` dicts).
    ``wasm``: whether Pagefind has a wasm file of this language (the entry names it);
    ``chunk_size``: locations per index chunk, about (Pagefind's is PAGEFIND_CHUNK_SIZE);
    ``kept``: where the batch reads are kept between builds (``batches.KeptReads``);
    ``previous``: reads a file of the last build's bundle (None when it has none);
    ``fingerprints``: each record's ``batches.fingerprint``, when the caller has them;
    ``consume`` (the index job): ``records`` (a list) is emptied, and the records and
    the reads' blobs are let go as soon as they are read: at 100,000 sessions they are
    470 and 270 MB of the job's memory, which the later passes do not need."""
    workers = workers if workers is not None else assemble.default_workers()
    order = sorted(range(len(records)), key=lambda i: bundle.page_key(str(records[i]["url"])))  # stable: a later duplicate still wins
    ordered = [records[i] for i in order]
    if consume and isinstance(records, list):
        records.clear()
    fingerprints = [fingerprints[i] for i in order] if fingerprints is not None else None
    read, numbers, pages, kept_fields = _read_all(ordered, language, workers, kept, fingerprints)
    del ordered
    words = assemble.kept_words(read, numbers, workers)
    if consume:
        read.blobs.clear()
    out: dict[str, bytes] = {}
    names = bundle.fragment_names(language, [(page.url, page.full_hash[len(language) + 1 :]) for page in pages])
    metapages, filters = _fragments(pages, names, out)
    meta_filters = _write_filters(filters, language, out)
    chunks = _write_chunks(words, language, out, workers, chunk_size, previous)
    meta = encode_file(_meta(metapages, chunks, meta_filters, kept_fields))
    meta_hash = bundle.meta_name(language, meta)
    out[f"pagefind.{meta_hash}.pf_meta"] = meta
    sorts = {}
    for key, order in _sorts(pages):  # out of the meta: the runtime loads the meta whole before any query
        data = bundle.encode_sort(key, order)
        sorts[key] = bundle.sort_name(language, data)
        out[f"sort/{sorts[key]}.pf_sort"] = data
    info = {"hash": meta_hash, "wasm": language if wasm else None, "page_count": len(pages), "sorts": sorts}
    entry = {"version": VERSION, "languages": {language: info}, "include_characters": list(WORD_SYMBOLS)}
    out[ENTRY] = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()
    return out


def _read_all(
    records: list[dict[str, Any]], language: str, workers: int, kept: KeptReads | None, fingerprints: list[bytes] | None
) -> tuple[assemble.Read, list[list[int]], list[Page], list[str]]:
    """Pass 1 over the records in page order, the pages numbered, and the meta fields the index keeps."""
    fields = sorted({str(key) for record in records for key in record["meta"]})
    read = assemble.read(records, language, fields, workers, kept, fingerprints)
    numbers, pages = _number(read)
    kept_fields = sorted({key for page in pages for key in page.meta_keys})
    if kept_fields != fields:  # a meta field only on pages without words: number the fields again
        read = assemble.read(records, language, kept_fields, workers, kept, fingerprints)
        numbers, pages = _number(read)
    return read, numbers, pages, kept_fields


def _fragments(pages: list[Page], names: list[str], out: dict[str, bytes]) -> tuple[list[tuple[str, int]], dict[str, dict[str, list[int]]]]:
    """Write each page's fragment; the meta's pages ([fragment, word count]) and each filter's values with their pages."""
    filters: dict[str, dict[str, list[int]]] = {}
    metapages = []
    for number, (page, name) in enumerate(zip(pages, names, strict=True)):
        for filter_name, filter_values in page.filters.items():
            for value in filter_values:
                filters.setdefault(filter_name, {}).setdefault(value, []).append(number)
        out[f"fragment/{name}.pf_fragment"] = page.gzipped
        metapages.append((name, page.word_count))
    return metapages, filters


def _meta(pages: list[tuple[str, int]], chunks: list[list[str]], filters: list[list[str]], fields: list[str]) -> bytes:
    """The meta's CBOR: [version, pages ([fragment, word count] each), chunks, filters, sorts, fields]."""
    text, number = cbor.encode_text, cbor.encode_int
    pages_cbor = cbor.array_head(len(pages)) + b"".join([b"\x82" + text(name) + number(count) for name, count in pages])
    return b"\x86" + cbor.encode(VERSION) + pages_cbor + cbor.encode(chunks) + cbor.encode(filters) + b"\x80" + cbor.encode(fields)


def _write_filters(filters: dict[str, dict[str, list[int]]], language: str, out: dict[str, bytes]) -> list[list[str]]:
    """Write each filter's file (its values, sorted, with their pages); [name, file's name] for the meta."""
    meta_filters = []
    for name, values in sorted(filters.items()):
        packed = [b"\x82" + cbor.encode_text(value) + cbor.encode_ints(numbers) for value, numbers in sorted(values.items())]
        payload = b"\x82" + cbor.encode(name) + cbor.array_head(len(packed)) + b"".join(packed)
        data = encode_file(payload)
        hashed = bundle.filter_name(language, data)  # canonical()'s names: the writer's bundle is canonical as it is
        out[f"filter/{hashed}.pf_filter"] = data
        meta_filters.append([name, hashed])
    return meta_filters


def _number(read: assemble.Read) -> tuple[list[list[int]], list[Page]]:
    """The index's pages, numbered: a later record with the same URL replaces the
    earlier one in its place; pages without words are left out. And for each
    batch, its pages' numbers (-1: not in the index)."""
    at: dict[str, int] = {}
    slots: list[int] = []
    for index, page in enumerate(read.pages):
        if page.url in at:
            slots[at[page.url]] = index
        else:
            at[page.url] = len(slots)
            slots.append(index)
    number_of = [-1] * len(read.pages)
    pages: list[Page] = []
    for index in slots:
        if read.pages[index].entries:
            number_of[index] = len(pages)
            pages.append(read.pages[index])
    ends = [*read.starts[1:], len(read.pages)] if read.starts else []  # (no records: no batches)
    return [number_of[start:end] for start, end in zip(read.starts, ends, strict=True)], pages


def _write_chunks(
    words: list[tuple[str, bytes, int]], language: str, out: dict[str, bytes], workers: int, chunk_size: int, previous: Previous | None
) -> list[list[str]]:
    """Write the index chunks (about ``chunk_size`` locations each); their [from, to, hash] for the meta."""
    named: list[list[str]] = []
    payloads: list[bytes] = []
    start, size = 0, 0
    for i, (word, _, word_size) in enumerate(words):
        size += word_size
        if size >= chunk_size or i == len(words) - 1:
            chunk = words[start : i + 1]
            payloads.append(b"\x81" + cbor.array_head(len(chunk)) + b"".join(data for _, data, _ in chunk))
            named.append([chunk[0][0], word, ""])
            start, size = i + 1, 0
    known = _known(previous, language) if previous else None
    for names, (full, data) in zip(named, assemble.encode_all(payloads, workers, known), strict=True):
        names[2] = _short(f"{language}_{full}", language, out, "index/{}.pf_index")
        out[f"index/{names[2]}.pf_index"] = data
    for before, after in zip(named, named[1:], strict=False):
        a_prefix, b_prefix = _prefixes(before[1], after[0])
        if a_prefix >= before[0]:
            before[1] = a_prefix
        after[0] = b_prefix
    return named


def _known(previous: Previous, language: str) -> assemble.Known:
    """The last build's file of an index chunk, when its payload is this one's: a chunk
    no record changed is read back and checked (gunzip), not encoded again (gzip)."""

    def known(full: str, payload: bytes) -> bytes | None:
        path = f"index/{language}_{full[:7]}.pf_index"
        data = previous(path)
        if data is None:
            return None
        try:
            return data if decode_file(path, data) == payload else None
        except SearchError:
            return None

    return known


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
    """The name Pagefind gives an index chunk: ``lang_`` and 7 characters, two more on a collision, as its loop does."""
    length = len(language) + 8
    while pattern.format(full[:length]) in out and length < len(full):
        length = min(length + 2, len(full))
    return full[:length]
