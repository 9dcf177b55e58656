#!/usr/bin/env python3
"""Issue 13's search targets, measured: index build time and memory, a cold first query's transfer,
keystroke-to-results time on a warm page, and what a one-session edit re-uploads of the index.

    .venv/bin/python bench/search_bench.py [--archives synthetic,pyvideo] [--sessions 10000] [--pyvideo-data DIR]

For each archive (``gen.py``'s synthetic one, and ``pyvideo.py``'s conversion of a checkout of
github.com/pyvideo/data): ``--pairs`` pairs of clean builds without and with the search stage,
alternating (what the index adds: the difference of the median walls; wall, CPU, peak memory of the
build's process tree and of its index job, ``sitegen-index``; the index's own seconds: the index job's wall seconds,
``search_seconds`` in ``build/.sitegen/report.json``, else its stage timings); the built site served from 127.0.0.1 as S3 serves it after
``sitegen publish`` (``S3LikeOrigin`` (tests/search_browser.py)) and its search page driven in headless Chromium
(``search_timing.cold_then_warm``); a rebuild with no change and one after ``gen.touch_one``
(one session retitled), each followed by the index files whose published bytes are new or changed.
Results: ``bench/results/search.json`` and ``search.md``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.dont_write_bytecode = True
sys.path.insert(0, str(BENCH))

import compare  # noqa: E402
import gen  # noqa: E402
import harness  # noqa: E402
import pyvideo  # noqa: E402
import search_share  # noqa: E402
import search_timing  # noqa: E402
from search_browser import CHROMIUM, S3LikeOrigin  # noqa: E402

TODAY = "2026-11-22"
SITEGEN = ROOT / ".venv" / "bin" / "sitegen"
RESULTS = BENCH / "results"
COLD_QUERY = "django testing"
WARM_QUERIES = 20
INDEX_STAGE_RE = re.compile(r"search|index|pagefind", re.I)
ENTRY = "pagefind-entry.json"
TARGETS = {"index_share": 0.25, "cold_bytes": 300_000, "cold_requests": 15, "warm_median_ms": 150.0, "edit_share": 0.15}


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def warm_queries(root: Path, count: int = WARM_QUERIES) -> list[str]:
    """``count`` different two-word queries: the two longest words of the titles of sessions spread
    evenly over the archive (by id), so every query has at least one result."""
    sessions = sorted(json.loads((root / "data" / "sessions.json").read_bytes())["data"], key=lambda s: s["id"])
    queries: list[str] = []
    for i in [(k * len(sessions)) // count for k in range(count)] + list(range(len(sessions))):
        title = sessions[i]["title"]
        words = sorted({w.lower() for w in re.findall(r"[A-Za-z]{4,}", title)}, key=lambda w: (-len(w), w))[:2]
        query = " ".join(words)
        if len(words) == 2 and query not in queries and query != COLD_QUERY:
            queries.append(query)
        if len(queries) == count:
            break
    return queries


def build(root: Path, ctx: dict[str, Any], what: str) -> dict[str, Any]:
    """One ``sitegen build`` (and the ``--post-build`` command, if any), measured."""
    cmd = [str(SITEGEN), "build", "--root", str(root), "--today", TODAY, "-q"]
    compare.wait_for_quiet()
    kw = {
        "cwd": ROOT,
        "env": ctx["env"],
        "timeout": ctx["timeout"],
        "watch": "sitegen-index",
    }  # the index job's name (sitegen/search/__init__.py)
    run = compare.measure(cmd, log_path=ctx["logs"] / f"{what}.log", what=f"sitegen build ({what})", **kw)
    report = json.loads((root / ctx["output"] / ".sitegen" / "report.json").read_text(encoding="utf-8"))
    stages = report.get("stages", {})
    run |= {"stages": stages, "report_peak_rss_mb": report.get("peak_rss_mb"), "pages": report.get("pages")}
    run |= {"search_indexed": report.get("search_indexed"), "search_records": report.get("search_records")}
    run["index_s"] = sum(v for k, v in stages.items() if INDEX_STAGE_RE.search(k)) if any(map(INDEX_STAGE_RE.search, stages)) else None
    if report.get("search_seconds"):  # the index job's own wall seconds (it overlaps rendering)
        run["index_s"] = report["search_seconds"]
    if ctx["post_build"]:
        post = compare.measure(
            [*shlex.split(ctx["post_build"]), str(root)], log_path=ctx["logs"] / f"{what}-post.log", what="--post-build", **kw
        )
        run |= {"post_build": post, "index_s": post["wall_s"], "wall_s": run["wall_s"] + post["wall_s"]}
    return run


def build_without_search(root: Path, ctx: dict[str, Any], what: str) -> dict[str, Any]:
    """The same clean build with the search stage left out (``search_share.WITHOUT``): what the
    index adds to a full build is the difference. The index job overlaps rendering, so its own
    seconds grow with the contention for the CPUs and overstate what a user waits for."""
    cmd = [str(SITEGEN.parent / "python"), "-c", search_share.WITHOUT, "build", "--root", str(root), "--today", TODAY, "-q"]
    compare.wait_for_quiet()
    kw = {"cwd": ROOT, "env": ctx["env"], "timeout": ctx["timeout"]}
    return compare.measure(cmd, log_path=ctx["logs"] / f"{what}.log", what=f"sitegen build without search ({what})", **kw)


def through_edge(root: Path, ctx: dict[str, Any], origin: str, folder: str) -> dict[str, Any]:
    """The page load and cold query again, through ``varnishd`` with sitegen's own VCL (``sitegen
    fragments vcl``) in front of the S3-like origin: what a visitor of the deployed site transfers
    (the VCL gzips text, JavaScript and JSON, as CloudFront's automatic compression does; an S3
    website endpoint alone compresses nothing). No fragment service listens: holes are empty."""
    import edge_bench

    varnishd = edge_bench.require("varnishd", "varnish")
    fragments = f"{edge_bench.LOOPBACK}:{edge_bench.free_port()}"
    cmd = [str(SITEGEN), "fragments", "--root", str(root), "vcl", "--origin", origin.split("//", 1)[1], "--fragments", fragments]
    vcl = edge_bench.run(cmd, env=ctx["env"], what="sitegen fragments vcl", cwd=root).stdout
    with edge_bench.varnish(vcl, varnishd) as (process, _):
        base = f"http://{edge_bench.LOOPBACK}:{process.port}"
        return search_timing.cold_only(base, ctx["search_path"], ctx["selectors"], COLD_QUERY, "/" + folder)


def index_files(root: Path, ctx: dict[str, Any]) -> tuple[str, dict[str, tuple[str, int]], Any]:
    """(index folder, {path: (sha256, bytes)} of the index's files as published, the build's header policy)."""
    from sitegen.publish.plan import encode_body, header_policy

    build = root / ctx["output"]
    policy = header_policy(build, ctx["config"](root).publish)
    entries = sorted(p.relative_to(build).as_posix() for p in build.rglob(ENTRY) if ".sitegen" not in p.parts)
    if not entries:
        raise SystemExit(f"{build} has no Pagefind index ({ENTRY}): has the search feature landed? (or pass --post-build)")
    folder = entries[0].rsplit("/", 1)[0] + "/" if "/" in entries[0] else ""
    files = {}
    for path in sorted((build / folder).rglob("*")):
        if path.is_file():
            key = path.relative_to(build).as_posix()
            data = encode_body(path.read_bytes(), policy.headers(key))
            files[key] = (hashlib.sha256(data).hexdigest(), len(data))
    return folder, files, policy


def upload_diff(before: dict[str, tuple[str, int]], after: dict[str, tuple[str, int]]) -> dict[str, Any]:
    changed = sorted(p for p, v in after.items() if before.get(p) != v)
    total = sum(size for _, size in after.values())
    sent = sum(after[p][1] for p in changed)
    return {
        "files_uploaded": len(changed),
        "bytes_uploaded": sent,
        "index_files": len(after),
        "index_bytes": total,
        "share_of_index_bytes": round(sent / total, 4) if total else None,
        "files_deleted": len(set(before) - set(after)),
        "uploaded": changed[:50],
    }


def clean(root: Path, ctx: dict[str, Any]) -> None:
    """No output and no cache: the next build is a clean one. And nothing of the last build
    left for the kernel to write back (``sync``): 100,000 files written just before would
    otherwise be flushed during, and charged to, the next build."""
    for stale in (root / ctx["output"], root / ".sitegen-cache"):
        shutil.rmtree(stale, ignore_errors=True)
    os.sync()


def full_builds(name: str, root: Path, ctx: dict[str, Any]) -> dict[str, Any]:
    """The clean build; and, unless a --post-build command makes the index, ``--pairs`` pairs of
    clean builds without and with the search stage, alternating: what the index adds is the
    difference of the medians (one pair alone moves by a quarter on this machine)."""
    if ctx["post_build"]:
        clean(root, ctx)
        return build(root, ctx, f"{name}-full")
    withouts, withs = [], []
    for pair in range(ctx["pairs"]):
        log(f"{name}: full build without search ({pair + 1} of {ctx['pairs']})")
        clean(root, ctx)
        withouts.append(build_without_search(root, ctx, f"{name}-without-search-{pair}"))
        log(f"{name}: full build ({pair + 1} of {ctx['pairs']})")
        clean(root, ctx)
        withs.append(build(root, ctx, f"{name}-full-{pair}"))
    walls = [run["wall_s"] for run in withs]
    without_walls = [run["wall_s"] for run in withouts]
    median, without = statistics.median(walls), statistics.median(without_walls)
    full = withs[-1] | {"wall_s": round(median, 3), "walls_s": walls}  # the last build's output is what the rest measures
    full["without_search"] = withouts[-1] | {"wall_s": round(without, 3), "walls_s": without_walls}
    full["index_added_s"] = round(median - without, 3)
    return full


def bench_archive(name: str, root: Path, ctx: dict[str, Any]) -> dict[str, Any]:
    full = full_builds(name, root, ctx)
    folder, before, policy = index_files(root, ctx)
    log(f"{name}: {len(before):,} index files under {folder}; browser")
    busy, started = compare.busy_cpu_seconds(), time.perf_counter()
    with S3LikeOrigin(root / ctx["output"], policy) as origin:
        browser = search_timing.cold_then_warm(
            origin.url, ctx["search_path"], ctx["selectors"], COLD_QUERY, warm_queries(root), "/" + folder
        )
        browser["origin_requests"] = len(origin.log)
        if not ctx["post_build"]:
            log(f"{name}: the cold query through the edge")
            browser["edge"] = through_edge(root, ctx, origin.url, folder)
    # the whole machine's CPU use meanwhile (Chromium's included): near 2 on this 2-CPU machine means starved
    browser["machine_cpus_busy"] = round((compare.busy_cpu_seconds() - busy) / (time.perf_counter() - started), 2)
    log(f"{name}: rebuild with no change")
    noop = build(root, ctx, f"{name}-noop")
    same = upload_diff(before, index_files(root, ctx)[1])
    touched = gen.touch_one(root)
    log(f"{name}: rebuild after retitling {touched['id']}")
    edit = build(root, ctx, f"{name}-edit")
    return {
        "archive": name,
        "root": str(root),
        "full_build": full,
        "index_dir": folder,
        "browser": browser,
        "noop_rebuild": noop | {"index_upload": same},
        "edit_rebuild": edit | {"touched": touched, "index_upload": upload_diff(before, index_files(root, ctx)[1])},
    }


def prepare(name: str, work: Path, args: argparse.Namespace) -> Path:
    root = work / name
    shutil.rmtree(root, ignore_errors=True)
    if name == "synthetic":
        gen.write(root, gen.generate(args.sessions, 1))
    else:
        pyvideo.write_archive(args.pyvideo_data, root)
    return root


def check(label: str, value: float | None, limit: float, unit: str) -> dict[str, Any]:
    status = "n/a" if value is None else ("PASS" if value <= limit else "FAIL")
    return {"target": f"{label} ≤ {limit:g}{unit}", "value": value, "status": status}


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    full, warm, edge = r["full_build"], r["browser"]["warm"], r["browser"].get("edge")
    lib, cold = (edge["page_load"], edge["cold_query"]) if edge else (r["browser"]["page_load"], r["browser"]["cold_query"])
    added = full.get("index_added_s")
    seconds = added if added is not None else full["index_s"]
    share = max(seconds, 0.0) / full["wall_s"] if seconds is not None else None
    where = "through sitegen's edge" if edge else "from the S3-like origin"
    return [
        check(
            "index build time ÷ full build wall ("
            + ("what the index adds: with − without search" if added is not None else "the index's own seconds")
            + ")",
            share,
            TARGETS["index_share"],
            "",
        ),
        check(
            f"cold query bytes {where} (index and library files, page load + typed query)",
            lib["index_wire_bytes"] + cold["index_wire_bytes"],
            TARGETS["cold_bytes"],
            " B",
        ),
        check("cold query requests (the same)", lib["index_requests"] + cold["index_requests"], TARGETS["cold_requests"], ""),
        check("last keystroke → results shown, warm, median of 20", warm["first_shown_ms"]["median"], TARGETS["warm_median_ms"], " ms"),
        check(
            "one-session edit: index bytes uploaded ÷ index bytes",
            r["edit_rebuild"]["index_upload"]["share_of_index_bytes"],
            TARGETS["edit_share"],
            "",
        ),
    ]


def row(r: dict[str, Any]) -> list[str]:
    f, b, e = r["full_build"], r["browser"], r["edit_rebuild"]["index_upload"]
    load, cold, warm = b["page_load"], b["cold_query"], b["warm"]
    idx = "–" if f["index_s"] is None else f"job {f['index_s']:.1f} ({f['index_s'] / f['wall_s']:.0%})"
    if f.get("index_added_s") is not None:
        idx = f"adds {f['index_added_s']:.1f} ({f['index_added_s'] / f['wall_s']:.0%}; without: {f['without_search']['wall_s']:.1f}); {idx}"
    edge = b.get("edge")
    through = (
        "–"
        if not edge
        else (
            f"{edge['page_load']['index_requests'] + edge['cold_query']['index_requests']} / "
            f"{(edge['page_load']['index_wire_bytes'] + edge['cold_query']['index_wire_bytes']) / 1e3:,.1f}"
        )
    )
    watched = (
        f.get("watched_peak_pss_bytes") or f.get("watched_peak_rss_bytes") or (f.get("post_build") or {}).get("tree_peak_pss_bytes") or 0
    )
    ms, pasted = warm["first_shown_ms"], b.get("warm_pasted", {}).get("first_shown_ms", {})
    return [
        f"{r['archive']} ({f['pages']:,} pages; sitegen {r.get('sitegen', {}).get('commit', '?')})",
        f"{f['wall_s']:.1f} (others: {f['other_cpu_s']:.0f} CPU s)",
        idx,
        f"{f['tree_peak_pss_bytes'] / 1e6:,.0f} / {watched / 1e6:,.0f}",
        f"{load['requests']} / {load['wire_bytes'] / 1e3:,.1f}",
        f"{cold['index_requests']} / {cold['index_wire_bytes'] / 1e3:,.1f} (all: {cold['requests']} / {cold['wire_bytes'] / 1e3:,.1f}; "
        f"page load: +{load['index_requests']} / {load['index_wire_bytes'] / 1e3:,.1f})",
        f"{b['cold_query_pasted']['index_requests']} / {b['cold_query_pasted']['index_wire_bytes'] / 1e3:,.1f}",
        through,
        (f"{ms['median']:.0f} / {ms['p90']:.0f}" if ms["median"] is not None else "–")
        + (f" ({pasted['median']:.0f} / {pasted['p90']:.0f}" if pasted.get("median") is not None else " (–")
        + f"; {b.get('machine_cpus_busy', '?')})",
        f"{e['files_uploaded']} of {e['index_files']:,} / {e['bytes_uploaded'] / 1e3:,.1f} of {e['index_bytes'] / 1e6:,.2f} MB ({e['share_of_index_bytes']:.1%})",
        f"{r['noop_rebuild']['index_upload']['files_uploaded']}",
    ]


def markdown(results: dict[str, Any]) -> str:
    head = [
        "archive",
        "full build s",
        "index s (share of the full build's wall)",
        "peak MB: build tree PSS / index job PSS",
        "page load: requests / KB",
        "cold query typed: index and library requests / KB (all requests; index files of the page load)",
        "cold query pasted: index and library requests / KB",
        "cold query through the edge (varnishd, sitegen's VCL): index and library requests / KB",
        "warm: keystroke → results ms, median / p90 (pasted; machine CPUs busy)",
        "one-session edit: index files / KB uploaded",
        "no-change rebuild: index files uploaded",
    ]
    lines = ["# Search: issue 13's targets", ""]
    if results.get("stand_in"):
        lines += [f"**STAND-IN**: the index was built by `--post-build {results['stand_in']}`, not by sitegen: not a result.", ""]
    lines += ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(row(r)) + " |" for r in results["archives"]]
    for r in results["archives"]:
        lines += ["", f"Targets, {r['archive']}:", ""]
        lines += [
            f"- **{t['status']}**: {t['target']}: {t['value'] if not isinstance(t['value'], float) else round(t['value'], 3)}"
            for t in r["targets"]
        ]
        cold, lib = r["browser"]["cold_query"], r["browser"]["page_load"]
        if r["browser"].get("edge"):
            lines.append(
                f"- cold query from the S3-like origin (an S3 website endpoint compresses nothing): {lib['index_requests'] + cold['index_requests']} "
                f"index and library requests, {lib['index_wire_bytes'] + cold['index_wire_bytes']:,} B"
            )
        lines.append(
            f'- cold query "{COLD_QUERY}": {cold["timing"]["final_titles"]} results shown after {cold["timing"]["first_ms"]} ms; third-party requests: {len(r["browser"]["all_requests"]["third_party"])}'
        )
    env = results["environment"]
    busy = [r["archive"] for r in results["archives"] if r["full_build"]["other_cpu_s"] > 0.3 * r["full_build"]["wall_s"]]
    if busy:
        lines += [
            "",
            f'**A busy machine** ({", ".join(busy)}): other sessions used the CPUs during the builds (the "others" '
            "CPU seconds) and the browser run; seconds and milliseconds are inflated, so measure again on a quiet "
            "machine before judging the time targets. Bytes, requests and files do not depend on the load.",
        ]
    lines += [
        "",
        "## Run",
        "",
        f"- command: `{results['command']}`",
        "- pyvideo archive: `bench/pyvideo.py --data CHECKOUT` on a checkout of github.com/pyvideo/data "
        "(`git archive HEAD | tar -x` of its mirror; the data is not committed)",
        f"- builds: `{results['build_command']}` (wall, CPU and memory from `os.wait4` and /proc, as in compare.py)",
        f"- browser: Chromium `{env['chromium']}` (headless, Playwright {env['playwright']}), the site served by `S3LikeOrigin` (tests/search_browser.py) "
        "with the headers and bytes `sitegen publish` uploads; sizes are response headers + body as received (Playwright's request sizes)",
        f"- warm queries: {', '.join(repr(q) for q in results['archives'][0]['browser']['warm']['queries_typed'])} (first archive)",
        f"- date: {results['date']}; total {results['total_seconds']:.0f} s; machine: {env['cpus']} CPUs, {env['platform']}; "
        f"sitegen {env['commit']}{' + uncommitted' if env['dirty'] else ''}, code snapshot sha256 `{env['sha256'][:16]}`",
        "",
    ]
    return "\n".join(lines)


def environment(snapshot: dict[str, Any]) -> dict[str, Any]:
    def out(cmd: list[str]) -> str:
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60).stdout.strip()

    from importlib.metadata import version

    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "chromium": out([CHROMIUM, "--version"]),
        "playwright": version("playwright"),
        "commit": out(["git", "rev-parse", "--short", "HEAD"]),
        "dirty": bool(out(["git", "status", "--porcelain", "--", "sitegen", "themes"])),
        "sha256": snapshot["sha256"],
    }


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archives", default="synthetic,pyvideo", help="synthetic and/or pyvideo (default both)")
    parser.add_argument("--sessions", type=int, default=10_000, help="size of the synthetic archive (default 10000)")
    parser.add_argument("--pyvideo-data", type=Path, help="a checkout of github.com/pyvideo/data (needed for the pyvideo archive)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "sitegen-search-bench")
    parser.add_argument("--keep", action="store_true", help="keep the archives and builds under --work")
    parser.add_argument("--search-path", default="/search/", help="the search page (default /search/)")
    parser.add_argument("--input-selector", default="#search-q", help="the search box (default: the default theme's)")
    parser.add_argument(
        "--title-selector", default="[data-search-results] h2", help="a result's title, one per result (default: the default theme's)"
    )
    parser.add_argument(
        "--post-build",
        help="for developing this script only: a command run with the site root after every build "
        "(a stand-in indexer); results are marked STAND-IN",
    )
    parser.add_argument("--pairs", type=int, default=3, help="pairs of clean builds without and with search (default 3)")
    parser.add_argument("--quiet-wait", type=float, default=60.0, help="longest wait for a quiet machine before each build, s")
    parser.add_argument("--timeout", type=float, default=1800.0, help="limit for each build, s")
    parser.add_argument("--merge", action="store_true", help="keep the archives this run does not measure from the existing search.json")
    parser.add_argument("--report-only", action="store_true", help="only recompute the targets and search.md from search.json")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where search.json and search.md go")
    args = parser.parse_args(argv)
    args.archives = [a for a in args.archives.split(",") if a]
    if set(args.archives) - {"synthetic", "pyvideo"}:
        parser.error("--archives: synthetic, pyvideo")
    if "pyvideo" in args.archives and not args.report_only and not (args.pyvideo_data and (args.pyvideo_data / "NO_PUBLISH.json").exists()):
        parser.error(
            "the pyvideo archive needs --pyvideo-data: a checkout of github.com/pyvideo/data (e.g. git clone, or git archive HEAD | tar -x)"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.report_only:  # after editing the report code: targets and search.md again from search.json
        results = json.loads((args.results / "search.json").read_text(encoding="utf-8"))
        for r in results["archives"]:
            r["targets"] = targets(r)
        write(results, args.results)
        print(markdown(results))
        return 0
    harness.unwind_on_signals()
    compare.QUIET["max_wait_s"] = args.quiet_wait
    started = time.perf_counter()
    results: dict[str, Any] = {"command": shlex.join(["bench/search_bench.py", *(argv if argv is not None else sys.argv[1:])])}
    results |= {"date": datetime.now(UTC).isoformat(timespec="seconds"), "stand_in": args.post_build, "targets": TARGETS, "archives": []}
    with tempfile.TemporaryDirectory(prefix="sitegen-search-code-") as code:
        snapshot = harness.snapshot_sitegen(Path(code), SITEGEN.parent / "python", args.timeout)
        sys.path.insert(0, snapshot["PYTHONPATH"])  # the server reads the build with the same code that built it
        from sitegen.config import load_config

        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHASHSEED")} | {
            "CI": "1",
            "PYTHONPATH": snapshot["PYTHONPATH"],
        }
        selectors = {"input": args.input_selector, "title": args.title_selector}
        ctx = {
            "env": env,
            "timeout": args.timeout,
            "post_build": args.post_build,
            "output": "build",
            "config": load_config,
            "pairs": max(1, args.pairs),
        }
        ctx |= {"search_path": args.search_path, "selectors": selectors}
        results["environment"] = environment(snapshot)
        results["build_command"] = f"{SITEGEN.relative_to(ROOT)} build --root DIR --today {TODAY} -q"
        args.work.mkdir(parents=True, exist_ok=True)
        try:
            for name in args.archives:
                root = prepare(name, args.work, args)
                ctx["logs"] = root / "logs"
                ctx["logs"].mkdir(exist_ok=True)
                r = bench_archive(name, root, ctx)
                r["browser"]["warm"]["queries_typed"] = [t["query"] for t in r["browser"]["warm"]["runs"]]
                r["targets"] = targets(r)
                r["sitegen"] = {k: results["environment"][k] for k in ("commit", "dirty", "sha256")} | {"date": results["date"]}
                results["archives"].append(r)
                if args.merge and (args.results / "search.json").exists():
                    old = json.loads((args.results / "search.json").read_text(encoding="utf-8"))["archives"]
                    mine = {a["archive"] for a in results["archives"]}
                    results["archives"] += [
                        a | {"earlier_run": True} for a in old if a["archive"] not in mine and a["archive"] not in args.archives
                    ]
                results["total_seconds"] = round(time.perf_counter() - started, 1)
                write(results, args.results)
                if not args.keep:
                    shutil.rmtree(root, ignore_errors=True)
        finally:
            if not args.keep:
                shutil.rmtree(args.work, ignore_errors=True)
    print(markdown(results))
    return 0


def write(results: dict[str, Any], where: Path) -> None:
    where.mkdir(parents=True, exist_ok=True)
    (where / "search.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (where / "search.md").write_text(markdown(results), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
