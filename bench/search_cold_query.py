"""A cold first query on a built site, in headless Chromium (Debian's), over loopback.

    .venv/bin/python bench/search_cold_query.py BUILD_DIR ["django testing"]

Serves BUILD_DIR as S3 would (tests/search_browser.py), opens /search/?q=...
in a fresh browser and prints the requests and bytes until the first results
are on screen, in total (facet panel closed), and after opening the facet panel.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import quote_plus

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from search_browser import S3LikeOrigin, chromium_page  # noqa: E402


def main() -> None:
    folder, query = Path(sys.argv[1]), (sys.argv[2] if len(sys.argv) > 2 else "django testing")
    with S3LikeOrigin(folder) as origin, chromium_page() as (page, _):
        sizes: list[tuple[str, int]] = []
        page.on("requestfinished", lambda r: sizes.append((r.url, (r.sizes() or {}).get("responseBodySize", 0))))
        page.goto(f"{origin.url}/search/?q={quote_plus(query)}")
        page.wait_for_function("document.querySelector('[data-search-status]').textContent !== ''", timeout=60_000)
        at_first = len(sizes)  # the status is set once the first results are on screen
        page.wait_for_timeout(500)
        print(page.inner_text("[data-search-status]"))
        report("first results on screen", origin.url, sizes[:at_first], detail=False)
        report("total, facet panel closed", origin.url, sizes, detail=True)
        opener = page.locator("[data-search-facets-open]")
        if opener.count() and opener.is_visible():
            opener.click()
            page.wait_for_selector("[data-search-facets] input", timeout=60_000)
            page.wait_for_timeout(500)
            report("after opening the facet panel", origin.url, sizes, detail=False)


def report(label: str, base: str, sizes: list[tuple[str, int]], *, detail: bool) -> None:
    search = [(u, s) for u, s in sizes if "/pagefind/" in u or "/js/search." in u]
    print(
        f"{label}: page and search {len(sizes)} requests, {sum(s for _, s in sizes)} bytes;"
        f" search alone {len(search)} requests, {sum(s for _, s in search)} bytes"
    )
    for url, size in search if detail else []:
        print(f"{size:>8}  {url.replace(base, '')}")


if __name__ == "__main__":
    main()
