"""sitegen publish against moto's standalone S3 server, through a recording proxy."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import TODAY, edit_collection
from s3server import Fault, access_denied, cloudfront_client, make_distribution, slow_down

from sitegen.build import build_site
from sitegen.cli.publish import aws_services
from sitegen.config import load_config
from sitegen.errors import PublishError
from sitegen.publish import PublishReport, publish_site, rollback_site
from sitegen.publish.headers import FAR_FUTURE
from sitegen.publish.manifest import MANIFEST_KEY, Manifest
from sitegen.publish.plan import invalidation_paths

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
STATIC_REF = re.compile(r'(?:href|src)="/static/([^"]+)"')


#: What a new person adds to the site: a page, a calendar and a feed.
NEWCOMER_FILES = ["people/newcomer/calendar.ics", "people/newcomer/feed.atom", "people/newcomer/index.html"]


def bundle_hashed(build: Path) -> set[str]:
    """The search bundle's content-addressed files, by Pagefind's suffixes (not sitegen's rule)."""
    suffixes = (".pf_index", ".pf_fragment", ".pf_filter", ".pf_sort", ".pf_meta")
    return {p.relative_to(build).as_posix() for p in (build / "pagefind").rglob("*") if p.suffix in suffixes}


def build(site: Path, **overrides) -> None:
    build_site(load_config(site, overrides), today=TODAY)


def publish(site: Path, proxy, *, now: datetime = NOW, dry_run: bool = False, rollback: bool = False, **overrides) -> PublishReport:
    config = load_config(site, {"publish.bucket": "site", "publish.endpoint_url": proxy.url, **overrides})
    services = replace(aws_services(config.publish), now=lambda: now)
    run = rollback_site if rollback else publish_site
    return run(config, services, dry_run=dry_run)


def site_objects(client, expected: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """Every object of the site in the bucket (sitegen's own state aside), by key.
    With ``expected``, old hashed search-index files it lacks are left out: like
    old assets, they stay until garbage-collected (tests/test_search.py)."""
    keys = [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket="site") for o in page.get("Contents", ())]
    keys = sorted(k for k in keys if not k.startswith(".sitegen/"))
    with ThreadPoolExecutor(max_workers=8) as pool:
        bodies = pool.map(lambda key: client.get_object(Bucket="site", Key=key)["Body"].read(), keys)
        objects = dict(zip(keys, bodies, strict=True))
    if expected is None:
        return objects
    return {k: v for k, v in objects.items() if k in expected or not (k.startswith("pagefind/") and ".pf_" in k)}


def stored_manifest(client, key: str = MANIFEST_KEY) -> dict:
    """The deploy manifest in the bucket, as JSON."""
    return json.loads(gzip.decompress(client.get_object(Bucket="site", Key=key)["Body"].read()))


def local_files(site: Path) -> dict[str, bytes]:
    output = site / "build"
    return {
        p.relative_to(output).as_posix(): p.read_bytes() for p in sorted(output.rglob("*")) if p.is_file() and ".sitegen" not in p.parts
    }


def pages_missing_assets(objects: dict[str, bytes]) -> list[str]:
    """Every live page whose hashed CSS/JS/images are not in the bucket."""
    return [
        f"{key} -> static/{ref}"
        for key, body in objects.items()
        if key.endswith(".html")
        for ref in STATIC_REF.findall(body.decode())
        if f"static/{ref}" not in objects
    ]


def retitle(site: Path, index: int, title: str) -> None:
    """Change one session's title and rebuild: the smallest change a deploy carries."""
    edit_collection(site, "sessions", lambda items: items[index].update(title=title))
    build(site)


def add_newcomer(site: Path) -> None:
    """A new speaker on the last session: one new page, people/newcomer/."""
    edit_collection(
        site,
        "people",
        lambda items: items.append(
            {"id": "p9", "slug": "newcomer", "name": "New Comer", "links": [], "updated_at": "2024-01-01T00:00:00+00:00"}
        ),
    )
    edit_collection(site, "sessions", lambda items: items[-1]["speakers"].append("p9"))


def puts(proxy) -> list[str]:
    return [key for op, key in proxy.operations() if op == "PutObject"]


def test_first_publish_uploads_everything_with_the_right_headers(minimal_site, s3):
    proxy, client = s3
    build(minimal_site)
    report = publish(minimal_site, proxy)
    assert site_objects(client, local_files(minimal_site)) == local_files(minimal_site)
    assert report.state_from == "none" and report.deploy == 1 and report.skipped == 0
    expected_types = {
        ".html": "text/html; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".js": "text/javascript; charset=utf-8",
        ".svg": "image/svg+xml; charset=utf-8",
        ".atom": "application/atom+xml; charset=utf-8",
        ".xml": "application/xml; charset=utf-8",
        ".ics": "text/calendar; charset=utf-8",
        ".txt": "text/plain; charset=utf-8",
        ".json": "application/json; charset=utf-8",
    }
    # the search bundle (tests/test_search.py): its content-addressed files are immutable like assets
    hashed = bundle_hashed(minimal_site / "build")
    for key in local_files(minimal_site):
        head = client.head_object(Bucket="site", Key=key)
        assert head["ContentType"] == expected_types.get(Path(key).suffix, "application/octet-stream"), key
        assert "ContentEncoding" not in head, key  # pre-compression is off by default
        assert len(head["Metadata"]["sitegen-sha256"]) == 64
        if key.startswith("static/") or key in hashed:
            assert head["CacheControl"] == "public, max-age=31536000, immutable", key
            assert head["Expires"] == FAR_FUTURE, key
        else:
            assert head["CacheControl"] == "public, max-age=0, s-maxage=300, must-revalidate", key
            assert "Expires" not in head, key


def test_phases_go_in_order_assets_static_pages_then_manifest(minimal_site, s3):
    """Each phase's last request has been answered before the next phase's first is sent."""
    proxy, client = s3
    build(minimal_site)
    (minimal_site / "build/favicon.ico").write_bytes(b"\0\0\1\0")  # an unhashed file beside the pages: phase 2
    publish(minimal_site, proxy)
    writes = [r for r in proxy.requests if r.operation == "PutObject"]
    assert writes[0].key == MANIFEST_KEY  # first, the keys about to be created
    assert writes[-1].key == MANIFEST_KEY  # last, the commit
    hashed = bundle_hashed(minimal_site / "build")
    assert any(k.startswith("pagefind/sort/") for k in hashed)  # immutable, before the entry naming it
    unhashed = {
        "favicon.ico",
        "pagefind/pagefind.js",
        "pagefind/pagefind-worker.js",
        "pagefind/wasm.en.pagefind",
        "pagefind/wasm.unknown.pagefind",
    }
    phases = [
        [r for r in writes[1:-1] if (1 if r.key.startswith("static/") or r.key in hashed else 2 if r.key in unhashed else 3) == n]
        for n in (1, 2, 3)
    ]
    assets = len(list((minimal_site / "build" / "static").rglob("*.*"))) + len(hashed)
    assert [len(p) for p in phases] == [assets, len(unhashed), len(writes) - 2 - assets - len(unhashed)]
    groups = [[writes[0]], *phases, [writes[-1]]]
    for earlier, later in itertools.pairwise(groups):
        assert max(r.finished_at_monotonic_ns for r in earlier) <= min(r.started_at_monotonic_ns for r in later)


def test_second_publish_without_changes_makes_no_puts(minimal_site, s3):
    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy)
    proxy.clear()
    build(minimal_site)  # rebuilding touches nothing, but even new mtimes would not matter
    report = publish(minimal_site, proxy)
    assert proxy.operations() == [("GetObject", MANIFEST_KEY)]
    assert report.uploaded == [] and report.requests == {"GetObject": 1} and report.skipped == len(local_files(minimal_site))


