"""One record as Pagefind 1.5.2 reads it (``add_custom_record``: the content
is the digest, no anchors of its own, no weights but the markers in its text):
its fragment, the positions of its words and of the words of its meta.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain, starmap
from typing import Any, cast

import orjson

from sitegen.search.bundle import encode_file, full_hash
from sitegen.search.entries import MetaPlace, Place, Sink, pack
from sitegen.search.words import WEIGHT_BASE, Indexable, Stemmers, indexable_words, split_whitespace, tidy, weight_of

_ANCHOR, _WEIGHT, _AUTO, _END = "___PAGEFIND_ANCHOR___", "___PAGEFIND_WEIGHT___", "___PAGEFIND_AUTO_WEIGHT___", "___END_PAGEFIND_WEIGHT___"
#: Cached words per process (a bound: hostile text of unique words does not grow it past this).
MAX_CACHED = 500_000


@dataclass
class Page:
    url: str
    #: The fragment's file (gzip of its JSON), and Pagefind's hash of the JSON.
    gzipped: bytes
    full_hash: str
    word_count: int
    #: How many words the page has in the index (0: it is left out); their entries go to a ``Sink``.
    entries: int
    meta_keys: list[str]
    filters: dict[str, list[str]]
    sort: dict[str, str]

    def kept(self) -> tuple[Any, ...]:
        """The page as plain values, as ``batches`` keeps it (``pages_from_kept`` reads it back)."""
        return (self.url, self.gzipped, self.full_hash, self.word_count, self.entries, self.meta_keys, self.filters, self.sort)


def pages_from_kept(values: object) -> list[Page] | None:
    """The pages ``Page.kept`` gave, or None when ``values`` are not of their shape (a planted
    file). Checked column by column: a type check per value, without a call per page."""
    if type(values) is not list or not _all_of(values, tuple) or not set(map(len, values)) <= {len(_KEPT_TYPES)}:
        return None
    columns = list(zip(*values, strict=True))
    if columns and not all(map(_all_of, columns, _KEPT_TYPES)):
        return None
    meta_keys, filters, sorts = columns[5:] if columns else ((), (), ())
    lists = list(chain.from_iterable(map(dict.values, filters)))
    texts = chain(
        chain.from_iterable(meta_keys),
        chain.from_iterable(filters),
        chain.from_iterable(lists),
        chain.from_iterable(sorts),
        chain.from_iterable(map(dict.values, sorts)),
    )
    return list(starmap(Page, values)) if _all_of(lists, list) and _all_of(texts, str) else None


_KEPT_TYPES = (str, bytes, str, int, int, list, dict, dict)


def _all_of(values: Iterable[object], kind: type) -> bool:
    return set(map(type, values)) <= {kind}


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

    def page(self, record: dict[str, Any], sink: Sink, local: int) -> Page:
        """The record's page; its words' entries go to ``sink``, as its batch's ``local``-th page."""
        content, words, anchors, count, plain = self.digest(str(record["content"]))
        meta = {key: tidy(value) for key, value in sorted(record["meta"].items())}
        filters = {key: [tidy(v) for v in values] for key, values in sorted(record["filters"].items())}
        data = orjson.dumps(
            {"url": record["url"], "content": content, "word_count": count, "filters": filters, "meta": meta, "anchors": anchors}
        )
        ids = [self.field_number[key] for key in meta]
        entries = pack(plain, words, self.meta_words(meta, ids), sink, local) if words or plain else 0
        sort = dict(sorted(record["sort"].items()))
        full = f"{self.language}_{full_hash(data)}"
        return Page(record["url"], encode_file(data), full, count, entries, list(meta), filters, sort)

    def meta_words(self, meta: dict[str, str], field_ids: list[int]) -> dict[str, list[MetaPlace]]:
        """The places of the meta's words; ``field_ids``: the number of each of its fields in the index."""
        found: dict[str, list[MetaPlace]] = {}
        for field_id, value in zip(field_ids, meta.values(), strict=True):
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
        found = list(map(self.simples.get, split))
        if None in found:  # words not met before
            found = [(self.simple(word) or "") if stem is None else stem for stem, word in zip(found, split, strict=True)]
        stems = cast("list[str]", found)  # "": not indexed as itself alone
        get = plain.get
        for index, stemmed in enumerate(stems):
            entry = get(stemmed)
            if entry is None:
                plain[stemmed] = [index]
            else:
                entry.append(index)
        for index in plain.pop("", ()):
            self._track(words, split[index], index, WEIGHT_BASE)
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
