"""Real processes on 127.0.0.1 for the edge tests: a static origin, the
fragment service, varnishd and redis-server. Each is a context manager that
stops what it started.

``StaticOrigin``
    Serves a build folder like S3 would (``/a/`` -> ``a/index.html``), in a
    daemon thread. It adds ``Set-Cookie`` to every response, as a careless
    origin would, so the tests can show the edge strips it; it records the
    headers of every request it gets; and with ``fragments=URL`` it forwards
    ``/_frag/*`` there, the way a CloudFront behaviour would (no ESI).

``FragmentProcess``
    ``sitegen fragments`` as a subprocess; ``stop()`` kills it, to show the edge
    surviving a dead service.

``Varnish``
    ``varnishd -F`` with the VCL from ``sitegen fragments vcl``.

``RedisServer``
    A throwaway ``redis-server`` with no persistence.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
ORIGIN_COOKIE = "origin_session=leaked-to-everyone; Path=/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not come up within {timeout} s")


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def start_listening(command: list[str], port: int, what: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], Any]:
    """Start a server process and wait until its port takes connections; its
    output goes to a temporary file that is shown if it exits instead."""
    log = tempfile.TemporaryFile()
    # Its own process group, so stopping it also stops the workers it starts.
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_until(lambda: process.poll() is not None or port_open(port), what)
    if process.poll() is not None:
        log.seek(0)
        output = log.read().decode(errors="replace")
        log.close()
        raise RuntimeError(f"{what} exited: {output}")
    return process, log


def require(binary: str) -> str:
    path = shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None)
    if path is None:
        raise RuntimeError(f"{binary} is not installed: run `bash tests/system-packages.sh` (the README's test command does)")
    return path


class StaticOrigin:
    def __init__(self, folder: Path, *, fragments: str | None = None, login_cookie: str | None = None) -> None:
        self.folder, self.fragments = folder, fragments
        self.login_cookie = login_cookie
        self.requests: list[dict[str, str]] = []
        self.port = 0

    def __enter__(self) -> StaticOrigin:
        origin = self

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(origin.folder), **kwargs)

            def log_message(self, *args: Any) -> None:
                pass

            def end_headers(self) -> None:
                if not self.path.startswith("/_frag/"):
                    self.send_header("Set-Cookie", ORIGIN_COOKIE)
                super().end_headers()

            def do_GET(self) -> None:
                origin.requests.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
                if self.path.startswith("/_frag/"):
                    return self._forward()
                if self.path.startswith("/__login?") and origin.login_cookie:
                    # Stands in for the site's own login app, which sets the cookie.
                    self.send_response(303)
                    self.send_header("Set-Cookie", origin.login_cookie)
                    self.send_header("Location", self.path.partition("next=")[2] or "/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                return super().do_GET()

            def do_POST(self) -> None:
                if self.path.startswith("/_frag/"):
                    return self._forward()
                self.send_error(405)
                return None

            def _forward(self) -> None:
                assert origin.fragments, "no fragment service to forward to"
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                host, _, port = origin.fragments.rpartition(":")
                connection = http.client.HTTPConnection(host, int(port), timeout=10)
                try:
                    connection.request(self.command, self.path, body=body, headers=dict(self.headers))
                    response = connection.getresponse()
                    data = response.read()
                except OSError:
                    self.send_error(502)
                    return
                finally:
                    connection.close()
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                super().end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class FragmentProcess:
    """``sitegen fragments`` for a site, in its own process."""

    def __init__(
        self, root: Path, *, store: str, keys: str, index: Path | None = None, extra_env: dict[str, str] | None = None, workers: int = 1
    ) -> None:
        self.root, self.store, self.keys, self.index, self.workers = root, store, keys, index, workers
        self.extra_env = extra_env or {}
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> FragmentProcess:
        command = [
            str(BIN / "sitegen"),
            "fragments",
            "--root",
            str(self.root),
            "--store",
            self.store,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "-q",
        ]
        if self.index:
            command += ["--index", str(self.index)]
        env = {**os.environ, "SITEGEN_COOKIE_KEYS": self.keys, **self.extra_env}
        self.process, self.log = start_listening(command, self.port, "sitegen fragments", env)
        return self

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Kill the service and any worker processes (uvicorn --workers) it started."""
        if self.process:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(10)

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.log.close()


class Varnish:
    """``varnishd`` in the foreground, with a VCL text, on a free port."""

    def __init__(self, vcl: str, *, memory: str = "64m", params: tuple[str, ...] = ()) -> None:
        self.vcl, self.memory, self.params = vcl, memory, params
        self.port = free_port()

    def __enter__(self) -> Varnish:
        # The worker process runs as an unprivileged user: its folder must be
        # readable by it (pytest's tmp_path is not).
        self.workdir = Path(tempfile.mkdtemp(prefix="sitegen-varnish-", dir="/tmp"))
        self.workdir.chmod(0o755)
        vcl = self.workdir / "edge.vcl"
        vcl.write_text(self.vcl, encoding="utf-8")
        vcl.chmod(0o644)
        command = [
            require("varnishd"),
            "-F",
            "-n",
            str(self.workdir / "n"),
            "-a",
            f"127.0.0.1:{self.port}",
            "-f",
            str(vcl),
            "-s",
            f"malloc,{self.memory}",
            "-p",
            "feature=+esi_include_onerror",
        ]
        for param in self.params:
            command += ["-p", param]
        self.process, self.log = start_listening(command, self.port, "varnishd")
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stat(self, *counters: str) -> dict[str, int]:
        command = [require("varnishstat"), "-n", str(self.workdir / "n"), "-1"]
        for counter in counters:
            command += ["-f", counter]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        return {line.split()[0]: int(line.split()[1]) for line in output.splitlines() if line.strip()}

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()

    def __enter__(self) -> RedisServer:
        self.process = subprocess.Popen(
            [require("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: port_open(self.port), "redis-server")
        return self

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(10)


class AppServer:
    """An ASGI app under uvicorn in a daemon thread, on a free loopback port:
    a real HTTP server for tests that also need the app's objects at hand."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"))

    def __enter__(self) -> AppServer:
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_until(lambda: self.server.started, "uvicorn")
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
