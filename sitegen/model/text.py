"""The rule for untrusted text: ``clean_text`` removes what breaks UTF-8 or
XML output or reorders text on screen, and normalises line ends; a quick
check skips the regex for text that is already clean."""

from __future__ import annotations

import re

# C0/C1 controls (but tab and newline), lone surrogates, the XML non-characters,
# and the invisible format controls that reorder or hide text (display spoofing):
# bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), the
# deprecated U+206A-U+206F and a stray byte order mark. The marks U+200E/U+200F
# and U+061C, and the joiners U+200C/U+200D, are kept: right-to-left and Indic
# text needs them, and they cannot reorder a run of text.
_UNPRINTABLE_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u206f\ud800-\udfff\ufeff\ufffe\uffff]")
#: The characters ``clean_text`` removes or changes that UTF-8 writes as a byte of their own.
_ONE_BYTE_UNPRINTABLE = bytes([*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F])  # \r (0x0d) included
#: The UTF-8 of the bidi and format controls ``clean_text`` removes (U+202A-U+202E, U+2066-U+206F).
_BIDI_BYTES_RE = re.compile(b"\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xaf]")


def clean_text(value: str) -> str:
    """Drop characters that break UTF-8 or XML output; normalise line ends."""
    if type(value) is str and _is_clean(value):
        return value
    return _UNPRINTABLE_RE.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def one_line(value: str) -> str:
    """``value`` cleaned, each run of whitespace collapsed to one space: the rule
    for one-line text inside lists (link kinds, media titles)."""
    return " ".join(clean_text(value).split())


def _is_clean(value: str) -> bool:
    """Whether ``clean_text`` has nothing to do. Two scans in C, several times
    quicker than the regex over an abstract; it may say False of clean text with
    rare characters, which the regex then handles.
    """
    try:
        data = value.encode()
    except UnicodeEncodeError:  # a lone surrogate
        return False
    # In UTF-8, bytes below 0x80 only ever stand for themselves.
    if len(data.translate(None, _ONE_BYTE_UNPRINTABLE)) != len(data):
        return False
    # The C1 controls are \xc2\x80-\xc2\x9f in UTF-8, U+FEFF-U+FFFF are
    # \xef\xbb\xbf-\xef\xbf\xbf, and the bidi controls \xe2\x80\xaa-\xe2\x81\xaf;
    # the regex decides for text with those lead bytes.
    if value.isascii():
        return True
    return b"\xc2" not in data and b"\xef" not in data and (b"\xe2" not in data or not _BIDI_BYTES_RE.search(data))