def test_one_changed_session_uploads_only_the_pages_that_show_it(minimal_site, s3):
    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy)
    retitle(minimal_site, 2, "Gears Reconsidered")
    proxy.clear()
    report = publish(minimal_site, proxy)
    showing = sorted(k for k, body in local_files(minimal_site).items() if b"Gears Reconsidered" in body)
    assert sorted(k for k in report.uploaded if not k.startswith("pagefind/")) == showing  # and the index files that changed
    assert set(showing) >= {"2024/minicon/gears/index.html", "2024/minicon/index.html", "people/ada/index.html", "2024/minicon/event.ics"}
    assert len(showing) < len(local_files(minimal_site)) / 3
    ops = proxy.operations()
    # The manifest read; the record of what is about to change; the uploads; the commit.
    assert ops[:2] == [("GetObject", MANIFEST_KEY), ("PutObject", MANIFEST_KEY)] and ops[-1] == ("PutObject", MANIFEST_KEY)
    assert [op for op, _ in ops[2:-1]] == ["PutObject"] * len(report.uploaded)
    assert not any(op.startswith("List") for op, _ in ops)
    assert site_objects(client, local_files(minimal_site)) == local_files(minimal_site)


def test_header_only_change_is_a_metadata_copy(minimal_site, s3):
    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy)
    proxy.clear()
    report = publish(minimal_site, proxy, **{"publish.html_cache_control": "public, max-age=60"})
    hashed = bundle_hashed(minimal_site / "build")
    documents = [k for k in local_files(minimal_site) if not k.startswith("static/") and k not in hashed]
    assert report.uploaded == [] and sorted(report.header_updated) == sorted(documents)
    assert proxy.count("CopyObject") == len(documents) and puts(proxy) == [MANIFEST_KEY, MANIFEST_KEY]  # intent, commit
    head = client.head_object(Bucket="site", Key="index.html")
    assert head["CacheControl"] == "public, max-age=60" and head["ContentType"] == "text/html; charset=utf-8"
    assert head["Metadata"]["sitegen-sha256"]  # REPLACE drops what is not restated; we restate it
    assert site_objects(client, local_files(minimal_site)) == local_files(minimal_site)


