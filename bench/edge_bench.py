#!/usr/bin/env python3
"""Pages and fragments per second through Varnish, with the fragment service behind it, on loopback.

    .venv/bin/python bench/edge_bench.py [--sessions 2000] [--users 5000] [--duration 10]

One run does everything and stops by itself (about 2 minutes on 2 CPUs):

1. generate a synthetic archive (bench/gen.py) in a temporary folder and
   ``sitegen build`` it; write deterministic personal data (users who follow
   archive people and each other, and attend events) and ``sitegen fragments
   load`` it into an SQLite store;
2. start a static origin serving build/ (a thread of this process), the
   fragment service (``sitegen fragments --store S --port P --workers W -q``,
   a subprocess; W = ``--service-workers``, default 2) and ``varnishd -F``
   with the VCL of ``sitegen fragments vcl``;
3. for every scenario: a short wrk warm-up, one request checked by hand (the
   page or fragment has the content it should), then ``wrk -t2 -c50 -d10s
   --latency``, with Varnish's counters and the CPU seconds of every process
   read before and after;
4. then the same for the attendance fragment with a Redis store (a throwaway
   ``redis-server --save ''``; the fragment service restarted on it);
5. print a Markdown table and write bench/results/edge.{json,md}.

The target: fragment p99 <= 20 ms at 50 concurrent clients. The exit status is
1 if a fragment row misses it, or if any row had failed requests or holes left
empty (results are written either way).

Every request goes to 127.0.0.1. The load generator is wrk (C, cheap on CPU):
`apt-get install wrk`.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import platform
import re
import resource
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from random import Random
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.dont_write_bytecode = True  # no __pycache__ next to bench/gen.py
sys.path.insert(0, str(BENCH))

import gen  # noqa: E402
import harness  # noqa: E402

TODAY = "2026-11-22"
VENV_BIN = ROOT / ".venv" / "bin"
SITEGEN = VENV_BIN / "sitegen"
PYTHON = VENV_BIN / "python"
RESULTS = BENCH / "results"
TARGET_P99_MS = 20.0
#: Cores used by processes this run did not start above which a row is flagged as skewed.
OTHER_LOAD_WARN = 0.2
CLK_TCK = os.sysconf("SC_CLK_TCK")
NPROC = os.cpu_count() or 1  # /proc/stat's first line sums every CPU of the machine
LOOPBACK = "127.0.0.1"


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _parent_death_signal() -> Callable[[], None] | None:
    """A preexec_fn that has Linux send SIGTERM to the child when this process dies
    (a killed benchmark leaves no varnishd or service behind)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None

    def preexec() -> None:
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return preexec if sys.platform.startswith("linux") else None


def run(
    cmd: list[str], *, env: dict[str, str] | None = None, timeout: float = 600, what: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, preexec_fn=_parent_death_signal()
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {shlex.join(cmd)}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def require(binary: str, package: str) -> str:
    path = shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None)
    if path is None:
        sys.exit(f"edge_bench: {binary} is not installed: run `apt-get install {package}` (as root) and try again")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not come up within {timeout} s")


# ---------------------------------------------------------------------------
# CPU accounting from /proc


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                ppid = int(stat.rpartition(")")[2].split()[1])
                tree.setdefault(ppid, []).append(int(entry))
    return tree


