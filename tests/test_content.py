"""Markdown: untrusted API text is made safe; editor pages carry checked front matter."""

from __future__ import annotations

import json
import random

import pytest

from sitegen.content import Texts, load_pages, render_archive_texts
from sitegen.errors import ContentError
from sitegen.fetch import COLLECTIONS
from sitegen.model import build_archive
from sitegen.untrusted import _MARKUP, MAX_NESTING, UntrustedMarkdown, render_paragraphs, summarize


@pytest.fixture(scope="module")
def md():
    return UntrustedMarkdown()


def test_raw_html_in_untrusted_text_is_escaped(md):
    html = md.markdown("Hi <script>alert(1)</script> <img src=x onerror=alert(1)>").html
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_dangerous_link_schemes_are_not_links(md):
    html = md.markdown("[a](javascript:alert(1)) [b](vbscript:x) [c](https://ok.example.org/)").html
    assert 'href="javascript' not in html and 'href="vbscript' not in html
    assert '<a href="https://ok.example.org/" rel="nofollow ugc noopener">c</a>' in html


def test_links_and_images_with_an_unsafe_url_are_their_text(md):
    html = md.markdown("[x](javascript:alert(1)) <vbscript:y> ![im](javascript:x) [![i](https://ok.example.org/i.png)](file:///etc)").html
    assert html == '<p>x vbscript:y im <img src="https://ok.example.org/i.png" alt="i" /></p>\n'


def test_links_and_images_relative_to_the_page_are_their_text(md):
    """A relative URL in the data would point into this site, not the speaker's: ``sitegen
    check`` would fail on it as a broken internal link, and blame the template."""
    html = md.markdown("[slides](slides.pdf) [top](#top) [net](//host.example/x) ![pic](me.png) [ok](https://ok.example.org/a)").html
    assert html == '<p>slides top net pic <a href="https://ok.example.org/a" rel="nofollow ugc noopener">ok</a></p>\n'
    assert md.text("[slides](slides.pdf) and ![pic](me.png)") == "slides and pic"


def test_an_html_block_is_a_paragraph_of_text(md):
    html = md.markdown("# Title\n<script>\nalert(1)\n</script>\n\nafter").html
    assert html == "<h3>Title</h3>\n<p>&lt;script&gt;\nalert(1)\n&lt;/script&gt;</p>\n<p>after</p>\n"


def test_headings_are_demoted_below_the_page_headings(md):
    assert md.markdown("# Title\n\n## Sub").html == "<h3>Title</h3>\n<h4>Sub</h4>\n"


def test_text_nested_too_deep_is_shown_as_plain_paragraphs(md):
    """comrak renders a hundred thousand nested quotes; a page shows at most MAX_NESTING levels as Markdown."""
    assert md.markdown(">" * 10 + " quoted").html.count("<blockquote>") == 10
    deep = md.markdown(">" * 100_000 + " <b>x</b>")
    assert "<blockquote>" not in deep.html and deep.html.startswith("<p>&gt;&gt;&gt;") and "&lt;b&gt;" in deep.html
    # the quotes and the paragraph inside them: MAX_NESTING elements deep, and one more
    assert md.markdown("> " * (MAX_NESTING - 1) + "x").html.count("<blockquote>") == MAX_NESTING - 1
    assert "<blockquote>" not in md.markdown("> " * MAX_NESTING + "x").html