def test_deletes_respect_the_cap_and_say_so(minimal_site, s3):
    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy)
    edit_collection(minimal_site, "sessions", lambda items: [items.remove(s) for s in list(items) if s["id"] in ("x2", "x3")])
    build(minimal_site)
    proxy.clear()
    report = publish(minimal_site, proxy, **{"publish.max_deletes": 1})
    assert "2 deletes exceed max_deletes = 1; nothing was deleted" in report.deletes_skipped
    assert any("deletes skipped" in w for w in report.warnings)
    assert proxy.count("DeleteObjects") == 0 and report.deleted == []
    assert "2024/minicon/gears/index.html" in site_objects(client)
    report = publish(minimal_site, proxy, **{"publish.max_deletes": 10})
    assert sorted(report.deleted) == ["2024/minicon/gears/index.html", "2024/minicon/late-night/index.html"]
    assert site_objects(client, local_files(minimal_site)) == local_files(minimal_site)


@pytest.mark.slow
def test_old_assets_stay_until_keep_deploys_and_grace_have_passed(minimal_site, s3):
    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy)
    old_css = next(k for k in local_files(minimal_site) if k.startswith("static/css/"))
    theme = minimal_site / "themes/child"
    (theme / "static/css").mkdir(parents=True)
    (theme / "theme.toml").write_text('extends = "default"\n')
    for n in range(3):  # three deploys, each with new CSS
        (theme / "static/css/site.css").write_text(f"body{{margin:{n}px}}")
        build(minimal_site, **{"build.theme": "child"})
        report = publish(minimal_site, proxy, now=NOW + timedelta(days=n), **{"publish.keep_deploys": 2, "publish.asset_grace_days": 7.0})
        assert pages_missing_assets(site_objects(client)) == []
    assert old_css in report.deferred  # two deploys old, but used only 2 days ago
    report = publish(minimal_site, proxy, now=NOW + timedelta(days=30), **{"publish.keep_deploys": 2})
    assert old_css in report.deleted
    assert report.deploy == 4  # collecting garbage alone is not a deploy: there is nothing to roll back
    assert old_css not in site_objects(client)


@pytest.mark.slow
def test_rollback_restores_the_previous_pages_and_their_assets_are_still_there(minimal_site, s3):
    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy)
    before = site_objects(client)
    edit_collection(minimal_site, "sessions", lambda items: items[0].update(title="Rewritten"))
    add_newcomer(minimal_site)
    (minimal_site / "themes/child/static/css").mkdir(parents=True)
    (minimal_site / "themes/child/theme.toml").write_text('extends = "default"\n')
    (minimal_site / "themes/child/static/css/site.css").write_text("body{color:teal}")
    build(minimal_site, **{"build.theme": "child"})
    publish(minimal_site, proxy)
    assert "people/newcomer/index.html" in site_objects(client)
    proxy.clear()
    report = rollback_site(
        load_config(minimal_site, {"publish.bucket": "site", "publish.endpoint_url": proxy.url}),
        replace(aws_services(load_config(minimal_site, {"publish.endpoint_url": proxy.url}).publish), now=lambda: NOW),
    )
    after = site_objects(client, before)
    assert {k: v for k, v in after.items() if not k.startswith("static/")} == {
        k: v for k, v in before.items() if not k.startswith("static/")
    }
    assert pages_missing_assets(after) == []
    assert report.deleted == NEWCOMER_FILES and "index.html" in report.restored
    assert proxy.count("CopyObject") == len(report.restored)
    head = client.head_object(Bucket="site", Key="index.html")
    assert head["CacheControl"].startswith("public, max-age=0") and head["ContentType"] == "text/html; charset=utf-8"
    # The next publish of the new build brings it back, uploading only what differs.
    proxy.clear()
    again = publish(minimal_site, proxy)
    assert "people/newcomer/index.html" in again.uploaded
    objects, local = site_objects(client), local_files(minimal_site)
    assert {k: objects[k] for k in local} == local
    kept = [k for k in before if k.startswith("static/css/") or (k.startswith("pagefind/") and ".pf_" in k and k not in local)]
    assert [k for k in objects if k not in local] == sorted(kept)  # kept for their grace period, the old index files too


def test_rollback_without_versions_is_refused_clearly(minimal_site, s3, moto_server):
    proxy, client = s3
    client.put_bucket_versioning(Bucket="site", VersioningConfiguration={"Status": "Suspended"})
    build(minimal_site)
    first = publish(minimal_site, proxy)
    retitle(minimal_site, 0, "Rewritten")
    report = publish(minimal_site, proxy)
    assert any("keeps no object versions, so this deploy cannot be rolled back" in w for w in report.warnings + first.warnings)
    with pytest.raises(PublishError, match="cannot be rolled back: no earlier S3 version was recorded"):
        publish(minimal_site, proxy, rollback=True)


