"""The search records' plain text of Markdown (sitegen/search/records.py and marks.py):
its faster passes give what the one-pattern version gave, character for character
(the index's bytes depend on it), except for the emphasis and code marks that are
text (``snake_case``, ``2 * 3``), which stay, as the site's renderer shows them."""

from __future__ import annotations

import random
import re

import pytest

from sitegen.search.records import MAX_FIELD, plain_from_markdown

_IMAGE = re.compile(r"!\[([^\]\n]{0,500})\]\([^)\n]{0,2000}\)")
_LINK = re.compile(r"\[([^\]\n]{0,500})\]\([^)\n]{0,2000}\)")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]{1,2000})>")
_MARKS = re.compile(r"(?m)^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d{1,9}[.)]\s+)|^[ \t]{4,}(?:[-*+]|\d{1,9}[.)])\s+|[*_~`]+")
_SPACE = re.compile(r"[ \t]+")
_EMPHASIS = re.compile(r"[*_~`]+")


def one_pass(text: str | None) -> str:
    """The version before: every pattern applied, line marks and every emphasis mark in one."""
    if not text:
        return ""
    text = text[:MAX_FIELD]
    text = _AUTOLINK.sub(r"\1", _LINK.sub(r"\1", _IMAGE.sub(r"\1", text)))
    return _SPACE.sub(" ", _MARKS.sub("", text)).strip()


def without_marks(plain: str) -> str:
    """``plain`` without the emphasis and code marks that plain_from_markdown kept as text."""
    return _SPACE.sub(" ", _EMPHASIS.sub("", plain)).strip()


@pytest.mark.parametrize(
    "text",
    [
        "# Title\n\n**bold** and _it_ `code` ~~gone~~\n- item\n  * sub item\n1. first\n10) tenth",
        "**\n* x\n*** y\n#\n# z\n>quote\n> > nested\n   - indented\n    - nested deeper\n\t\t2. and deeper",
        "a\t\tb  c \t d\n\t- tab first\n![alt](img.png) [link](https://x.org) <https://y.org> <b>raw</b>",
        "#\n\n\n## ` `\n-\t\n+ \n1.\n",
        "",
        None,
        " " * 30 + "\t" + "*" * 10,
    ],
)
def test_plain_text_of_markdown_is_the_one_pass_version(text):
    assert without_marks(plain_from_markdown(text)) == one_pass(text)


def test_plain_text_of_random_markdown_is_the_one_pass_version():
    pieces = [*" \t\n\r\x0b\x0c*_~`#>-+.)19ab[]()!<>:/\u00a0\u2028\u3000", "https:", "![", "](", "\n\n", "  "]
    rng = random.Random(13)
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        assert without_marks(plain_from_markdown(text)) == one_pass(text), repr(text)


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("use snake_case and __init__", "use snake_case and __init__"),
        ("__slots__, os.path_join and __init__.py", "__slots__, os.path_join and __init__.py"),
        ("2 * 3 = 6", "2 * 3 = 6"),
        ("the C* language", "the C* language"),
        ("a lone ` tick", "a lone ` tick"),
        ("def f(*args, **kwargs)", "def f(*args, **kwargs)"),
        ("~100 people, ~~struck~~", "~100 people, struck"),
        # emphasis, strong and strikethrough marks go, beside marks that stay
        ("**bold** in snake_case", "bold in snake_case"),
        ("*it* is 2 * 3", "it is 2 * 3"),
        ("_em_ or my_var", "em or my_var"),
        ("~~strike~~ the C* language", "strike the C* language"),
        # GitHub's strikethrough (comrak): one tilde or two pair with as many; a run of another
        # length met first ends the pairing of the rest of the paragraph, emphasis too
        ("~one~ and ~~two~~ but ~~~three~~~ x", "one and two but ~~~three~~~ x"),
        ("~a~~ then ~~b~~ and *c*", "~a~~ then ~~b~~ and *c*"),
        ("***both*** and **__init__**", "both and __init__"),
        ("__two words__ or __main__", "two words or __main__"),
        ("*foo**bar* x_y", "foo**bar x_y"),  # CommonMark: the inner run is text
        # a code span: its backticks go, its content stays as written
        ("run `x = 1` or `*a* and __b__ and snake_case`", "run x = 1 or *a* and __b__ and snake_case"),
        ("``a ` b`` and `` `x` `` but ` alone", "a ` b and `x` but ` alone"),
        # a backslash-escaped mark is the mark; an escaped backslash stays
        (r"snake\_case and \*not em\*, \\*a*", r"snake_case and *not em*, \\a"),
        # marks do not pair across a blank line
        ("*not\n\nem* _x", "*not\n\nem* _x"),
        ("- item\n    * nested _item_", "item\nnested item"),
    ],
)
def test_marks_go_only_where_they_are_markup(text, plain):
    assert plain_from_markdown(text) == plain


def _rendered_text(md, text: str) -> str:
    """The text the site's renderer shows for ``text``, whitespace aside."""
    from sitegen.untrusted import read_html

    return "".join(read_html(md.html(text))[1].split())


@pytest.mark.parametrize(
    "pieces",
    [
        [*"ab *_`.()1é,", "**", "__", "``", " _", "_ ", "\nx ", "\n\nx ", r"\*", r"\_", r"\`"],
        [*"ab ~.()1é,", "~~", "~~~", "``", "\nx ", "\n\nx ", r"\~"],
    ],
    ids=["emphasis-and-code", "strikethrough"],
)
def test_marks_go_where_the_sites_renderer_takes_them_as_markup(pieces):
    """Random paragraphs of marks, words and punctuation: what stays is what the site's
    renderer (comrak) shows, whitespace aside, but for ``__name__`` words (kept on purpose).
    Tildes beside ``*`` or ``_`` are left out: comrak's flanking there is its own (marks.py)."""
    from sitegen.content import untrusted_markdown

    md = untrusted_markdown()
    dunder = re.compile(r"(?<!\w)__(?=_*[^\W_])\w*__(?!\w)")
    rng = random.Random(13)
    for _ in range(5_000):
        text = "x " + "".join(rng.choice(pieces) for _ in range(rng.randint(1, 14)))
        if not dunder.search(text):
            assert "".join(plain_from_markdown(text).split()) == _rendered_text(md, text), repr(text)


@pytest.mark.parametrize(
    "hostile",
    [
        "*_" * 50_000,
        "".join(random.Random(13).choice("*_") for _ in range(100_000)),
        "".join(random.Random(13).choice("*_ a`~") for _ in range(100_000)),
        "*a " * 33_334,
        "**a**_" * 16_667,
        "` `` " * 20_000,
        " __a_" * 20_000,
    ],
)
def test_hostile_marks_finish(hostile):
    """Pairing is linear in the marks (no backtracking, no rescans): 100,000 characters,
    whole (strip_marks) and as a record's field (cut at MAX_FIELD)."""
    from sitegen.search.marks import strip_marks

    assert len(plain_from_markdown(hostile)) <= MAX_FIELD
    assert len(strip_marks(hostile)) <= len(hostile)


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
