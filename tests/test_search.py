"""Search (issue 13): the index built from the model, the /search/ page in
Chromium on the build served as S3 serves it, check, incremental rebuilds and publish."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TODAY, edit_collection, tree
from search_browser import S3LikeOrigin, chromium_page

from sitegen.search.bundle import decode_file, listed_pages

DATA = "data"


def sitegen(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sitegen", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CI": "true", **(env or {})},
    )


def build_cli(site: Path, *extra: str, env: dict[str, str] | None = None) -> dict:
    result = sitegen("build", "--root", str(site), "--today", TODAY.isoformat(), *extra, env=env)
    assert result.returncode == 0, result.stderr
    output = site / "build"
    for i, arg in enumerate(extra):
        if arg == "--output":
            output = Path(extra[i + 1])
    return json.loads((output / ".sitegen/report.json").read_text())


def collection(site: Path, name: str) -> list[dict]:
    return json.loads((site / DATA / f"{name}.json").read_text(encoding="utf-8"))["data"]


def bundle(output: Path) -> dict[str, bytes]:
    return tree(output / "pagefind")


def model_urls(site: Path) -> set[str]:
    """The URL of every session, person and event, and the Markdown page, from the data."""
    events = {e["id"]: e for e in collection(site, "events")}
    urls = {f"/{e['start_date'][:4]}/{e['slug']}/" for e in events.values()}
    urls |= {f"/{events[s['event']]['start_date'][:4]}/{events[s['event']]['slug']}/{s['slug']}/" for s in collection(site, "sessions")}
    urls |= {f"/people/{p['slug']}/" for p in collection(site, "people")}
    return urls | {"/about/"}


# ---------------------------------------------------------------------------
# The index, without a browser


def test_the_index_covers_every_session_person_event_and_page(minimal_site):
    build_cli(minimal_site)
    declared, urls = listed_pages(bundle(minimal_site / "build"))
    assert declared == len(urls) == len(model_urls(minimal_site))
    assert set(urls) == model_urls(minimal_site)


def test_the_index_is_byte_identical_across_builds_and_hash_seeds(minimal_site, tmp_path):
    """Pagefind writes filter values in hash-map order; the bundle is made canonical."""
    build_cli(minimal_site, "--output", str(tmp_path / "a"), env={"PYTHONHASHSEED": "1"})
    build_cli(minimal_site, "--output", str(tmp_path / "b"), env={"PYTHONHASHSEED": "2"})
    build_cli(minimal_site, "--output", str(tmp_path / "c"), env={"PYTHONHASHSEED": "3"})
    a, b, c = (tree(tmp_path / name / "pagefind") for name in "abc")
    assert a == b == c


def test_a_rebuild_without_searchable_change_does_not_run_pagefind(minimal_site):
    report = build_cli(minimal_site)
    assert report["search_indexed"] is True
    output = minimal_site / "build"
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in (output / "pagefind").rglob("*") if p.is_file()}
    # updated_at is not searchable: pages change (the sitemap), the index does not
    edit_collection(minimal_site, "sessions", lambda items: items[0].update(updated_at="2025-01-01T00:00:00+00:00"))
    report = build_cli(minimal_site)
    assert report["search_indexed"] is False and report["search_records"] == len(model_urls(minimal_site))
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in (output / "pagefind").rglob("*") if p.is_file()}
    assert after == before
    # a searchable change runs it, and the old bundle's replaced files are gone
    edit_collection(minimal_site, "sessions", lambda items: items[0].update(title="Difference engines"))
    assert build_cli(minimal_site)["search_indexed"] is True
    fragments = [json.loads(decode_file(p.name, p.read_bytes())) for p in (output / "pagefind/fragment").iterdir()]
    assert len(fragments) == len(model_urls(minimal_site))
    assert "Difference engines" in [f["meta"]["title"] for f in fragments]


def test_an_index_file_deleted_or_made_a_folder_by_hand_makes_the_next_build_index_again(minimal_site):
    """An unchanged build keeps the last index only when every file it names is a file in
    build/ (each folder listed once): a fragment deleted, or a folder in a chunk's place, is
    indexed again and put back."""
    build_cli(minimal_site)
    index = minimal_site / "build" / "pagefind"
    whole = bundle(minimal_site / "build")
    fragment = sorted((index / "fragment").glob("*.pf_fragment"))[0]
    fragment.unlink()
    assert build_cli(minimal_site)["search_indexed"] is True
    assert bundle(minimal_site / "build") == whole
    assert build_cli(minimal_site)["search_indexed"] is False  # and then kept again
    chunk = sorted((index / "index").glob("*.pf_index"))[0]
    chunk.unlink()
    chunk.mkdir()
    assert build_cli(minimal_site)["search_indexed"] is True
    assert bundle(minimal_site / "build") == whole


def test_a_deleted_session_leaves_the_index_after_a_rebuild(minimal_site):
    build_cli(minimal_site)
    edit_collection(minimal_site, "sessions", lambda items: items.pop(2))  # "More gears"
    build_cli(minimal_site)
    declared, urls = listed_pages(bundle(minimal_site / "build"))
    assert "/2024/minicon/gears/" not in urls and declared == len(urls) == len(model_urls(minimal_site))


def test_check_verifies_the_index_and_reports_its_pages(minimal_site):
    result = sitegen("check", "--root", str(minimal_site), "--today", TODAY.isoformat())
    assert result.returncode == 0, result.stderr
    assert f"{len(model_urls(minimal_site))} pages listed, every one in the build" in result.stderr


def _delete_entry(index: Path) -> str:
    (index / "pagefind-entry.json").unlink()
    return "build/pagefind/pagefind-entry.json: is missing: the site has no search index"


def _truncate_chunk(index: Path) -> str:
    chunk = sorted((index / "index").glob("*.pf_index"))[0]
    chunk.write_bytes(chunk.read_bytes()[:-20])
    return f"build/pagefind/index/{chunk.name}: does not hold what its name says (damaged or changed by hand)"


def _swap_fragment(index: Path) -> str:
    first, second = sorted((index / "fragment").glob("*.pf_fragment"))[:2]
    second.write_bytes(first.read_bytes())
    return f"build/pagefind/fragment/{second.name}: does not hold what its name says (damaged or changed by hand)"


def _delete_sort(index: Path) -> str:
    (sort,) = (index / "sort").glob("*.pf_sort")
    sort.unlink()
    return f"build/pagefind/sort/{sort.name}: is named by the index but missing"


def _delete_wasm(index: Path) -> str:
    (index / "wasm.en.pagefind").unlink()
    return "build/pagefind/wasm.en.pagefind: is named by the index but missing"


def _flip_meta_byte(index: Path) -> str:
    (meta,) = index.glob("*.pf_meta")
    data = bytearray(meta.read_bytes())
    data[40] ^= 0xFF
    meta.write_bytes(bytes(data))
    return f"build/pagefind/{meta.name}: does not hold what its name says (damaged or changed by hand)"


def _edit_entry(change):
    def damage(index: Path) -> str:
        entry = index / "pagefind-entry.json"
        data = json.loads(entry.read_text(encoding="utf-8"))
        expected = change(data)
        entry.write_text(json.dumps(data), encoding="utf-8")
        return f"build/pagefind/pagefind-entry.json: {expected}"

    damage.__name__ = change.__name__
    return damage


@_edit_entry
def _entry_without_sorts(data: dict) -> str:
    del data["languages"]["en"]["sorts"]
    return "is not a Pagefind entry: language 'en' lacks its meta's hash, its page count or its sort files"


@_edit_entry
def _entry_without_languages(data: dict) -> str:
    data["languages"] = {}
    return "is not a Pagefind entry: it names no language"


@_edit_entry
def _entry_with_a_wrong_page_count(data: dict) -> str:
    info = data["languages"]["en"]
    info["page_count"] += 1
    return f"says pagefind.{info['hash']}.pf_meta lists {info['page_count']} pages; it lists {info['page_count'] - 1}"


def _entry_a_list(index: Path) -> str:
    (index / "pagefind-entry.json").write_text("[]", encoding="utf-8")
    return "build/pagefind/pagefind-entry.json: is not a Pagefind entry: it names no language"


def _edit_pagefind_js(index: Path) -> str:
    script = index / "pagefind.js"
    script.write_bytes(b"/" + script.read_bytes()[1:])
    return "build/pagefind/pagefind.js: is not the Pagefind runtime file the build wrote (damaged or changed by hand)"


def _record_a_fifo(index: Path) -> str:
    record = index.parent / ".sitegen" / "search.json"
    record.unlink()
    os.mkfifo(record)
    return "build/.sitegen/search.json: is not a regular file (a device, pipe or folder)"


def _entry_to_dev_zero(index: Path) -> str:
    (index / "pagefind-entry.json").unlink()
    (index / "pagefind-entry.json").symlink_to("/dev/zero")
    return "build/pagefind/pagefind-entry.json: is not a regular file (a device, pipe or folder)"


def _fragment_to_dev_zero(index: Path) -> str:
    fragment = sorted((index / "fragment").glob("*.pf_fragment"))[0]
    fragment.unlink()
    fragment.symlink_to("/dev/zero")
    return f"build/pagefind/fragment/{fragment.name}: is not a regular file (a link to a device, a pipe or a folder)"


def _forged_sort(index: Path) -> str:
    """A sort file named as its bytes say, listing a page the index does not have."""
    from sitegen.search.bundle import encode_sort, sort_name

    entry = index / "pagefind-entry.json"
    data = json.loads(entry.read_text(encoding="utf-8"))
    key = sorted(data["languages"]["en"]["sorts"])[0]
    forged = encode_sort(key, [99999, 0, 0])
    name = sort_name("en", forged)
    (index / "sort" / f"{name}.pf_sort").write_bytes(forged)
    data["languages"]["en"]["sorts"][key] = name
    entry.write_text(json.dumps(data), encoding="utf-8")
    pages = data["languages"]["en"]["page_count"]
    return f"build/pagefind/sort/{name}.pf_sort: is not the '{key}' order of the index's {pages} pages (each page once)"


@_edit_entry
def _entry_of_another_version(data: dict) -> str:
    data["version"] = "1.5.1"
    return "is not a Pagefind entry: its version or word characters are not those of the Pagefind 1.5.2 runtime the build wrote"


@pytest.mark.parametrize(
    "damage",
    [
        _delete_entry,
        _truncate_chunk,
        _swap_fragment,
        _delete_sort,
        _delete_wasm,
        _flip_meta_byte,
        _entry_a_list,
        _entry_without_sorts,
        _entry_without_languages,
        _entry_with_a_wrong_page_count,
        _edit_pagefind_js,
        _record_a_fifo,
        _entry_to_dev_zero,
        _fragment_to_dev_zero,
        _forged_sort,
        _entry_of_another_version,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_check_verifies_the_built_index_on_disk(minimal_site, damage):
    """``sitegen check`` reads build/pagefind/ too: a deleted entry, a truncated index
    chunk, a fragment with another's bytes, a deleted sort file or Pagefind's wasm, a
    damaged meta, an entry that is not one or lacks its sort files or its page count, or
    an edited pagefind.js is reported, once, naming the file and the fix; so are the
    record or the entry as a FIFO or a link to /dev/zero (no hang, no memory blown), a
    fragment as such a link, a sort file named as its bytes say but listing pages the
    index has not, and an entry of another Pagefind version."""
    build_cli(minimal_site)
    expected = damage(minimal_site / "build" / "pagefind")
    before = tree(minimal_site / "build")
    result = sitegen("check", "--root", str(minimal_site), "--today", TODAY.isoformat())
    assert result.returncode == 1, result.stderr
    assert "The last build in" in result.stderr
    assert f"{expected} (fix: run sitegen build --full)" in result.stderr
    assert result.stderr.count("(fix: ") == 1  # one problem, one line
    assert "Traceback" not in result.stderr
    assert tree(minimal_site / "build") == before  # check writes nothing


@pytest.mark.parametrize("delete", [False, True], ids=["changed", "deleted"])
def test_check_verifies_the_built_assets_as_publish_does(minimal_site, delete):
    """``sitegen check`` reports a hashed asset of build/ whose bytes are not what its
    name says (or that is gone) in the words ``publish`` refuses it with."""
    build_cli(minimal_site)
    asset = sorted((minimal_site / "build" / "static" / "css").glob("site.*.css"))[0]
    if delete:
        asset.unlink()
    else:
        asset.write_bytes(asset.read_bytes() + b" ")
    before = tree(minimal_site / "build")
    result = sitegen("check", "--root", str(minimal_site), "--today", TODAY.isoformat())
    assert result.returncode == 1, result.stderr
    said = "is in the asset manifest but not in the build" if delete else "does not hold what its name says (damaged or changed by hand)"
    assert "The last build in" in result.stderr
    assert f"build/static/css/{asset.name}: {said} (fix: run sitegen build --full)" in result.stderr
    assert "Traceback" not in result.stderr
    assert tree(minimal_site / "build") == before  # check writes nothing


def test_check_refuses_an_asset_manifest_naming_a_file_out_of_the_build(minimal_site):
    """The asset manifest in build/ is read back as outside input: a name out of build/ is
    reported, and the file there is never read."""
    build_cli(minimal_site)
    manifest = minimal_site / "build" / ".sitegen" / "assets.json"
    names = json.loads(manifest.read_text(encoding="utf-8"))
    names["css/evil.css"] = "../../sitegen.toml"
    manifest.write_text(json.dumps(names), encoding="utf-8")
    result = sitegen("check", "--root", str(minimal_site), "--today", TODAY.isoformat())
    assert result.returncode == 1, result.stderr
    assert "build/.sitegen/assets.json: names 'static/../../sitegen.toml', which has a '..' part" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_passes_a_whole_built_index(minimal_site):
    build_cli(minimal_site)
    result = sitegen("check", "--root", str(minimal_site), "--today", TODAY.isoformat())
    assert result.returncode == 0, result.stderr
    assert "build/pagefind whole, every file as its name says" in result.stderr


# ---------------------------------------------------------------------------
# The search page in Chromium, on the build served as S3 serves it


def test_a_failing_pagefind_job_is_one_message_and_keeps_the_last_build(minimal_site, tmp_path):
    """The index job runs in a forked process while the site renders; with
    --full it takes Pagefind's runtime files from the binary: its error comes
    back as the one message, the last build stays, no temporary folder is left."""
    build_cli(minimal_site)
    before = tree(minimal_site / "build")
    edit_collection(minimal_site, "sessions", lambda items: items[0].update(title="Renamed while Pagefind is missing"))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {"PAGEFIND_BINARY_PATH": str(tmp_path / "no-such-pagefind"), "TMPDIR": str(scratch)}
    result = sitegen("build", "--root", str(minimal_site), "--today", TODAY.isoformat(), "--full", env=env)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "no-such-pagefind could not be started: No such file or directory" in result.stderr
    assert "PAGEFIND_BINARY_PATH is " in result.stderr and "or unset it to use the one installed with sitegen" in result.stderr
    assert tree(minimal_site / "build") == before
    assert list(scratch.iterdir()) == []


def test_a_rebuild_reuses_pagefinds_runtime_files_without_running_it(minimal_site, tmp_path):
    """The index is sitegen's own writer's; Pagefind's runtime files (same version)
    come from the last build, so an edit re-indexes without the binary."""
    first = build_cli(minimal_site)
    assert first["search_indexed"] is True and first["search_seconds"] > 0
    runtime = {p: d for p, d in bundle(minimal_site / "build").items() if p.endswith((".js", ".pagefind"))}
    assert {"pagefind.js", "pagefind-worker.js", "wasm.en.pagefind"} <= set(runtime)
    edit_collection(minimal_site, "sessions", lambda items: items[0].update(title="Renamed without the binary"))
    env = {"PAGEFIND_BINARY_PATH": str(tmp_path / "no-such-pagefind")}
    report = build_cli(minimal_site, env=env)
    assert report["search_indexed"] is True
    after = bundle(minimal_site / "build")
    assert {p: d for p, d in after.items() if p in runtime} == runtime
    assert "Renamed without the binary" in b"".join(decode_file(p, d) for p, d in after.items() if p.startswith("fragment/")).decode()


def test_a_runtime_file_edited_in_build_is_not_reused(minimal_site):
    """A copy of pagefind.js changed in build/ (by hand, by a bad sync) no longer has the
    SHA-256 it was written with: the next index run takes Pagefind's own again."""
    build_cli(minimal_site)
    original = (minimal_site / "build" / "pagefind" / "pagefind.js").read_bytes()
    (minimal_site / "build" / "pagefind" / "pagefind.js").write_bytes(b"alert('tampered');")
    edit_collection(minimal_site, "sessions", lambda items: items[0].update(title="Renamed after tampering"))
    assert build_cli(minimal_site)["search_indexed"] is True
    assert (minimal_site / "build" / "pagefind" / "pagefind.js").read_bytes() == original