def test_cloudfront_invalidation_of_changed_pages_only(minimal_site, s3):
    proxy, client = s3
    distribution = make_distribution(cloudfront_client(proxy.url))
    build(minimal_site)
    publish(minimal_site, proxy, **{"publish.cloudfront_distribution": distribution})
    retitle(minimal_site, 2, "Gears Reconsidered")
    proxy.clear()
    report = publish(minimal_site, proxy, **{"publish.cloudfront_distribution": distribution})
    assert report.invalidation_id
    assert "/2024/minicon/gears/" in report.invalidation_paths and "/2024/minicon/gears/index.html" in report.invalidation_paths
    assert not any(p.startswith("/static/") for p in report.invalidation_paths)
    ops = proxy.operations()
    records = [i for i, entry in enumerate(ops) if entry == ("PutObject", MANIFEST_KEY)]
    invalidation = [op for op, _ in ops].index("CreateInvalidation")
    # intent, uploads, the commit (invalidation still pending), the invalidation, the record that it is done
    last_upload = max(i for i, (op, k) in enumerate(ops) if op == "PutObject" and k != MANIFEST_KEY)
    assert len(records) == 3 and records[0] < last_upload < records[1] < invalidation < records[2]


def test_invalidation_paths_collapse_to_wildcards_then_everything():
    paths = [f"2024/event-{n}/index.html" for n in range(30)] + ["feed.atom"]
    assert invalidation_paths(paths[:2], 10) == ("/2024/event-0/", "/2024/event-0/index.html", "/2024/event-1/", "/2024/event-1/index.html")
    assert invalidation_paths(paths, 10) == ("/2024/*", "/feed.atom")
    assert invalidation_paths([f"{y}/x/index.html" for y in range(2000, 2020)], 10) == ("/*",)


def test_gzip_policy_compresses_matching_files_deterministically(minimal_site, s3):
    proxy, client = s3
    build(minimal_site)
    report = publish(minimal_site, proxy, **{"publish.gzip": ["*.html"]})
    assert any("every client gets gzip" in w for w in report.warnings)
    head = client.head_object(Bucket="site", Key="index.html")
    assert head["ContentEncoding"] == "gzip"
    assert "ContentEncoding" not in client.head_object(Bucket="site", Key="feed.atom")
    import gzip

    assert (
        gzip.decompress(client.get_object(Bucket="site", Key="index.html")["Body"].read())
        == (minimal_site / "build/index.html").read_bytes()
    )
    proxy.clear()
    assert publish(minimal_site, proxy, **{"publish.gzip": ["*.html"]}).uploaded == []  # mtime=0: same bytes again


def test_dry_run_plans_the_same_and_writes_nothing(minimal_site, s3):
    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy)
    edit_collection(minimal_site, "sessions", lambda items: items.remove(items[2]))
    build(minimal_site)
    before = site_objects(client)
    proxy.clear()
    planned = publish(minimal_site, proxy, dry_run=True, **{"publish.html_cache_control": "public, max-age=1"})
    # Reads only: the manifest, and the one page to delete checked for sitegen's sha256 before it is planned.
    assert proxy.operations() == [("GetObject", MANIFEST_KEY), ("HeadObject", "2024/minicon/gears/index.html")]
    assert site_objects(client, before) == before
    done = publish(minimal_site, proxy, **{"publish.html_cache_control": "public, max-age=1"})
    for field in ("uploaded", "header_updated", "deleted", "deferred", "skipped", "invalidation_paths"):
        assert getattr(planned, field) == getattr(done, field), field
    assert planned.deleted == ["2024/minicon/gears/index.html"] and planned.header_updated


def test_missing_manifest_falls_back_to_a_listing_and_says_so(minimal_site, s3):
    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy)
    client.delete_object(Bucket="site", Key=MANIFEST_KEY)
    retitle(minimal_site, 2, "Gears Reconsidered")
    proxy.clear()
    report = publish(minimal_site, proxy)
    assert report.state_from == "listing"
    assert any("there is no deploy manifest yet; comparing against a listing" in w for w in report.warnings)
    assert proxy.count("ListObjectsV2") == 1
    assert "2024/minicon/gears/index.html" in report.uploaded and "404.html" not in report.uploaded
    assert site_objects(client, local_files(minimal_site)) == local_files(minimal_site)
    assert stored_manifest(client)["deploy"] == 1


# ---------------------------------------------------------------------------
# Failures a user can cause, each with its message


def test_throttling_is_retried(minimal_site, s3):
    proxy, client = s3
    build(minimal_site)
    proxy.add_fault(Fault(op="PutObject", times=2, status=503, body=slow_down()))
    report = publish(minimal_site, proxy)
    assert site_objects(client, local_files(minimal_site)) == local_files(minimal_site)
    assert report.requests["PutObject"] == len(local_files(minimal_site)) + 2 + 2  # + intent and commit + two retries


def test_access_denied_names_the_key_and_the_permissions(minimal_site, s3):
    proxy, _ = s3
    build(minimal_site)
    proxy.add_fault(Fault(op="PutObject", key="static/*", times=None, status=403, body=access_denied()))
    with pytest.raises(PublishError) as caught:
        publish(minimal_site, proxy)
    message = str(caught.value)
    assert "s3://site/static/" in message and "access denied while uploading it" in message and "s3:PutObject" in message
    uploads = [k for k in puts(proxy) if k != MANIFEST_KEY]
    hashed = bundle_hashed(minimal_site / "build")
    assert uploads and all(k.startswith("static/") or k in hashed for k in uploads)  # no page went up without its assets


