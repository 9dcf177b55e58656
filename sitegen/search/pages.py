"""One record as Pagefind 1.5.2 reads it (``add_custom_record``: the content
is the digest, no anchors of its own, no weights but the markers in its text):
its fragment, the positions of its words and of the words of its meta.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from sitegen.search.words import WEIGHT_BASE, Indexable, Stemmers, indexable_words, split_whitespace, tidy, weight_of

#: A word's places on a page: (position, weight, original form or None).
Place = tuple[int, int, "str | None"]
#: A word's places in the meta: (field number on this page, position, original form or None).
MetaPlace = tuple[int, int, "str | None"]
_ANCHOR, _WEIGHT, _AUTO, _END = "___PAGEFIND_ANCHOR___", "___PAGEFIND_WEIGHT___", "___PAGEFIND_AUTO_WEIGHT___", "___END_PAGEFIND_WEIGHT___"
#: Cached words per process (a bound: hostile text of unique words does not grow it past this).
MAX_CACHED = 500_000


@dataclass
class Page:
    url: str
    fragment: bytes
    word_count: int
    words: dict[str, list[Place]]
    meta_words: dict[str, list[MetaPlace]]
    meta_keys: list[str]
    filters: dict[str, list[str]]
    sort: dict[str, str]


class Reader:
    """Reads records in one language; caches each word's indexable forms."""

    def __init__(self, language: str) -> None:
        self.stems = Stemmers(language)
        self.cache: dict[str, list[Indexable]] = {}

    def indexable(self, word: str) -> list[Indexable]:
        found = self.cache.get(word)
        if found is None:
            found = indexable_words(word, self.stems)
            if len(self.cache) < MAX_CACHED and len(word) <= 64:
                self.cache[word] = found
        return found

    def page(self, record: dict[str, Any]) -> Page:
        content, words, anchors, count = self.digest(str(record["content"]))
        meta = {key: tidy(value) for key, value in sorted(record["meta"].items())}
        filters = {key: [tidy(v) for v in values] for key, values in sorted(record["filters"].items())}
        fragment = {"url": record["url"], "content": content, "word_count": count, "filters": filters, "meta": meta, "anchors": anchors}
        return Page(
            record["url"], orjson.dumps(fragment), count, words, self.meta_words(meta), list(meta), filters, dict(sorted(record["sort"].items()))
        )

    def meta_words(self, meta: dict[str, str]) -> dict[str, list[MetaPlace]]:
        found: dict[str, list[MetaPlace]] = {}
        for field_id, value in enumerate(meta.values()):
            for position, word in enumerate(split_whitespace(value)):
                for stemmed, original, _ in self.indexable(word):
                    found.setdefault(stemmed, []).append((field_id, position, original))
        return found

    def digest(self, text: str) -> tuple[str, dict[str, list[Place]], list[dict[str, Any]], int]:
        """``parse_digest``: the fragment's content, the word places, anchors and word count."""
        words: dict[str, list[Place]] = {}
        anchors: list[dict[str, Any]] = []
        kept: list[str] = []
        stack = [WEIGHT_BASE]
        index = last = 0
        for word in split_whitespace(text):
            if word[0] == "_" and word.startswith(("___PAGEFIND_", "___END_PAGEFIND_WEIGHT___")) and _marker(word, stack, anchors, index):
                continue
            base = word.replace("\u200b", "") if "\u200b" in word else word
            if not base:
                continue
            kept.append(base)
            weight = stack[-1] if stack else 1
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
            last = index
            index += 1
        return " ".join(kept), words, anchors, last + 1


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