def search_url(origin: S3LikeOrigin, query: str = "") -> str:
    return f"{origin.url}/search/{query}"


def result_titles(page) -> list[str]:
    return page.locator("[data-search-results] h2").all_inner_texts()


def sessions_in_year(site: Path, year: str) -> int:
    events = {e["id"]: e["start_date"][:4] for e in collection(site, "events")}
    return sum(1 for s in collection(site, "sessions") if events[s["event"]] == year)


FIRST = 5  # results drawn at once (search.js); the rest come with "More results"


def shown_after_filter(expected: int) -> str:
    return f"document.querySelectorAll('[data-search-results] li').length === {min(expected, FIRST)}"


def test_search_page_query_facet_open_and_back(minimal_site):
    """The fast end-to-end run: type, expected talk first, year facet, open, back.
    No facet file is fetched until the facet panel is opened."""
    build_cli(minimal_site)
    with S3LikeOrigin(minimal_site / "build") as origin, chromium_page() as (page, requests):
        page.goto(search_url(origin))
        page.fill("#search-q", "gears")
        page.wait_for_function("document.querySelector('[data-search-status]').textContent.includes('gears')")
        assert result_titles(page)[0] == "More gears"
        assert "q=gears" in page.url
        # every session is at MiniCon: the query matches them all, the year facet narrows to 2027's
        page.fill("#search-q", "minicon")
        page.wait_for_function("document.querySelector('[data-search-status]').textContent.includes('minicon')")
        total = int(page.locator("[data-search-status]").inner_text().split()[0])
        assert total > FIRST and page.locator("[data-search-results] li").count() == FIRST
        assert [r for r in requests if r.endswith(".pf_filter")] == [] and page.locator("input[name=year]").count() == 0
        page.click("[data-search-more]")
        page.wait_for_function(f"document.querySelectorAll('[data-search-results] li').length === {min(total, FIRST + 10)}")
        page.click("[data-search-facets-open]")
        page.check("input[name=year][value='2027']")
        expected = sessions_in_year(minimal_site, "2027")
        page.wait_for_function(f"document.querySelector('[data-search-status]').textContent.startsWith('{expected} result')")
        page.wait_for_function(shown_after_filter(expected))
        assert "year=2027" in page.url and page.locator("[data-search-facets-open]").is_hidden()
        page.click("[data-search-results] h2 a")
        page.wait_for_url("**/2027/minicon/future/")
        page.go_back()
        page.wait_for_function(shown_after_filter(expected))
        assert page.input_value("#search-q") == "minicon" and page.is_checked("input[name=year][value='2027']")
    assert [r for r in requests if not r.startswith(origin.url)] == []