def tree_cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and its live descendants (all their threads), in seconds."""
    tree, total, todo = _children(), 0, [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        todo += tree.get(current, [])
    return total / CLK_TCK


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


# ---------------------------------------------------------------------------
# the processes


class StaticOrigin:
    """Serves build/ like S3 would (``/a/`` -> ``a/index.html``), in a daemon thread of this process.
    Page hits never reach it after the warm-up; it only fills Varnish's cache."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.requests = 0

    def __enter__(self) -> StaticOrigin:
        origin = self

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(origin.folder), **kwargs)

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                origin.requests += 1
                super().do_GET()

        class Server(ThreadingHTTPServer):
            # The default backlog (5) overflows when Varnish fills its cache with many
            # misses at once: dropped SYNs are retried after 1 s, 3 s..., and every
            # request for that page waits on Varnish's waiting list meanwhile.
            request_queue_size = 128

        self.server = Server((LOOPBACK, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Process:
    """A long-running subprocess on a loopback port; stopped (TERM, then KILL) on exit."""

    def __init__(self, name: str, command: list[str], port: int, *, env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        self.name, self.command, self.port, self.env, self.cwd = name, command, port, env, cwd
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Process:
        self.log = tempfile.TemporaryFile()
        process = self.process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=self.cwd,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_parent_death_signal(),
        )
        try:
            wait_until(lambda: process.poll() is not None or port_open(self.port), self.name)
            if process.poll() is not None:
                raise RuntimeError(f"{self.name} exited (status {process.returncode}): {self.output()}")
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.log.close()


@contextlib.contextmanager
def varnish(vcl: str, varnishd: str, memory: str = "256m") -> Iterator[tuple[Process, Path]]:
    """``varnishd -F`` with this VCL on a free loopback port. Its worker process drops
    privileges, so its folder is a 0755 folder of its own under /tmp."""
    workdir = Path(tempfile.mkdtemp(prefix="sitegen-edge-bench-varnish-", dir="/tmp"))
    try:
        workdir.chmod(0o755)
        vcl_file = workdir / "edge.vcl"
        vcl_file.write_text(vcl, encoding="utf-8")
        vcl_file.chmod(0o644)
        port = free_port()
        command = [
            varnishd,
            "-F",
            "-n",
            str(workdir / "n"),
            "-a",
            f"{LOOPBACK}:{port}",
            "-f",
            str(vcl_file),
            "-s",
            f"malloc,{memory}",
            "-p",
            "feature=+esi_include_onerror",
        ]
        with Process("varnishd", command, port) as process:
            yield process, workdir / "n"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def varnish_counters(instance: Path) -> dict[str, int]:
    output = run(["varnishstat", "-n", str(instance), "-1"], what="varnishstat", timeout=30).stdout
    counters = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            counters[parts[0]] = int(parts[1])
    return counters


def fragment_service(site: Path, store: str, port: int, env: dict[str, str], cwd: Path, workers: int = 1) -> Process:
    return Process(
        "sitegen fragments",
        [str(SITEGEN), "fragments", "--root", str(site), "--store", store, "--port", str(port), "--workers", str(workers), "-q"],
        port,
        env=env,
        cwd=cwd,
    )


# ---------------------------------------------------------------------------
# the data


FIRST = (
    "Ada",
    "Bea",
    "Cai",
    "Dev",
    "Eli",
    "Fay",
    "Gus",
    "Hana",
    "Ivo",
    "Jun",
    "Kit",
    "Lea",
    "Milo",
    "Nia",
    "Oli",
    "Pia",
    "Quin",
    "Rae",
    "Sol",
    "Tess",
    "Uma",
    "Vik",
    "Wen",
    "Xia",
    "Yan",
    "Zoë",
)
LAST = (
    "Abbott",
    "Brandt",
    "Chen",
    "Diaz",
    "Eriksen",
    "Fischer",
    "García",
    "Haddad",
    "Ito",
    "Jansen",
    "Kowalski",
    "Laine",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Quist",
    "Rossi",
    "Sato",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weber",
    "Yilmaz",
)


def personal_data(index: dict[str, Any], users: int, follows: int, seed: int) -> dict[str, list[dict[str, str]]]:
    """``users`` users; each follows ``follows`` ± 10 ids (half archive people, half other users);
    30 % of the users attend 1 to 10 events each. Deterministic for a given seed and build."""
    rng = Random(f"sitegen-edge-bench:{seed}")
    people, events = sorted(index["people"]), sorted(index["events"])
    ids = [f"u{i:05d}" for i in range(users)]
    out: dict[str, list[dict[str, str]]] = {"users": [], "follows": [], "attendance": []}
    for uid in ids:
        out["users"].append({"id": uid, "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}"})
    for uid in ids:
        n = max(0, follows + rng.randint(-10, 10))
        targets = set(rng.sample(people, min(len(people), n // 2)))
        targets |= {t for t in rng.sample(ids, min(len(ids), n - n // 2 + 1)) if t != uid}
        out["follows"] += [{"user": uid, "follows": t} for t in sorted(targets)]
    for uid in ids:
        if rng.random() < 0.30:
            out["attendance"] += [{"user": uid, "event": e} for e in sorted(rng.sample(events, min(len(events), rng.randint(1, 10))))]
    return out


MINT = """
import json, sys
from pathlib import Path
from sitegen.config import load_config
from sitegen.fragments import make_codec
from sitegen.fragments.identity import User
config = load_config(Path(sys.argv[1]))
codec = make_codec(config)
users = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
print(json.dumps([f"{config.fragments.cookie_name}={codec.mint(User(u['id'], u['name'], 0))}" for u in users]))
"""


# ---------------------------------------------------------------------------
# wrk


LUA = """-- written by bench/edge_bench.py: cycles through prepared requests
local items = {
%s
}
local requests = {}
local next_index = 1
local thread_counter = 0

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set("offset", thread_counter * 7919)
end

function init(args)
  for i, item in ipairs(items) do
    local headers = {["Accept-Encoding"] = "gzip", ["User-Agent"] = "edge-bench"}
    if item[2] ~= "" then headers["Cookie"] = item[2] end
    requests[i] = wrk.format("GET", item[1], headers)
  end
  next_index = (offset or 0) %% #requests + 1
end

function request()
  local r = requests[next_index]
  next_index = next_index %% #requests + 1
  return r
end
"""

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"cannot read the duration {text!r} in wrk's output")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if not rps:
        raise ValueError(f"no Requests/sec in wrk's output:\n{output}")
    result["requests_per_s"] = float(rps.group(1))
    for pct in ("50", "75", "90", "99"):
        match = re.search(rf"^\s+{pct}%\s+(\S+)", output, re.M)
        if not match:
            raise ValueError(f"no {pct}% latency in wrk's output:\n{output}")
        result[f"p{pct}_ms"] = round(_ms(match.group(1)), 3)
    avg = re.search(r"^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)", output, re.M)
    if avg:
        result["mean_ms"], result["stdev_ms"], result["max_ms"] = (round(_ms(v), 3) for v in avg.groups())
    total = re.search(r"^\s+(\d+) requests in ([\d.]+\w+), ([\d.]+\w+) read", output, re.M)
    if total:
        result["requests"] = int(total.group(1))
        result["seconds"] = round(_ms(total.group(2)) / 1e3, 2)
        result["read"] = total.group(3)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"), map(int, errors.groups()), strict=True)) if errors else {}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx_3xx"] = int(non2xx.group(1)) if non2xx else 0
    return result


def write_lua(path: Path, items: list[tuple[str, str]]) -> None:
    for url, cookie in items:
        if '"' in url + cookie or "\\" in url + cookie:
            raise ValueError(f"cannot quote {url!r} / {cookie!r} for Lua")
    body = ",\n".join(f'  {{"{url}", "{cookie}"}}' for url, cookie in items)
    path.write_text(LUA % body, encoding="utf-8")


@dataclass
class Scenario:
    key: str
    label: str
    items: list[tuple[str, str]]  # (path, Cookie header or "")
    check: Callable[[str], str | None]  # body -> problem or None
    target: bool  # fragment p99 target applies
    holes_per_request: int  # ESI includes per page (0 for direct fragment requests)
    fragment_requests_per_request: int  # requests the fragment service should get per client request
    note: str = ""
    result: dict[str, Any] = field(default_factory=dict)


def fetch(url: str, cookie: str) -> tuple[int, str]:
    headers = {"User-Agent": "edge-bench"}
    if cookie:
        headers["Cookie"] = cookie
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:  # noqa: S310 (loopback)
        return response.status, response.read().decode("utf-8", "replace")


def run_scenario(
    s: Scenario, *, base: str, wrk: str, args: argparse.Namespace, tmp: Path, varnish_n: Path, pids: dict[str, int]
) -> dict[str, Any]:
    lua = tmp / f"{s.key}.lua"
    write_lua(lua, s.items)
    cmd = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency", "-s", str(lua), base + "/"]
    # Every page into the cache first, one at a time: a page still being fetched when
    # the measurement starts would hold every request for it on Varnish's waiting list.
    for url in sorted({url for url, _ in s.items if not url.startswith("/_frag/")}):
        fetch(base + url, "")
    # warm-up: opens Varnish's backend connections, warms the service
    run([*cmd[:3], f"-d{args.warmup}s", *cmd[4:]], what=f"wrk warm-up ({s.key})", timeout=args.warmup + 60)
    # one request by hand, checked
    problems = []
    for url, cookie in (s.items[0], s.items[len(s.items) // 2]):
        status, body = fetch(base + url, cookie)
        problem = s.check(body) if status == 200 else f"status {status}"
        if problem:
            problems.append(f"{url}: {problem}")
    before_counters = varnish_counters(varnish_n)
    before_cpu = {name: tree_cpu_seconds(pid) for name, pid in pids.items()}
    before_busy = machine_busy()
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    before_self = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    proc = run(cmd, what=f"wrk ({s.key})", timeout=args.duration + 60)
    wall = time.perf_counter() - started
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    after_self = resource.getrusage(resource.RUSAGE_SELF)
    after_busy = machine_busy()
    after_cpu = {name: tree_cpu_seconds(pid) for name, pid in pids.items()}
    after_counters = varnish_counters(varnish_n)
    result = parse_wrk(proc.stdout)
    delta = {k: after_counters[k] - before_counters.get(k, 0) for k in after_counters}

    def vbe(backend: str, counter: str) -> int:
        return sum(v for k, v in delta.items() if k.startswith("VBE.") and k.endswith(f".{backend}.{counter}"))

    cpu = {name: round((after_cpu[name] - before_cpu[name]) / wall, 2) for name in pids}
    cpu["wrk"] = round((after_children.ru_utime + after_children.ru_stime - before_children.ru_utime - before_children.ru_stime) / wall, 2)
    cpu["bench"] = round((after_self.ru_utime + after_self.ru_stime - before_self.ru_utime - before_self.ru_stime) / wall, 2)
    busy = (after_busy[0] - before_busy[0]) / max(1, after_busy[1] - before_busy[1])
    # CPU that none of the processes above used: other work on this machine, which skews the figures.
    cpu["other processes"] = round(max(0.0, busy * NPROC - sum(cpu.values())), 2)
    client_requests = delta.get("MAIN.client_req", 0)  # lags: Varnish's workers add their counts in batches
    fragment_requests = vbe("fragment_origin", "req")
    expected_fragments = result["requests"] * s.fragment_requests_per_request
    # every page's holes reached the service (a few requests are in flight at either end of the window)
    holes_fetched = fragment_requests >= 0.98 * expected_fragments
    hole_failures = delta.get("MAIN.fetch_failed", 0) + vbe("fragment_origin", "fail") + delta.get("MAIN.esi_errors", 0)
    result.update(
        {
            "wrk_command": shlex.join([Path(cmd[0]).name, *cmd[1:5], "-s", f"{s.key}.lua", "http://127.0.0.1:PORT/"]),
            "distinct_requests": len(s.items),
            "check": {"ok": not problems, "problems": problems},
            "cpu_cores": cpu,
            "machine_busy": round(busy, 3),
            "varnish": {
                "client_requests": client_requests,
                "cache_hit": delta.get("MAIN.cache_hit", 0),
                "cache_miss": delta.get("MAIN.cache_miss", 0),
                "pass": delta.get("MAIN.s_pass", 0),
                "esi_requests": delta.get("MAIN.esi_req", 0),
                "origin_requests": vbe("static_origin", "req"),
                "fragment_requests": fragment_requests,
                "expected_fragment_requests": expected_fragments,
                "fragment_requests_as_expected": holes_fetched,
                "fetch_failed": delta.get("MAIN.fetch_failed", 0),
                "fragment_backend_fail": vbe("fragment_origin", "fail"),
                "esi_errors": delta.get("MAIN.esi_errors", 0),
                "esi_warnings": delta.get("MAIN.esi_warnings", 0),
                "backend_conn": vbe("fragment_origin", "conn"),
                "sess_dropped": delta.get("MAIN.sess_drop", 0) + delta.get("MAIN.req_dropped", 0),
            },
            "hole_failures": hole_failures,
            "fragment_service_rps": round(fragment_requests / wall, 1),
        }
    )
    errors = sum(result["socket_errors"].values()) + result["non_2xx_3xx"]
    result["errors"] = errors
    result["valid"] = not problems and errors == 0 and hole_failures == 0 and holes_fetched
    result["target_met"] = (result["p99_ms"] <= TARGET_P99_MS) if s.target else None
    return result


# ---------------------------------------------------------------------------
# report


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "| scenario | requests/s | p50 ms | p99 ms | target | fragment service CPU | Varnish CPU | wrk CPU | other CPU | errors / empty holes |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for s in results["scenarios"]:
        r = s["result"]
        if s["target"]:
            target = f"p99 ≤ {TARGET_P99_MS:g} ms: **{'met' if r['target_met'] else 'MISSED'}**"
        else:
            target = "—"
        cpu = r["cpu_cores"]
        frag = cpu.get("fragment service", 0.0)
        problems = (
            f"{r['errors']} / {r['hole_failures']}"
            + ("" if r["check"]["ok"] else " (content check FAILED)")
            + ("" if r["varnish"]["fragment_requests_as_expected"] else " (too few fragment requests)")
        )
        lines.append(
            f"| {s['label']} | {r['requests_per_s']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {target} | "
            f"{frag:.2f} cores ({r['fragment_service_rps']:,.0f} req/s) | {cpu.get('varnish', 0):.2f} | {cpu['wrk']:.2f} | "
            f"{cpu['other processes']:.2f} | {problems} |"
        )
    s = results["summary"]
    skewed = [x["key"] for x in results["scenarios"] if x["result"]["cpu_cores"]["other processes"] > OTHER_LOAD_WARN]
    lines += [
        "",
        *(
            [
                f"**Warning:** other processes on this machine used more than {OTHER_LOAD_WARN:g} cores during "
                + ", ".join(skewed)
                + "; those rows are lower than a quiet machine would give.",
                "",
            ]
            if skewed
            else []
        ),
        f"Fragment p99 target (≤ {TARGET_P99_MS:g} ms at {results['connections']} concurrent clients): "
        + (
            "**met** by every fragment row."
            if s["target_met"]
            else "**MISSED**: " + ", ".join(f"{k} {v:.1f} ms" for k, v in s["fragment_p99_ms"].items() if v > TARGET_P99_MS) + "."
        ),
        "",
        "Definitions: requests/s, p50 and p99 are wrk's (closed loop: "
        f"{results['connections']} connections, each sends its next request when the last answer arrives; "
        f"{results['duration']} s after a {results['warmup']} s warm-up). CPU columns are CPU seconds per wall second "
        "(1.00 = one core busy) from /proc, over the measured run; the machine has "
        f"{results['machine']['nproc']} CPUs and wrk, Varnish and the service share them; other CPU = the machine's "
        "busy time that none of them (nor this script) used. "
        "fragment service req/s = requests Varnish sent to it (2 per page: userbar and attendance holes). "
        "errors = wrk's socket errors and non-2xx answers; empty holes = Varnish fetch failures, fragment backend "
        "failures and ESI errors (a hole left empty still answers 200, so wrk cannot see it).",
    ]
    return "\n".join(lines) + "\n"


def machine_facts(varnishd: str, wrk: str, redis_server: str) -> dict[str, Any]:
    mem = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    cpu_model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break

    def version(cmd: list[str]) -> str:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return ((proc.stdout or "") + (proc.stderr or "")).strip().splitlines()[0]

    import importlib.metadata as md

    def dist(name: str) -> str:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "not installed"

    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu_model,
        "memory": mem,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "varnish": version([varnishd, "-V"]),
        "wrk": version([wrk, "-v"]),
        "redis": version([redis_server, "--version"]),
        "uvicorn": dist("uvicorn"),
        "starlette": dist("starlette"),
        "uvloop": dist("uvloop"),
        "httptools": dist("httptools"),
    }


def write_results(results: dict[str, Any], table: str, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "edge.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    m, d = results["machine"], results["data"]
    facts = (
        f"- command: `{results['command']}`\n"
        f"- date: {results['finished_at']}; total runtime {results['total_seconds']:.0f} s\n"
        f"- load: `{results['scenarios'][0]['result']['wrk_command']}` (a Lua script cycles through prepared requests; "
        "every request sends `Accept-Encoding: gzip`, like a browser), to 127.0.0.1 only\n"
        f"- site: {results['sessions']} sessions (bench/gen.py seed {results['seed']}), {d['pages']:,} pages, "
        f"{d['events']} events; page rows request the {d['events']} event pages, each with 2 ESI holes (userbar, attendance)\n"
        f"- personal data: {d['users']:,} users, {d['follows']:,} follows (about {results['follows_per_user']} per user, half archive people, "
        f"half users), {d['attendance']:,} attendances (30 % of users attend 1–10 events); signed-in rows cycle through "
        f"{d['cookies']:,} users' cookies\n"
        f"- processes: varnishd -F (`-s malloc,256m -p feature=+esi_include_onerror`, VCL from `sitegen fragments vcl`); "
        f"`sitegen fragments --store S --port P --workers {results['service_workers']} -q` "
        f"({results['service_workers']} uvicorn process(es)); a Python static origin "
        "(only the warm-up reaches it); redis-server `--save '' --appendonly no` for the Redis row\n"
        f"- machine: nproc {m['nproc']} ({m['cpu']}), {m['memory']} RAM, {m['platform']}; Python {m['python']}; "
        f"{m['varnish']}; {m['wrk']}; {m['redis']}; uvicorn {m['uvicorn']}, starlette {m['starlette']}, "
        f"httptools {m['httptools']}, uvloop {m['uvloop']}\n"
        f"- sitegen code: a copy of `sitegen/` and `themes/` taken at the start, sha256 `{results['sitegen_code']['sha256'][:16]}`\n"
    )
    body = (
        "# The edge: Varnish + ESI + the fragment service\n\n"
        "Generated by `bench/edge_bench.py`: everything on one machine over loopback, load generator included, "
        "so the figures are a floor for the setup, not a capacity plan.\n\n" + table + "\n" + facts
    )
    (out_dir / "edge.md").write_text(body, encoding="utf-8")


# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=2000, help="archive size (default 2000: 50 events, ~3,000 pages)")
    parser.add_argument("--users", type=int, default=5000, help="signed-in users in the personal data (default 5000)")
    parser.add_argument("--follows", type=int, default=50, help="follows per user, ±10 (default 50)")
    parser.add_argument("--cookies", type=int, default=1000, help="distinct users whose cookies the signed-in rows send (default 1000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured scenario (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up before each scenario (default 3)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--service-workers", type=int, default=2, help="fragment service processes (default 2)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where edge.json and edge.md go")
    args = parser.parse_args(argv)
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads (wrk gives every thread one connection or more)")

    wrk = require("wrk", "wrk")
    varnishd = require("varnishd", "varnish")
    require("varnishstat", "varnish")
    redis_server = require("redis-server", "redis-server")
    if not SITEGEN.exists():
        parser.error(f"{SITEGEN} is missing: create the project venv first (see README.md)")

    harness.unwind_on_signals()

    quiet_before = machine_busy()
    time.sleep(1.0)
    quiet_after = machine_busy()
    background = (quiet_after[0] - quiet_before[0]) / max(1, quiet_after[1] - quiet_before[1]) * NPROC
    if background > OTHER_LOAD_WARN:
        log(f"warning: the machine is already busy ({background:.2f} cores used by other processes); figures will be low")
    started = time.perf_counter()
    command = shlex.join(
        [
            os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(str(ROOT)) else sys.executable,
            os.path.relpath(Path(__file__).resolve(), ROOT),
            *(argv if argv is not None else sys.argv[1:]),
        ]
    )
    results: dict[str, Any] = {
        "command": command,
        "service_workers": args.service_workers,
        "sessions": args.sessions,
        "seed": args.seed,
        "today": TODAY,
        "connections": args.connections,
        "threads": args.threads,
        "duration": args.duration,
        "warmup": args.warmup,
        "follows_per_user": args.follows,
        "target_p99_ms": TARGET_P99_MS,
        "background_cores_before_start": round(background, 2),
    }
    scenarios: list[Scenario] = []
    with tempfile.TemporaryDirectory(prefix="sitegen-edge-bench-") as tmp_name, contextlib.ExitStack() as stack:
        tmp = Path(tmp_name)
        site = tmp / "site"
        keys = secrets.token_urlsafe(32)
        env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
        snapshot = harness.snapshot_sitegen(tmp / "code", PYTHON, 600)
        env.update(PYTHONPATH=snapshot["PYTHONPATH"], SITEGEN_COOKIE_KEYS=keys, NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
        results["sitegen_code"] = {"sha256": snapshot["sha256"], "files": snapshot["files"]}
        log(f"sitegen code snapshot: {snapshot['files']} files, sha256 {snapshot['sha256'][:16]}")

        # --- the site and the personal data
        gen.write(site, gen.generate(args.sessions, args.seed))
        t0 = time.perf_counter()
        run([str(SITEGEN), "build", "--root", str(site), "--today", TODAY, "-q"], env=env, what="sitegen build", cwd=site)
        results["build_seconds"] = round(time.perf_counter() - t0, 1)
        build = site / "build"
        index = json.loads((build / ".sitegen" / "fragments.json").read_text(encoding="utf-8"))
        pages = sum(1 for _ in build.rglob("index.html"))
        log(f"built {pages:,} pages in {results['build_seconds']} s; {len(index['events'])} events, {len(index['people'])} people")
        data = personal_data(index, args.users, args.follows, args.seed)
        personal = tmp / "personal.json"
        personal.write_text(json.dumps(data), encoding="utf-8")
        sqlite_store = str(tmp / "personal.sqlite3")
        run(
            [str(SITEGEN), "fragments", "--root", str(site), "--store", sqlite_store, "-q", "load", str(personal)],
            env=env,
            what="sitegen fragments load (SQLite)",
            cwd=site,
        )
        rng = Random(f"sitegen-edge-bench-requests:{args.seed}")
        signed = rng.sample(data["users"], min(args.cookies, len(data["users"])))
        (tmp / "signed.json").write_text(json.dumps(signed), encoding="utf-8")
        cookies = json.loads(
            run([str(PYTHON), "-c", MINT, str(site), str(tmp / "signed.json")], env=env, what="minting cookies", cwd=tmp / "code").stdout
        )
        names = {u["id"]: u["name"] for u in data["users"]}
        # One cookie from the CLI too, to show it is the same kind as ours (the service must accept both).
        cli_cookie = run(
            [str(SITEGEN), "cookie", "--root", str(site), "--store", sqlite_store, "--user", signed[0]["id"]],
            env=env,
            what="sitegen cookie",
            cwd=site,
        ).stdout.strip()
        cookies[0] = cli_cookie
        results["data"] = {
            "pages": pages,
            "events": len(index["events"]),
            "people": len(index["people"]),
            "users": len(data["users"]),
            "follows": len(data["follows"]),
            "attendance": len(data["attendance"]),
            "cookies": len(cookies),
        }
        log(f"personal data: {len(data['users']):,} users, {len(data['follows']):,} follows, {len(data['attendance']):,} attendances")

        events = sorted(index["events"])
        event_pages = [index["events"][e]["url"] for e in events]
        css = re.search(r'href="(/static/css/[^"]+\.css)"', (build / "index.html").read_text(encoding="utf-8"))
        n_items = max(len(cookies), 1000)
        signed_pairs = [(rng.randrange(len(events)), rng.randrange(len(cookies))) for _ in range(n_items)]

        def expect(*needles: str, absent: tuple[str, ...] = ()) -> Callable[[str], str | None]:
            def check(body: str) -> str | None:
                missing = [n for n in needles if n not in body]
                present = [n for n in absent if n in body]
                if missing or present:
                    return f"missing {missing}, unexpected {present}"
                return None

            return check

        def signed_in(body: str) -> str | None:
            match = re.search(r"Signed in as <strong>([^<]*)</strong>", body)
            if not match:
                return "no 'Signed in as' in the page"
            if "data-csrf-token" not in body or "attending</p>" not in body:
                return "a hole is empty"
            return None

        def attendance_signed(body: str) -> str | None:
            if "attendance-panel" not in body or "csrf_token" not in body or "attending</p>" not in body:
                return "not a signed-in attendance fragment"
            return None

        if css:
            scenarios.append(
                Scenario(
                    "static", "static asset, no ESI (Varnish's own hit path, for reference)", [(css.group(1), "")], expect("{"), False, 0, 0
                )
            )
        scenarios.append(
            Scenario(
                "page-anonymous",
                "page, anonymous (ESI still runs: fragment service asked for anonymous variant)",
                [(p, "") for p in event_pages],
                expect('class="signin"', "attending</p>", absent=("Signed in as",)),
                False,
                2,
                2,
            )
        )
        scenarios.append(
            Scenario("page-signed-in", "page, signed-in", [(event_pages[e], cookies[c]) for e, c in signed_pairs], signed_in, False, 2, 2)
        )
        scenarios.append(
            Scenario(
                "fragment-attendance",
                "fragment /_frag/attendance, signed-in (SQLite store)",
                [(f"/_frag/attendance?event={events[e]}", cookies[c]) for e, c in signed_pairs],
                attendance_signed,
                True,
                0,
                1,
            )
        )
        scenarios.append(
            Scenario(
                "fragment-userbar",
                "fragment /_frag/userbar, signed-in (SQLite store)",
                [("/_frag/userbar", cookies[c]) for _, c in signed_pairs],
                expect("Signed in as", "data-csrf-token"),
                True,
                0,
                1,
            )
        )
        redis_scenario = Scenario(
            "fragment-attendance-redis",
            "fragment /_frag/attendance, signed-in (Redis store)",
            [(f"/_frag/attendance?event={events[e]}", cookies[c]) for e, c in signed_pairs],
            attendance_signed,
            True,
            0,
            1,
        )

        # --- the servers
        origin = stack.enter_context(StaticOrigin(build))
        fragments_port = free_port()
        service = stack.enter_context(fragment_service(site, sqlite_store, fragments_port, env, site, args.service_workers))
        vcl = run(
            [
                str(SITEGEN),
                "fragments",
                "--root",
                str(site),
                "vcl",
                "--origin",
                f"{LOOPBACK}:{origin.port}",
                "--fragments",
                f"{LOOPBACK}:{fragments_port}",
            ],
            env=env,
            what="sitegen fragments vcl",
            cwd=site,
        ).stdout
        varnish_process, varnish_n = stack.enter_context(varnish(vcl, varnishd))
        base = f"http://{LOOPBACK}:{varnish_process.port}"
        log(f"varnish on {base}, fragment service on {LOOPBACK}:{fragments_port} (pid {service.pid}), origin on {LOOPBACK}:{origin.port}")
        status, body = fetch(base + event_pages[0], cli_cookie)
        who = names[signed[0]["id"]]
        if status != 200 or f"Signed in as <strong>{who}</strong>" not in body:
            raise RuntimeError(f"the page did not greet {who} through Varnish with the `sitegen cookie` cookie:\n{body[:2000]}")

        pids = {"fragment service": service.pid, "varnish": varnish_process.pid}
        for s in scenarios:
            log(f"{s.key}: {len(s.items):,} distinct requests, {args.warmup} s warm-up + {args.duration} s")
            s.result = run_scenario(s, base=base, wrk=wrk, args=args, tmp=tmp, varnish_n=varnish_n, pids=pids)
            log(
                f"{s.key}: {s.result['requests_per_s']:,.0f} req/s, p50 {s.result['p50_ms']:.2f} ms, p99 {s.result['p99_ms']:.2f} ms; "
                f"CPU {s.result['cpu_cores']}; errors {s.result['errors']}, empty holes {s.result['hole_failures']}"
                + ("" if s.result["check"]["ok"] else f"; CHECK FAILED {s.result['check']['problems']}")
            )

        # --- the Redis store: the same service, restarted on the same port with --store redis://
        redis_port = free_port()
        redis = stack.enter_context(
            Process(
                "redis-server",
                [redis_server, "--port", str(redis_port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no"],
                redis_port,
            )
        )
        redis_url = f"redis://{LOOPBACK}:{redis_port}/0"
        run(
            [str(SITEGEN), "fragments", "--root", str(site), "--store", redis_url, "-q", "load", str(personal)],
            env=env,
            what="sitegen fragments load (Redis)",
            cwd=site,
        )
        service.stop()
        wait_until(lambda: not port_open(fragments_port), "the SQLite fragment service stopping")
        service = stack.enter_context(fragment_service(site, redis_url, fragments_port, env, site, args.service_workers))
        pids = {"fragment service": service.pid, "varnish": varnish_process.pid, "redis": redis.pid}
        log(f"{redis_scenario.key}: Redis on {redis_url}, fragment service restarted (pid {service.pid})")
        redis_scenario.result = run_scenario(redis_scenario, base=base, wrk=wrk, args=args, tmp=tmp, varnish_n=varnish_n, pids=pids)
        r = redis_scenario.result
        log(
            f"{redis_scenario.key}: {r['requests_per_s']:,.0f} req/s, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms; "
            f"CPU {r['cpu_cores']}; errors {r['errors']}, empty holes {r['hole_failures']}"
        )
        scenarios.append(redis_scenario)
        results["origin_requests"] = origin.requests

    results["scenarios"] = [{"key": s.key, "label": s.label, "target": s.target, "result": s.result} for s in scenarios]
    fragment_p99 = {s.key: s.result["p99_ms"] for s in scenarios if s.target}
    results["summary"] = {
        "target_met": all(v <= TARGET_P99_MS for v in fragment_p99.values()),
        "fragment_p99_ms": fragment_p99,
        "all_valid": all(s.result["valid"] for s in scenarios),
    }
    results["machine"] = machine_facts(varnishd, wrk, redis_server)
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    table = markdown(results)
    print(table, flush=True)
    write_results(results, table, args.results)
    summary = results["summary"]
    print(
        f"fragment p99 target (<= {TARGET_P99_MS:g} ms): {'MET' if summary['target_met'] else 'MISSED'} "
        f"({', '.join(f'{k} {v:.1f} ms' for k, v in fragment_p99.items())})",
        flush=True,
    )
    if not summary["all_valid"]:
        print("some rows had errors, empty holes or failed content checks: see edge.json", flush=True)
    log(f"wrote {args.results / 'edge.json'} and {args.results / 'edge.md'}; total {results['total_seconds']:.0f} s")
    return 0 if summary["target_met"] and summary["all_valid"] else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; servers stopped and the temporary folder removed", file=sys.stderr)
        sys.exit(130)
