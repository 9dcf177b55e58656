#!/usr/bin/env python3
"""Requests and wall time of ``sitegen publish`` against ``aws s3 sync``, on loopback.

    .venv/bin/python bench/publish_bench.py [--sessions 14280]

One run does everything and stops by itself:

1. generate a synthetic archive (bench/gen.py) in a temporary folder and build it
   (~20,000 files at the default size);
2. start moto's standalone server and the recording proxy from tests/s3server.py,
   with three versioned buckets: one for sitegen, one for ``aws s3 sync`` and one
   for ``aws s3 sync --size-only`` (each tool row keeps its own bucket history,
   so no row measures a bucket another row has already brought up to date);
3. for every tool, in order: (a) first publish into the empty bucket; (b) delete
   build/ and rebuild (same bytes, new mtimes: a fresh CI checkout) and publish
   again; (c) change one session's title, delete build/, rebuild and publish;
4. after every run, compare the bucket with the build (every file present with
   the same MD5, no stray keys) and, after (c), download the changed session page
   and check that it holds the new title;
5. print a Markdown table and write bench/results/publish.{json,md}.

Request counts come from the proxy (every HTTP request either tool sent, in
order); wall seconds include process start-up for both tools. awscli is
installed from the package index into bench/.venv-awscli on first use (it pins
botocore versions that conflict with the project's).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import html
import importlib.metadata
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.dont_write_bytecode = True  # no __pycache__ next to tests/s3server.py or bench/gen.py
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(BENCH))

import gen  # noqa: E402
import harness  # noqa: E402
from s3server import MotoServer, S3Proxy, _parent_death_signal, make_bucket, s3_client  # noqa: E402

DEFAULT_SESSIONS = 14280  # 357 events: 20,023 files with bench/gen.py's shape
TODAY = "2026-11-22"
SITEGEN = ROOT / ".venv" / "bin" / "sitegen"
AWS_VENV = BENCH / ".venv-awscli"
AWS = AWS_VENV / "bin" / "aws"
RESULTS = BENCH / "results"
MANIFEST_KEY = ".sitegen/manifest.json.gz"
STATE_DIR = ".sitegen"
BUCKETS = {"sitegen": "bench-sitegen", "aws s3 sync": "bench-aws-sync", "aws s3 sync --size-only": "bench-aws-size-only"}
TOOLS = tuple(BUCKETS)
CASES = {
    "a": "first publish, empty bucket",
    "b": "fresh rebuild, no change",
    "c": "fresh rebuild, one session's title changed",
}
LIST_OPS = {"ListObjectsV2", "ListObjects", "ListObjectVersions"}


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(
    cmd: list[str], *, env: dict[str, str] | None = None, timeout: float, what: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion (killed after ``timeout`` s); raise with its output if it fails.
    ``cwd`` matters for sitegen: run from the repository, ``python -c`` would import the working tree."""
    proc = subprocess.run(
        cmd,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        preexec_fn=_parent_death_signal(),
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {shlex.join(cmd)}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


# ---------------------------------------------------------------------------
# awscli in its own venv


def ensure_awscli(timeout: float) -> str:
    if not AWS.exists():
        log(f"installing awscli into {AWS_VENV}")
        run([sys.executable, "-m", "venv", str(AWS_VENV)], timeout=timeout, what="creating the awscli venv")
        run([str(AWS_VENV / "bin" / "pip"), "install", "-q", "awscli"], timeout=timeout, what="pip install awscli")
    out = run([str(AWS), "--version"], timeout=60, what="aws --version")
    return (out.stdout or out.stderr).strip()


def clean_env(config_dir: Path) -> dict[str, str]:
    """Dummy credentials, no instance metadata, no proxies, no developer AWS config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    config = config_dir / "aws-config"
    config.write_text("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n", encoding="utf-8")
    credentials = config_dir / "aws-credentials"
    credentials.write_text("", encoding="utf-8")
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(credentials),
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        CI="1",
    )
    return env


# ---------------------------------------------------------------------------
# the site


def build(site: Path, env: dict[str, str], timeout: float) -> float:
    """Delete build/ and build from scratch (every file new, as in a fresh CI checkout); seconds taken."""
    shutil.rmtree(site / "build", ignore_errors=True)
    started = time.perf_counter()
    run([str(SITEGEN), "build", "--root", str(site), "--today", TODAY, "-q"], env=env, timeout=timeout, what="sitegen build", cwd=site)
    report = json.loads((site / "build" / STATE_DIR / "report.json").read_text(encoding="utf-8"))
    if report.get("warnings"):
        raise RuntimeError(f"the build has {len(report['warnings'])} warnings, e.g. {report['warnings'][0]}")
    return time.perf_counter() - started


def digests(build_dir: Path) -> dict[str, str]:
    """MD5 of every file the tools publish (the build minus sitegen's own .sitegen/), by key."""
    out = {}
    for path in sorted(build_dir.rglob("*")):
        key = path.relative_to(build_dir).as_posix()
        if path.is_file() and key.split("/", 1)[0] != STATE_DIR:
            out[key] = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
    return out


def sizes(build_dir: Path) -> dict[str, int]:
    return {
        path.relative_to(build_dir).as_posix(): path.stat().st_size
        for path in build_dir.rglob("*")
        if path.is_file() and path.relative_to(build_dir).parts[0] != STATE_DIR
    }


# ---------------------------------------------------------------------------
# the runs


def tool_command(tool: str, site: Path, bucket: str, endpoint: str) -> list[str]:
    if tool == "sitegen":
        return [str(SITEGEN), "publish", "--root", str(site), "--bucket", bucket, "--endpoint-url", endpoint, "--json", "-q"]
    cmd = [
        str(AWS),
        "s3",
        "sync",
        str(site / "build") + "/",
        f"s3://{bucket}/",
        "--endpoint-url",
        endpoint,
        "--delete",
        "--exclude",
        f"{STATE_DIR}/*",
        "--no-progress",
        "--only-show-errors",
    ]
    if tool.endswith("--size-only"):
        cmd.append("--size-only")
    return cmd


def summarize(requests: list[Any]) -> dict[str, Any]:
    ops = Counter(r.operation for r in requests if not r.path.startswith("/moto-api"))
    put = ops.get("PutObject", 0)
    get = ops.get("GetObject", 0)
    lists = sum(n for op, n in ops.items() if op in LIST_OPS)
    total = sum(ops.values())
    uploaded = sum(int(r.headers.get("x-amz-decoded-content-length") or r.body_length) for r in requests if r.operation == "PutObject")
    failed = sum(1 for r in requests if r.status is None or r.status >= 400)
    return {
        "requests": total,
        "put": put,
        "get": get,
        "list": lists,
        "other": total - put - get - lists,
        "by_operation": dict(sorted(ops.items())),
        "bytes_uploaded": uploaded,
        "failed_requests": failed,
    }


def bucket_matches(client: Any, bucket: str, local: dict[str, str]) -> dict[str, Any]:
    """Compare the bucket with the build: missing keys, keys with other bytes, stray keys (.sitegen/ ignored)."""
    remote: dict[str, str] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", ()):
            if item["Key"].split("/", 1)[0] != STATE_DIR:
                remote[item["Key"]] = item["ETag"].strip('"')
    missing = sorted(set(local) - set(remote))
    stale = sorted(k for k in set(local) & set(remote) if local[k] != remote[k])
    extra = sorted(set(remote) - set(local))
    return {
        "ok": not (missing or stale or extra),
        "missing": len(missing),
        "stale": len(stale),
        "extra": len(extra),
        "stale_keys": stale[:20],
        "missing_keys": missing[:20],
        "extra_keys": extra[:20],
    }


def title_check(client: Any, bucket: str, key: str, new_title: str, old_title: str) -> dict[str, Any]:
    body = client.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    has_new = html.escape(new_title, quote=False) in body
    has_old = html.escape(old_title, quote=False) in body
    # The old title is recorded but not judged: with --title-change longer it is a prefix of the new one.
    return {"key": key, "has_new_title": has_new, "has_old_title": has_old, "ok": has_new}


def publish_once(
    tool: str, site: Path, bucket: str, proxy: S3Proxy, env: dict[str, str], sitegen_env: dict[str, str], timeout: float
) -> dict[str, Any]:
    cmd = tool_command(tool, site, bucket, proxy.url)
    env = sitegen_env if tool == "sitegen" else env
    proxy.clear()
    started = time.perf_counter()
    proc = run(cmd, env=env, timeout=timeout, what=tool, cwd=site)
    seconds = time.perf_counter() - started
    requests = proxy.requests
    result = {"tool": tool, "bucket": bucket, "seconds": round(seconds, 2), **summarize(requests)}
    result["operations"] = [(r.operation, r.key) for r in requests if not r.path.startswith("/moto-api")]
    if tool == "sitegen":
        report = json.loads(proc.stdout)
        result["sitegen_report"] = {
            k: report[k] for k in ("state_from", "deploy", "skipped", "bytes_uploaded", "requests", "seconds", "warnings")
        }
        result["sitegen_report"]["uploaded"] = report["uploaded"]
    return result


def check_sitegen_c(run_c: dict[str, Any], changed: list[str]) -> dict[str, Any]:
    """1 manifest GET, then the changed PUTs (exactly the files whose bytes changed), then 1 manifest PUT; no listings."""
    ops = [tuple(op) for op in run_c["operations"]]
    reasons = []
    gets = [i + 1 for i, op in enumerate(ops) if op == ("GetObject", MANIFEST_KEY)]
    puts = [i + 1 for i, op in enumerate(ops) if op == ("PutObject", MANIFEST_KEY)]
    if gets != [1]:
        reasons.append(f"manifest GETs at requests {gets} (expected exactly one, request 1)")
    if puts != [len(ops)]:
        reasons.append(f"manifest PUTs at requests {puts} of {len(ops)} (expected exactly one, the last)")
    if run_c["list"]:
        reasons.append(f"{run_c['list']} listing requests")
    others = Counter(op for op, key in ops if key != MANIFEST_KEY and op != "PutObject")
    if others:
        reasons.append(f"other requests: {dict(others)}")
    put_keys = sorted(key for op, key in ops if op == "PutObject" and key != MANIFEST_KEY)
    if put_keys != sorted(changed):
        reasons.append(f"uploaded {sorted(set(put_keys) - set(changed))} too many and {sorted(set(changed) - set(put_keys))} too few")
    return {"pass": not reasons, "reasons": reasons, "changed_puts": len(put_keys)}


# ---------------------------------------------------------------------------
# report


def fmt_int(n: int) -> str:
    return f"{n:,}"


def correctness(result: dict[str, Any]) -> str:
    match = result["bucket_matches_build"]
    parts = []
    if "title_check" in result:
        parts.append("page has new title" if result["title_check"]["ok"] else "page has OLD title")
    if not match["ok"]:
        parts.append(", ".join(f"{match[k]} {k}" for k in ("missing", "stale", "extra") if match[k]) + " objects")
    ok = match["ok"] and result.get("title_check", {"ok": True})["ok"]
    return ("yes" if ok else "**NO**") + (f" ({'; '.join(parts)})" if parts else "")


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "| case | tool | requests | PUT | GET | LIST | other | MB up | seconds | correct? |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for case, title in CASES.items():
        for tool in TOOLS:
            r = results["runs"][case][tool]
            lines.append(
                f"| ({case}) {title} | {tool} | {fmt_int(r['requests'])} | {fmt_int(r['put'])} | {fmt_int(r['get'])} | "
                f"{fmt_int(r['list'])} | {fmt_int(r['other'])} | {r['bytes_uploaded'] / 1e6:.1f} | {r['seconds']:.1f} | {correctness(r)} |"
            )
    s = results["summary"]
    lines += [
        "",
        f"Ratios for (c), requests: aws s3 sync / sitegen = **{s['ratio_c_sync']:.0f}×** "
        f"({fmt_int(s['requests_c']['aws s3 sync'])} / {fmt_int(s['requests_c']['sitegen'])}); "
        f"aws s3 sync --size-only / sitegen = {s['ratio_c_size_only']:.1f}× "
        f"({fmt_int(s['requests_c']['aws s3 sync --size-only'])} / {fmt_int(s['requests_c']['sitegen'])})"
        + (
            "."
            if s["correct_c"]["aws s3 sync --size-only"]
            else f", but --size-only missed the change: {len(results['change']['changed_files']) - len(results['change']['size_changed_files'])}"
            f" of the {len(results['change']['changed_files'])} changed files kept their size."
        ),
        "",
        f"- {'PASS' if s['sitegen_c_pattern']['pass'] else 'FAIL'}: sitegen (c) is 1 manifest GET, then the "
        f"{s['sitegen_c_pattern']['changed_puts']} changed PUTs (exactly the {len(results['change']['changed_files'])} files whose bytes changed), "
        "then 1 manifest PUT, and 0 listings"
        + (f" — {'; '.join(s['sitegen_c_pattern']['reasons'])}" if s["sitegen_c_pattern"]["reasons"] else ""),
        f"- {'PASS' if s['ten_x_fewer'] else 'FAIL'}: sitegen (c) sends ≥10× fewer requests than aws s3 sync",
        "",
        "sitegen's deploy manifest (which every sitegen publish GETs, and PUTs when something changed) after "
        + ", ".join(f"({c}) {results['runs'][c]['sitegen']['manifest_bytes'] / 1e6:.2f} MB" for c in CASES)
        + f"; in (c) sitegen uploaded {results['runs']['c']['sitegen']['sitegen_report']['bytes_uploaded'] / 1e6:.2f} MB of pages"
        f" and {(results['runs']['c']['sitegen']['bytes_uploaded'] - results['runs']['c']['sitegen']['sitegen_report']['bytes_uploaded']) / 1e6:.2f} MB of manifest.",
        "",
        f'The change: session `{results["change"]["id"]}` retitled "{results["change"]["old_title"]}" → '
        f'"{results["change"]["new_title"]}" ({results["change"]["mode"]}); files whose bytes changed: '
        + ", ".join(f"`{k}`" for k in results["change"]["changed_files"])
        + ".",
        "",
        "Definitions: requests = every HTTP request the tool sent (through the recording proxy); PUT = PutObject, "
        "GET = GetObject, LIST = ListObjects/ListObjectsV2/ListObjectVersions, other = everything else "
        "(HeadObject, CopyObject, DeleteObjects…); MB up = PutObject body bytes; seconds = wall time of the "
        "process, start-up included; correct? = after the run the bucket holds exactly the build "
        "(every file, same MD5, nothing stray) and, in (c), the changed session page holds the new title.",
    ]
    return "\n".join(lines) + "\n"


def machine_facts(aws_version: str) -> dict[str, Any]:
    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "?"

    mem = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory": mem,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "moto": version("moto"),
        "boto3": version("boto3"),
        "botocore": version("botocore"),
        "sitegen": version("sitegen"),
        "awscli": aws_version,
    }


def compact(results: dict[str, Any], keep: int = 200) -> dict[str, Any]:
    """The results for the JSON file: request sequences and upload lists longer than ``keep``
    are cut to their first and last 10 (a full-site run has 20,000 of them)."""
    out = json.loads(json.dumps(results))
    for runs in out["runs"].values():
        for r in runs.values():
            for owner, field in ((r, "operations"), (r.get("sitegen_report", {}), "uploaded")):
                items = owner.get(field)
                if items is not None and len(items) > keep:
                    owner[field] = {"count": len(items), "first": items[:10], "last": items[-10:]}
    return out


def write_results(results: dict[str, Any], table: str, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "publish.json").write_text(json.dumps(compact(results), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    m = results["machine"]
    facts = (
        f"- command: `{results['command']}`\n"
        f"- date: {results['finished_at']}; total runtime {results['total_seconds']:.0f} s\n"
        f"- site: {results['sessions']} sessions (seed {results['seed']}), **{fmt_int(results['files'])} files** published, "
        f"{results['site_bytes'] / 1e6:.1f} MB; each build took {', '.join(f'{s:.0f}' for s in results['build_seconds'])} s\n"
        f"- machine: nproc {m['nproc']}, {m['memory']} RAM, {m['platform']}; Python {m['python']}; "
        f"moto {m['moto']} (standalone server); boto3 {m['boto3']} / botocore {m['botocore']} (sitegen {m['sitegen']}); {m['awscli']}\n"
        f"- sitegen: `{results['commands']['sitegen']}` (code: a copy of `sitegen/` and `themes/` taken at the start, "
        f"sha256 `{results['sitegen_code']['sha256'][:16]}`)\n"
        f"- aws: `{results['commands']['aws s3 sync']}` (plus `--size-only` for the third row); "
        "env: dummy credentials, `AWS_EC2_METADATA_DISABLED=true`, region us-east-1, `s3 = addressing_style = path` in `AWS_CONFIG_FILE`\n"
    )
    body = (
        "# sitegen publish vs aws s3 sync\n\n"
        "Generated by `bench/publish_bench.py`; moto on loopback is not S3: seconds are indicative, request counts are exact.\n\n"
        + table
        + "\n"
        + facts
    )
    (out_dir / "publish.md").write_text(body, encoding="utf-8")


# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=DEFAULT_SESSIONS, help=f"archive size (default {DEFAULT_SESSIONS}: ~20,000 files)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--title-change",
        choices=("same-length", "longer"),
        default="same-length",
        help="the one-session edit in (c): same length (default; a typo fix) or longer",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="limit for each build, publish or install, in seconds")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where publish.json and publish.md go")
    args = parser.parse_args(argv)
    if not SITEGEN.exists():
        parser.error(f"{SITEGEN} is missing: create the project venv first (see README.md)")
    harness.unwind_on_signals()

    started = time.perf_counter()
    command = shlex.join(
        [
            os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(str(ROOT)) else sys.executable,
            os.path.relpath(Path(__file__).resolve(), ROOT),
            *(argv if argv is not None else sys.argv[1:]),
        ]
    )
    aws_version = ensure_awscli(args.timeout)
    log(aws_version)
    results: dict[str, Any] = {
        "command": command,
        "sessions": args.sessions,
        "seed": args.seed,
        "today": TODAY,
        "runs": {c: {} for c in CASES},
        "build_seconds": [],
    }
    with tempfile.TemporaryDirectory(prefix="sitegen-publish-bench-") as tmp:
        tmpdir = Path(tmp)
        site = tmpdir / "site"
        env = clean_env(tmpdir)
        snapshot = harness.snapshot_sitegen(tmpdir / "code", SITEGEN.parent / "python", args.timeout)
        sitegen_env = {**env, "PYTHONPATH": snapshot["PYTHONPATH"]}
        results["sitegen_code"] = {
            "sha256": snapshot["sha256"],
            "files": snapshot["files"],
            "note": "sitegen/ and themes/ copied at the start of the run; every build and publish used this copy",
        }
        log(f"sitegen code snapshot: {snapshot['files']} files, sha256 {snapshot['sha256'][:16]}")
        gen.write(site, gen.generate(args.sessions, args.seed))
        log(f"generated {args.sessions} sessions; building")
        results["build_seconds"].append(build(site, sitegen_env, args.timeout))
        local = digests(site / "build")
        results["files"] = len(local)
        results["site_bytes"] = sum(sizes(site / "build").values())
        log(f"built {len(local):,} files ({results['site_bytes'] / 1e6:.1f} MB) in {results['build_seconds'][-1]:.1f} s")
        print(f"files to publish: {len(local):,}", flush=True)

        with MotoServer(startup_timeout=30) as moto, S3Proxy(moto.url, upstream_timeout=120) as proxy:
            direct = s3_client(moto.url, retries={"mode": "standard", "total_max_attempts": 3})
            for bucket in BUCKETS.values():
                make_bucket(direct, bucket, versioning=True)
            results["commands"] = {t: shlex.join(tool_command(t, Path("DIR"), BUCKETS[t], "http://127.0.0.1:PORT")) for t in TOOLS}
            for case in CASES:
                if case == "b":
                    results["build_seconds"].append(build(site, sitegen_env, args.timeout))
                    if digests(site / "build") != local:
                        raise RuntimeError("the rebuild is not byte-identical to the first build")
                if case == "c":
                    sizes_before = sizes(site / "build")
                    change = gen.touch_one(site, args.title_change)
                    results["build_seconds"].append(build(site, sitegen_env, args.timeout))
                    after = digests(site / "build")
                    change["mode"] = args.title_change
                    change["changed_files"] = sorted(k for k in after if local.get(k) != after[k])
                    change["removed_files"] = sorted(set(local) - set(after))
                    sizes_after = sizes(site / "build")
                    change["size_changed_files"] = sorted(k for k in change["changed_files"] if sizes_before.get(k) != sizes_after[k])
                    results["change"] = change
                    local = after
                    log(
                        f"changed {change['id']}: {change['old_title']!r} -> {change['new_title']!r}; "
                        f"{len(change['changed_files'])} files changed: {change['changed_files']}"
                    )
                for tool in TOOLS:
                    log(f"({case}) {tool} ...")
                    r = publish_once(tool, site, BUCKETS[tool], proxy, env, sitegen_env, args.timeout)
                    r["bucket_matches_build"] = bucket_matches(direct, BUCKETS[tool], local)
                    if tool == "sitegen":  # read directly from moto, not counted
                        r["manifest_bytes"] = direct.head_object(Bucket=BUCKETS[tool], Key=MANIFEST_KEY)["ContentLength"]
                    if case == "c":
                        r["title_check"] = title_check(
                            direct, BUCKETS[tool], change["route"] + "index.html", change["new_title"], change["old_title"]
                        )
                    results["runs"][case][tool] = r
                    log(
                        f"({case}) {tool}: {r['requests']:,} requests {r['by_operation']}, {r['seconds']:.1f} s, "
                        f"correct: {correctness(r)}" + (f"; state from {r['sitegen_report']['state_from']}" if tool == "sitegen" else "")
                    )
    s_c = {t: results["runs"]["c"][t]["requests"] for t in TOOLS}
    results["summary"] = {
        "requests_c": s_c,
        "ratio_c_sync": s_c["aws s3 sync"] / max(1, s_c["sitegen"]),
        "ratio_c_size_only": s_c["aws s3 sync --size-only"] / max(1, s_c["sitegen"]),
        "sitegen_c_pattern": check_sitegen_c(results["runs"]["c"]["sitegen"], results["change"]["changed_files"]),
        "ten_x_fewer": s_c["aws s3 sync"] >= 10 * s_c["sitegen"],
        "correct_c": {t: correctness(results["runs"]["c"][t]).startswith("yes") for t in TOOLS},
    }
    results["machine"] = machine_facts(aws_version)
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    table = markdown(results)
    print(table, flush=True)
    write_results(results, table, args.results)
    log(f"wrote {args.results / 'publish.json'} and {args.results / 'publish.md'}; total {results['total_seconds']:.0f} s")
    return 0 if results["summary"]["sitegen_c_pattern"]["pass"] and results["summary"]["ten_x_fewer"] else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; servers stopped and the temporary folder removed", file=sys.stderr)
        sys.exit(130)
