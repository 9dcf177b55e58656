"""A page's entry of each of its words (``build_indexes``' per-page part), put
straight into its batch's ``Sink``: no per-page dict of entries to copy again.

An entry is the CBOR of a word's locations and meta locations on one page (a
``PackedPage`` after its page number), its size for chunking, and its
variants' entries (original form, the same CBOR), in Pagefind's order. Most
words of a page occur in its text only, as themselves, at the base weight:
their entries are made in one short loop (``_add_plain``), the rest as Pagefind
makes them (``_entry``, ``_add_meta``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from operator import sub
from typing import Any

from sitegen.search.cbor import _INTS, array_head, encode_int, encode_ints
from sitegen.search.words import WEIGHT_BASE

#: A word's places on a page: (position, weight, original form or None).
Place = tuple[int, int, "str | None"]
#: A word's places in the meta: (field number, position, original form or None).
MetaPlace = tuple[int, int, "str | None"]
#: A word's entry for one page: its CBOR (None: variants only), size for chunking, variants.
Entry = tuple["bytes | None", int, list[tuple[str, bytes]]]
#: One entry's variants: (original form, CBOR), in Pagefind's order.
Variants = list[tuple[str, bytes]]
_NONE: Variants = []
#: The CBOR of a word's one place in the meta, by (field number, position), the most common.
_META = {(_f, _p): b"\x82" + encode_int(-_f - 1) + encode_int(_p) for _f in range(16) for _p in range(64)}


def _meta_place(field_id: int, position: int) -> bytes:
    return b"\x82" + encode_int(-field_id - 1) + encode_int(position)


@dataclass
class Sink:
    """A batch's entries, word by word, in the order of its pages."""

    #: word -> its entries with CBOR, flat: page (index in the batch), CBOR, size, page, CBOR, size, ...
    entries: dict[str, list[Any]] = field(default_factory=dict)
    #: word -> its entries with variants: (page, variants).
    variants: dict[str, list[tuple[int, Variants]]] = field(default_factory=dict)


def pack(
    plain: dict[str, list[int]],
    words: dict[str, list[Place]],
    meta_words: dict[str, list[MetaPlace]],
    sink: Sink,
    page: int,
) -> int:
    """Add the entry of each word of the batch's ``page``-th page to ``sink``; how many words it has.
    ``plain``: the positions of the words indexed as themselves at the base weight;
    ``words``: the places of the others; ``meta_words``: the meta's."""
    for word, places in words.items():
        if word in plain:
            places += [(p, WEIGHT_BASE, None) for p in plain.pop(word)]
    entries = {word: _entry(places) for word, places in words.items()}
    _add_metas(entries, plain, meta_words)
    _add_plain(plain, sink.entries, page)
    into, variants = sink.entries, sink.variants
    for word, (body, size, forms) in entries.items():
        if body is not None:
            slot = into.get(word)
            if slot is None:
                into[word] = [page, body, size]
            else:
                slot += (page, body, size)
        if forms:
            variants.setdefault(word, []).append((page, forms))
    return len(plain) + len(entries)


#: A word's entry when it is at one position, by position (most of a page's words).
_ONCE = [encode_ints([-WEIGHT_BASE - 1, _p]) + b"\x80" for _p in range(4096)]
#: The CBOR of the base weight's marker (-25), and of the head of a word's locations before it, by positions.
_BASE = encode_int(-WEIGHT_BASE - 1)
_HEADS = [array_head(_n + 1) + _BASE for _n in range(256)]


def _add_plain(plain: dict[str, list[int]], into: dict[str, list[Any]], page: int) -> None:
    once, known = _ONCE, len(_ONCE)
    for word, positions in plain.items():
        if len(positions) == 1 and positions[0] < known:
            body, size = once[positions[0]], 3
        else:
            body, size = _plain(positions)
        slot = into.get(word)
        if slot is None:
            into[word] = [page, body, size]
        else:
            slot += (page, body, size)


