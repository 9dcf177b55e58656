#!/usr/bin/env python3
"""What one Pagefind search costs on a built site, with and without its filters loaded.

    .venv/bin/python bench/search_cost.py SITE_ROOT [QUERY ...]

Serves SITE_ROOT/build as S3 would and, in headless Chromium, calls Pagefind's JS API directly (no
search.js): each query twice, then again after ``pagefind.filters()`` (which loads every filter
file, after which every search also counts every facet value; Pagefind counts a value by scanning
the result list for each of its pages, so the cost grows with values' pages times results).
Prints the wall ms, results, counted facet values and Pagefind's own timings.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.dont_write_bytecode = True
sys.path.insert(0, str(BENCH.parent / "tests"))

from search_browser import chromium, site_origin  # noqa: E402

INIT = """async () => { window.pf = await import('/pagefind/pagefind.js');
  await pf.options({basePath: '/pagefind/', excerptLength: 24}); await pf.init(); }"""
SEARCH = """async (term) => { const start = performance.now(); const r = await pf.search(term, {});
  const values = Object.values(r.filters || {}).reduce((n, o) => n + Object.keys(o).length, 0);
  return {ms: performance.now() - start, results: r.results.length, values, timings: r.timings}; }"""


def main() -> int:
    root, terms = Path(sys.argv[1]), sys.argv[2:] or ["d", "documentation", "documentation l", "documentation libraries", "testing"]
    with site_origin(root) as origin, chromium() as browser:
        page = browser.new_page()
        page.goto(origin.url + "/search/")
        page.evaluate(INIT)
        for with_filters in (False, True):
            if with_filters:
                page.evaluate("async () => { await pf.filters(); }")
            for term in terms:
                for _ in range(2):
                    r = page.evaluate(SEARCH, term)
                    print(
                        f"filters {'loaded' if with_filters else 'not loaded'}: {term!r:28} {r['ms']:7.0f} ms  {r['results']:6} results  "
                        f"{r['values']:5} values counted  {r['timings']}"
                    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
