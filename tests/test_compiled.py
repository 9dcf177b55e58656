"""Compiled templates kept in the cache folder (``sitegen.render.compiled``): used when
sealed by the build's key, and otherwise never run, never waited on, only compiled again.
A file planted there (CI restores the folder from a cache other branches may write) in
Jinja's own format would run as the build: these tests plant exactly that."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import pytest
from conftest import TODAY, tree
from jinja2.bccache import bc_magic

from sitegen.build import REPORT_FILE, build_site
from sitegen.config import load_config
from sitegen.render import compiled


class _Planted:
    def __init__(self, mark: str) -> None:
        self.mark = mark

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.mark, "w"))


def _entries(site: Path) -> list[Path]:
    return sorted((site / ".sitegen-cache" / "templates").glob("*/*" + compiled.SUFFIX))


def _build(site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sitegen", "build", "--root", str(site), "--today", TODAY.isoformat()],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CI": "true"},
    )


def _site_files(site: Path) -> dict[str, bytes]:
    files = tree(site / "build")
    files.pop(REPORT_FILE)
    return files


def test_sealed_templates_are_compiled_once(minimal_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compiles: list[str] = []
    compile_ = jinja2.Environment.compile
    monkeypatch.setattr(
        jinja2.Environment,
        "compile",
        lambda self, source, name=None, *a, **k: compiles.append(name) or compile_(self, source, name, *a, **k),
    )
    build_site(load_config(minimal_site, {"build.workers": 1}), today=TODAY, full=True)
    assert compiles and _entries(minimal_site)
    compiles.clear()
    build_site(load_config(minimal_site, {"build.workers": 1}), today=TODAY, full=True)
    assert compiles == []  # every template came from the cache


def test_a_planted_template_cache_runs_nothing_and_a_pipe_is_not_waited_on(minimal_site: Path, tmp_path: Path) -> None:
    assert _build(minimal_site).returncode == 0
    clean = _site_files(minimal_site)
    mark = tmp_path / "ran"
    entries = _entries(minimal_site)
    assert entries
    folder = entries[0].parent
    for index, entry in enumerate(entries):
        payload = bc_magic + pickle.dumps(_Planted(str(mark)), 2)
        entry.write_bytes(payload)  # a pickle, unsealed
        (folder / f"__jinja2_{index:040x}.cache").write_bytes(payload)  # Jinja's own file names too
    result = _build(minimal_site)
    assert result.returncode == 0, result.stderr
    assert not mark.exists() and _site_files(minimal_site) == clean
    for entry in _entries(minimal_site):
        entry.unlink()
        os.mkfifo(entry)  # a plain open() would wait for a writer forever
    result = _build(minimal_site)
    assert result.returncode == 0, result.stderr
    assert _site_files(minimal_site) == clean