@pytest.mark.slow
def test_search_page_with_the_keyboard_alone(minimal_site):
    build_cli(minimal_site)
    with S3LikeOrigin(minimal_site / "build") as origin, chromium_page() as (page, requests):
        page.goto(f"{origin.url}/")
        page.focus("#site-q")  # the header's box, on any page
        page.keyboard.type("minicon")
        page.keyboard.press("Enter")
        page.wait_for_url("**/search/?q=minicon")
        page.wait_for_function("document.querySelector('[data-search-status]').textContent.includes('minicon')")
        expected = sessions_in_year(minimal_site, "2027")
        for _ in range(40):  # Tab to the facet panel's button, Enter to open it
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.hasAttribute('data-search-facets-open')"):
                break
        page.keyboard.press("Enter")
        page.wait_for_function("document.activeElement.name === 'kind' || document.activeElement.name === 'year'")
        for _ in range(40):  # Tab to the 2027 checkbox, Space to tick it
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.name === 'year' && document.activeElement.value === '2027'"):
                break
        page.keyboard.press("Space")
        page.wait_for_function(f"document.querySelector('[data-search-status]').textContent.startsWith('{expected} result')")
        page.wait_for_function(shown_after_filter(expected))
        # the facets are redrawn with the new counts; focus stays on the box just ticked
        assert page.evaluate("document.activeElement.name === 'year' && document.activeElement.checked")
        for _ in range(80):  # on to the first result's link, Enter to open it
            page.keyboard.press("Tab")
            if page.evaluate("!!document.activeElement.closest('[data-search-results]')"):
                break
        page.keyboard.press("Enter")
        page.wait_for_url("**/2027/minicon/future/")
        page.go_back()  # the browser's own back (its keyboard shortcut belongs to the browser's UI, which headless has none of)
        page.wait_for_function(shown_after_filter(expected))
        assert page.input_value("#search-q") == "minicon"
        assert page.get_attribute("[data-search-status]", "aria-live") == "polite"
    assert [r for r in requests if not r.startswith(origin.url)] == []


