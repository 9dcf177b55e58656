"""Markdown's inline marks in the search records' plain text: the ``*``, ``_``, ``~``
and backtick runs that the site's renderer (comrak: CommonMark plus GitHub's
strikethrough, ``sitegen.content.untrusted_markdown``) takes as emphasis, strong,
strikethrough or code-span delimiters go; the ones it shows as text stay.

A run can open when it is left-flanking (not followed by whitespace, and not
followed by punctuation unless preceded by whitespace or punctuation; a text's
start and end count as whitespace) and close when it is right-flanking (the
mirror image); ``_`` inside a word (``snake_case``, ``os.path_join``) neither
opens nor closes. A run goes only when it pairs with one of the same character,
by CommonMark's delimiter algorithm (a port of markdown-it's ``balance_pairs``,
linear in the number of marks): ``2 * 3``, ``the C* language``, ``*args`` stay.
A run of one or two tildes pairs with a run of as many (GitHub's strikethrough:
``~a~`` and ``~~a~~``); a run of three or more is text; and as in comrak, a closing
run that meets an opening run of the other length ends the pairing of the rest of the
paragraph. One known difference from comrak: beside a ``*`` or ``_`` run, comrak
takes a tilde for neither space nor punctuation in its own way (``a*~b*`` is emphasis
there), so such a mark may stay here where the page drops it; never a word.
A code span (backticks closed by a run of as many) keeps its content as written,
marks and spaces included, without its backticks; a lone backtick stays.
A backslash-escaped mark is the mark itself (an escaped backslash stays as
written, as other escapes do). Marks pair within a paragraph.

One departure from CommonMark: a ``__name__`` word (``__init__``, ``__slots__``,
``__init__.py``: two underscores, a name, two underscores) stays as written,
although CommonMark makes it a bold "name": in a talk archive it is a Python
name far more often than bold type, and searching for it must find it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: A backslash-escaped mark, a backtick run, an emphasis or strikethrough run (the
#: lookahead lets the engine skip to the next mark at C speed).
_TOKEN = re.compile(r"(?=[*_~`\\])(?:\\[\\`*_~]|`+|\*+|_+|~+)")
#: A ``__name__`` word, from its start.
_DUNDER = re.compile(r"(?<!\w)__(?=_*[^\W_])\w*__(?!\w)")
#: A blank line: marks do not pair across one (CommonMark's paragraphs).
_BLANK_LINE = re.compile(r"(\n[ \t]*\n)")
_BACKTICKS = re.compile(r"`+")
#: markdown-it's whitespace (``isWhiteSpace``): a text's start and end count as one.
_WHITESPACE = frozenset("\t\n\x0b\x0c\r \xa0\u1680\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B))))
_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


@dataclass(slots=True)
class _Delimiter:
    """One mark that may pair (``*`` and ``_`` one per character, ``~`` one per run)."""

    marker: str
    length: int  # its run's length: CommonMark's "rule of 3"; a ``~`` run pairs with one as long
    run: int  # the index of its run's text in the paragraph's pieces
    open: bool
    close: bool
    end: int = -1  # an opener's closer, once paired


def strip_marks(text: str) -> str:
    """``text`` without the inline marks its Markdown rendering would not show."""
    if "*" not in text and "_" not in text and "~" not in text and "`" not in text:
        return text
    parts = _BLANK_LINE.split(text)
    return "".join(part if i % 2 else _paragraph(part) for i, part in enumerate(parts))


def _paragraph(text: str) -> str:
    pieces: list[str] = []
    runs: list[tuple[int, str, int]] = []  # (index in pieces, mark, run length)
    delimiters: list[_Delimiter] = []
    last_runs: dict[int, int] | None = None  # a backtick run's length: where its last run starts
    pos = skip = 0
    for token in _TOKEN.finditer(text):
        start, end = token.span()
        if start < skip:
            continue
        mark = text[start]
        if mark == "_" and end - start > 1 and (name := _DUNDER.match(text, start)):
            skip = name.end()  # stays as written
            continue
        if mark in "*_~":
            can_open, can_close = _flanking(text, start, end)
            if not (can_open or can_close) or (mark == "~" and end - start > 2):
                continue  # text: ``snake_case``, ``2 * 3``, three tildes
        pieces.append(text[pos:start])
        pos = end
        if mark == "\\":
            pieces.append(text[start:end] if text[end - 1] == "\\" else text[end - 1])  # ``\\`` stays
        elif mark == "`":
            if last_runs is None:
                last_runs = {len(m.group()): m.start() for m in _BACKTICKS.finditer(text)}
            close = _code_end(text, end, end - start, last_runs)
            pieces.append(text[start:end] if close < 0 else text[end : close - (end - start)])
            pos = skip = max(close, end)
        else:
            runs.append((len(pieces), mark, end - start))
            pieces.append("")
            delimiters += _delimiters(mark, end - start, len(pieces) - 1, can_open, can_close)
    pieces.append(text[pos:])
    _balance(delimiters)
    used = _used(delimiters)
    for index, mark, length in runs:
        pieces[index] = mark * (length - used.get(index, 0))
    return "".join(pieces)


def _code_end(text: str, pos: int, length: int, last_runs: dict[int, int]) -> int:
    """Where the code span opened by ``length`` backticks before ``pos`` ends, or -1 (markdown-it's ``backtick``)."""
    if last_runs.get(length, -1) < pos:
        return -1
    while (found := text.find("`", pos)) >= 0:
        pos = found + 1
        while pos < len(text) and text[pos] == "`":
            pos += 1
        if pos - found == length:
            return pos
    return -1


def _flanking(text: str, start: int, end: int) -> tuple[bool, bool]:
    """Whether the run ``text[start:end]`` can open and close (markdown-it's ``scanDelims``)."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    space_before, space_after = before in _WHITESPACE, after in _WHITESPACE
    punct_before, punct_after = _is_punctuation(before), _is_punctuation(after)
    left = not (space_after or (punct_after and not (space_before or punct_before)))
    right = not (space_before or (punct_before and not (space_after or punct_after)))
    if text[start] != "_":  # ``*`` and ``~`` open and close inside a word too, ``_`` does not
        return left, right
    return left and (not right or punct_before), right and (not left or punct_after)


def _delimiters(mark: str, length: int, run: int, can_open: bool, can_close: bool) -> list[_Delimiter]:
    """A run's delimiters: one a character of ``*`` and ``_``; one a run of ``~``."""
    if mark == "~":
        return [_Delimiter(mark, length, run, can_open, can_close)]
    return [_Delimiter(mark, length, run, can_open, can_close) for _ in range(length)]


def _is_punctuation(char: str) -> bool:
    """markdown-it's ``isPunctChar``: Unicode punctuation and symbols (ASCII's included)."""
    return char in _ASCII_PUNCTUATION if char < "\x80" else unicodedata.category(char)[0] in "PS"


def _balance(delimiters: list[_Delimiter]) -> None:
    """Pair openers with closers, as markdown-it's ``processDelimiters`` does (its jumps
    and per-kind lower bounds keep it linear on hostile runs such as ``*_*_*_``)."""
    bottoms: dict[str, list[int]] = {}
    jumps: list[int] = []
    header, last_run = 0, -2
    for index, closer in enumerate(delimiters):
        jumps.append(0)
        if delimiters[header].marker != closer.marker or last_run != closer.run:
            header = index
        last_run = closer.run
        if not closer.close:
            continue
        kind = (3 if closer.open else 0) + closer.length % 3
        bottom = bottoms.setdefault(closer.marker, [-1] * 6)
        at = lowest = header - jumps[header] - 1
        while at > bottom[kind]:
            opener = delimiters[at]
            if opener.marker == closer.marker and opener.open and opener.end < 0 and not _rule_of_3(opener, closer):
                if opener.length != closer.length and closer.marker == "~":
                    return  # comrak: a tilde run meeting one of another length ends the pairing of the rest
                skip = jumps[at - 1] + 1 if at > 0 and not delimiters[at - 1].open else 0
                jumps[index] = index - at + skip
                jumps[at] = skip
                closer.open = opener.close = False
                opener.end = index
                lowest, last_run = -1, -2
                break
            at -= jumps[at] + 1
        if lowest != -1:
            bottom[kind] = lowest


def _rule_of_3(opener: _Delimiter, closer: _Delimiter) -> bool:
    """CommonMark: a run that can both open and close pairs only if the two runs' lengths
    do not add up to a multiple of 3, unless both are multiples of 3 (cmark-gfm holds tildes to it too)."""
    total = opener.length + closer.length
    return (opener.close or closer.open) and total % 3 == 0 and (opener.length % 3 != 0 or closer.length % 3 != 0)


def _used(delimiters: list[_Delimiter]) -> dict[int, int]:
    """How many marks of each run (by its index in the pieces) pairing used."""
    used: dict[int, int] = {}
    for opener in delimiters:
        if opener.end >= 0:
            width = opener.length if opener.marker == "~" else 1
            closer = delimiters[opener.end]
            used[opener.run] = used.get(opener.run, 0) + width
            used[closer.run] = used.get(closer.run, 0) + width
    return used
