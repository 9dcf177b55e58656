"""Helpers for the browser tests and benchmarks: the build served as S3 would
serve it, and headless Chromium (Debian's, driven by Playwright; never a
downloaded browser) with the one set of flags this machine needs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from sitegen.publish.headers import HeaderPolicy

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class S3LikeOrigin:
    """Serves build/ on 127.0.0.1 as S3's website endpoint serves it after
    ``sitegen publish``: ``/a/`` is ``a/index.html``, ``/a`` redirects to ``/a/``
    when that is a folder, a missing key is ``404.html``, and each file carries
    the headers and bytes ``publish`` uploads it with (``publish.plan``'s header
    policy and encoding: content type, cache policy, gzip where configured).
    Every request is logged (path, status, body bytes, time), for the tests and
    the benchmarks in bench/."""

    def __init__(self, folder: Path, policy: HeaderPolicy | None = None) -> None:
        # sitegen is imported here, not at the top: bench/search_bench.py puts its
        # snapshot of sitegen on the path first, so the origin reads the build with
        # the code that built it.
        from sitegen.config import PublishConfig
        from sitegen.publish.plan import header_policy

        self.folder = folder
        self.policy = policy or header_policy(folder, PublishConfig())
        self.log: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __enter__(self) -> S3LikeOrigin:
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                status, headers, body = origin.answer(unquote(urlsplit(self.path).path))
                with origin.lock:
                    origin.log.append({"path": self.path, "status": status, "body_bytes": len(body), "t": time.monotonic()})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def published(self, key: str) -> tuple[dict[str, str], bytes] | None:
        """The headers and bytes ``sitegen publish`` uploads for ``key``, or None: not published."""
        from sitegen.publish.plan import encode_body

        parts = key.split("/")
        if not key or parts[0] == ".sitegen" or any(p in ("", ".", "..") for p in parts) or not (self.folder / key).is_file():
            return None
        headers = self.policy.headers(key)
        return headers.http(), encode_body((self.folder / key).read_bytes(), headers)

    def answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        key = path.lstrip("/")
        if key == "" or key.endswith("/"):
            key += "index.html"
        found = self.published(key)
        if found is None and self.published(f"{key}/index.html"):
            return 302, {"Location": f"/{key}/"}, b""
        if found is None:
            missing = self.published("404.html")
            return (404, *missing) if missing else (404, {"Content-Type": "text/plain"}, b"Not Found")
        return 200, *found

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def site_origin(root: Path) -> S3LikeOrigin:
    """``root/build`` served with the headers of the site's own ``[publish]`` settings."""
    from sitegen.config import load_config
    from sitegen.publish.plan import header_policy

    build = root / "build"
    return S3LikeOrigin(build, header_policy(build, load_config(root).publish))


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium (Debian's, with ``CHROMIUM_ARGS``), closed on the way out."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def chromium_page() -> Iterator[tuple[Any, list[str]]]:
    """A fresh page in headless Chromium, and the URL of every request it makes."""
    with chromium() as browser:
        page = browser.new_page()
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.on("pageerror", lambda error: requests.append(f"pageerror:{error}"))
        page.set_default_timeout(15_000)
        yield page, requests
