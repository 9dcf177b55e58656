"""The search records' plain text of Markdown (sitegen/search/records.py): its
faster passes give what the one-pattern version gave, character for character
(the index's bytes depend on it)."""

from __future__ import annotations

import random
import re

import pytest

from sitegen.search.records import MAX_FIELD, plain_from_markdown

_IMAGE = re.compile(r"!\[([^\]\n]{0,500})\]\([^)\n]{0,2000}\)")
_LINK = re.compile(r"\[([^\]\n]{0,500})\]\([^)\n]{0,2000}\)")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]{1,2000})>")
_MARKS = re.compile(r"(?m)^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d{1,9}[.)]\s+)|[*_~`]+")
_SPACE = re.compile(r"[ \t]+")


def one_pass(text: str | None) -> str:
    """The version before: every pattern applied, line marks and emphasis in one."""
    if not text:
        return ""
    text = text[:MAX_FIELD]
    text = _AUTOLINK.sub(r"\1", _LINK.sub(r"\1", _IMAGE.sub(r"\1", text)))
    return _SPACE.sub(" ", _MARKS.sub("", text)).strip()


@pytest.mark.parametrize(
    "text",
    [
        "# Title\n\n**bold** and _it_ `code` ~~gone~~\n- item\n  * sub item\n1. first\n10) tenth",
        "**\n* x\n*** y\n#\n# z\n>quote\n> > nested\n   - indented\n    - too far",
        "a\t\tb  c \t d\n\t- tab first\n![alt](img.png) [link](https://x.org) <https://y.org> <b>raw</b>",
        "#\n\n\n## ` `\n-\t\n+ \n1.\n",
        "",
        None,
        " " * 30 + "\t" + "*" * 10,
    ],
)
def test_plain_text_of_markdown_is_the_one_pass_version(text):
    assert plain_from_markdown(text) == one_pass(text)


def test_plain_text_of_random_markdown_is_the_one_pass_version():
    pieces = [*" \t\n\r\x0b\x0c*_~`#>-+.)19ab[]()!<>:/\u00a0\u2028\u3000", "https:", "![", "](", "\n\n", "  "]
    rng = random.Random(13)
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        assert plain_from_markdown(text) == one_pass(text), repr(text)


def test_ascii_words_cut_by_pattern_as_by_graphemes():
    """discrete_words cuts an ASCII word with one pattern (most words); it must cut it
    where the grapheme-by-grapheme rules do (which tests/test_search_writer.py checks
    against Pagefind's binary), for camelCase, acronyms, digits and punctuation."""
    from sitegen.search import words

    rnd = random.Random(13)
    alphabet = "aAzZbB09_-. :#*\x01\x1c"
    samples = ["HTTPServer", "getHTTPResponse2xx", "py3k", "IPv6Address", "ABCdef", "a1B2c3", "x__Y--z", "JSONEncoder."]
    samples += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 10))) for _ in range(20_000)]
    for word in samples:
        text = words._ASCII_PUNCT.sub(" ", word)
        assert words.discrete_words(word) == words.cut_graphemes(text), word
