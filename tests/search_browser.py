"""Helpers for the search tests: the build served as S3 would serve it, and
headless Chromium (Debian's, driven by Playwright; never a downloaded browser)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sitegen.config import PublishConfig
from sitegen.publish.plan import header_policy

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
    """Serves build/ on 127.0.0.1 as an S3 website endpoint would: ``/a/`` is
    ``a/index.html``, a missing key is ``404.html``, and each file carries the
    headers ``publish`` uploads it with (``publish.plan.header_policy``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.paths: list[str] = []

    def __enter__(self) -> S3LikeOrigin:
        origin, policy = self, header_policy(self.folder, PublishConfig())

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                origin.paths.append(self.path)
                key = self.path.split("?", 1)[0].lstrip("/")
                key = key + "index.html" if key == "" or key.endswith("/") else key
                file = origin.folder / key
                status = 200
                if ".." in key.split("/") or key.startswith(".sitegen") or not file.is_file():
                    status, key, file = 404, "404.html", origin.folder / "404.html"
                body = file.read_bytes()
                self.send_response(status)
                for name, value in policy.headers(key).http().items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def chromium_page() -> Iterator[tuple[Any, list[str]]]:
    """A fresh page in headless Chromium, and the URL of every request it makes."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.on("pageerror", lambda error: requests.append(f"pageerror:{error}"))
            page.set_default_timeout(15_000)
            yield page, requests
        finally:
            browser.close()
