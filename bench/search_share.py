#!/usr/bin/env python3
"""What the search index adds to a full build: the same clean build with and without the search stage.

    .venv/bin/python bench/search_share.py [--sessions 10000] [--pairs 2] [--work DIR]

The index is written by a forked job while the site renders (sitegen/search/job.py), so its own
wall seconds (``search_seconds`` in build/.sitegen/report.json) overlap the render stage and grow with
the contention for the 2 CPUs: they are an upper bound of what the index costs. This measures what a
user waits for instead: pairs of clean builds of ``gen.py``'s archive, one as it is and one with the
search stage left out (the build run through ``python -c`` with ``sitegen.build.start_search``
replaced by one that returns an empty result; nothing else changes), alternating, each waited for
with ``os.wait4`` (``compare.measure``: wall, CPU of the process tree, peak RSS). Reported: the
medians, the index's share of the full build's wall time ((with - without) / with), the extra CPU
seconds, and the job's own seconds. Results: ``bench/results/search_share.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.dont_write_bytecode = True
sys.path.insert(0, str(BENCH))

import compare  # noqa: E402
import gen  # noqa: E402

TODAY = "2026-11-22"
PYTHON = ROOT / ".venv" / "bin" / "python"
#: The build without its search stage: start_search answers at once with an empty index.
WITHOUT = """
import sys
import sitegen.build as build
from sitegen.search import PendingSearch, SearchResult
def no_search(*args, **kwargs):
    return PendingSearch(done=SearchResult((), (), {}, ran=False, records=0))
build.start_search = no_search
from sitegen.cli import main
sys.exit(main(sys.argv[1:]))
"""
WITH = "import sys\nfrom sitegen.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def one_build(site: Path, script: str, what: str, logs: Path) -> dict[str, Any]:
    def clean() -> None:  # before each attempt: a build measured again (others were busy) is a clean one too
        shutil.rmtree(site / "build", ignore_errors=True)
        shutil.rmtree(site / ".sitegen-cache", ignore_errors=True)

    cmd = [str(PYTHON), "-c", script, "build", "--root", str(site), "--today", TODAY, "-q"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    run = compare.measure_quietly(cmd, before=clean, cwd=ROOT, env=env, log_path=logs / f"{what}.log", timeout=3600, what=what)
    report = json.loads((site / "build" / ".sitegen" / "report.json").read_text())
    run["search_seconds"] = report.get("search_seconds", 0.0)
    run["pages"] = report.get("pages")
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/sitegen-search-share"))
    parser.add_argument("--quiet-wait", type=float, default=120.0, help="longest wait for a quiet machine before each build, s")
    parser.add_argument("--results", type=Path, default=BENCH / "results")
    args = parser.parse_args(argv)
    compare.QUIET["max_wait_s"] = args.quiet_wait
    site, logs = args.work / "site", args.work / "logs"
    shutil.rmtree(args.work, ignore_errors=True)
    logs.mkdir(parents=True)
    gen.main(["--sessions", str(args.sessions), "--out", str(site)])
    runs: dict[str, list[dict[str, Any]]] = {"with": [], "without": []}
    for pair in range(args.pairs):
        for name, script in (("with", WITH), ("without", WITHOUT)):
            runs[name].append(one_build(site, script, f"{name}-{pair}", logs))
            print(f"pair {pair} {name}: {runs[name][-1]['wall_s']:.1f} s", file=sys.stderr, flush=True)
    median = {name: {k: statistics.median(r[k] for r in rs) for k in ("wall_s", "cpu_s", "search_seconds")} for name, rs in runs.items()}
    share = (median["with"]["wall_s"] - median["without"]["wall_s"]) / median["with"]["wall_s"]
    result = {
        "command": "bench/search_share.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "sessions": args.sessions,
        "runs": runs,
        "median": median,
        "index_share_of_wall": round(share, 3),
        "index_cpu_s": round(median["with"]["cpu_s"] - median["without"]["cpu_s"], 1),
        "busy": any(compare.contaminated(r) or not r.get("quiet_before", True) for rs in runs.values() for r in rs),
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "search_share.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [
        f"# What the search index adds to a full build ({args.sessions:,} sessions)",
        "",
        "| build | wall s (median) | CPU s | index job's own s |",
        "| --- | --- | --- | --- |",
        *(f"| {name} search | {m['wall_s']:.1f} | {m['cpu_s']:.1f} | {m['search_seconds']:.1f} |" for name, m in median.items()),
        "",
        f"Index share of the full build's wall time: **{share:.0%}** (target ≤ 25%); extra CPU: {result['index_cpu_s']} s.",
        "The machine was busy during some runs (see search_share.json)." if result["busy"] else "The machine was quiet.",
        "",
        f"Command: `{result['command']}`; {result['date']}.",
    ]
    (args.results / "search_share.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