@pytest.mark.slow
def test_hostile_text_shows_escaped_in_results_and_excerpts(minimal_site):
    """The sample data has <script> in a title and a bio; an abstract gets one too."""
    edit_collection(
        minimal_site,
        "sessions",
        lambda items: items[1].update(abstract="Midnight <script>window.pwned=1</script> <img src=x onerror=window.pwned=2>"),
    )
    build_cli(minimal_site)
    with S3LikeOrigin(minimal_site / "build") as origin, chromium_page() as (page, requests):
        page.goto(search_url(origin, "?q=midnight"))
        page.wait_for_function("document.querySelectorAll('[data-search-results] li').length > 0")
        assert result_titles(page)[0] == "After midnight <script>x</script>"
        excerpt = page.locator("[data-search-results] .excerpt").first
        assert "<script>window.pwned=1</script>" in excerpt.inner_text()
        assert excerpt.locator("script, img").count() == 0 and excerpt.locator("mark").count() >= 1
        assert page.evaluate("window.pwned === undefined")
    assert [r for r in requests if not r.startswith(origin.url)] == []


@pytest.mark.slow
def test_an_edit_shows_up_in_results_under_sitegen_serve(minimal_site):
    from edgeservers import free_port, start_listening
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    port = free_port()
    process, log = start_listening(
        [sys.executable, "-m", "sitegen", "serve", "--root", str(minimal_site), "--port", str(port), "--today", TODAY.isoformat()],
        port,
        "sitegen serve",
    )
    try:
        with chromium_page() as (page, requests):
            page.goto(f"http://127.0.0.1:{port}/search/?q=gears")
            page.wait_for_function("document.querySelectorAll('[data-search-results] li').length > 0")
            edit_collection(minimal_site, "sessions", lambda items: items[2].update(title="More cogwheels"))
            for _ in range(60):  # serve rebuilds on its own; a page loaded mid-swap may find no results yet
                page.goto(f"http://127.0.0.1:{port}/search/?q=cogwheels")
                try:
                    page.wait_for_function("document.querySelector('[data-search-results] li')", timeout=1_000)
                except PlaywrightTimeout:
                    continue
                if "More cogwheels" in result_titles(page):
                    break
            assert "More cogwheels" in result_titles(page)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


