"""The JS loader fills the holes where there is no ESI (CloudFront and S3), in
headless Chromium: a static origin serves build/ and forwards /_frag/* to the
fragment service, as a CloudFront behaviour would."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import rjsmin
from conftest import REPO
from edgeservers import FragmentProcess, StaticOrigin, require
from test_edge import CODEC, EVENT_PAGE, KEYS, personal_site

from sitegen.fragments.identity import User, cookie_header

pytestmark = pytest.mark.slow


def chromium_dom(url: str) -> str:
    """The DOM after the page's scripts ran (virtual time waits for the fetches)."""
    profile = tempfile.mkdtemp(prefix="sitegen-chromium-")
    try:
        result = subprocess.run(
            [
                require("chromium"),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=10000",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_the_loader_is_small() -> None:
    source = (REPO / "themes" / "default" / "static" / "js" / "holes.js").read_text(encoding="utf-8")
    assert len(rjsmin.jsmin(source).encode("utf-8")) < 2048


def test_without_esi_the_loader_fills_the_holes(tmp_path: Path) -> None:
    site, store = personal_site(tmp_path)
    value = CODEC.mint(User("alice", "Alice Anders", 0))
    with FragmentProcess(site, store=store, keys=KEYS) as fragments:
        login = cookie_header("__Host-u", value, 3600)
        with StaticOrigin(site / "build", fragments=fragments.address, login_cookie=login) as origin:
            page = (site / "build" / "2024" / "minicon" / "index.html").read_text(encoding="utf-8")
            assert "<esi:include" in page and "Signed in as" not in page  # the file alone has only fallbacks

            anonymous = chromium_dom(origin.url + EVENT_PAGE)
            assert re.search(r'data-hole="userbar"[^>]*><div class="userbar" data-filled(="")?>', anonymous), anonymous[:3000]
            assert "people attending" in anonymous  # the anonymous attendance fragment, with its count

            signed_in = chromium_dom(f"{origin.url}/__login?next={EVENT_PAGE}")
            assert "Signed in as <strong>Alice Anders</strong>" in signed_in
            assert "Ada Lovelace-Ng" in signed_in.split("People you follow speaking:")[1]
            assert "I'm attending" in signed_in
