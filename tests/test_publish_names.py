"""``publish --prefix`` and ``--bucket`` are checked before any request: one
short ConfigError (exit 2) naming the setting, and nothing sent to S3
(moto's standalone server over HTTP, through the recording proxy)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import TODAY

from sitegen.cli import main


def run(site: Path, proxy, *args: str):
    return CliRunner().invoke(main, ["publish", "--root", str(site), "--endpoint-url", proxy.url, *args])


@pytest.fixture
def built(minimal_site: Path) -> Path:
    result = CliRunner().invoke(main, ["build", "--root", str(minimal_site), "--today", TODAY.isoformat(), "-q"])
    assert result.exit_code == 0, result.output
    return minimal_site


BAD_PREFIXES = {
    "parent": ("../", "'..'"),
    "parent inside": ("a/../b/", "'..'"),
    "dot": ("./site/", "'.'"),
    "empty part": ("a//", "empty"),
    "absolute": ("/site/", "must not start with '/'"),
    "no slash at the end": ("site", "must end with '/'"),
    "sitegen state": (".sitegen/", ".sitegen"),
    "sitegen state below": ("site/.sitegen/", ".sitegen"),
    "sitegen state other case": ("site/.SiteGen-x/", ".sitegen"),
    "terminal escape": ("nl\x1b[31m\n/", "control"),
    "too long": ("a/" * 3000, "longer than"),
}


@pytest.mark.parametrize("name", BAD_PREFIXES)
def test_a_prefix_that_is_not_a_plain_folder_path_is_refused_before_any_request(built: Path, s3, name: str) -> None:
    proxy, client = s3
    prefix, said = BAD_PREFIXES[name]
    result = run(built, proxy, "--bucket", "site", "--prefix", prefix)
    assert result.exit_code == 2, result.output
    assert "prefix = " in result.output and said in result.output
    assert "Traceback" not in result.output and "\x1b" not in result.output
    assert all(len(line) < 400 for line in result.output.splitlines())
    assert proxy.operations() == []
    assert client.list_objects_v2(Bucket="site").get("KeyCount") == 0


@pytest.mark.parametrize("bucket", ["bad bucket!", "Site", "a", "x" * 5000, "my..site", "192.168.1.2", "-site"])
def test_an_invalid_bucket_name_is_a_config_error_naming_it(built: Path, s3, bucket: str) -> None:
    proxy, _ = s3
    result = run(built, proxy, "--bucket", bucket)
    assert result.exit_code == 2, result.output
    assert "bucket = " in result.output and "not a valid S3 bucket name" in result.output
    assert "rerun publish" not in result.output and "^[a-zA-Z0-9" not in result.output
    assert all(len(line) < 400 for line in result.output.splitlines())
    assert proxy.operations() == []


def test_a_plain_prefix_still_publishes_below_it(built: Path, s3) -> None:
    proxy, client = s3
    result = run(built, proxy, "--bucket", "site", "--prefix", "2026/site/")
    assert result.exit_code == 0, result.output
    keys = [item["Key"] for item in client.list_objects_v2(Bucket="site")["Contents"]]
    assert keys and all(key.startswith("2026/site/") for key in keys)


@pytest.mark.parametrize(
    ("status", "code", "fix"),
    [
        (404, "NoSuchKey", "check --bucket, --prefix and --endpoint-url"),
        (400, "InvalidArgument", "check --bucket, --prefix and --endpoint-url"),
        (500, "InternalError", "rerun publish; it converges"),
    ],
)
def test_a_refused_write_gets_the_fix_that_fits_and_a_short_echo(built: Path, s3, status: int, code: str, fix: str) -> None:
    from s3server import Fault, s3_error

    proxy, _ = s3
    proxy.add_fault(Fault(op="PutObject", times=None, status=status, body=s3_error(code, "M" * 5000)))
    result = run(built, proxy, "--bucket", "site")
    assert result.exit_code == 1, result.output
    assert fix in result.output and "Traceback" not in result.output
    assert "M" * 100 not in result.output
