"""bench/pyvideo.py on a small checkout shaped like pyvideo/data, with its oddities: the
conversion counts what it drops or fixes, is deterministic, and ``sitegen build`` takes it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import REPO

SCRIPT = REPO / "bench" / "pyvideo.py"


def video(title: str, recorded: str | None, speakers: list[str], **extra: Any) -> dict[str, Any]:
    body = {"title": title, "recorded": recorded or "", "speakers": speakers, "description": f"About {title}.", "summary": "", "tags": []}
    body["videos"] = [{"type": "youtube", "url": f"https://www.youtube.com/watch?v={len(title)}"}]
    return body | extra


def checkout(root: Path) -> Path:
    talks = {
        "conf-2019": [
            ("intro", video("Intro", "2019-05-01", ["Ada Lovelace", "  Ada  Lovelace "], tags=["Django", "django", ""], id=1)),
            (
                "Intro",
                video(
                    "Intro",
                    "2019-05-02T10:00:00",
                    ["Various", "Grace Hopper"],
                    related_urls=[{"label": "Slides", "url": "https://speakerdeck.com/x"}, "ftp://old"],
                ),
            ),
            ("undated", video("Undated <script>", None, ["蘇嘉冠"], id=2)),
            ("hidden", video("Withdrawn", "2019-05-01", ["Ada Lovelace"], id=99)),
        ],
        "meetup": [
            ("one", video("One", "2014-03-01", ["Grace Hopper"])),
            ("two", video("Two", "2015-04-01", [""], language="spa")),
        ],
    }
    for folder, items in talks.items():
        (root / folder / "videos").mkdir(parents=True)
        (root / folder / "category.json").write_text(json.dumps({"title": folder.replace("-", " ").title()}))
        for stem, body in items:
            (root / folder / "videos" / f"{stem}.json").write_text(json.dumps(body))
    (root / "python_porto" / "videos").mkdir(parents=True)
    (root / "python_porto" / "category.json").write_text(json.dumps({"title": "Empty"}))
    (root / "NO_PUBLISH.json").write_text("[99]")
    return root


def convert(data: Path, out: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--data", str(data), "--out", str(out)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "pyvideo-report.json").read_text(encoding="utf-8"))


def test_pyvideo_conversion_counts_its_fixes_is_deterministic_and_builds(tmp_path: Path) -> None:
    data = checkout(tmp_path / "data")
    report = convert(data, tmp_path / "a")
    # Two events for the meetup (2014, 2015); "Various", "" and the repeated Ada left out; "Django" and "django" one topic.
    assert report["written"] == {"series": 2, "venues": 0, "topics": 1, "people": 3, "events": 3, "sessions": 5}
    assert report["warnings"] == {
        "is empty or a placeholder, not a name; left out": 2,
        "shares its slug with another talk of its event; a suffix keeps them apart": 2,
        "is listed in NO_PUBLISH.json; left out": 1,
        "is not a day (YYYY-MM-DD); shown as not recorded": 1,
        "is not a tag (empty, or not a string); left out": 1,
        "is not an http(s) URL; left out": 1,
        "names a speaker the talk already lists; listed once": 1,
        "holds no usable video file; the category is left out": 1,
    }
    convert(data, tmp_path / "b")
    for name in ("series", "topics", "people", "events", "sessions"):
        assert (tmp_path / "a" / "data" / f"{name}.json").read_bytes() == (tmp_path / "b" / "data" / f"{name}.json").read_bytes()
    sessions = json.loads((tmp_path / "a" / "data" / "sessions.json").read_text(encoding="utf-8"))["data"]
    kinds = sorted(m["kind"] for s in sessions for m in s["media"])
    assert kinds.count("slides") == 1 and "other" not in kinds
    build = subprocess.run(
        [sys.executable, "-m", "sitegen", "build", "--root", str(tmp_path / "a"), "--today", "2026-11-22", "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    assert (tmp_path / "a" / "build" / "2014" / "meetup" / "one" / "index.html").is_file()
    assert "Undated &lt;script&gt;" in (tmp_path / "a" / "build" / "2019" / "conf" / "undated" / "index.html").read_text(encoding="utf-8")
