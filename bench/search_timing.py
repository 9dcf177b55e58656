"""The browser side of ``search_bench.py``: headless Chromium typing queries into the search page
of a built site served from 127.0.0.1 the way S3 serves a published one (``S3LikeOrigin`` and the
Chromium flags come from tests/search_browser.py, the tests' own, so tests and benchmarks see the
same origin).

* ``cold_then_warm`` opens the search page in a fresh browser context (empty cache), counts the
  page load's requests and bytes, types the cold query and counts what that costs, then types the
  warm queries on the same page, timing each in the page with ``performance.now()``: from the
  last keystroke's ``input`` event to the first DOM mutation after which the result titles are the
  ones the query ends with (a MutationObserver on the document).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from search_browser import chromium  # noqa: E402  (the tests' browser and flags, one place)

TYPING_DELAY_MS = 60  # between keystrokes, like a quick typist; the debounce sees every key
SETTLE_MS = 1000  # no DOM mutation for this long after the last keystroke: the results are final
QUERY_TIMEOUT_MS = 30_000

INSTRUMENT = """([title]) => {
  const sb = window.__sb = {input: null, marks: []};
  const titles = () => Array.from(document.querySelectorAll(title)).map(e => e.textContent.trim()).join('\\n');
  document.addEventListener('input', () => { sb.input = performance.now(); sb.marks = []; }, true);
  new MutationObserver(() => { if (sb.input !== null) sb.marks.push([performance.now(), titles()]); })
    .observe(document.documentElement, {subtree: true, childList: true, characterData: true, attributes: true});
  sb.titles = titles;
}"""
SETTLED = f"""() => {{ const sb = window.__sb;
  return sb.marks.length > 0 && performance.now() - sb.marks[sb.marks.length - 1][0] > {SETTLE_MS}; }}"""
TIMING = """() => { const sb = window.__sb; const final = sb.titles(); let k = sb.marks.length;
  while (k > 0 && sb.marks[k - 1][1] === final) { k--; }
  const first = sb.marks[k];
  return {final_titles: final ? final.split('\\n').length : 0, first_ms: first ? first[0] - sb.input : null,
          settled_ms: sb.marks.length ? sb.marks[sb.marks.length - 1][0] - sb.input : null, mutations: sb.marks.length}; }"""


class Traffic:
    """Every request the page makes, its workers' included (Pagefind searches in a Web Worker, whose
    requests CDP reports on another target): Playwright's request events, with each finished
    request's sizes (response headers and body as received, before decoding)."""

    def __init__(self, context: Any) -> None:
        self.requests: list[Any] = []
        self.done: set[int] = set()
        context.on("request", lambda r: self.requests.append(r))
        context.on("requestfinished", lambda r: self.done.add(id(r)))
        context.on("requestfailed", lambda r: self.done.add(id(r)))

    def quiet(self, page: Any, ms: int = 500, timeout_ms: int = QUERY_TIMEOUT_MS) -> None:
        """Pump events until no request has been in flight for ``ms``."""
        deadline, calm_since = time.monotonic() + timeout_ms / 1000, 0.0
        while time.monotonic() < deadline:
            page.wait_for_timeout(50)
            busy = any(id(r) not in self.done for r in self.requests)
            calm_since = 0.0 if busy else (calm_since or time.monotonic())
            if calm_since and time.monotonic() - calm_since >= ms / 1000:
                return
        pending = [r.url for r in self.requests if id(r) not in self.done]
        raise RuntimeError(f"the page kept loading for {timeout_ms / 1000:.0f} s: {len(pending)} requests pending, e.g. {pending[:3]}")

    def since(self, first: int, origin: str, index_prefix: str) -> dict[str, Any]:
        """The requests from number ``first`` on (``len(self.requests)`` at a mark)."""
        rows = []
        for r in self.requests[first:]:
            if r.url.startswith("data:"):
                continue
            sizes = r.sizes() if r.failure is None else {"responseBodySize": 0, "responseHeadersSize": 0}
            body, head = max(0, sizes["responseBodySize"]), max(0, sizes["responseHeadersSize"])
            rows.append({"url": r.url, "path": urlsplit(r.url).path, "body": body, "wire": body + head, "failed": r.failure})
        index = [x for x in rows if x["path"].startswith(index_prefix)]
        return {
            "requests": len(rows),
            "wire_bytes": sum(x["wire"] for x in rows),
            "body_bytes": sum(x["body"] for x in rows),
            "index_requests": len(index),
            "index_wire_bytes": sum(x["wire"] for x in index),
            "failed": [x["url"] for x in rows if x["failed"]],
            "third_party": sorted({x["url"] for x in rows if not x["url"].startswith(origin + "/")}),
            "paths": sorted(x["path"] for x in rows),
        }