# ---------------------------------------------------------------------------
# Publish


def test_publish_uploads_hashed_index_files_first_as_immutable_and_the_entry_after(minimal_site, s3):
    from test_publish import build, bundle_hashed, publish

    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy)
    writes = [r for r in proxy.requests if r.operation == "PutObject"][1:-1]  # the manifest's intent and commit aside
    hashed = bundle_hashed(minimal_site / "build")
    assert hashed and {"pagefind/index", "pagefind/fragment", "pagefind/filter"} <= {k.rsplit("/", 1)[0] for k in hashed}
    order = [r.key for r in writes]
    last_hashed = max(order.index(k) for k in hashed)
    first_page = min(i for i, k in enumerate(order) if k.endswith(".html"))
    assert last_hashed < first_page < order.index("pagefind/pagefind-entry.json")
    assert max(writes[order.index(k)].finished_at_monotonic_ns for k in hashed) <= writes[first_page].started_at_monotonic_ns
    for key in hashed:
        assert client.head_object(Bucket="site", Key=key)["CacheControl"] == "public, max-age=31536000, immutable", key
    for key in ("pagefind/pagefind-entry.json", "pagefind/pagefind.js", "pagefind/wasm.en.pagefind"):
        assert client.head_object(Bucket="site", Key=key)["CacheControl"] == "public, max-age=0, s-maxage=300, must-revalidate", key
    assert gzip.decompress(client.get_object(Bucket="site", Key=sorted(hashed)[0])["Body"].read()).startswith(b"pagefind_dcd")


