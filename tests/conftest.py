"""Shared fixtures: copies of the test sites, and a CLI runner."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from sitegen.build import BuildReport, build_site
from sitegen.config import load_config

TESTS = Path(__file__).parent
REPO = TESTS.parent
MINIMAL_SITE = TESTS / "sites" / "minimal"
#: Pinned so "upcoming" and "past" do not move with the calendar.
TODAY = date(2026, 11, 22)


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
