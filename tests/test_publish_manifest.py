"""The deploy manifest read back from S3 is hostile until validated.

Through the real command (``sitegen publish`` in a subprocess) against moto's
S3 server: an invalid manifest is one message naming it and the recovery, and
leaves the bucket exactly as it was; ``--rebuild-manifest`` then repairs it,
and the publish after that sends nothing but the manifest GET.
"""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import pytest
from peak import run_measured
from test_publish import build, local_files, publish, publish_command, site_objects, stored_manifest

from sitegen.errors import PublishError
from sitegen.publish.manifest import MANIFEST_KEY

REBUILD = "sitegen publish --rebuild-manifest"
#: One state entry of a manifest: sha256, header fingerprint, size, kind, version, live, last live deploy, retired at.
STATE = ["0" * 64, "0" * 16, 1, 3, None, True, 0, ""]


def bucket_state(client) -> dict[str, str]:
    """Every key of the whole bucket (all prefixes, sitegen's own state too) with its ETag."""
    pages = client.get_paginator("list_objects_v2").paginate(Bucket="site")
    return {o["Key"]: o["ETag"] for page in pages for o in page.get("Contents", ())}


def run(site: Path, proxy, *args: str) -> tuple[int, str, str, int]:
    """``sitegen publish`` in a subprocess: exit code, stdout, stderr and its own peak RSS in KiB."""
    command, env = publish_command(site, proxy.url, *args)
    run = run_measured(command, env=env)
    return run.returncode, run.stdout, run.stderr, run.peak_bytes // 1024


def manifest_with(client, **fields) -> bytes:
    body = stored_manifest(client)
    body.update(fields)
    return gzip.compress(json.dumps(body).encode())