def test_old_index_files_are_collected_like_old_assets(minimal_site, s3):
    from datetime import timedelta

    from test_publish import NOW, build, bundle_hashed, publish, retitle

    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy)
    first = bundle_hashed(minimal_site / "build")
    for n in range(3):  # three deploys, each with a retitled session: new index files each time
        retitle(minimal_site, 0, f"Retitled {n}")
        report = publish(minimal_site, proxy, now=NOW + timedelta(days=n), **{"publish.keep_deploys": 2, "publish.asset_grace_days": 7.0})
    current = bundle_hashed(minimal_site / "build")
    retired = sorted(first - current)
    assert retired and set(retired) <= set(report.deferred)  # two deploys old, but used only days ago
    report = publish(minimal_site, proxy, now=NOW + timedelta(days=30), **{"publish.keep_deploys": 2})
    assert set(retired) <= set(report.deleted) and not current & set(report.deleted)


def test_a_rebuild_compares_only_the_index_files_whose_bytes_changed(minimal_site, tmp_path, monkeypatch):
    """The index job stages only files whose digest differs from the one the last build's
    record gives them; the rest are in place and not read back. The result is a clean build's."""
    from sitegen import write
    from sitegen.build import build_site
    from sitegen.config import load_config

    build_site(load_config(minimal_site), today=TODAY)
    compared = tmp_path / "compared"
    same = write._same_bytes

    def logged(target: Path, data: bytes) -> bool:
        with open(compared, "a", encoding="utf-8") as log:  # the index job is a forked process: a file carries it back
            log.write(f"{target}\n")
        return same(target, data)

    monkeypatch.setattr(write, "_same_bytes", logged)
    edit_collection(minimal_site, "sessions", lambda items: items[0].update(title="Difference engines"))
    build_site(load_config(minimal_site), today=TODAY)
    read_back = [line for line in compared.read_text(encoding="utf-8").splitlines() if "/pagefind/" in line]
    files = [p for p in (minimal_site / "build/pagefind").rglob("*") if p.is_file()]
    assert 0 < len(read_back) < len(files) / 2
    build_site(load_config(minimal_site, {"build.output_dir": "clean"}), today=TODAY)
    assert bundle(minimal_site / "build") == bundle(minimal_site / "clean")


@pytest.mark.parametrize("special", ["fifo", "dev-zero", "folder"])
def test_a_special_file_in_place_of_an_index_chunk_is_not_read(minimal_site, special):
    """The last build's chunks are read back to be reused: a pipe (which would block), a link to
    /dev/zero (which never ends) or a folder in a chunk's place is passed over; the rebuild is a
    clean build's."""
    build_cli(minimal_site)
    chunk = sorted((minimal_site / "build/pagefind/index").iterdir())[0]
    chunk.unlink()
    if special == "fifo":
        os.mkfifo(chunk)
    elif special == "dev-zero":
        chunk.symlink_to("/dev/zero")
    else:
        chunk.mkdir()
    edit_collection(minimal_site, "sessions", lambda items: items[0].update(title="Difference engines"))
    build_cli(minimal_site)
    build_cli(minimal_site, "--output", str(minimal_site / "clean"))
    assert bundle(minimal_site / "build") == bundle(minimal_site / "clean")
    # and a special file where a chunk the rebuild dropped was is removed, not left behind
    left = sorted(p.name for p in (minimal_site / "build/pagefind/index").iterdir() if not p.is_file())
    assert left == ([chunk.name] if special == "folder" and chunk.is_dir() else [])
