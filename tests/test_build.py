"""End to end: the pipeline on the minimal site and on the shipped sample data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from apiserver import ApiServer
from conftest import MINIMAL_SITE, REPO, TESTS, TODAY, edit_collection, tree

from sitegen.build import REPORT_FILE, build_site
from sitegen.config import load_config
from sitegen.errors import ConfigError, DataError, OutputError
from sitegen.fetch import COLLECTIONS, source_problems
from sitegen.write import STATE_CHECK, STATE_FILE

GOLDEN = TESTS / "golden" / "minimal"


def site_files(output: Path) -> dict[str, bytes]:
    """The built site: everything but the report, which holds timings."""
    return {path: data for path, data in tree(output).items() if path != REPORT_FILE}


def _pagefind_runtime(path: str) -> bool:
    return path.startswith("pagefind/") and path.count("/") == 1 and path.endswith((".js", ".pagefind"))


def test_minimal_site_matches_golden_files(minimal_site, build):
    """Golden files: any change to the output is a visible diff in review.

    Regenerate after an intended change with SITEGEN_UPDATE_GOLDEN=1.
    """
    build()
    # The record of input digests covers sitegen's own code, so it changes with every edit of it.
    # Pagefind's runtime (its JS and wasm, copied from the package as they are) is not ours to review.
    built = {
        path: data
        for path, data in site_files(minimal_site / "build").items()
        if path not in (STATE_FILE, STATE_CHECK) and not _pagefind_runtime(path)
    }
    if os.environ.get("SITEGEN_UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for path, data in built.items():
            (GOLDEN / path).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / path).write_bytes(data)
    golden = tree(GOLDEN)
    assert sorted(built) == sorted(golden)
    for path in golden:
        assert built[path] == golden[path], f"{path} differs from tests/golden/minimal/{path}"


def test_two_builds_in_different_processes_are_byte_identical(tmp_path):
    """Determinism across processes: string hashing is randomised per process,
    so a set iterated into the output would show up here."""
    outputs = []
    for seed in ("1", "2"):
        site = tmp_path / f"site{seed}"
        shutil.copytree(MINIMAL_SITE, site, ignore=shutil.ignore_patterns("build", ".sitegen-cache"))
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [sys.executable, "-m", "sitegen", "build", "--root", str(site), "--today", TODAY.isoformat(), "-q"],
            check=True,
            env=env,
            capture_output=True,
        )
        outputs.append(site_files(site / "build"))
    assert outputs[0] == outputs[1]
    assert len(outputs[0]) > 20


def test_rebuild_without_changes_writes_nothing(minimal_site, build):
    build()
    before = {p: p.stat().st_mtime_ns for p in (minimal_site / "build").rglob("*") if p.is_file()}
    report = build()
    assert report.files_written == 0 and report.files_deleted == 0
    assert report.files_unchanged == len(before) - 3  # every file but the report and the record of inputs with its check
    after = {p: p.stat().st_mtime_ns for p in (minimal_site / "build").rglob("*") if p.is_file()}
    changed = [p for p in before if after[p] != before[p]]
    assert [p.name for p in changed] == ["report.json"]


def test_deleted_session_removes_its_page_and_only_changed_files_are_written(minimal_site, build):
    build()
    index_before = {p.relative_to(minimal_site) for p in (minimal_site / "build/pagefind").rglob("*") if p.is_file()}
    edit_collection(minimal_site, "sessions", lambda items: items.remove(next(s for s in items if s["id"] == "x3")))
    report = build()
    output = minimal_site / "build"
    assert not (output / "2024/minicon/gears").exists()
    index_after = {p.relative_to(minimal_site) for p in (output / "pagefind").rglob("*") if p.is_file()}
    assert report.files_deleted == 1 + len(index_before - index_after)  # its page, and the search index's replaced files
    # The event, both speakers, the calendar, the feed, the sitemap...
    assert 0 < report.files_written < report.files_unchanged


def test_failed_build_keeps_the_previous_build_untouched(minimal_site, build):
    build()
    output = minimal_site / "build"
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in output.rglob("*") if p.is_file()}
    edit_collection(minimal_site, "sessions", lambda items: items[0].update(event="no-such-event"))
    with pytest.raises(DataError, match=r"sessions\[0\] \(id 'x1'\)\.event: refers to unknown events id 'no-such-event'"):
        build()
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in output.rglob("*") if p.is_file()}
    assert after == before


def test_write_failure_leaves_previous_build(minimal_site, build, monkeypatch):
    """A failure while writing (here: the disk fills up half-way) changes nothing."""
    build()
    output = minimal_site / "build"
    before = tree(output)
    edit_collection(minimal_site, "sessions", lambda items: items[0].update(title="A new title"))
    written = []
    real_write = Path.write_bytes

    def fill_disk_after_two(self: Path, data: bytes) -> int:
        if len(written) >= 2:
            raise OSError(28, "No space left on device")
        written.append(self)
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", fill_disk_after_two)
    with pytest.raises(OutputError, match="No space left on device.*previous build was kept"):
        build()
    monkeypatch.undo()
    assert tree(output) == before
    assert not list(minimal_site.glob(".build.staging*"))


def test_failure_while_moving_files_in_is_undone(minimal_site, build, monkeypatch):
    """The riskiest moment: some files already replaced or removed, then a failure."""
    build()
    output = minimal_site / "build"
    before = tree(output)

    def change(items):
        items[0]["title"] = "A new title"
        items.remove(next(s for s in items if s["id"] == "x3"))

    edit_collection(minimal_site, "sessions", change)
    real_replace, calls = os.replace, []

    def fail_on_the_fifth(source, target):
        calls.append(target)
        if len(calls) == 5:
            raise OSError(5, "Input/output error")
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", fail_on_the_fifth)
    with pytest.raises(OutputError, match="Input/output error.*previous build was kept"):
        build()
    monkeypatch.undo()
    assert tree(output) == before


def test_output_folder_that_sitegen_did_not_write_is_never_emptied(minimal_site, build):
    other = minimal_site / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("precious")
    with pytest.raises(OutputError, match="notes: is not empty and has no .sitegen/ "):
        build(**{"build.output_dir": "notes"})
    assert (other / "keep.txt").read_text() == "precious"


def test_output_folder_may_not_overlap_what_the_build_reads(minimal_site):
    with pytest.raises(ConfigError) as caught:
        load_config(minimal_site, {"build.output_dir": "data"}, source_check=source_problems)
    assert "output_dir = 'data' overlaps [source] url" in str(caught.value)
    with pytest.raises(ConfigError, match="overlaps content_dir"):
        load_config(minimal_site, {"build.output_dir": "content/out"})
    assert sorted(p.name for p in (minimal_site / "data").iterdir())[0] == "events.json"


def test_report_is_written_with_counts_and_stage_timings(minimal_site, build):
    report = build()
    saved = json.loads((minimal_site / "build" / REPORT_FILE).read_text())
    assert saved["pages"] == report.pages == 22
    assert saved["assets"] == 7  # css, 3 js, 3 images
    assert set(saved["stages"]) == {"fetch", "model", "content", "assets", "render", "search", "write"}
    assert saved["search_records"] == 10 and saved["search_indexed"] is True  # 4 sessions, 3 people, 2 events, 1 page
    assert saved["api_requests"] == 0 and saved["warnings"] == []
    manifest = json.loads((minimal_site / "build/.sitegen/assets.json").read_text())
    assert manifest["css/site.css"].startswith("css/site.") and (minimal_site / "build/static" / manifest["css/site.css"]).is_file()


def test_build_over_http_gives_the_same_site_as_the_folder(minimal_site, build, tmp_path):
    build()
    from_folder = site_files(minimal_site / "build")
    collections = {name: json.loads((minimal_site / "data" / f"{name}.json").read_text())["data"] for name in COLLECTIONS}
    with ApiServer(collections) as api:
        config = load_config(minimal_site, {"source.url": api.url, "source.page_size": 2, "build.output_dir": "build-http"})
        first = build_site(config, today=TODAY)
        second = build_site(config, today=TODAY)
    assert site_files(minimal_site / "build-http") == from_folder
    assert first.api_requests > len(COLLECTIONS)  # paginated
    # The change-feed probe (this server has none: 404), then only 304s.
    assert second.api_not_modified == second.api_requests - 1 == first.api_requests - 1


# ---------------------------------------------------------------------------
# Links


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)


#: Served by the fragment service and the site's login app, not by the build.
SERVED_ELSEWHERE = ("/_frag/", "/login/", "/logout/")


def broken_internal_links(output: Path, base_path: str = "/") -> list[str]:
    """Every internal href/src in every HTML page that does not resolve to a file.

    ``base_path`` is the path of the site's base URL: a site served below
    ``/archive/`` links to ``/archive/people/x/``, which is ``people/x/`` here.
    """
    broken = []
    for page in sorted(output.rglob("*.html")):
        collector = _LinkCollector()
        collector.feed(page.read_text(encoding="utf-8"))
        for link in collector.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not parts.path:
                continue  # external, or a pure #fragment
            path = unquote(parts.path)
            if path.startswith(SERVED_ELSEWHERE):
                continue
            if path.startswith("/") and not path.startswith(base_path):
                broken.append(f"{page.relative_to(output)} -> {link} (outside {base_path})")
                continue
            target = (output / path[len(base_path) :]) if path.startswith("/") else (page.parent / path)
            if not (target.is_file() or (target / "index.html").is_file()):
                broken.append(f"{page.relative_to(output)} -> {link}")
    return broken


def test_every_internal_link_of_the_minimal_site_resolves(minimal_site, build):
    build()
    assert broken_internal_links(minimal_site / "build") == []


@pytest.fixture(scope="module")
def sample_build(tmp_path_factory):
    """The README's first command, on the shipped sample data."""
    output = tmp_path_factory.mktemp("sample") / "build"
    config = load_config(REPO, {"build.output_dir": str(output), "build.cache_dir": str(output.parent / "cache")})
    return build_site(config, today=TODAY), output