def type_query(page: Any, selectors: dict[str, str], query: str, traffic: Traffic, paste: bool = False) -> dict[str, Any]:
    """Clear the box (and let the page settle), type ``query`` key by key, wait for the results to
    settle (a DOM change after the last key, then none for SETTLE_MS, and no request in flight)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    if page.input_value(selectors["input"]):
        page.fill(selectors["input"], "")
        page.wait_for_timeout(SETTLE_MS)
    page.click(selectors["input"])
    if paste:  # one input event: the search's own cost, without the searches of the prefixes typed
        page.fill(selectors["input"], query)
    else:
        page.keyboard.type(query, delay=TYPING_DELAY_MS)
    try:
        page.wait_for_function(SETTLED, timeout=QUERY_TIMEOUT_MS, polling=100)
        traffic.quiet(page)
        page.wait_for_function(SETTLED, timeout=QUERY_TIMEOUT_MS, polling=100)
    except PlaywrightTimeout:
        return {"query": query, "timed_out": True, "final_titles": 0, "first_ms": None, "settled_ms": None}
    return dict(page.evaluate(TIMING)) | {"query": query}


def cold_then_warm(site: str, page_path: str, selectors: dict[str, str], cold: str, warm: list[str], index_prefix: str) -> dict[str, Any]:
    """The cold query typed key by key, then the warm queries on the same page; and the cold query
    again in another fresh context, pasted (one input event), to tell typing's share apart."""
    with chromium() as browser:
        page, traffic, first = _cold_query(browser, site, page_path, selectors, cold, index_prefix)
        timings = [type_query(page, selectors, q, traffic) for q in warm]
        pasted_timings = [type_query(page, selectors, q, traffic, paste=True) for q in warm]
        traffic.quiet(page)
        everything = traffic.since(0, site, index_prefix)
        page.context.close()
        page, traffic, _ = open_cold(browser, site, page_path, selectors, index_prefix)
        mark = len(traffic.requests)
        page.fill(selectors["input"], cold)
        page.wait_for_function(SETTLED, timeout=QUERY_TIMEOUT_MS, polling=100)
        traffic.quiet(page)
        pasted = traffic.since(mark, site, index_prefix) | {"timing": page.evaluate(TIMING)}
    return first | {
        "cold_query_pasted": pasted,
        "warm": summarize(timings),
        "warm_pasted": summarize(pasted_timings),
        "all_requests": everything,
    }


def cold_only(site: str, page_path: str, selectors: dict[str, str], cold: str, index_prefix: str) -> dict[str, Any]:
    """The page load and the cold query typed, in a fresh context: what a first visitor transfers."""
    with chromium() as browser:
        page, _, first = _cold_query(browser, site, page_path, selectors, cold, index_prefix)
        page.context.close()
    return first


def _cold_query(
    browser: Any, site: str, page_path: str, selectors: dict[str, str], cold: str, index_prefix: str
) -> tuple[Any, Traffic, dict[str, Any]]:
    """The search page in a fresh context, and the cold query typed key by key on it: the page,
    its traffic, and ``{"page_load": ..., "cold_query": ...}`` (requests, bytes and timing)."""
    page, traffic, load = open_cold(browser, site, page_path, selectors, index_prefix)
    mark = len(traffic.requests)
    timing = type_query(page, selectors, cold, traffic)
    traffic.quiet(page)
    return page, traffic, {"page_load": load, "cold_query": traffic.since(mark, site, index_prefix) | {"timing": timing}}


def open_cold(browser: Any, site: str, path: str, selectors: dict[str, str], index_prefix: str) -> tuple[Any, Traffic, dict[str, Any]]:
    """The search page in a fresh context (an empty cache), loaded and instrumented; what the load cost."""
    context = browser.new_context()
    page = context.new_page()
    traffic = Traffic(context)
    page.goto(site + path, wait_until="load")
    page.wait_for_selector(selectors["input"], timeout=QUERY_TIMEOUT_MS)
    traffic.quiet(page)
    load = traffic.since(0, site, index_prefix)
    page.evaluate(INSTRUMENT, [selectors["title"]])
    page.evaluate("() => { window.__sb.input = performance.now(); }")
    return page, traffic, load


def summarize(timings: list[dict[str, Any]]) -> dict[str, Any]:
    shown = sorted(t["first_ms"] for t in timings if t["first_ms"] is not None)
    settled = sorted(t["settled_ms"] for t in timings if t["settled_ms"] is not None)

    def p90(xs: list[float]) -> float | None:
        return xs[min(len(xs) - 1, round(0.9 * (len(xs) - 1)))] if xs else None

    return {
        "queries": len(timings),
        "with_results": sum(1 for t in timings if t["final_titles"]),
        "timed_out": sum(1 for t in timings if t.get("timed_out")),
        "first_shown_ms": {"median": statistics.median(shown) if shown else None, "p90": p90(shown), "max": max(shown, default=None)},
        "settled_ms": {"median": statistics.median(settled) if settled else None, "p90": p90(settled)},
        "runs": timings,
    }