def _plain(positions: list[int]) -> tuple[bytes, int]:
    """The CBOR and size of a word's entry at these positions (in order), at the base weight, as itself."""
    count, ints = len(positions), _INTS
    if count == 1 and positions[0] < len(_ONCE):
        return _ONCE[positions[0]], 3
    parts = [_HEADS[count] if count < len(_HEADS) else array_head(count + 1) + _BASE]
    last = 0
    try:
        for position in positions:
            parts.append(ints[position - last])
            last = position
    except KeyError:  # a position past 65,535
        return encode_ints([-WEIGHT_BASE - 1, positions[0], *map(sub, islice(positions, 1, None), positions)]) + b"\x80", count + 2
    parts.append(b"\x80")
    return b"".join(parts), count + 2


def _entry(places: list[Place]) -> Entry:
    if len(places) == 1 and places[0][2] is None:  # most: a compound word's part, or the word, once
        position, weight, _ = places[0]
        locs = [position] if weight == 25 else [-weight - 1, position]
        return encode_ints(locs) + b"\x80", len(locs) + 1, _NONE
    plain_places = [p for p in places if p[2] is None]
    variants: dict[str, list[Place]] = {}
    for p in places:
        if p[2] is not None:
            variants.setdefault(p[2], []).append(p)
    plain_locs = _locs(plain_places) if plain_places else None
    body = None if plain_locs is None else encode_ints(plain_locs) + b"\x80"
    size = 0 if plain_locs is None else len(plain_locs) + 1
    return body, size, [(form, encode_ints(_locs(found)) + b"\x80") for form, found in sorted(variants.items())]


def _add_metas(entries: dict[str, Entry], plain: dict[str, list[int]], meta_words: dict[str, list[MetaPlace]]) -> None:
    """The entries of the meta's words (taken out of ``plain``)."""
    for word, mplaces in meta_words.items():
        positions = plain.pop(word, None)
        if len(mplaces) == 1 and mplaces[0][2] is None and word not in entries:  # most: once in the meta, as itself
            meta = _META.get(mplaces[0][:2]) or _meta_place(*mplaces[0][:2])
            if positions is None:
                entries[word] = (b"\x80" + meta, 3, _NONE)
            else:
                data, size = _plain(positions)
                entries[word] = (data[:-1] + meta, size + 2, _NONE)
            continue
        if positions is not None:
            entries[word] = (*_plain(positions), _NONE)
        _add_meta(entries, word, mplaces)


def _add_meta(entries: dict[str, Entry], word: str, mapped: list[MetaPlace]) -> None:
    if len(mapped) == 1 and mapped[0][2] is None:  # most: one place, no other form
        field_id, position, _ = mapped[0]
        meta_bytes = _META.get((field_id, position)) or _meta_place(field_id, position)
        entry = entries.get(word)
        if entry is None or entry[0] is None:
            entries[word] = (b"\x80" + meta_bytes, 3, entry[2] if entry is not None else _NONE)
        else:
            entries[word] = (entry[0][:-1] + meta_bytes, entry[1] + 2, entry[2])
        return
    body, size, variants = entries.get(word, (None, 0, []))
    plain = [m for m in mapped if m[2] is None]
    if plain:
        meta = _meta_locs(plain)
        size = (size if body is not None else 1) + len(meta)
        body = (body[:-1] if body is not None else b"\x80") + encode_ints(meta)
    forms: dict[str, list[MetaPlace]] = {}
    for m in mapped:
        if m[2] is not None:
            forms.setdefault(m[2], []).append(m)
    variants = list(variants)
    for form, found in sorted(forms.items()):
        meta_bytes = encode_ints(_meta_locs(found))
        for i, (existing, data) in enumerate(variants):
            if existing == form:
                variants[i] = (form, data[:-1] + meta_bytes)
                break
        else:
            variants.append((form, b"\x80" + meta_bytes))
    entries[word] = (body, size, variants)


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
    for field_id, position, _ in ordered:
        if field_id != current:
            out.append(-field_id - 1)
            current, last = field_id, 0
        out.append(position - last)
        last = position
    return out
