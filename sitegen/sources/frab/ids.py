"""Ids and slugs from the data alone: ids cut to the contract's length (a
digest keeps them unique), slugs ASCII-folded, and unique slugs for names
several objects share."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from sitegen.contract import MAX_ID_LENGTH, MAX_SLUG_LENGTH, slugify


def _bounded_id(text: str) -> str:
    """An id within the contract's length, still unique: a long one ends in a digest of itself."""
    return text if len(text) <= MAX_ID_LENGTH else f"{text[: MAX_ID_LENGTH - 17]}~{_digest(text, 16)}"


def _digest(text: str, length: int = 8) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def _slug(value: Any) -> str:
    """The contract's slug of a string (``sitegen.contract.slugify``); "" for anything else or blank."""
    return slugify(value) if isinstance(value, str) else ""


def _joined(base: str, suffix: str) -> str:
    return f"{base[: MAX_SLUG_LENGTH - len(suffix) - 1].rstrip('-')}-{suffix}"


def _unique_slugs(
    bases: Mapping[str, str], suffix: Callable[[str], str], fallback: Callable[[str], str] | None = _digest
) -> dict[str, str]:
    """key -> its base slug, made unique: every key of a shared base gets its
    suffix, so no slug depends on which key came first. A suffixed slug that
    still meets another gets the ``fallback`` (a digest of its key) instead."""
    shared = Counter(bases.values())
    slugs = {key: base if shared[base] == 1 else _joined(base, _slug(suffix(key)) or _digest(key)) for key, base in bases.items()}
    if fallback is not None:
        taken = Counter(slugs.values())
        slugs = {key: slug if taken[slug] == 1 else _joined(bases[key], fallback(key)) for key, slug in slugs.items()}
    return slugs