def test_a_renderer_panic_is_plain_text_not_a_crash(md, monkeypatch):
    """A Rust panic reaches Python as pyo3's PanicException, a BaseException: the text is shown plain."""

    class PanicException(BaseException):
        pass

    def panics(text, **options):
        raise PanicException("index out of bounds")

    monkeypatch.setattr("sitegen.untrusted.comrak.render_markdown", panics)
    assert md.markdown("*a* <b>").html == "<p>*a* &lt;b&gt;</p>\n"
    assert md.text("*a*  <b>") == "*a* <b>"
    monkeypatch.setattr("sitegen.untrusted.comrak.render_markdown", lambda text, **options: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        md.markdown("*a*")


def test_strikethrough_takes_one_tilde_or_two(md):
    assert md.markdown("~one~ ~~two~~ ~~~three~~~ x").html == "<p><del>one</del> <del>two</del> ~~~three~~~ x</p>\n"


def test_summary_is_plain_text_cut_at_a_word(md):
    rendered = md.markdown("**Bold** and `code` " + "word " * 100)
    assert rendered.summary.startswith("Bold and code word")
    assert len(rendered.summary) <= 160 and rendered.summary.endswith("word…")
    assert summarize("short") == "short"


def test_a_line_break_is_a_space_in_the_summary(md):
    assert md.markdown("first line\nsecond line  \nthird\n\nnext `x`\nend").summary == "first line second line third next x end"


def test_a_megabyte_of_hostile_text_is_shown_as_escaped_plain_text(minimal_site):
    raw = {name: json.loads((minimal_site / "data" / f"{name}.json").read_text())["data"] for name in COLLECTIONS}
    raw["sessions"][0]["abstract"] = ("*a* <script>x</script> [b](https://x.example.org) " * 25_000)[:1_000_000]
    texts, warnings = render_archive_texts(build_archive(raw).archive)
    rendered = texts.of(build_archive(raw).archive.sessions["x1"], "abstract")
    assert rendered.html.startswith("<p>*a* &lt;script&gt;x&lt;/script&gt; [b](https://x.example.org)")
    assert len(rendered.summary) <= 160
    assert [str(w) for w in warnings] == [
        "sessions id 'x1'.abstract: is 1,000,000 characters long; shown as plain text, not Markdown (fix: keep it to 100,000 characters or fewer)"
    ]


def page(folder, name: str, text: str):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_pages_with_toml_and_yaml_front_matter(tmp_path):
    page(tmp_path, "about.md", '+++\ntitle = "About"\nmenu = true\nweight = 2\n+++\n# Hello\n\n| a | b |\n|---|---|\n| 1 | 2 |\n')
    page(tmp_path, "team/index.md", "---\ntitle: Team\ndescription: Who we are\n---\nWe are *few*.\n")
    page(tmp_path, "draft.md", '+++\ntitle = "Later"\ndraft = true\n+++\nNot yet.\n')
    about, team = load_pages(tmp_path)
    assert (about.path, about.title, about.menu, about.weight) == ("about", "About", True, 2)
    assert '<h1 id="hello">Hello</h1>' in about.html and "<table>" in about.html
    assert (team.path, team.description) == ("team", "Who we are")
    assert "<em>few</em>" in team.html


def test_front_matter_problems_name_the_file_and_the_fix(tmp_path):
    page(tmp_path, "a.md", "No front matter here.\n")
    page(tmp_path, "b.md", '+++\ntitle = "B"\ncolour = "red"\nweight = "heavy"\n+++\n')
    page(tmp_path, "c.md", "+++\ntitle = \n+++\n")
    page(tmp_path, "d.md", '---\ndescription: "no title"\n---\n')
    page(tmp_path, "e.md", '+++\ntitle = "never closed"\n')
    page(tmp_path, "Bad Name.md", '+++\ntitle = "x"\n+++\n')
    page(tmp_path, "f.md", '+++\ntitle = "x"\ntemplate = "../../etc/passwd"\n+++\n')
    with pytest.raises(ContentError) as caught:
        load_pages(tmp_path)
    message = str(caught.value)
    assert message.startswith("The Markdown pages have 8 problem(s):")
    assert f"{tmp_path / 'f.md'}: front matter template = '../../etc/passwd' is not a template file name" in message
    assert f"{tmp_path / 'a.md'}: has no front matter (fix: start the file with +++" in message
    assert f"{tmp_path / 'b.md'}: unknown front matter key 'colour'" in message
    assert f"{tmp_path / 'b.md'}: front matter weight = 'heavy' is not a whole number" in message
    assert f"{tmp_path / 'c.md'}: front matter is not valid TOML" in message
    assert f"{tmp_path / 'd.md'}: front matter has no title" in message
    assert f"{tmp_path / 'e.md'}: front matter opened with +++ is never closed" in message
    assert "the path part 'Bad Name' is not a safe URL segment" in message


PLAIN_PIECES = ["a", "b", "é", "漢", " ", "  ", "\n", "\n\n", " \n", "-", "+", "=", "1", "1.", "2)", ".", ",", '"', "'", "!", "(", ")"]
PLAIN_PIECES += [":", "/", "\u00a0", "\u2003", "x y", "    ", "\ufeff", "\u200b", "%", "*", "_", "[", "]", "<", "&", "#", "|", "\t", "\r"]


def test_plain_paragraphs_take_a_short_path_with_markdown_its_bytes(md):
    """Texts without markup skip comrak (``untrusted.render_paragraphs``): the same
    HTML and summary as comrak's for every random text the short path takes."""
    rng = random.Random(11)
    texts = Texts()
    taken = 0
    for _ in range(30_000):
        text = "".join(rng.choice(PLAIN_PIECES) for _ in range(rng.randint(1, 14)))
        if _MARKUP.search(text) is None:
            taken += 1
            assert render_paragraphs(text) == md.markdown(text), repr(text)
        assert texts._render(text) == md.markdown(text), repr(text)
    assert taken > 3_000  # the short path is exercised, not only the general one
    assert _MARKUP.search('A talk about\nsomething, "quoted".\n\n  Second paragraph!') is None
    assert all(_MARKUP.search(t) for t in ("- item", "1. first", "two  \nlines", "a\n===", "    code", "a & b", "tab\there"))