def test_missing_bucket(minimal_site, s3):
    proxy, _ = s3
    build(minimal_site)
    with pytest.raises(PublishError, match=r"s3://nope: the bucket does not exist \(fix: create it, or correct --bucket"):
        publish(minimal_site, proxy, **{"publish.bucket": "nope"})


def test_network_loss_says_rerun_is_safe(minimal_site, s3):
    proxy, _ = s3
    build(minimal_site)
    proxy.add_fault(Fault(op="PutObject", key="*.html", times=None, drop=True))
    with pytest.raises(PublishError, match="could not be reached.*rerunning publish is safe"):
        publish(minimal_site, proxy)


def publish_command(site: Path, proxy_url: str, *args: str, env_extra: dict[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of ``sitegen publish`` to the test bucket, with dummy credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "CI": "true",
        **(env_extra or {}),
    }
    command = [sys.executable, "-m", "sitegen", "publish", "--root", str(site), "--bucket", "site", "--endpoint-url", proxy_url, *args]
    return command, env


def sitegen_publish(site: Path, proxy_url: str, *args: str, env_extra: dict[str, str] | None = None) -> subprocess.Popen[str]:
    command, env = publish_command(site, proxy_url, *args, env_extra=env_extra)
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_missing_credentials_exit_1_with_the_fix(minimal_site, s3, tmp_path):
    proxy, _ = s3
    build(minimal_site)
    env = {
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
    }
    process = sitegen_publish(minimal_site, proxy.url, env_extra=env)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "no AWS credentials were found (fix: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in stderr
    assert "Traceback" not in stderr


def test_json_report_from_the_command_line(minimal_site, s3):
    proxy, _ = s3
    build(minimal_site)
    process = sitegen_publish(minimal_site, proxy.url, "--json")
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    report = json.loads(stdout)
    assert report["requests"]["PutObject"] == len(local_files(minimal_site)) + 2  # + intent and commit
    assert set(report) >= {
        "uploaded",
        "skipped",
        "header_updated",
        "deleted",
        "deferred",
        "bytes_uploaded",
        "requests",
        "invalidation_id",
        "phases",
    }
    assert list(report["phases"]) == ["assets", "static", "pages"]


KILL_POINTS = {
    "first page": Fault(op="PutObject", key="*.html", after=1),
    "mid pages": Fault(op="PutObject", key="*.html", after=9),
    "intent record": Fault(op="PutObject", key=MANIFEST_KEY, after=1),
    "commit record": Fault(op="PutObject", key=MANIFEST_KEY, after=2),
    "deletes": Fault(op="DeleteObjects", after=1),
}


@pytest.mark.slow
@pytest.mark.parametrize("point", sorted(KILL_POINTS))
def test_a_killed_publish_never_exposes_broken_pages_and_converges_on_rerun(minimal_site, s3, point):
    """SIGKILL the publish process at a point of the run; at that moment no live
    page lacks an asset, and a rerun makes the bucket hold exactly the build
    (plus old hashed assets kept for their grace period)."""
    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy)
    edit_collection(minimal_site, "sessions", lambda items: [s.update(title=s["title"] + " v2") for s in items])
    edit_collection(minimal_site, "sessions", lambda items: items.remove(items[1]))  # one page to delete
    add_newcomer(minimal_site)  # and one new page
    (minimal_site / "themes/child/static/css").mkdir(parents=True)
    (minimal_site / "themes/child/theme.toml").write_text('extends = "default"\n')
    (minimal_site / "themes/child/static/css/site.css").write_text("body{color:navy}")
    build(minimal_site, **{"build.theme": "child"})
    snapshots: list[list[str]] = []
    victim: list[subprocess.Popen[str]] = []
    hook_done = threading.Event()

    def kill(_recorded) -> None:
        victim[0].send_signal(signal.SIGKILL)
        snapshots.append(pages_missing_assets(site_objects(client)))
        hook_done.set()

    proxy.add_fault(replace(KILL_POINTS[point], kill=kill))
    victim.append(sitegen_publish(minimal_site, proxy.url))
    victim[0].communicate(timeout=60)
    assert hook_done.wait(timeout=30), proxy.hook_errors
    assert victim[0].returncode == -signal.SIGKILL
    assert snapshots == [[]]
    # Requests already on the wire when the process died still land; once they have, the same holds.
    assert pages_missing_assets(site_objects(client)) == []
    assert site_objects(client) != local_files(minimal_site)  # it really was cut short
    rerun = sitegen_publish(minimal_site, proxy.url)
    _, stderr = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, stderr
    objects, local = site_objects(client), local_files(minimal_site)
    assert {k: objects[k] for k in local} == local
    # What stays besides the build: old hashed files, kept for their grace period (the
    # stylesheet, and the search index's content-addressed files).
    old_hashed = ("static/css/site.", "pagefind/index/", "pagefind/fragment/", "pagefind/filter/", "pagefind/sort/")
    extra = sorted(set(objects) - set(local))
    assert all(k.startswith(old_hashed) or (k.startswith("pagefind/pagefind.") and k.endswith(".pf_meta")) for k in extra), extra
    assert pages_missing_assets(objects) == []


