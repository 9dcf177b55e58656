"""Pagefind 1.5.2's word processing, for one record (``fossick/mod.rs``
``parse_digest`` and ``parse_meta_words``, ``fossick/splitting.rs``).

A record's content is split on Unicode White_Space (Rust's
``split_whitespace``, not Python's ``str.split``, which also splits on
U+001C..U+001F); each word is lowercased character by character, kept to its
alphanumeric characters and Pagefind's word symbols, folded to its form
without diacritics and stemmed (Snowball 3.0.0 English, as ``pagefind_stem``
1.0.0; PyStemmer 3.0.0 bundles the same). A word with punctuation or an
inner capital is also indexed as its parts (convert_case's boundaries), at a
share of its weight, and any emoji in it as itself. Pagefind's markers
(``___PAGEFIND_WEIGHT___2`` ...) in the text act as they do in Pagefind.

Known differences from the binary (documented in the README): characters
assigned after Python's Unicode version (3.11: Unicode 14) and emoji added
after Unicode 15.1 are not classified as Rust's tables would.
"""

from __future__ import annotations

import re
import struct
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

import Stemmer

#: Rust's ``char::is_whitespace`` (Unicode White_Space).
WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_SPLIT = re.compile(f"[{WHITESPACE}]+")
_PRIVATE = re.compile(f"___PAGEFIND_[^{WHITESPACE}]+[{WHITESPACE}]?")
#: Pagefind's default ``include_characters`` (Unicode Punctuation, Connector).
WORD_SYMBOLS = ("_", "\u203f", "\u2040", "\u2054", "\ufe33", "\ufe34", "\ufe4d", "\ufe4e", "\ufe4f", "\uff3f")
_SYMBOLS = frozenset(WORD_SYMBOLS)
_ASCII_PUNCT = re.compile(r"""[!-/:-@\[-`{-~]""")
#: What ``_normalized`` drops of an ASCII word: all but letters, digits and ``_``.
_ASCII_DROPPED = re.compile(r"[^A-Za-z0-9_]")
_NUMERIC = frozenset(("Nd", "Nl", "No"))
#: Other_Alphabetic marks and symbols that Rust's ``is_alphabetic`` counts (Python's ``isalpha`` does not).
_OTHER_ALPHA = frozenset(("Mn", "Mc", "So"))
#: Words this long are not cached (a hostile 20,000-character word is processed once).
_CACHE_WORD = 64
WEIGHT_BASE = 24


_SEPARATORS = re.compile("[\x1c-\x1f]")


def split_whitespace(text: str) -> list[str]:
    """Rust's ``split_whitespace``: Python's ``str.split`` but for U+001C..U+001F, which it also splits on."""
    if _SEPARATORS.search(text) is None:
        return text.split()
    return [word for word in _SPLIT.split(text) if word]


def tidy(value: str) -> str:
    """Pagefind's removal of its private markers from meta and filter values."""
    return _PRIVATE.sub("", value) if "___PAGEFIND_" in value else value


@cache
def _alphanumeric(char: str) -> bool:
    """Rust's ``char::is_alphanumeric`` (Alphabetic or Numeric)."""
    if char.isalpha():
        return True
    category = unicodedata.category(char)
    if category in _NUMERIC:
        return True
    return category in _OTHER_ALPHA and _other_alphabetic(char)


def _other_alphabetic(char: str) -> bool:
    # Python has no Alphabetic property: a mark or symbol whose name says it is a
    # vowel sign, a letter or a circled/parenthesized Latin letter is Other_Alphabetic.
    name = unicodedata.name(char, "")
    return any(
        part in name
        for part in (
            "VOWEL SIGN",
            "CIRCLED LATIN",
            "SQUARED LATIN",
            "NEGATIVE CIRCLED LATIN",
            "SIGN ANUSVARA",
            "SIGN VISARGA",
            "SIGN CANDRABINDU",
        )
    )


@cache
def _uppercase(char: str) -> bool:
    """Rust's ``char::is_uppercase`` (the Uppercase property)."""
    return char.isupper()


def _lower_char(char: str) -> str:
    if char.isascii():
        return char.lower()
    return char.lower() if _uppercase(char) else char


def _normalized(word: str) -> str:
    if word.isascii() and word.isalnum():
        return word.lower()
    return "".join(_lower_char(c) for c in word if _alphanumeric(c) or c in _SYMBOLS)


def _fold(word: str) -> str | None:
    """The word without its combining marks, when that differs (``normalize_diacritics``)."""
    if word.isascii():
        return None
    folded = "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.category(c).startswith("M"))
    return folded if folded != word else None


