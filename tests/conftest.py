"""Shared fixtures: copies of the test sites, and a CLI runner."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from sitegen.build import BuildReport, build_site
from sitegen.config import load_config
from sitegen.kept import KEY_ENV

TESTS = Path(__file__).parent
REPO = TESTS.parent
MINIMAL_SITE = TESTS / "sites" / "minimal"
#: Pinned so "upcoming" and "past" do not move with the calendar.
TODAY = date(2026, 11, 22)
#: The key that seals what builds keep (``kept.cache_key``): the tests' builds, in process and
#: in the commands they run, take it from the environment, not from a key file in the home.
CACHE_KEY = b"tests-cache-key-of-32-characters-at-least"
os.environ[KEY_ENV] = CACHE_KEY.decode()


@pytest.fixture
def minimal_site(tmp_path: Path) -> Path:
    """A private copy of tests/sites/minimal that a test may change."""
    site = tmp_path / "site"
    shutil.copytree(MINIMAL_SITE, site, ignore=shutil.ignore_patterns("build", ".sitegen-cache"))
    return site


@pytest.fixture
def build(minimal_site: Path) -> Callable[..., BuildReport]:
    """Build the minimal site (or another root) with a pinned date."""

    def run(root: Path | None = None, **overrides: Any) -> BuildReport:
        config = load_config(root or minimal_site, overrides)
        return build_site(config, today=TODAY)

    return run


def edit_collection(site: Path, collection: str, change: Callable[[list[dict[str, Any]]], None]) -> None:
    """Change one collection file of a local-folder site in place."""
    path = site / "data" / f"{collection}.json"
    body = json.loads(path.read_text(encoding="utf-8"))
    change(body["data"])
    path.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root, by POSIX path, with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------------
# S3: one moto server per test session; each test gets an empty bucket behind
# a recording proxy (tests/s3server.py).


@pytest.fixture(scope="session")
def moto_server():
    from s3server import MotoServer

    with MotoServer() as server:
        yield server


@pytest.fixture
def s3(moto_server, monkeypatch):
    """(proxy, client) for a fresh versioned bucket "site"; boto3 in the code under
    test finds dummy credentials and the CloudFront endpoint in the environment."""
    from s3server import S3Proxy, make_bucket, s3_client

    moto_server.reset()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with S3Proxy(moto_server.url) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDFRONT", proxy.url)
        client = s3_client(proxy.url)
        make_bucket(client, "site", versioning=True)
        proxy.clear()
        yield proxy, client
