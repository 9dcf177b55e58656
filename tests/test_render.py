"""Rendering: themes and overrides, template errors with file:line, and the machine formats."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from datetime import date

import icalendar
import pytest
from conftest import TODAY, edit_collection
from test_build import broken_internal_links

from sitegen.build import build_site
from sitegen.config import load_config
from sitegen.errors import AssetError, ContentError, TemplateError
from sitegen.render import formats
from sitegen.render.templates import date_range

ATOM = "{http://www.w3.org/2005/Atom}"


def child_theme(site, templates: dict[str, str] | None = None, static: dict[str, str] | None = None):
    theme = site / "themes" / "child"
    (theme / "templates").mkdir(parents=True)
    (theme / "theme.toml").write_text('extends = "default"\n')
    for name, text in (templates or {}).items():
        (theme / "templates" / name).write_text(text)
    for name, text in (static or {}).items():
        (theme / "static" / name).parent.mkdir(parents=True, exist_ok=True)
        (theme / "static" / name).write_text(text)
    return theme


def test_event_calendar_imports_with_correct_utc_times(minimal_site, build):
    build()
    raw = (minimal_site / "build/2024/minicon/event.ics").read_bytes()
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    calendar = icalendar.Calendar.from_ical(raw)
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {"e1@event.mini.example.org", "x1@mini.example.org", "x2@mini.example.org", "x3@mini.example.org"}
    late = events["x2@mini.example.org"]  # 23:30-00:15 local, on the night clocks went forward
    assert late["DTSTART"].dt.isoformat() == "2024-03-31T21:30:00+00:00"
    assert late["DTEND"].dt.isoformat() == "2024-03-31T22:15:00+00:00"
    assert str(late["SUMMARY"]) == "After midnight <script>x</script>"
    whole = events["e1@event.mini.example.org"]
    assert whole["DTSTART"].dt.isoformat() == "2024-03-30" and whole["DTEND"].dt.isoformat() == "2024-04-01"
    assert str(events["x1@mini.example.org"]["LOCATION"]) == "Main, Town Hall, Zürich, Switzerland"


def test_long_ics_lines_fold_without_splitting_characters():
    folded = formats._fold("DESCRIPTION:" + "Zoë " * 40)
    lines = folded.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in lines)
    assert "".join(line[1:] if i else line for i, line in enumerate(lines)) == "DESCRIPTION:" + "Zoë " * 40


def test_atom_feed_is_valid_xml_with_escaped_titles(minimal_site, build):
    build()
    feed = ET.parse(minimal_site / "build/feed.atom").getroot()
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["After midnight <script>x</script>", "More gears", "Analytical engines"]
    assert feed.findtext(f"{ATOM}updated") == "2024-01-01T00:00:00Z"
    first = entries[2]
    assert first.find(f"{ATOM}content").text.startswith("<h3>Intro</h3>")


def test_sitemap_becomes_an_index_past_the_protocol_limit(minimal_site, build, monkeypatch):
    monkeypatch.setattr(formats, "SITEMAP_LIMIT", 10)
    build()
    output = minimal_site / "build"
    index = ET.parse(output / "sitemap.xml").getroot()
    parts = [loc.text for loc in index.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert parts == [f"https://mini.example.org/sitemap-{n}.xml" for n in (1, 2, 3)]
    urls = [
        loc.text
        for n in (1, 2, 3)
        for loc in ET.parse(output / f"sitemap-{n}.xml").getroot().iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")
    ]
    assert len(urls) == 21 and "https://mini.example.org/404.html" not in urls


def test_site_theme_overrides_a_template_and_an_asset(minimal_site, build):
    child_theme(
        minimal_site,
        templates={"404.html": '{% extends "base.html" %}{% block content %}<p class="lost">Lost!</p>{% endblock %}'},
        static={"css/site.css": "body{color:red}"},
    )
    build(**{"build.theme": "child"})
    page = (minimal_site / "build/404.html").read_text()
    assert '<p class="lost">Lost!</p>' in page
    css = next((minimal_site / "build/static/css").glob("site.*.css"))
    assert css.read_text() == "body{color:red}" and css.name in page
    assert "Upcoming events" in (minimal_site / "build/index.html").read_text()  # inherited


def test_unknown_static_name_fails_naming_the_template_line(minimal_site, build):
    theme = child_theme(
        minimal_site, templates={"404.html": '{% extends "base.html" %}\n{% block content %}\n{{ static("css/nope.css") }}\n{% endblock %}'}
    )
    with pytest.raises(AssetError) as caught:
        build(**{"build.theme": "child"})
    message = str(caught.value)
    assert f"{theme / 'templates' / '404.html'}:3: rendering 404.html failed" in message
    assert "static asset 'css/nope.css'" in message


def test_template_syntax_error_names_file_and_line(minimal_site, build):
    theme = child_theme(minimal_site, templates={"topic.html": "<h1>\n{% if %}\n"})
    with pytest.raises(TemplateError, match=rf"{theme / 'templates' / 'topic.html'}:2: template syntax error"):
        build(**{"build.theme": "child"})


def test_undefined_variable_names_file_and_line(minimal_site, build):
    theme = child_theme(minimal_site, templates={"topic.html": "ok\n{{ topic.nmae }}\n"})
    with pytest.raises(TemplateError) as caught:
        build(**{"build.theme": "child"})
    assert f"{theme / 'templates' / 'topic.html'}:2: UndefinedError:" in str(caught.value)
    assert "nmae" in str(caught.value)


def test_page_template_error_names_the_markdown_page_first(minimal_site, build):
    (minimal_site / "content/pages/odd.md").write_text('+++\ntitle = "Odd"\ntemplate = "event.html"\n+++\n')
    with pytest.raises(TemplateError) as caught:
        build()
    message = str(caught.value)
    assert message.startswith(f"{minimal_site / 'content/pages/odd.md'}: its template 'event.html' failed:")
    assert "event.html:" in message and "'event' is undefined" in message


def test_text_of_a_series_and_an_event_with_the_same_id_stay_apart(minimal_site, build):
    """Ids are unique per type only; a series and an event may share one."""
    edit_collection(minimal_site, "series", lambda items: items[0].update(id="e1", description="SERIES TEXT"))
    edit_collection(minimal_site, "events", lambda items: [e.update(series="e1") for e in items])
    edit_collection(minimal_site, "events", lambda items: items[0].update(description="EVENT TEXT"))
    build()
    assert "SERIES TEXT" in (minimal_site / "build/series/minicon/index.html").read_text()
    assert "EVENT TEXT" not in (minimal_site / "build/series/minicon/index.html").read_text()
    assert "EVENT TEXT" in (minimal_site / "build/2024/minicon/index.html").read_text()


def test_page_that_collides_with_a_generated_page_is_an_error(minimal_site, build):
    (minimal_site / "content/pages/2024.md").write_text('+++\ntitle = "Clash"\n+++\n')
    with pytest.raises(ContentError) as caught:
        build()
    assert "2024/index.html: made by both the year.html page and" in str(caught.value)
    assert "content/pages/2024.md" in str(caught.value)


def test_site_below_a_sub_path(minimal_site, build):
    build(**{"site.base_url": "https://example.org/archive/", "site.static_url": "/archive/static/"})
    assert broken_internal_links(minimal_site / "build", base_path="/archive/") == []
    page = (minimal_site / "build/2024/minicon/index.html").read_text()
    assert 'href="/archive/people/ada/"' in page and 'href="/archive/static/css/site.' in page
    assert '<link rel="canonical" href="https://example.org/archive/2024/minicon/">' in page


def test_cdn_static_url(minimal_site, build):
    build(**{"site.static_url": "https://cdn.example.net/s/"})
    page = (minimal_site / "build/index.html").read_text()
    assert 'href="https://cdn.example.net/s/css/site.' in page


def test_pages_escape_hostile_text(minimal_site, build):
    build()
    page = (minimal_site / "build/people/bo/index.html").read_text()
    assert "<script>" not in page.split("</head>")[1]
    assert "<h1>Bo &lt;b&gt;Bold&lt;/b&gt;</h1>" in page
    assert 'href="javascript' not in page


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2024-09-12", "2024-09-12", "12 September 2024"),
        ("2024-09-12", "2024-09-13", "12–13 September 2024"),
        ("2024-09-30", "2024-10-02", "30 September – 2 October 2024"),
        ("2024-12-31", "2025-01-01", "31 December 2024 – 1 January 2025"),
    ],
)
def test_date_ranges(start, end, expected):
    assert date_range(date.fromisoformat(start), date.fromisoformat(end)) == expected


def test_check_finds_links_that_lead_nowhere(minimal_site):
    config = load_config(minimal_site)
    assert build_site(config, today=TODAY, write=False).stages["links"] >= 0  # the shipped theme has none
    child_theme(
        minimal_site,
        templates={
            "404.html": '{% extends "base.html" %}{% block content %}<a href="/nowhere/">x</a>\n'
            '<a href="../gone.html">y</a><a href="https://example.org/">ok</a><a href="#top">ok</a>{% endblock %}',
        },
    )
    with pytest.raises(TemplateError) as caught:
        build_site(load_config(minimal_site, {"build.theme": "child"}), today=TODAY, write=False)
    message = str(caught.value)
    assert message.startswith("2 internal link(s) lead to no page of the site:")
    assert "404.html: links to /nowhere/, which is not part of the site" in message
    assert "404.html: links to ../gone.html" in message
    assert not (minimal_site / "build").exists()


def test_check_understands_a_site_below_a_sub_path(minimal_site):
    config = load_config(minimal_site, {"site.base_url": "https://example.org/archive/", "site.static_url": "/archive/static/"})
    build_site(config, today=TODAY, write=False)
    wrong = load_config(minimal_site, {"site.base_url": "https://example.org/archive/"})  # assets still at /static/
    with pytest.raises(TemplateError, match="links to /static/css/site"):
        build_site(wrong, today=TODAY, write=False)


def test_once_renders_a_spot_once_per_key():
    from sitegen.render.templates import make_environment

    env = make_environment([], {})
    calls = []
    env.globals["count"] = lambda: calls.append(1) or len(calls)
    template = env.from_string(
        "{% for k in keys %}{% once k %}[{{ k }}:{{ count() }}]{% endonce %}{% endfor %}|"
        "{% for k in keys %}{% once k %}({{ k }}){% endonce %}{% endfor %}"
    )
    assert template.render(keys=["a", "b", "a"]) == "[a:1][b:2][a:1]|(a)(b)(a)"
    assert template.render(keys=["b"]) == "[b:2]|(b)"  # kept for the build (one environment)
    # A kept entry is printed as it was made (escaped once, not again), and a top-level once exports nothing.
    escaped = env.from_string("{% once k %}<i>{{ k }}</i>{% endonce %}")
    assert escaped.render(k="<&>") == escaped.render(k="<&>") == "<i>&lt;&amp;&gt;</i>"
    assert [name for name in escaped.make_module({"k": "x"}).__dict__ if name.startswith("_once")] == []


def test_json_ld_is_compact_json_with_what_ends_a_script_escaped():
    """``structured.script_json``: json.dumps's compact text, non-ASCII kept, and ``< > &``
    and the JavaScript line separators escaped, for random text."""
    import json
    import random

    from sitegen.render.structured import script_json

    escapes = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"})
    rng = random.Random(5)
    pieces = list('<>&\u2028\u2029ab"\\é😀 /') + ["</script>", "<!--", "\n", "\x00"]
    for _ in range(5_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        data = {"name": text, "list": [text, 1]}
        expected = json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(escapes)
        assert str(script_json(data)) == f'<script type="application/ld+json">{expected}</script>'


def test_output_escape_and_direct_calls_give_jinja_s_own_bytes():
    """``OutputTemplate`` (a plain str escaped without a Markup object) and
    ``DirectCallContext`` (plain functions and macros called directly) change
    no byte: the same templates through a stock Jinja environment give the same
    text. It also pins the Jinja detail they rely on: compiled code takes
    ``escape`` from its module's namespace."""
    import jinja2
    from markupsafe import Markup

    from sitegen.render.templates import make_environment, output_escape

    class Html:
        def __html__(self) -> str:
            return "<b>ok</b>"

    class Callable_:
        def __call__(self, value: str) -> str:
            return f"<{value}>"

        def method(self, value: str) -> str:
            return f"[{value}]"

        @jinja2.pass_context
        def context_method(self, ctx: jinja2.runtime.Context, name: str) -> str:
            return f"{ctx[name]}!"

    def ends() -> str:
        raise StopIteration

    values = {
        "text": "<a href=\"x\">'&'</a>",
        "safe": Markup("<i>kept</i>"),
        "html": Html(),
        "number": 3,
        "nothing": None,
        "shout": lambda v: v.upper(),
        "object_call": Callable_(),
        "method": Callable_().method,
        "context_method": Callable_().context_method,
        "from_context": jinja2.pass_context(lambda ctx, name: ctx[name]),
        "from_env": jinja2.pass_environment(lambda env, v: f"{type(env).__name__}:{v}"),
        "ends": ends,
    }
    source = (
        "{% macro m(x, y='<d>') %}<m>{{ x }}{{ y }}</m>{% endmacro %}{% macro c(x) %}<c>{{ x }}{{ caller(x) }}</c>{% endmacro %}"
        "{{ text }}|{{ safe }}|{{ html }}|{{ number }}|{{ nothing }}|{{ text|e }}|{{ text|safe }}|{{ text ~ safe }}"
        "|{{ shout(text) }}|{{ object_call(text) }}|{{ method(text) }}|{{ context_method('text') }}|{{ from_context('text') }}|{{ from_env(text) }}"
        "|{{ m(text) }}|{{ m(safe, y=text) }}|{% call(v) c(text) %}{{ v }}{{ safe }}{% endcall %}"
        "|{% set block %}{{ text }}{{ safe }}{% endset %}{{ block }}|{{ block|length }}"
        "|{% filter upper %}{{ text }}{% endfilter %}|{% for x in [text, safe] %}{{ loop.index }}{{ x }}{% endfor %}"
        "|{{ ends() is undefined }}"
    )
    ours = make_environment([], {}).from_string(source)
    stock = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(source)
    assert ours.root_render_func.__globals__["escape"] is output_escape
    assert type(stock.root_render_func.__globals__["escape"]("<")) is Markup
    assert ours.render(values) == stock.render(values)
    assert "&lt;a href=&#34;x&#34;&gt;" in ours.render(values)


def test_feeds_and_calendars_reusing_session_text_give_the_same_bytes(minimal_site, build, monkeypatch):
    """A session's feed entry and VEVENT are made once per build and reused in
    every feed and calendar holding it (``formats.Syndication``); with nothing
    reused (a limit of 0) every file is the same."""
    made: list[str] = []
    make = formats.Syndication._vevent
    monkeypatch.setattr(formats.Syndication, "_vevent", lambda self, session: made.append(session.id) or make(self, session))
    build()
    files = sorted(p for p in (minimal_site / "build").rglob("*") if p.suffix in {".ics", ".atom"})
    assert len(files) > 5
    reused = {p: p.read_bytes() for p in files}
    assert made and len(made) == len(set(made))  # one VEVENT per session, in every calendar
    made.clear()
    monkeypatch.setattr(formats, "REUSE_LIMIT", 0)
    shutil.rmtree(minimal_site / "build")
    build()
    assert {p: p.read_bytes() for p in files} == reused
    assert len(made) > len(set(made))  # a session in more than one calendar was made again for each
