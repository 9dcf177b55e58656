"""The one slug of a name, for every converter and the model's city slugs.

A name is spelled in ASCII by one transliteration (``anyascii``: "Łódź" is
"Lodz", "Straße" "Strasse", "Ærøskøbing" "Aeroskobing", "Москва" "Moskva",
"東京" "DongJing", "🐍" ":snake:"), lower-cased, and every run of other
characters becomes one "-". Folding is meant to merge spellings of one Latin
name ("München", "Munchen"); a romanisation of another script is lossy (Chinese
homophones, Arabic without vowels), so a name with letters but none of them
Latin also gets a digest of the name (NFC) appended: "Москва" is
"moskva-<8 hex>", readable, stable and distinct for distinct names. A name of
which nothing survives (only punctuation) is the digest alone."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from anyascii import anyascii

#: A slug is cut here, leaving room for a suffix that makes it unique (the contract allows 100).
SLUG_BASE_LENGTH = 80
#: Hex digits of the digest a name with no Latin letters (or nothing spelled) gets.
DIGEST_LENGTH = 8

#: How much of a name is spelled: more than a slug's length, however the name spells (hostile text can be long).
_SPELLED_CHARS = 4 * SLUG_BASE_LENGTH
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def ascii_spelling(text: str) -> str:
    """``text`` in ASCII, as the one transliteration spells it (case kept)."""
    return anyascii(unicodedata.normalize("NFC", text))


def is_latin_letter(char: str) -> bool:
    """Whether ``char`` is a letter of the Latin script (any accent, full-width too)."""
    return char.isalpha() and (char.isascii() or "LATIN" in unicodedata.name(char, ""))


def slugify(text: str) -> str:
    """The slug of ``text`` (see the module): a-z, 0-9 and "-", at most
    ``SLUG_BASE_LENGTH`` characters; "" only for blank text."""
    name = text.strip()
    if name.isascii():  # most names: nothing to spell, and any letter is Latin (what follows, made short)
        return _NOT_SLUG.sub("-", name[:_SPELLED_CHARS].lower()).strip("-")[:SLUG_BASE_LENGTH].rstrip("-") or _digest(name)
    name = unicodedata.normalize("NFC", name)
    spelled = name[:_SPELLED_CHARS]  # enough for the slug's length; the digest reads the whole name
    base = _NOT_SLUG.sub("-", anyascii(spelled).lower()).strip("-")
    if base and (any(map(is_latin_letter, spelled)) or not any(char.isalpha() for char in spelled)):
        return base[:SLUG_BASE_LENGTH].rstrip("-")
    head = base[: SLUG_BASE_LENGTH - DIGEST_LENGTH - 1].rstrip("-")
    return f"{head}-{_digest(name)}" if head else _digest(name)


def _digest(name: str) -> str:
    """The first hex digits of the SHA-1 of a (stripped, NFC) name; "" for none."""
    return hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:DIGEST_LENGTH] if name else ""
