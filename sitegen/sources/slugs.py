"""Slugs from names, for every converter and the model's city slugs: folding a
name to the contract's characters (a-z, 0-9, -) with the usual ASCII spelling
of letters Unicode does not decompose ("Łódź" is "lodz", "Straße" "strasse"),
and how long a base may be before a suffix that makes it unique is added."""

from __future__ import annotations

import re
import unicodedata

#: Slugs are cut here before a suffix that makes them unique is added.
SLUG_BASE_LENGTH = 80

#: Letters that Unicode does not decompose into ASCII but that have a usual spelling in it.
_ASCII_SPELLING = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "þ": "th",
        "Þ": "Th",
    }
)


def slugify(text: str) -> str:
    """``text`` ASCII-folded (accents dropped, the letters above spelled out, other
    letters left out), lower-cased, with every run of other characters one "-";
    "" when nothing survives. Not cut."""
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII_SPELLING)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


def slug_base(text: str) -> str:
    """``slugify(text)`` cut to ``SLUG_BASE_LENGTH``, leaving room for a suffix; "" when nothing survives."""
    return slugify(text)[:SLUG_BASE_LENGTH].strip("-")