@dataclass
class Stemmers:
    """The stemmer of a language (None: Pagefind has none for it), with a cache."""

    language: str
    stemmer: Any = None
    cache: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        name = _STEMMERS.get(self.language.split("-")[0])
        self.stemmer = Stemmer.Stemmer(name) if name else None

    def stem(self, word: str) -> str:
        if self.stemmer is None:
            return word
        found = self.cache.get(word)
        if found is None:
            found = self.stemmer.stemWord(word)
            if len(word) <= _CACHE_WORD:
                self.cache[word] = found
        return found


_STEMMERS = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "da": "danish", "nl": "dutch", "en": "english",
    "fi": "finnish", "fr": "french", "de": "german", "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian",
    "ga": "irish", "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "sr": "serbian", "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish",
    "yi": "yiddish",
}  # fmt: skip

#: One indexable word: (stemmed, original form before folding or None, is a compound part).
Indexable = tuple[str, "str | None", bool]


def indexable_words(raw: str, stems: Stemmers) -> list[Indexable]:
    """``get_indexable_words``: the word itself, its parts, and its emoji."""
    if raw.isascii():
        return _ascii_indexable(raw, stems)
    results: list[Indexable] = []
    normalized = _normalized(raw)
    if normalized:
        folded = _fold(normalized)
        results.append((stems.stem(folded if folded is not None else normalized), normalized if folded is not None else None, False))
    if not (any(not _alphanumeric(c) for c in raw) or any(_uppercase(c) for c in raw[1:])):
        return results
    parts = discrete_words(raw)
    if normalized and (" " in parts or not normalized.startswith(parts)):
        for part in parts.split(" "):
            if len(part.encode("utf-8")) > 1:
                folded = _fold(part)
                results.append((stems.stem(folded if folded is not None else part), part if folded is not None else None, True))
    results.extend((emoji, None, False) for emoji in emoji_in(raw))
    return results