# ---------------------------------------------------------------------------
# Rollback, interruption and bookkeeping edge cases


def rollback(site, proxy, **overrides) -> PublishReport:
    return publish(site, proxy, rollback=True, **overrides)


def test_rollback_brings_back_a_deleted_page_and_can_go_back_twice(minimal_site, s3):
    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy)
    first = site_objects(client)
    edit_collection(minimal_site, "sessions", lambda items: items.remove(items[2]))
    build(minimal_site)
    publish(minimal_site, proxy)
    second = site_objects(client)
    retitle(minimal_site, 0, "Third title")
    publish(minimal_site, proxy)
    assert rollback(minimal_site, proxy).restored
    assert site_objects(client, second) == second
    report = rollback(minimal_site, proxy)
    assert "2024/minicon/gears/index.html" in report.restored
    assert site_objects(client, first) == first
    with pytest.raises(PublishError, match="created the whole site; rolling it back would delete everything"):
        rollback(minimal_site, proxy)


def test_an_interrupted_rollback_is_finished_by_a_rerun_not_repeated(minimal_site, s3):
    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy)
    retitle(minimal_site, 0, "Second")
    publish(minimal_site, proxy)
    second = site_objects(client)
    add_newcomer(minimal_site)
    build(minimal_site)
    publish(minimal_site, proxy)
    proxy.add_fault(Fault(op="DeleteObjects", times=1, status=403, body=access_denied()))
    with pytest.raises(PublishError, match="access denied"):
        rollback(minimal_site, proxy)
    report = rollback(minimal_site, proxy)
    assert report.deleted == NEWCOMER_FILES  # the page, its calendar and its feed
    assert site_objects(client, second) == second  # deploy 3 undone once, deploy 2 untouched


def test_rollback_respects_max_deletes(minimal_site, s3):
    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy)
    add_newcomer(minimal_site)
    build(minimal_site)
    publish(minimal_site, proxy)
    with pytest.raises(PublishError, match="would delete 3 pages, more than max_deletes = 0"):
        rollback(minimal_site, proxy, **{"publish.max_deletes": 0})


def test_grace_runs_from_retirement_not_from_first_use(minimal_site, s3):
    proxy, client = s3
    theme = minimal_site / "themes/child"
    (theme / "static/css").mkdir(parents=True)
    (theme / "theme.toml").write_text('extends = "default"\n')
    settings = {"build.theme": "child"}
    gc = {"publish.keep_deploys": 1, "publish.asset_grace_days": 7.0}
    (theme / "static/css/site.css").write_text("body{margin:0}")
    build(minimal_site, **settings)
    publish(minimal_site, proxy, now=NOW, **gc)  # first used on day 0
    old_css = next(k for k in local_files(minimal_site) if k.startswith("static/css/"))
    (theme / "static/css/site.css").write_text("body{margin:1px}")
    build(minimal_site, **settings)
    report = publish(minimal_site, proxy, now=NOW + timedelta(days=30), **gc)  # retired on day 30
    assert old_css in report.deferred
    report = publish(minimal_site, proxy, now=NOW + timedelta(days=30, minutes=5), **gc)
    assert old_css not in report.deleted
    report = publish(minimal_site, proxy, now=NOW + timedelta(days=38), **gc)
    assert report.deleted == [old_css]


def test_a_key_created_by_a_run_that_died_before_its_commit_is_cleaned_up(minimal_site, s3, monkeypatch):
    proxy, client = s3
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda self, context: 0.0)
    build(minimal_site)
    publish(minimal_site, proxy)
    add_newcomer(minimal_site)
    build(minimal_site)
    proxy.add_fault(
        Fault(op="PutObject", key=MANIFEST_KEY, after=1, times=None, status=500, body=b"<Error><Code>InternalError</Code></Error>")
    )
    with pytest.raises(PublishError):
        publish(minimal_site, proxy)  # the commit record failed; the new page is up but unrecorded
    proxy.clear_faults()
    assert "people/newcomer/index.html" in site_objects(client)
    edit_collection(minimal_site, "sessions", lambda items: items[3]["speakers"].remove("p9"))
    edit_collection(minimal_site, "people", lambda items: items.pop())
    build(minimal_site)
    report = publish(minimal_site, proxy)
    assert "people/newcomer/index.html" in report.deleted
    assert site_objects(client, local_files(minimal_site)) == local_files(minimal_site)


