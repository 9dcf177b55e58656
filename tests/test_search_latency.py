"""Issue 13's warm keystroke latency, guarded without timing anything: a quickly typed query is one
Pagefind search, not one per key; Pagefind is never handed the facet filters (its per-value counts
scan the whole result list for every value: seconds per query on a 10,000-talk archive), the page
counts them itself; and each facet shows a bounded number of values while the counts follow the query."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from search_browser import S3LikeOrigin, chromium_page
from test_search import build_cli

GEN = Path(__file__).resolve().parent.parent / "bench" / "gen.py"
SHOWN_VALUES = 12  # values per facet before "All N values" (search.js)

# Every message the page posts to Pagefind's worker: {method, filters of a search}.
WATCH_WORKER = """(() => {
  const sent = window.__pagefindMessages = [];
  const post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (message, ...rest) {
    if (message && message.method) {
      const options = message.method === "search" && message.args ? message.args[1] || {} : {};
      const term = message.method === "search" && message.args ? message.args[0] : null;
      sent.push({method: message.method, filters: Object.keys(options.filters || {}).length, term: term});
    }
    return post.call(this, message, ...rest);
  };
})()"""


def methods(page, name: str) -> list[dict]:
    return [m for m in page.evaluate("window.__pagefindMessages") if m["method"] == name]


@pytest.fixture
def generated_site(tmp_path: Path) -> Path:
    """bench/gen.py's archive, 80 sessions: hundreds of topic values, dozens of speakers."""
    site = tmp_path / "gen"
    subprocess.run([sys.executable, str(GEN), "--sessions", "80", "--out", str(site)], check=True, capture_output=True, timeout=120)
    build_cli(site)
    return site


def wait_until(ready: Callable[[], object], seconds: float = 15) -> None:
    """Poll ``ready`` in real time until it is true (a page with a paused clock polls nothing itself)."""
    deadline = time.monotonic() + seconds
    while not ready():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def status_count(page) -> int:
    return int(page.inner_text("[data-search-status]").split()[0])


@pytest.mark.slow
def test_typing_is_one_search_and_facets_are_counted_in_the_page(generated_site: Path):
    with S3LikeOrigin(generated_site / "build") as origin, chromium_page() as (page, requests):
        page.add_init_script(WATCH_WORKER)
        # Pagefind loaded and warm first: one search, then an empty box.
        page.clock.install()
        page.goto(f"{origin.url}/search/")
        page.fill("#search-q", "zzzz")
        page.wait_for_function("document.querySelector('[data-search-status]').textContent.includes('zzzz')")
        page.fill("#search-q", "")
        page.wait_for_function("document.querySelector('[data-search-status]').textContent === ''")
        page.evaluate("window.__pagefindMessages.length = 0")
        # The page's timers run on a paused fake clock while typing, so a key comes 50 ms (of
        # the page's time) after the last however busy the machine is; and the index chunks are
        # held until the last key, so the first search is still running when the others come.
        held = []
        page.route("**/pagefind/index/**", lambda route: held.append(route))
        page.clock.pause_at(page.evaluate("Date.now()") + 1000)  # the page's time moves only by run_for
        for key in "lessons":  # 7 keys, each quicker than a pause
            page.keyboard.type(key)
            page.clock.run_for(50)
        wait_until(lambda: methods(page, "search"))  # the first search has gone to Pagefind (polled: the page's clock is paused)
        for route in held:
            route.continue_()
        page.unroute("**/pagefind/index/**")
        page.clock.resume()
        page.wait_for_function("document.querySelector('[data-search-status]').textContent.includes('lessons')")
        assert "q=lessons" in page.url
        # Not one search per key (the old page made 7), and none of "l" or "le" (a search of a
        # word's first letters loads the index chunks of every word they start): the first key
        # with five letters (search.js: EAGER) starts one, and the keys that come while it runs make one more.
        terms = [m["term"] for m in methods(page, "search")]
        assert terms == ["lesso", "lessons"], f"7 keystrokes made these searches: {terms}"
        assert held, "the searches loaded no index chunk: nothing was held"
        total = status_count(page)

        page.click("[data-search-facets-open]")
        page.wait_for_selector("input[name=topic]")
        sets = page.locator("[data-search-facets] fieldset")
        for i in range(sets.count()):
            assert sets.nth(i).locator("input").count() <= SHOWN_VALUES
        kinds = page.locator("input[name=kind] + .count").all_inner_texts()
        assert sum(int(c.strip("()")) for c in kinds) == total  # every result has one kind
        topic = page.locator("input[name=topic]").first
        value, shown = topic.get_attribute("value"), page.locator("input[name=topic] + .count").first.inner_text()
        topic.check()
        page.wait_for_function("document.querySelector('[data-search-status]').textContent.includes('(filtered)')")
        assert status_count(page) == int(shown.strip("()")) < total  # the count shown was the filtered result count
        assert page.is_checked(f"input[name=topic][value='{value}']")
        kinds = page.locator("input[name=kind] + .count").all_inner_texts()
        assert sum(int(c.strip("()")) for c in kinds) == status_count(page)  # the counts followed the filter

        page.uncheck(f"input[name=topic][value='{value}']")
        page.wait_for_function(f"document.querySelector('[data-search-status]').textContent.startsWith('{total} result')")
        more = page.locator("button[data-facet=topic]")
        all_topics = int(more.inner_text().split()[1])
        assert all_topics > SHOWN_VALUES and more.get_attribute("aria-expanded") == "false"
        more.focus()
        page.keyboard.press("Enter")
        assert page.locator("input[name=topic]").count() == all_topics
        assert page.evaluate("document.activeElement.getAttribute('data-facet') === 'topic'")
        assert page.get_attribute("button[data-facet=topic]", "aria-expanded") == "true"

        # a facet alone, from the URL: every page it allows, drawn from the fragments
        page.goto(f"{origin.url}/search/?topic={quote_plus(value)}")
        page.wait_for_function(f"document.querySelector('[data-search-status]').textContent.startsWith('{shown.strip('()')} result')")
        page.wait_for_function(
            f"document.querySelectorAll('[data-search-results] h2 a[href^=\\'/\\']').length === {min(5, int(shown.strip('()')))}"
        )
        assert page.is_checked(f"input[name=topic][value='{value}']")

        # Pagefind never loaded a filter: the page read the filter files and counted
        assert methods(page, "filters") == [] and all(m["filters"] == 0 for m in methods(page, "search"))
        assert not [r for r in requests if r.startswith("pageerror:") or not r.startswith(origin.url)]
