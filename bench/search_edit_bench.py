"""Search index: build share, memory, and the bytes a one-session edit uploads.

    .venv/bin/python bench/search_edit_bench.py [--sessions 10000] [--out DIR]

1. Generates the synthetic archive (bench/gen.py) and builds it with sitegen;
   reports the search stage's seconds against the whole build, and peak RSS.
2. Changes one session's title (gen.py --touch-one), rebuilds, and counts the
   bundle bytes that changed (new or changed files: what publish uploads),
   against the whole bundle and against the bundle without fragments.
3. The same for a bundle sharded by year (one Pagefind bundle per year of
   sessions, people/events/pages in one more): built here from the same
   records, to compare, with the files a cold query must fetch at least.
Writes bench/results/search_edit.json and prints it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sitegen.config import load_config  # noqa: E402
from sitegen.content import build_content  # noqa: E402
from sitegen.fetch import fetch_archive  # noqa: E402
from sitegen.model import build_archive  # noqa: E402
from sitegen.render.routes import Routes  # noqa: E402
from sitegen.search.bundle import canonical  # noqa: E402
from sitegen.search.records import search_records  # noqa: E402
from sitegen.search.run import run_pagefind  # noqa: E402

TODAY = "2026-11-22"


def sitegen_build(root: Path) -> dict:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "sitegen", "build", "--root", str(root), "--today", TODAY, "-q"], capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    if result.returncode:
        raise SystemExit(result.stderr)
    report = json.loads((root / "build/.sitegen/report.json").read_text())
    report["wall_seconds"] = round(wall, 2)
    return report


def bundle_files(root: Path) -> dict[str, bytes]:
    folder = root / "build/pagefind"
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def upload_bytes(before: dict[str, bytes], after: dict[str, bytes]) -> dict[str, int]:
    changed = {path: data for path, data in after.items() if before.get(path) != data}
    total = sum(map(len, after.values()))
    no_fragments = sum(len(d) for p, d in after.items() if "fragment/" not in p)
    return {
        "files_changed": len(changed),
        "bytes_changed": sum(map(len, changed.values())),
        "bundle_bytes": total,
        "bundle_bytes_without_fragments": no_fragments,
        "changed_fragment_bytes": sum(len(d) for p, d in changed.items() if "fragment/" in p),
    }


def records_of(root: Path) -> list:
    config = load_config(root, {})
    raw = fetch_archive(config.source, root=config.root, cache_dir=config.cache_dir)
    archive = build_archive(raw.collections).archive
    content = build_content(archive, config.content_dir)
    return list(search_records(archive, content, Routes(config.site.base_url).url))


def sharded(records: list) -> dict[str, bytes]:
    shards: dict[str, list] = defaultdict(list)
    for record in records:
        shards[record.filters.get("year", ["other"])[0]].append(record)
    files = {}
    for name, part in sorted(shards.items()):
        files.update({f"{name}/{path}": data for path, data in canonical(run_pagefind(part, "en")).items()})
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="search-bench-"))
    subprocess.run([sys.executable, str(REPO / "bench/gen.py"), "--sessions", str(args.sessions), "--out", str(root)], check=True)
    full = sitegen_build(root)
    before, before_records = bundle_files(root), records_of(root)
    subprocess.run([sys.executable, str(REPO / "bench/gen.py"), "--touch-one", "--out", str(root)], check=True)
    again = sitegen_build(root)
    after, after_records = bundle_files(root), records_of(root)
    started = time.perf_counter()
    shard_before = sharded(before_records)
    shard_seconds = time.perf_counter() - started
    shard_after = sharded(after_records)
    shard_count = len({p.split("/", 1)[0] for p in shard_before})
    result = {
        "sessions": args.sessions,
        "full_build": {
            "wall_seconds": full["wall_seconds"],
            "stage_seconds": full["stages"],
            "search_share_of_stages": round(full["stages"]["search"] / full["total_seconds"], 3),
            "peak_rss_mb": full["peak_rss_mb"],
            "records": full["search_records"],
        },
        "one_session_edit": {
            "search_seconds": again["stages"]["search"],
            "indexed": again["search_indexed"],
            **upload_bytes(before, after),
        },
        "sharded_by_year": {
            "shards": shard_count,
            "index_seconds": round(shard_seconds, 2),
            **upload_bytes(shard_before, shard_after),
            # a cold query fetches, per shard: the entry, the meta, one index chunk at least, and the filter files for facets
            "cold_query_requests_at_least": shard_count * 3,
        },
    }
    for part in ("one_session_edit", "sharded_by_year"):
        r = result[part]
        r["share_of_bundle"] = round(r["bytes_changed"] / r["bundle_bytes"], 4)
        r["share_without_fragments"] = round((r["bytes_changed"] - r["changed_fragment_bytes"]) / r["bundle_bytes_without_fragments"], 4)
    out = REPO / "bench/results/search_edit.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
