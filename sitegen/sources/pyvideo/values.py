"""Single values of pyvideo/data, read leniently: one-line text, a day, the
years a name holds, keys for ids; "" or None for anything unusable."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Any

from sitegen.contract import DATE_RE, MAX_ID_LENGTH, MAX_LINE_CHARS, YEARS

#: ``warn(where, what, fix)``: report one thing left out or filled in.
Warn = Callable[[str, str, str], None]

#: A year the contract accepts, standing alone in a name ("PyCon US 2019", "djangocon-2013").
YEAR_RE = re.compile(r"(?<![0-9])(19[0-9]{2}|2[01][0-9]{2})(?![0-9])")
#: Control characters (C0, DEL, C1), which no name or title needs.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def line(value: Any) -> str:
    """A one-line text: NFC, control characters dropped, whitespace collapsed; "" for a non-string."""
    if not isinstance(value, str):
        return ""
    return " ".join(_CONTROL_RE.sub(" ", unicodedata.normalize("NFC", value)).split())


def cut_line(text: str, where: str, warn: Warn) -> str:
    """``text`` within the contract's one-line limit (the model refuses longer ones); cut with a warning."""
    if len(text) <= MAX_LINE_CHARS:
        return text
    warn(where, f"is longer than the contract's {MAX_LINE_CHARS} characters for one line; cut", "shorten it")
    return text[: MAX_LINE_CHARS - 1].rstrip() + "…"


def day(value: Any) -> str | None:
    """The day of ``recorded`` (YYYY-MM-DD, a time after it ignored), or None when it names none."""
    if not isinstance(value, str) or not DATE_RE.match(value.strip()):
        return None
    text = value.strip()[:10]
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        return None
    return text if parsed.year in YEARS else None


def years_named(*texts: str) -> list[int]:
    """The years the texts name, sorted, each once."""
    return sorted({int(year) for text in texts for year in YEAR_RE.findall(text)})


def without_years(title: str) -> str:
    """A category's title without its years: the name of its series ("PyCon US 2019" -> "PyCon US")."""
    rest = " ".join(YEAR_RE.sub(" ", title).split()).strip(" -–—:,/")
    return rest or title


def digest(text: str, length: int = 10) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def key_id(prefix: str, key: str) -> str:
    """A stable id from ``key`` (a name or file name): readable when it is printable and short, else a digest of it."""
    text = f"{prefix}{key}"
    if key and key.isprintable() and len(text) <= MAX_ID_LENGTH:
        return text
    return f"{prefix}{''.join(char for char in key[:80] if char.isprintable())}~{digest(key, 16)}"
