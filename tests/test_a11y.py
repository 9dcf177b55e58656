"""Accessibility (issue 14): axe-core, locked in tests/a11y/package-lock.json
and installed by tests/run.sh (``npm ci``), audits one page of every template
of the sample site in headless Chromium: no violation of impact serious or
critical. The minor ones are printed (``pytest -s``) for the record."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, TODAY
from search_browser import S3LikeOrigin, chromium_page

from sitegen.render.record import Record
from sitegen.write.state import read_last_build

AXE = Path(__file__).parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
#: The session whose page gets a YouTube and a Vimeo video, so the player is audited too.
PLAYER_SESSION = 0


def build_sample_site(root: Path) -> Path:
    shutil.copytree(REPO / "content", root / "content")
    shutil.copy(REPO / "sitegen.toml", root / "sitegen.toml")
    data = root / "content" / "data" / "sessions.json"
    body = json.loads(data.read_text(encoding="utf-8"))
    body["data"][PLAYER_SESSION]["media"] = [
        {"kind": "video", "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "title": "Recording"},
        {"kind": "video", "url": "https://vimeo.com/76979871"},
        {"kind": "slides", "url": "https://slides.example.org/deck.pdf"},
    ]
    data.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "sitegen", "build", "--root", str(root), "--today", TODAY.isoformat()],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CI": "true"},
    )
    assert result.returncode == 0, result.stderr
    return root / "build"


def one_page_per_template(output: Path, player_page: str) -> dict[str, str]:
    """template -> the URL path of one page made with it (the session: the one with the player)."""
    last = read_last_build(output)
    record = Record.from_data(last.record)
    assert record is not None
    pages: dict[str, str] = {}
    for path, entry in sorted(record.files.items()):
        if path.endswith(".html") and entry.template and entry.template not in pages:
            pages[entry.template] = "/" + path.removesuffix("index.html")
    pages["session.html"] = player_page
    return pages


def audit(page: Any, url: str) -> list[dict[str, Any]]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    return found


@pytest.mark.slow
def test_no_serious_or_critical_axe_violation_on_any_template(tmp_path: Path) -> None:
    if not AXE.is_file():
        pytest.fail("axe-core is not installed: run `npm ci` in tests/a11y (tests/run.sh does)")
    output = build_sample_site(tmp_path / "site")
    data = tmp_path / "site" / "content" / "data"
    session = json.loads((data / "sessions.json").read_text(encoding="utf-8"))["data"][PLAYER_SESSION]
    event = next(e for e in json.loads((data / "events.json").read_text(encoding="utf-8"))["data"] if e["id"] == session["event"])
    pages = one_page_per_template(output, f"/{event['start_date'][:4]}/{event['slug']}/{session['slug']}/")
    assert {"home.html", "event.html", "session.html", "person.html", "topic.html", "page.html", "404.html"} <= set(pages)
    serious, minor = [], []
    with S3LikeOrigin(output) as origin, chromium_page() as (page, _):
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(origin.url) else route.abort())
        assert page.goto(origin.url + pages["session.html"]) is not None
        assert page.locator("button.player-poster").count() == 2  # the player is there, after site.js
        for template, path in sorted(pages.items()):
            for violation in audit(page, origin.url + path):
                line = f"{template} ({path}): {violation['impact']} {violation['id']}: {violation['help']} at {violation['nodes'][:3]}"
                (serious if violation["impact"] in ("serious", "critical") else minor).append(line)
    print("\n".join(["minor axe findings:", *minor] if minor else ["no minor axe findings"]))
    assert serious == [], "\n".join(serious)
