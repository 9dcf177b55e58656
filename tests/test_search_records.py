"""The search records' text of untrusted Markdown (``records.plain_from_markdown``, which is
``untrusted.UntrustedMarkdown.text``) is what the site's pages show of it, on one line: marks
the renderer takes as markup go, the ones it shows as text stay, link targets go; with one
departure, ``__name__`` words kept as written."""

from __future__ import annotations

import random
import re
from html.parser import HTMLParser

import pytest

from sitegen.search.records import plain_from_markdown
from sitegen.untrusted import UntrustedMarkdown


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
        # a backslash-escaped mark is the mark; an escaped backslash is a backslash
        (r"snake\_case and \*not em\*, \\*a*", r"snake_case and *not em*, \a"),
        # marks do not pair across a blank line
        ("*not\n\nem* _x", "*not em* _x"),
        ("- item\n    * nested _item_", "item nested item"),
        # what the page shows, where the regexes sitegen used before left link targets and marks
        ("[x](javascript:alert(1)) and [y](https://a.org/(b)) z", "x and y z"),
        ("[x][r] here\n\n[r]: https://example.org/ref", "x here"),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "a b 1 2"),
        ("Title one\n===\n\nbody &amp; &lt;soul&gt;", "Title one body & <soul>"),
        ("<b>raw</b> and <https://auto.example.org>", "<b>raw</b> and https://auto.example.org"),
    ],
)
def test_marks_go_only_where_they_are_markup(text, plain):
    assert plain_from_markdown(text) == plain


class _Shown(HTMLParser):
    """The text of a page's HTML as a browser shows it, by the standard library's parser
    (not the renderer's own reading of it)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _shown(html: str) -> str:
    parser = _Shown()
    parser.feed(html)
    parser.close()
    return "".join("".join(parser.parts).split())


@pytest.mark.parametrize(
    "pieces",
    [
        [*"ab *_`.()1é,", "**", "__", "``", " _", "_ ", "\nx ", "\n\nx ", r"\*", r"\_", r"\`"],
        [*"ab ~*_.()1é,", "~~", "~~~", "``", "\nx ", "\n\nx ", r"\~"],
        [*" \t\n*_`#>-+.)19ab[]()!<>:/&;|=\u00a0", "https:", "![", "](", "\n\n", "  ", "&amp;", "|-|", "\n===", "]: "],
    ],
    ids=["emphasis-and-code", "strikethrough", "blocks-links-entities"],
)
def test_the_records_text_is_what_the_page_shows(pieces):
    """Random Markdown of marks, words, links, tables, entities and blocks: the record's text
    is the text of the page's HTML (``UntrustedMarkdown.render``, short paths and all), read
    by another parser, whitespace aside; but for ``__name__`` words (kept on purpose)."""
    md = UntrustedMarkdown()
    dunder = re.compile(r"(?<!\w)__(?=_*[^\W_])\w*__(?!\w)")
    rng = random.Random(13)
    for _ in range(5_000):
        text = "x " + "".join(rng.choice(pieces) for _ in range(rng.randint(1, 14)))
        if not dunder.search(text):
            assert "".join(plain_from_markdown(text).split()) == _shown(md.render(text).html), repr(text)


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
    """100,000 characters of marks: the text shown is never longer than the source (a record
    then cuts it at MAX_FIELD, ``records._join``)."""
    assert len(plain_from_markdown(hostile)) <= len(hostile)


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
