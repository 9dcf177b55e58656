"""`sitegen serve`: the time from an edit to the open tab's reload.

    .venv/bin/python bench/serve_bench.py --site DIR [--edits 5] [--gap 5] [--out bench/results/serve.json]

DIR is a built or unbuilt site: bench/gen.py's synthetic archive (the API's folder
form: each edit is ``gen.py --touch-one``, one session's title) or a pyvideo/data
site (``[source] url = "pyvideo:PATH"``: each edit retitles one talk's JSON file).
The bench starts ``sitegen serve`` on a free loopback port, waits for its first
build, listens to the reload stream (``/__sitegen/events``) as an open tab does,
and for each edit measures:

- edit -> reload: from the edited file's write to the ``reload`` event;
- edit -> page: to the edited page fetched with its new title (the synthetic form).

It stops the server at the end (and on any failure). Medians of ``--edits``, with
the minimum and maximum; one edit at a time, each ``--gap`` seconds after the last
one's reload (an editor saves, then reads the page). After an edit's rebuild, serve
brings the search index up to date in one more rebuild once no edit came for a
second; a gap shorter than that rebuild makes the next edit stop it (it gives up,
and runs again after the edit's rebuild).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import gen  # noqa: E402

LOOPBACK = "127.0.0.1"
TODAY = "2026-11-22"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


class Reloads:
    """The reload stream, read on a thread as a tab's EventSource would: each event's arrival time."""

    def __init__(self, base: str) -> None:
        self.events: list[tuple[float, str]] = []
        self._arrived = threading.Condition()
        self._client = httpx.Client(timeout=httpx.Timeout(5.0, read=None))
        self._thread = threading.Thread(target=self._read, args=(f"{base}/__sitegen/events",), daemon=True)
        self._thread.start()

    def _read(self, url: str) -> None:
        try:
            with self._client.stream("GET", url) as response:
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        with self._arrived:
                            self.events.append((time.time(), line[len("event: ") :]))
                            self._arrived.notify_all()
        except httpx.HTTPError:
            return

    def next_after(self, count: int, timeout: float) -> tuple[float, str]:
        """The first reload (or build error) after the first ``count`` events; not "search-index",
        which serve sends when the search index catches up after an edit (a tab that searched reloads)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for arrived, event in self.events[count:]:
                    if event in ("reload", "build-error"):
                        return arrived, event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SystemExit(f"serve_bench: no reload within {timeout:.0f} s of the edit")
                self._arrived.wait(left)

    def close(self) -> None:
        self._client.close()


def pyvideo_edit(site: Path) -> dict[str, Any]:
    """Retitle one talk of a pyvideo/data site (the first video file of the first category, by name)."""
    text = (site / "sitegen.toml").read_text(encoding="utf-8")
    data = site / text.split('url = "pyvideo:', 1)[1].split('"', 1)[0]
    path = min(next(p for p in sorted(data.iterdir()) if (p / "videos").is_dir()).glob("videos/*.json"))
    talk = json.loads(path.read_bytes())
    talk["title"] = f"{talk['title'].split(' #')[0]} #{random.randrange(10**9)}"
    path.write_text(json.dumps(talk, indent=2), encoding="utf-8")
    return {"new_title": talk["title"], "route": None, "path": path}


def measure(site: Path, edits: int, gap: float) -> dict[str, Any]:
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    command = [sys.executable, "-m", "sitegen", "serve", "--root", str(site), "--port", str(port), "--today", TODAY, "-q"]
    log = (site / "serve_bench.log").open("w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    pyvideo = 'url = "pyvideo:' in (site / "sitegen.toml").read_text(encoding="utf-8")
    try:
        started = time.monotonic()
        while True:  # the first build, then the server
            if server.poll() is not None:
                raise SystemExit(f"serve_bench: sitegen serve exited ({server.returncode}); see {site / 'serve_bench.log'}")
            try:
                if httpx.get(f"{base}/", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() - started > 1800:
                raise SystemExit("serve_bench: sitegen serve did not answer within 30 minutes")
            time.sleep(0.2)
        first = time.monotonic() - started
        reloads = Reloads(base)
        time.sleep(gap)  # the stream is open, the watcher settled, and the first build's catch-up done
        results = [_one_edit(site, base, reloads, pyvideo, gap) for _ in range(edits)]
        reloads.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    reload_s = [r["reload_s"] for r in results]
    page_s = [r["page_s"] for r in results if r["page_s"] is not None]
    return {
        "site": str(site),
        "form": "pyvideo" if pyvideo else "api folder",
        "first_build_and_start_s": round(first, 2),
        "gap_s": gap,
        "edits": results,
        "edit_to_reload_s": _summary(reload_s),
        "edit_to_page_s": _summary(page_s) if page_s else None,
    }


def _one_edit(site: Path, base: str, reloads: Reloads, pyvideo: bool, gap: float) -> dict[str, Any]:
    seen = len(reloads.events)
    touched = pyvideo_edit(site) if pyvideo else gen.touch_one(site, "same-length", "api")
    # The edit is the file's last write (its mtime, on the wall clock): not the time taken to make
    # the new JSON (gen.touch_one loads and dumps all 10,000 sessions), which an editor does not pay.
    edited = os.stat(touched.get("path") or site / "data" / "sessions.json").st_mtime_ns / 1e9
    arrived, event = reloads.next_after(seen, 120)
    page_s = None
    if touched.get("route"):
        page = httpx.get(f"{base}/{touched['route']}", timeout=10)
        page_s = round(time.time() - edited, 3)
        escaped = touched["new_title"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
        if escaped not in page.text and touched["new_title"] not in page.text:
            raise SystemExit(f"serve_bench: the page {touched['route']} does not show the new title after the reload")
    time.sleep(gap)  # the editor reads the page
    return {"event": event, "reload_s": round(arrived - edited, 3), "page_s": page_s}


def _summary(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": min(values), "max": max(values), "n": len(values)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, required=True, help="a site root (gen.py's archive, or a pyvideo/data site)")
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--gap", type=float, default=5.0, help="seconds from a reload to the next edit (default 5)")
    parser.add_argument("--out", type=Path, help="add the result to this JSON file (a list), keyed by site")
    args = parser.parse_args(argv)
    result = measure(args.site.resolve(), args.edits, args.gap)
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    print(json.dumps(result, indent=2))
    if args.out:
        existing = json.loads(args.out.read_text()) if args.out.exists() else []
        existing = [item for item in existing if (item.get("site"), item.get("gap_s")) != (result["site"], result["gap_s"])]
        args.out.write_text(json.dumps([*existing, result], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