def gzip_bomb(megabytes: int) -> bytes:
    """A manifest-looking JSON of ``megabytes`` MB (one huge pending key), gzipped to ~1/1000 of that."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(b'{"format":"sitegen-deploy-manifest/1","pending":["')]
    block = b"a" * (1 << 20)
    parts += [packer.compress(block) for _ in range(megabytes)]
    parts += [packer.compress(b'"]}'), packer.flush()]
    return b"".join(parts)


def hostile(client) -> dict[str, tuple[bytes, str]]:
    """Manifests to plant, each with the words its refusal must contain."""
    return {
        "pending is a string": (manifest_with(client, pending="ab"), "pending is the string 'ab', not a list"),
        "pending holds a number": (manifest_with(client, pending=[5]), "pending[0] is the number 5, not a key"),
        "lists its own key": (
            manifest_with(client, pending=[MANIFEST_KEY]),
            "pending[0] names '.sitegen/manifest.json.gz', sitegen's own state",
        ),
        "foreign key": (
            manifest_with(client, objects={**stored_manifest(client)["objects"], "foreign.txt": STATE}),
            "it lists 'foreign.txt' for deletion, but sitegen did not write the object there",
        ),
        "absolute key": (manifest_with(client, pending=["/outside.txt"]), "pending[0] names '/outside.txt', which is absolute"),
        "key outside the prefix": (manifest_with(client, pending=["../x"]), "pending[0] names '../x', which has a '..' part"),
        "control character": (manifest_with(client, pending=["static/a\nb.css"]), "which has a control character"),
        "2 MB key": (manifest_with(client, pending=["k" * 2_000_000]), "kkk', longer than an S3 key may be (1024 bytes with the prefix)"),
        "gzip bomb": (gzip_bomb(400), "it inflates to more than 64,000,000 bytes"),
        "not gzip": (b"<html>garbage</html>", "it is not gzip, or is cut short"),
        "wrong format": (
            manifest_with(client, format="sitegen-deploy-manifest/2"),
            "it has format 'sitegen-deploy-manifest/2', not 'sitegen-deploy-manifest/1'",
        ),
        "deep JSON": (gzip.compress(b"[" * 100_000 + b"]" * 100_000), "it is JSON nested more than 8 levels deep"),
        "5,000-digit deploy": (
            gzip.compress(json.dumps(stored_manifest(client)).replace('"deploy": 1,', '"deploy": ' + "9" * 5_000 + ",", 1).encode()),
            "it holds a number of more than 4,300 digits",
        ),
        "state folder in capitals": (
            manifest_with(client, pending=[".SITEGEN/manifest.json.gz"]),
            "pending[0] names '.SITEGEN/manifest.json.gz', sitegen's own state",
        ),
        "decomposed Unicode key": (manifest_with(client, pending=["cafe\u0301.html"]), "which is not in Unicode NFC form"),
        "a key twice": (
            gzip.compress(json.dumps(stored_manifest(client)).replace('"deploy": 1,', '"deploy": 1, "deploy": 7,', 1).encode()),
            "it has the key 'deploy' twice in one object",
        ),
    }


CASES = [
    "pending is a string",
    "pending holds a number",
    "lists its own key",
    "foreign key",
    "absolute key",
    "key outside the prefix",
    "control character",
    "2 MB key",
    "gzip bomb",
    "not gzip",
    "wrong format",
    "deep JSON",
    "5,000-digit deploy",
    "state folder in capitals",
    "decomposed Unicode key",
    "a key twice",
]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_an_invalid_manifest_changes_nothing_and_the_rebuild_repairs_it(minimal_site, s3, case):
    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy)
    # Objects a blindly trusted manifest would delete: "ab" as characters, keys others wrote.
    for key in ("a", "b", "foreign.txt", "/outside.txt", "x"):
        client.put_object(Bucket="site", Key=key, Body=b"not sitegen's")
    (minimal_site / "build/about/index.html").write_text("<p>changed</p>")  # one change for the rebuild to upload
    data, reason = hostile(client)[case]
    client.put_object(Bucket="site", Key=MANIFEST_KEY, Body=data)
    before = bucket_state(client)

    code, stdout, stderr, peak_kib = run(minimal_site, proxy)
    assert code == 1, stderr
    assert stderr.count("\n") == 1 and len(stderr) < 1000 and "Traceback" not in stderr, stderr
    assert stderr.startswith(f"error: s3://site/{MANIFEST_KEY}: is not a deploy manifest sitegen can use: "), stderr
    assert reason in stderr and "nothing was changed" in stderr and REBUILD in stderr, stderr
    assert bucket_state(client) == before  # no upload, no delete, not even the intent record
    assert peak_kib < 200 * 1024, f"peak RSS {peak_kib} KiB"

    code, _, stderr, _ = run(minimal_site, proxy, "--rebuild-manifest", "--json")
    assert code == 0, stderr
    assert "comparing against a listing" in stderr and "left in place, never deleted" in stderr
    after = bucket_state(client)
    assert all(after[key] == before[key] for key in ("a", "b", "foreign.txt", "/outside.txt", "x"))  # deleted nothing
    assert {k: v for k, v in site_objects(client).items() if k in local_files(minimal_site)} == local_files(minimal_site)
    rebuilt = stored_manifest(client)
    assert set(rebuilt["objects"]) == set(local_files(minimal_site)) and rebuilt["pending"] == []

    proxy.clear()
    code, stdout, stderr, _ = run(minimal_site, proxy, "--json")
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["state_from"] == "manifest" and report["uploaded"] == [] and report["deleted"] == []
    assert proxy.operations() == [("GetObject", MANIFEST_KEY)]  # uploads nothing, rewrites nothing


def test_a_corrupt_manifest_is_rewritten_even_when_no_file_changed(minimal_site, s3):
    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy)
    client.put_object(Bucket="site", Key=MANIFEST_KEY, Body=b"not gzip")
    code, _, stderr, _ = run(minimal_site, proxy, "--rebuild-manifest")
    assert code == 0, stderr
    assert stored_manifest(client)["format"] == "sitegen-deploy-manifest/1"
    proxy.clear()
    code, _, stderr, _ = run(minimal_site, proxy)
    assert code == 0 and "listing" not in stderr, stderr
    assert proxy.operations() == [("GetObject", MANIFEST_KEY)]


def test_a_missing_manifest_is_written_even_when_no_file_changed(minimal_site, s3):
    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy)
    client.delete_object(Bucket="site", Key=MANIFEST_KEY)
    assert publish(minimal_site, proxy).state_from == "listing"
    proxy.clear()
    assert publish(minimal_site, proxy).state_from == "manifest"
    assert proxy.operations() == [("GetObject", MANIFEST_KEY)]


def test_keys_outside_the_prefix_are_never_touched(minimal_site, s3):
    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy, **{"publish.prefix": "site/"})
    client.put_object(Bucket="site", Key="other/page.html", Body=b"another site's")
    body = stored_manifest(client, f"site/{MANIFEST_KEY}")
    body["pending"] = ["../other/page.html"]
    client.put_object(Bucket="site", Key=f"site/{MANIFEST_KEY}", Body=gzip.compress(json.dumps(body).encode()))
    before = bucket_state(client)
    code, _, stderr, _ = run(minimal_site, proxy, "--prefix", "site/")
    assert code == 1 and f"s3://site/site/{MANIFEST_KEY}: " in stderr and "'../other/page.html', which has a '..' part" in stderr, stderr
    assert bucket_state(client) == before


def test_rollback_with_an_invalid_manifest_says_how_to_recover(minimal_site, s3):
    proxy, client = s3
    build(minimal_site)
    publish(minimal_site, proxy)
    client.put_object(Bucket="site", Key=MANIFEST_KEY, Body=manifest_with(client, pending="ab"))
    before = bucket_state(client)
    with pytest.raises(
        PublishError, match=r"pending is the string 'ab'.*nothing can be rolled back with it; run `sitegen publish --rebuild-manifest`"
    ):
        publish(minimal_site, proxy, rollback=True)
    assert bucket_state(client) == before


def test_a_file_name_with_a_control_character_is_refused_before_any_write(minimal_site, s3):
    """An old build may hold an asset named with a newline: publish names it and the
    real fix (rename it, rebuild), never "rerun publish; it converges"."""
    proxy, client = s3
    build(minimal_site)
    (minimal_site / "build/static/a\nb.css").write_text("body{}")
    code, _, stderr, _ = run(minimal_site, proxy)
    assert code == 1 and "Traceback" not in stderr, stderr
    assert "the build holds files no build should write; nothing was published" in stderr
    assert "'static/a\\nb.css': cannot be an S3 key: its name has a control character" in stderr
    assert "rename or remove the theme or content file it comes from" in stderr and "converges" not in stderr
    assert bucket_state(client) == {}
