"""The search page against hostile data (issue 13b): excerpts show the archive's text as its pages
do (never as HTML), an unbroken 20,000-character word wraps instead of widening the
page, a facet past its cap says so, and "newest first" says what it leaves out."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import edit_collection
from search_browser import S3LikeOrigin, chromium_page
from test_search import build_cli, collection

LITERAL = "AT&amp;T &lt;b&gt;"  # the data's own characters: entities as text, not as markup
#: The same characters in an abstract, as its page shows them: Markdown reads entities.
SHOWN = "AT&T <b>"
TOKEN = "W" * 20_000
EXPANDED_VALUES = 200  # values of one facet shown at most (search.js)
STATUS = "document.querySelector('[data-search-status]').textContent"


def status_text(page) -> str:
    return page.inner_text("[data-search-status]")


@pytest.mark.slow
def test_excerpts_show_the_datas_text_literally_and_the_page_does_not_scroll_sideways(minimal_site: Path):
    def hostile(items: list[dict]) -> None:
        items[0].update(title=f"Zanzibar {LITERAL} {TOKEN[:300]}", abstract=f"Zanzibar {LITERAL} <b>bold</b> {TOKEN} end")

    edit_collection(minimal_site, "sessions", hostile)
    build_cli(minimal_site)
    with S3LikeOrigin(minimal_site / "build") as origin, chromium_page() as (page, requests):
        page.set_viewport_size({"width": 1000, "height": 800})
        page.goto(f"{origin.url}/search/?q=zanzibar")
        page.wait_for_function(f"{STATUS}.includes('zanzibar')")
        assert page.inner_text("[data-search-results] h2").startswith(f"Zanzibar {LITERAL} W")
        excerpt = page.locator("[data-search-results] .excerpt").first
        text = excerpt.evaluate("e => e.textContent")
        assert f"Zanzibar {SHOWN} <b>bold</b> WWWW" in text  # as the abstract's page shows it: text, never markup
        assert excerpt.locator("b, script, img").count() == 0
        assert excerpt.locator("mark").all_inner_texts()[:2] == ["Zanzibar", "Zanzibar"]
        assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("document.documentElement.clientWidth") + 2

        # the facets-alone results draw their excerpts from the fragments: the same text
        page.goto(f"{origin.url}/search/?kind=talk")
        page.wait_for_function(f"{STATUS}.includes('(filtered)')")
        first = page.locator("[data-search-results] .excerpt").first.evaluate("e => e.textContent")
        assert first.startswith(f"Zanzibar {LITERAL} WWWW")
        assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("document.documentElement.clientWidth") + 2
    assert not [r for r in requests if r.startswith("pageerror:") or not r.startswith(origin.url)]


@pytest.mark.slow
def test_a_facet_past_its_cap_says_how_many_values_are_not_shown(minimal_site: Path):
    many = [{"id": f"m{n}", "slug": f"many-{n}", "name": f"Many {n:03d}", "updated_at": "2024-01-01T00:00:00+00:00"} for n in range(230)]
    edit_collection(minimal_site, "topics", lambda items: items.extend(many))

    def spread(items: list[dict]) -> None:  # at most 100 topics a session (the contract)
        for n, session in enumerate(items[:3]):
            session["topics"].extend(t["id"] for t in many[n * 90 : (n + 1) * 90])

    edit_collection(minimal_site, "sessions", spread)
    total = len({t for s in collection(minimal_site, "sessions") for t in s["topics"]})
    assert total > EXPANDED_VALUES
    build_cli(minimal_site)
    with S3LikeOrigin(minimal_site / "build") as origin, chromium_page() as (page, requests):
        page.goto(f"{origin.url}/search/?kind=talk")
        page.wait_for_function(f"{STATUS}.includes('(filtered)')")
        toggle = page.locator("button[data-facet=topic]")
        assert toggle.inner_text() == f"Show {EXPANDED_VALUES} of {total}"
        toggle.click()
        page.wait_for_function("document.querySelector('button[data-facet=topic]').getAttribute('aria-expanded') === 'true'")
        assert page.locator("input[name=topic]").count() == EXPANDED_VALUES
        note = page.inner_text("[data-search-facets] .search-facet-note")
        assert note.startswith(f"{total - EXPANDED_VALUES} more topic values not shown") and "type in the search box" in note
    assert not [r for r in requests if r.startswith("pageerror:") or not r.startswith(origin.url)]


@pytest.mark.slow
def test_newest_first_says_it_lists_talks_and_events_only(minimal_site: Path):
    build_cli(minimal_site)
    with S3LikeOrigin(minimal_site / "build") as origin, chromium_page() as (page, requests):
        page.goto(f"{origin.url}/search/?q=lovelace")
        page.wait_for_function(f"{STATUS}.includes('lovelace')")
        best = status_text(page)
        assert "newest first" not in best
        page.select_option("#search-sort", "newest")
        page.wait_for_function(f"{STATUS}.includes('newest first')")
        newest = status_text(page)
        assert int(newest.split()[0]) < int(best.split()[0])  # the person Ada Lovelace-Ng has no date
        assert "newest first lists talks and events only" in newest
    assert not [r for r in requests if r.startswith("pageerror:") or not r.startswith(origin.url)]


def test_the_no_javascript_years_link_goes_to_the_years_list(minimal_site: Path):
    build_cli(minimal_site)
    search = (minimal_site / "build/search/index.html").read_text(encoding="utf-8")
    noscript = search.split("<noscript>", 1)[1].split("</noscript>", 1)[0]
    assert 'href="/#years">events by year</a>' in noscript
    assert 'id="years"' in (minimal_site / "build/index.html").read_text(encoding="utf-8")