def test_a_failed_invalidation_is_retried_by_the_next_run(minimal_site, s3):
    proxy, client = s3
    distribution = make_distribution(cloudfront_client(proxy.url))
    options = {"publish.cloudfront_distribution": distribution}
    build(minimal_site)
    publish(minimal_site, proxy, **options)
    retitle(minimal_site, 2, "Gears Reconsidered")
    proxy.add_fault(Fault(op="CreateInvalidation", times=None, status=403, body=access_denied()))
    with pytest.raises(PublishError, match="cloudfront:CreateInvalidation"):
        publish(minimal_site, proxy, **options)
    proxy.clear_faults()
    proxy.clear()
    report = publish(minimal_site, proxy, **options)  # nothing to upload, but the invalidation is owed
    assert report.uploaded == [] and report.invalidation_id
    assert "/2024/minicon/gears/" in report.invalidation_paths
    proxy.clear()
    assert publish(minimal_site, proxy, **options).invalidation_id is None
    assert proxy.operations() == [("GetObject", MANIFEST_KEY)]


def test_listing_fallback_on_an_unchanged_site_copies_nothing(minimal_site, s3):
    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy)
    client.delete_object(Bucket="site", Key=MANIFEST_KEY)
    proxy.clear()
    report = publish(minimal_site, proxy)
    assert report.uploaded == [] and report.header_updated == []
    assert proxy.count("HeadObject") == len(local_files(minimal_site)) and proxy.count("CopyObject") == 0


def test_a_concurrent_publish_is_detected(minimal_site, s3):
    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy)
    retitle(minimal_site, 2, "Gears Reconsidered")
    theirs = Manifest(deploy=99).to_bytes()

    def other_publish(_recorded) -> None:  # another publish records its deploy while this one uploads
        client.put_object(Bucket="site", Key=MANIFEST_KEY, Body=theirs)

    proxy.add_fault(Fault(op="PutObject", key="*.html", after=0, kill=other_publish))
    with pytest.raises(PublishError, match="was changed by someone else during this publish"):
        publish(minimal_site, proxy)


def test_throttling_that_does_not_stop_is_a_clear_error(minimal_site, s3, monkeypatch):
    proxy, _ = s3
    build(minimal_site)
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda self, context: 0.0)
    proxy.add_fault(Fault(op="PutObject", key="static/*", times=None, status=503, body=slow_down()))
    with pytest.raises(PublishError, match=r"S3 kept throttling \(SlowDown\).*after retries.*lower \[publish\] concurrency"):
        publish(minimal_site, proxy)


def test_rejected_credentials(minimal_site, s3):
    proxy, _ = s3
    build(minimal_site)
    body = b"<Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist</Message></Error>"
    proxy.add_fault(Fault(op="GetObject", times=None, status=403, body=body))
    with pytest.raises(PublishError, match=r"the AWS credentials were rejected \(InvalidAccessKeyId\)"):
        publish(minimal_site, proxy)


def too_many_invalidations() -> bytes:
    """CloudFront's refusal while too many invalidations of the distribution are in progress."""
    return (
        b'<?xml version="1.0"?><ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Error>'
        b"<Type>Sender</Type><Code>TooManyInvalidationsInProgress</Code><Message>Too many.</Message></Error>"
        b"<RequestId>0</RequestId></ErrorResponse>"
    )


@pytest.mark.parametrize(("refusals", "sleeps"), [(2, [2.0, 4.0]), (None, [2.0, 4.0, 8.0, 16.0])])
def test_too_many_invalidations_in_progress_is_retried_with_backoff(minimal_site, s3, refusals, sleeps):
    """The shared retry policy (sitegen.retry): 2 s doubling, five tries, then one clear message."""
    proxy, _ = s3
    distribution = make_distribution(cloudfront_client(proxy.url))
    options = {"publish.cloudfront_distribution": distribution}
    build(minimal_site)
    publish(minimal_site, proxy, **options)
    retitle(minimal_site, 2, "Gears Reconsidered")
    proxy.clear()
    proxy.add_fault(Fault(op="CreateInvalidation", times=refusals, status=400, body=too_many_invalidations()))
    waited: list[float] = []
    config = load_config(minimal_site, {"publish.bucket": "site", "publish.endpoint_url": proxy.url, **options})
    services = replace(aws_services(config.publish), now=lambda: NOW, sleep=waited.append)
    if refusals is None:
        with pytest.raises(PublishError) as caught:
            publish_site(config, services, dry_run=False)
        assert str(caught.value) == (
            f"CloudFront distribution {distribution}: still has too many invalidations in progress "
            "after 5 tries (fix: publish again later: the uploads are done, and the invalidation "
            "is kept pending until it succeeds)"
        )
    else:
        assert publish_site(config, services, dry_run=False).invalidation_id
    assert waited == sleeps
    assert proxy.count("CreateInvalidation") == len(sleeps) + 1


