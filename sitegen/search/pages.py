"""One record as Pagefind 1.5.2 reads it (``add_custom_record``: the content
is the digest, no anchors of its own, no weights but the markers in its text):
its fragment, the positions of its words and of the words of its meta.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from sitegen.search.bundle import encode_file, full_hash
from sitegen.search.cbor import _INTS, array_head, encode_int, encode_ints
from sitegen.search.words import WEIGHT_BASE, Indexable, Stemmers, indexable_words, split_whitespace, tidy, weight_of

#: A word's places on a page: (position, weight, original form or None).
Place = tuple[int, int, "str | None"]
#: A word's places in the meta: (field number on this page, position, original form or None).
MetaPlace = tuple[int, int, "str | None"]
_ANCHOR, _WEIGHT, _AUTO, _END = "___PAGEFIND_ANCHOR___", "___PAGEFIND_WEIGHT___", "___PAGEFIND_AUTO_WEIGHT___", "___END_PAGEFIND_WEIGHT___"
#: Cached words per process (a bound: hostile text of unique words does not grow it past this).
MAX_CACHED = 500_000


#: A word's entry for one page: the CBOR of its locations and meta locations
#: (a ``PackedPage`` after its page number) or None, that entry's size for chunking,
#: and its variants' entries (original form, the same CBOR), in Pagefind's order.
Entry = tuple["bytes | None", int, list[tuple[str, bytes]]]


@dataclass
class Page:
    url: str
    #: The fragment's JSON, and the file it is (gzip), and Pagefind's hash of the JSON.
    fragment: bytes
    gzipped: bytes
    full_hash: str
    word_count: int
    entries: dict[str, Entry]
    meta_keys: list[str]
    filters: dict[str, list[str]]
    sort: dict[str, str]


class Reader:
    """Reads records in one language; caches each word's indexable forms.
    ``fields`` are the meta fields of the whole index (sorted), which number them."""

    def __init__(self, language: str, fields: list[str]) -> None:
        self.language = language
        self.field_number = {name: number for number, name in enumerate(fields)}
        self.stems = Stemmers(language)
        self.cache: dict[str, list[Indexable]] = {}
        self.simples: dict[str, str] = {}

    def indexable(self, word: str) -> list[Indexable]:
        found = self.cache.get(word)
        if found is None:
            found = indexable_words(word, self.stems)
            if len(self.cache) < MAX_CACHED and len(word) <= 64:
                self.cache[word] = found
        return found

    def simple(self, word: str) -> str | None:
        """The one stemmed form of a word indexed as itself alone (most words), else None."""
        found = self.simples.get(word)
        if found is None:
            items = self.indexable(word)
            found = items[0][0] if len(items) == 1 and items[0][1] is None and not items[0][2] else ""
            if len(self.simples) < MAX_CACHED and len(word) <= 64:
                self.simples[word] = found
        return found or None

    def page(self, record: dict[str, Any]) -> Page:
        content, words, anchors, count, plain = self.digest(str(record["content"]))
        meta = {key: tidy(value) for key, value in sorted(record["meta"].items())}
        filters = {key: [tidy(v) for v in values] for key, values in sorted(record["filters"].items())}
        data = orjson.dumps(
            {"url": record["url"], "content": content, "word_count": count, "filters": filters, "meta": meta, "anchors": anchors}
        )
        ids = [self.field_number[key] for key in meta]
        entries = pack(plain, words, self.meta_words(meta), ids) if words or plain else {}
        sort = dict(sorted(record["sort"].items()))
        full = f"{self.language}_{full_hash(data)}"
        return Page(record["url"], data, encode_file(data), full, count, entries, list(meta), filters, sort)

    def meta_words(self, meta: dict[str, str]) -> dict[str, list[MetaPlace]]:
        found: dict[str, list[MetaPlace]] = {}
        for field_id, value in enumerate(meta.values()):
            for position, word in enumerate(split_whitespace(value)):
                for stemmed, original, _ in self.indexable(word):
                    found.setdefault(stemmed, []).append((field_id, position, original))
        return found

    def digest(self, text: str) -> tuple[str, dict[str, list[Place]], list[dict[str, Any]], int, dict[str, list[int]]]:
        """``parse_digest``: the fragment's content, the word places, anchors and word count;
        and apart, the positions of the words indexed as themselves at the base weight (most)."""
        split = split_whitespace(text)
        if "_" in text or "\u200b" in text:
            return (*self._digest(split), {})
        words: dict[str, list[Place]] = {}
        plain: dict[str, list[int]] = {}
        get, simple = self.simples.get, self.simple
        for index, word in enumerate(split):
            stemmed = get(word)
            if stemmed is None:
                stemmed = simple(word) or ""
            if stemmed:
                entry = plain.get(stemmed)
                if entry is None:
                    plain[stemmed] = [index]
                else:
                    entry.append(index)
            else:
                self._track(words, word, index, WEIGHT_BASE)
        return " ".join(split), words, [], max(len(split), 1), plain

    def _digest(self, split: list[str]) -> tuple[str, dict[str, list[Place]], list[dict[str, Any]], int]:
        """The general case: Pagefind's markers and zero-width spaces."""
        words: dict[str, list[Place]] = {}
        anchors: list[dict[str, Any]] = []
        kept: list[str] = []
        stack = [WEIGHT_BASE]
        index = last = 0
        for word in split:
            if word[0] == "_" and word.startswith(("___PAGEFIND_", "___END_PAGEFIND_WEIGHT___")) and _marker(word, stack, anchors, index):
                continue
            base = word.replace("\u200b", "") if "\u200b" in word else word
            if not base:
                continue
            kept.append(base)
            self._track(words, base, index, stack[-1] if stack else 1)
            last = index
            index += 1
        return " ".join(kept), words, anchors, last + 1

    def _track(self, words: dict[str, list[Place]], base: str, index: int, weight: int) -> None:
        found = self.indexable(base)
        parts = sum(1 for item in found if item[2])
        partial = max(weight // min(parts, 255), 1) if parts and weight else 0
        for stemmed, original, is_part in found:
            place = (index, partial if is_part else weight, original)
            entry = words.get(stemmed)
            if entry is None:
                words[stemmed] = [place]
            else:
                entry.append(place)


def _marker(word: str, stack: list[int], anchors: list[dict[str, Any]], index: int) -> bool:
    """Apply one of Pagefind's markers; False when the word is not one (it is then indexed)."""
    if word.startswith(_ANCHOR):
        element, sep, anchor_id = word.replace(_ANCHOR, "").partition(":")
        if sep:
            _, sep, element_id = anchor_id.partition(":")
            if sep:
                anchors.append({"element": element, "id": element_id, "text": "", "location": index})
        return True
    if word.startswith(_WEIGHT):
        stack.append(weight_of(word.replace(_WEIGHT, ""), auto=False))
        return True
    if word.startswith(_AUTO):
        if len(stack) == 1:
            stack.append(weight_of(word.replace(_AUTO, ""), auto=True))
        else:
            stack.append(stack[-1] if stack else 0)
        return True
    if word.startswith(_END):
        if stack:
            stack.pop()
        return True
    return False


def pack(
    plain: dict[str, list[int]], words: dict[str, list[Place]], meta_words: dict[str, list[MetaPlace]], field_ids: list[int]
) -> dict[str, Entry]:
    """This page's entry of each word (``build_indexes``' per-page part)."""
    entries: dict[str, Entry] = {}
    ints, one, end, none = _INTS, _ONE, b"\x80", _NONE
    for word, positions in plain.items():
        if words and word in words:
            words[word] += [(p, WEIGHT_BASE, None) for p in positions]
        elif len(positions) == 1:
            entries[word] = (one + (ints.get(positions[0]) or encode_int(positions[0])) + end, 3, none)
        else:
            deltas = [b - a for a, b in zip(positions, positions[1:], strict=False)]
            head = array_head(len(positions) + 1) + _BASE + encode_int(positions[0])
            entries[word] = (head + encode_ints(deltas)[len(array_head(len(deltas))) :] + end, len(positions) + 2, none)
    for word, places in words.items():
        plain_places = [p for p in places if p[2] is None]
        variants: dict[str, list[Place]] = {}
        for p in places:
            if p[2] is not None:
                variants.setdefault(p[2], []).append(p)
        plain_locs = _locs(plain_places) if plain_places else None
        body = None if plain_locs is None else encode_ints(plain_locs) + b"\x80"
        size = 0 if plain_locs is None else len(plain_locs) + 1
        entries[word] = (body, size, [(form, encode_ints(_locs(found)) + b"\x80") for form, found in sorted(variants.items())])
    for word, mplaces in meta_words.items():
        _pack_meta(entries, word, [(field_ids[f], pos, original) for f, pos, original in mplaces])
    return entries


_NONE: list[tuple[str, bytes]] = []
#: The CBOR of the base weight's marker (-25), alone in a list of two and by itself.
_BASE = encode_int(-WEIGHT_BASE - 1)
_ONE = array_head(2) + _BASE


def _pack_meta(entries: dict[str, Entry], word: str, mapped: list[MetaPlace]) -> None:
    if len(mapped) == 1 and mapped[0][2] is None:  # most: one place, no other form
        field, position, _ = mapped[0]
        meta_bytes = b"\x82" + encode_int(-field - 1) + encode_int(position)
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
    for field, position, _ in ordered:
        if field != current:
            out.append(-field - 1)
            current, last = field, 0
        out.append(position - last)
        last = position
    return out
