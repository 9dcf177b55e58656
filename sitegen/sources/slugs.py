"""Slugs from names in other formats: folding a name to the contract's
characters (a-z, 0-9, -), and how long a base may be before a suffix that
makes it unique is added."""

from __future__ import annotations

import re
import unicodedata

#: Slugs are cut here before a suffix that makes them unique is added.
SLUG_BASE_LENGTH = 80


def slugify(text: str) -> str:
    """``text`` ASCII-folded (accents dropped, other letters left out), lower-cased,
    with every run of other characters one "-"; "" when nothing survives. Not cut."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