@pytest.mark.parametrize("damage", ["bad json", "stray fragment", "no search.json"])
def test_a_search_bundle_check_refuses_is_not_published(minimal_site, s3, damage):
    """publish runs sitegen check's bundle check, whatever .sitegen/search.json lists: a
    broken entry breaks search for every visitor; a stray or damaged fragment would be
    served immutable for a year."""
    proxy, client = s3
    build(minimal_site)
    bundle = minimal_site / "build" / "pagefind"
    fragment = sorted(bundle.glob("fragment/*.pf_fragment"))[0]
    if damage == "bad json":
        (bundle / "pagefind-entry.json").write_text("{")
    elif damage == "stray fragment":
        (bundle / "fragment" / "en_zzzzzzzzzzzz0.pf_fragment").write_bytes(fragment.read_bytes())
    else:
        (minimal_site / "build" / ".sitegen" / "search.json").unlink()
        fragment.write_bytes(fragment.read_bytes() + b" ")
    process = sitegen_publish(minimal_site, proxy.url)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr
    assert "the build is damaged; nothing was published" in stderr
    assert "pagefind/" in stderr and "(fix: run sitegen build --full)" in stderr
    assert "Traceback" not in stderr
    assert puts(proxy) == []
    assert site_objects(client) == {}


@pytest.mark.parametrize("pattern", ["pagefind/fragment/*.pf_fragment", "static/css/site.*.css"])
def test_a_damaged_immutable_file_is_refused_and_nothing_uploaded(minimal_site, s3, pattern):
    """A search fragment or a hashed asset whose bytes are not what its name says
    would be served immutable for a year."""
    proxy, client = s3
    build(minimal_site)
    damaged = sorted((minimal_site / "build").glob(pattern))[0]
    damaged.write_bytes(damaged.read_bytes() + b" ")
    process = sitegen_publish(minimal_site, proxy.url)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1
    name = damaged.relative_to(minimal_site / "build").as_posix()
    assert "the build is damaged; nothing was published" in stderr
    said = "does not hold what its name says (damaged or changed by hand) (fix: run sitegen build --full)"
    assert f"{name!r}: {said}" in stderr or f"{name}: {said}" in stderr  # an asset quoted; a bundle file as sitegen check says it
    assert "Traceback" not in stderr
    assert puts(proxy) == []
    assert site_objects(client) == {}


def refused_publish(site: Path, proxy, client) -> str:
    """Run ``sitegen publish`` that must refuse the build: exit 1, no traceback, nothing
    uploaded; its standard error."""
    process = sitegen_publish(site, proxy.url)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert puts(proxy) == []
    assert site_objects(client) == {}
    return stderr


@pytest.mark.parametrize("record", ["pagefind.js unrecorded", "no sums", "no record"])
def test_an_edited_runtime_file_without_its_recorded_sha256_is_refused(minimal_site, s3, record):
    """The build's record (.sitegen/search.json) is outside input like any file of build/:
    a runtime file it gives no SHA-256 for cannot be told from an edited one, and is refused."""
    proxy, client = s3
    build(minimal_site)
    path = minimal_site / "build" / ".sitegen" / "search.json"
    data = json.loads(path.read_text())
    if record == "no record":
        path.unlink()
    else:
        data["runtime_sha256"] = {} if record == "no sums" else {k: v for k, v in data["runtime_sha256"].items() if k != "pagefind.js"}
        path.write_text(json.dumps(data))
    script = minimal_site / "build" / "pagefind" / "pagefind.js"
    script.write_bytes(script.read_bytes() + b"\n/*evil*/\n")
    said = refused_publish(minimal_site, proxy, client)
    if record == "no record":  # the record itself, once, rather than a line per runtime file it cannot vouch for
        assert "build/.sitegen/search.json: cannot be read" in said and "has no SHA-256" not in said
    else:
        assert "build/pagefind/pagefind.js: has no SHA-256 in the build's record" in said


def test_the_immutable_policy_comes_from_the_bundle_not_the_record(minimal_site, s3):
    """Pages listed as hashed in .sitegen/search.json (as an older build wrote it) get the
    page policy still, and paths out of build/ in it are never read: the bundle's own file
    names say which of its files are content-addressed."""
    proxy, client = s3
    build(minimal_site)
    path = minimal_site / "build" / ".sitegen" / "search.json"
    data = json.loads(path.read_text())
    data["hashed"] = ["index.html", "pagefind/pagefind-entry.json", "../sitegen.toml", "/etc/passwd"]
    path.write_text(json.dumps(data))
    process = sitegen_publish(minimal_site, proxy.url)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    for key in ("index.html", "pagefind/pagefind-entry.json"):
        assert "immutable" not in client.head_object(Bucket="site", Key=key)["CacheControl"], key
    fragment = sorted(bundle_hashed(minimal_site / "build"))[0]
    assert client.head_object(Bucket="site", Key=fragment)["CacheControl"] == "public, max-age=31536000, immutable"
    assert not any(key.endswith(("sitegen.toml", "passwd")) for key in site_objects(client))


def test_an_edited_pagefind_runtime_file_is_refused_and_nothing_uploaded(minimal_site, s3):
    """pagefind.js is not content-addressed, yet every visitor's search runs it: publish
    checks it against the SHA-256 the build recorded, as sitegen check does."""
    proxy, client = s3
    build(minimal_site)
    script = minimal_site / "build" / "pagefind" / "pagefind.js"
    script.write_bytes(b"/" + script.read_bytes()[1:])
    assert "build/pagefind/pagefind.js: is not the Pagefind runtime file the build wrote" in refused_publish(minimal_site, proxy, client)
