#!/usr/bin/env python3
"""Issue 13's warm keystroke latency alone, on a site already built (no rebuilds, no cold bytes).

    .venv/bin/python bench/search_warm.py SITE_ROOT [--queries 20] [--paste] [--facets] [--profile OUT.cpuprofile]

Serves SITE_ROOT/build as S3 would (``S3LikeOrigin`` (tests/search_browser.py), the headers ``sitegen publish``
uploads), opens /search/ in headless Chromium, types the cold query once to warm the page, then
types ``search_bench.warm_queries`` key by key (``search_timing.type_query``: from the last
keystroke's ``input`` event to the first DOM change that shows the final result titles) and prints
median and p90. ``--profile`` records a CPU profile of the page's main thread over the warm queries
(Chromium DevTools protocol, ``Profiler``), to open in DevTools' Performance panel (Pagefind's
search itself runs in its Web Worker, which that profile does not cover: see ``search_cost.py``);
``--facets`` opens the facet panel first, so that every query's facet counts are part of the time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.dont_write_bytecode = True
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "tests"))

import search_bench  # noqa: E402
import search_timing  # noqa: E402
from search_browser import chromium, site_origin  # noqa: E402

SELECTORS = {"input": "#search-q", "title": "[data-search-results] h2"}


def run(root: Path, queries: list[str], paste: bool, profile: Path | None, facets: bool = False) -> dict[str, Any]:
    with site_origin(root) as origin, chromium() as browser:
        page, traffic, _ = search_timing.open_cold(browser, origin.url, "/search/", SELECTORS, "/pagefind/")
        search_timing.type_query(page, SELECTORS, search_bench.COLD_QUERY, traffic)
        if facets:  # the facet panel open: every query's results are filtered and counted too
            page.click("[data-search-facets-open]")
            page.wait_for_selector("[data-search-facets] input", timeout=search_timing.QUERY_TIMEOUT_MS)
            traffic.quiet(page)
        cdp = page.context.new_cdp_session(page)
        if profile:
            cdp.send("Profiler.enable")
            cdp.send("Profiler.setSamplingInterval", {"interval": 200})
            cdp.send("Profiler.start")
        runs = [search_timing.type_query(page, SELECTORS, q, traffic, paste=paste) for q in queries]
        if profile:
            profile.write_text(json.dumps(cdp.send("Profiler.stop")["profile"]), encoding="utf-8")
    return search_timing.summarize(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="a site root whose build/ has the search index")
    parser.add_argument("--queries", type=int, default=search_bench.WARM_QUERIES)
    parser.add_argument("--paste", action="store_true", help="one input event per query instead of typing")
    parser.add_argument("--facets", action="store_true", help="open the facet panel before the warm queries")
    parser.add_argument("--profile", type=Path, help="write the main thread's CPU profile here")
    args = parser.parse_args()
    result = run(args.root, search_bench.warm_queries(args.root, args.queries), args.paste, args.profile, args.facets)
    first, settled = result["first_shown_ms"], result["settled_ms"]
    for r in result["runs"]:
        print(f"{r['query']!r:32} first {r['first_ms']} ms, settled {r['settled_ms']} ms, {r.get('mutations')} mutations")
    print(f"load average: {os.getloadavg()}")
    print(
        f"warm, {'pasted' if args.paste else 'typed'}: {result['queries']} queries ({result['timed_out']} timed out); "
        f"keystroke -> results shown median {first['median']:.0f} ms, p90 {first['p90']:.0f} ms, max {first['max']:.0f} ms; "
        f"settled median {settled['median']:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