def test_sample_site_builds_with_zero_warnings(sample_build):
    report, output = sample_build
    assert report.warnings == []
    assert report.pages > 300
    assert (output / "index.html").is_file()


def test_every_internal_link_of_the_sample_site_resolves(sample_build):
    _, output = sample_build
    assert broken_internal_links(output) == []


def test_sample_data_meets_the_contract_minimums():
    def load(name: str) -> list[dict]:
        return json.loads((REPO / "content/data" / f"{name}.json").read_text(encoding="utf-8"))["data"]

    events, sessions, people = load("events"), load("sessions"), load("people")
    country = {v["id"]: v["country"] for v in load("venues")}
    assert len(load("series")) >= 3 and len(events) >= 10 and len(sessions) >= 150 and len(people) >= 70
    assert len({e["start_date"][:4] for e in events}) >= 4
    assert len({country[e["venue"]] for e in events if e.get("venue")}) >= 3
    assert any(s.get("start") is None for s in sessions)
    assert any(not p["name"].isascii() for p in people)
    events_per_person: dict[str, set[str]] = {}
    for session in sessions:
        for person in session["speakers"]:
            events_per_person.setdefault(person, set()).add(session["event"])
    assert any(len(found) > 1 for found in events_per_person.values())
    kinds = {m["kind"] for s in sessions for m in s.get("media") or []}
    assert {"video", "slides"} <= kinds


def test_a_site_with_no_data_yet_builds(minimal_site, build):
    """Every collection empty and no Markdown pages: a site of empty lists, and an empty search index."""
    for name in ("series", "venues", "topics", "people", "events", "sessions"):
        path = minimal_site / "data" / f"{name}.json"
        if path.exists():
            path.write_text('{"data": [], "next": null}')
    shutil.rmtree(minimal_site / "content" / "pages", ignore_errors=True)
    report = build()
    assert report.warnings == [] and (minimal_site / "build" / "index.html").is_file()
    assert (minimal_site / "build" / "pagefind" / "pagefind-entry.json").is_file()