#: convert_case's default boundaries where every grapheme is one ASCII character (most
#: words): lower before upper or digit, upper before digit, digit before a letter, and
#: the last of two uppers before a lower (``HTTPServer``: ``HTTP Server``). Each test of
#: ``_boundary`` reads only its own graphemes, so cutting at every match is the same.
_ASCII_CUTS = re.compile(r"(?<=[a-z])(?=[A-Z0-9])|(?<=[A-Z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _ascii_indexable(raw: str, stems: Stemmers) -> list[Indexable]:
    """``indexable_words`` of an ASCII word (most words): nothing to fold, no emoji, and
    its alphanumeric characters are [A-Za-z0-9]."""
    normalized = _ASCII_DROPPED.sub("", raw).lower()
    results: list[Indexable] = [(stems.stem(normalized), None, False)] if normalized else []
    if raw.isalnum() and raw[1:] == raw[1:].lower():
        return results
    parts = discrete_words(raw)
    if normalized and (" " in parts or not normalized.startswith(parts)):
        results.extend((stems.stem(part), None, True) for part in parts.split(" ") if len(part) > 1)
    return results


def discrete_words(raw: str) -> str:
    """ASCII punctuation to spaces, then convert_case 0.11's ``Case::Lower`` (its default boundaries)."""
    text = _ASCII_PUNCT.sub(" ", raw)
    if text.isascii():  # one character a grapheme: the boundaries are a pattern (_ASCII_CUTS)
        return " ".join(split_whitespace(_ASCII_CUTS.sub(" ", text).lower()))
    return cut_graphemes(text)


def cut_graphemes(text: str) -> str:
    """convert_case's ``Case::Lower`` of ``text``, grapheme by grapheme (any text)."""
    graphemes = _graphemes(text)
    words, start = [], 0
    for i in range(len(graphemes)):
        cut = _boundary(graphemes, i)
        if cut is not None:
            words.append("".join(graphemes[start : i + cut[0]]))
            start = i + cut[0] + cut[1]
    words.append("".join(graphemes[start:]))
    return " ".join(split_whitespace(" ".join(word.lower() for word in words)))


def _is_upper(g: str) -> bool:
    return g.upper() != g.lower() and g == g.upper()


def _is_lower(g: str) -> bool:
    return g.upper() != g.lower() and g == g.lower()


def _is_digit(g: str) -> bool:
    return g.isascii() and g.isdigit()


def _boundary(g: list[str], i: int) -> tuple[int, int] | None:
    """(start, length) of the first default boundary at grapheme ``i``, as convert_case tests them."""
    first = g[i]
    if first in ("_", "-", " "):
        return (0, 1)
    second = g[i + 1] if i + 1 < len(g) else None
    if second is None:
        return None
    if _is_lower(first) and (_is_upper(second) or _is_digit(second)):
        return (1, 0)
    if _is_upper(first) and _is_digit(second):
        return (1, 0)
    if _is_digit(first) and (_is_lower(second) or _is_upper(second)):
        return (1, 0)
    if _is_upper(first) and _is_upper(second) and i + 2 < len(g) and _is_lower(g[i + 2]):
        return (1, 0)
    return None


def _load_emoji() -> frozenset[str]:
    text = files("sitegen.search").joinpath("emojis.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.split("\n") if line)


EMOJI = _load_emoji()
_EMOJI_CHARS = frozenset(c for e in EMOJI for c in e)
_ASCII_EMOJI = any(emoji.isascii() for emoji in EMOJI)


def emoji_in(raw: str) -> list[str]:
    """The graphemes of ``raw`` that are emoji (``emojis::get``)."""
    if raw.isascii() and not _ASCII_EMOJI:  # no emoji is ASCII alone (a keycap needs U+FE0F U+20E3)
        return []
    if not any(c in _EMOJI_CHARS for c in raw):
        return []
    return [g for g in _graphemes(raw) if g in EMOJI]


_ZWJ = "\u200d"


def _extend(char: str) -> bool:
    """Grapheme_Extend or SpacingMark, roughly: no cluster break before it."""
    if char in (_ZWJ, "\u200c") or "\U0001f3fb" <= char <= "\U0001f3ff" or "\U000e0020" <= char <= "\U000e007f":
        return True
    return unicodedata.category(char) in ("Mn", "Me", "Mc")


def _pictographic(char: str) -> bool:
    return char in _EMOJI_CHARS and ord(char) > 0xFF or unicodedata.category(char) == "So"


def _regional(char: str) -> bool:
    return "\U0001f1e6" <= char <= "\U0001f1ff"


def _graphemes(text: str) -> list[str]:
    """Extended grapheme clusters (UAX #29) for what the index cares about:
    combining marks, ZWJ emoji sequences, flags, CR LF and Hangul syllables."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        if text[i] == "\r" and j < n and text[j] == "\n":
            out.append("\r\n")
            i = j + 1
            continue
        if _regional(text[i]) and j < n and _regional(text[j]):
            j += 1
        while j < n:
            char = text[j]
            if _extend(char):
                j += 1
            elif text[j - 1] == _ZWJ and _pictographic(char) and _pictographic(_base(text, i, j)):
                j += 1
            elif _hangul_joins(text[j - 1], char):
                j += 1
            else:
                break
        out.append(text[i:j])
        i = j
    return out


def _base(text: str, start: int, end: int) -> str:
    """The last non-extend character of the cluster text[start:end]."""
    for k in range(end - 1, start - 1, -1):
        if not _extend(text[k]):
            return text[k]
    return text[start]


def _hangul_joins(before: str, after: str) -> bool:
    b, a = ord(before), ord(after)
    lead = 0x1100 <= b <= 0x115F or 0xA960 <= b <= 0xA97C
    vowel_a = 0x1160 <= a <= 0x11A7 or 0xD7B0 <= a <= 0xD7C6
    trail_a = 0x11A8 <= a <= 0x11FF or 0xD7CB <= a <= 0xD7FB
    syllable_b = 0xAC00 <= b <= 0xD7A3
    if lead and (0x1100 <= a <= 0x115F or vowel_a or 0xAC00 <= a <= 0xD7A3):
        return True
    if (syllable_b and (b - 0xAC00) % 28 == 0 or 0x1160 <= b <= 0x11A7) and (vowel_a or trail_a):
        return True
    return (syllable_b or 0x11A8 <= b <= 0x11FF) and trail_a


def f32(value: float) -> float:
    """``value`` rounded to an IEEE single, as Rust's f32 holds it."""
    try:
        return float(struct.unpack("<f", struct.pack("<f", value))[0])
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


def parse_f32(text: str) -> float | None:
    """Rust's ``str::parse::<f32>``: no underscores, no spaces, no hex."""
    if not text or "_" in text or text.strip() != text or text.lower().startswith(("0x", "+0x", "-0x")):
        return None
    try:
        return f32(float(text))
    except ValueError:
        return None


def weight_of(text: str, auto: bool) -> int:
    """A ``___PAGEFIND_WEIGHT___`` (or AUTO) marker's weight, as Pagefind casts it to u8."""
    weight = parse_f32(text)
    weight = 1.0 if weight is None else weight
    if not auto and weight <= 0.0:
        return 0
    clamped = weight if weight != weight else min(max(weight, 0.0), 10.0)
    product = f32(clamped * 24.0)
    value = 0 if product != product else max(0, min(255, int(product)))
    return value if auto else max(value, 1)
