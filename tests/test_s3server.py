"""The S3 test rig itself (s3server.py): moto's standalone server over real HTTP
on 127.0.0.1, behind the recording, fault-injecting S3Proxy, driven by boto3."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
from botocore.retries.standard import ExponentialBackoff
from s3server import (
    ACCESS_DENIED,
    Fault,
    MotoServer,
    S3Proxy,
    classify,
    cloudfront_client,
    make_bucket,
    make_distribution,
    s3_client,
    slow_down,
)

MB = 1024 * 1024
TESTS = Path(__file__).parent


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture
def proxy(moto: MotoServer) -> Iterator[S3Proxy]:
    moto.reset()
    with S3Proxy(moto.url) as p:
        yield p


@pytest.fixture
def s3(proxy: S3Proxy) -> Any:
    """A client through the proxy, no retries."""
    return s3_client(proxy.url)


@pytest.fixture
def direct(moto: MotoServer) -> Any:
    """A client straight to moto, for set-up and checks the proxy must not see."""
    return s3_client(moto.url)


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's real backoff, scaled down a hundredfold (throttling backs off up to 1 s, 2 s, ...)."""
    original = ExponentialBackoff.delay_amount
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, ctx: original(self, ctx) / 100)


def _keys(client: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]


# ---------------------------------------------------------------------------
# Forwarding and recording
# ---------------------------------------------------------------------------


def test_boto3_round_trip_through_the_proxy_is_recorded_in_order(proxy: S3Proxy, s3: Any) -> None:
    body = bytes(range(256)) * (4 * 1024)  # 1 MB, every byte value
    make_bucket(s3, "site", versioning=False)
    put = s3.put_object(Bucket="site", Key="docs/a b.html", Body=body, ContentType="text/html", CacheControl="max-age=60")
    got = s3.get_object(Bucket="site", Key="docs/a b.html")
    assert got["Body"].read() == body
    assert got["CacheControl"] == "max-age=60"
    s3.copy_object(
        Bucket="site",
        Key="docs/a b.html",
        CopySource={"Bucket": "site", "Key": "docs/a b.html"},
        MetadataDirective="REPLACE",
        CacheControl="no-cache",
        ContentType="text/html",
    )
    head = s3.head_object(Bucket="site", Key="docs/a b.html")
    listed = s3.list_objects_v2(Bucket="site")
    s3.delete_object(Bucket="site", Key="docs/a b.html")

    assert head["CacheControl"] == "no-cache"
    assert head["ContentLength"] == MB  # HEAD keeps the object's Content-Length through the proxy
    assert head["ETag"] == put["ETag"]  # same bytes: the copy changed only metadata
    assert [o["Key"] for o in listed["Contents"]] == ["docs/a b.html"]
    assert _keys(s3, "site") == []
    assert proxy.operations() == [
        ("CreateBucket", None),
        ("PutObject", "docs/a b.html"),
        ("GetObject", "docs/a b.html"),
        ("CopyObject", "docs/a b.html"),
        ("HeadObject", "docs/a b.html"),
        ("ListObjectsV2", None),
        ("DeleteObject", "docs/a b.html"),
        ("ListObjectsV2", None),
    ]
    recs = {r.operation: r for r in proxy.requests}
    assert recs["PutObject"].headers["expect"] == "100-continue"
    assert recs["PutObject"].sent_100_continue
    assert recs["PutObject"].body_length == MB
    assert recs["PutObject"].status == 200
    assert recs["PutObject"].path == "/site/docs/a%20b.html"
    copy = recs["CopyObject"]
    assert copy.body_length == 0  # no re-upload
    assert copy.headers["x-amz-metadata-directive"] == "REPLACE"
    assert recs["DeleteObject"].status == 204
    assert all(r.forwarded and r.fault is None for r in proxy.requests)
    assert proxy.count("ListObjectsV2") == 2
    assert proxy.count("PutObject", key="docs/*") == 1
    # keep-alive: one boto3 client reuses its connection
    assert proxy.connections_opened < len(proxy.requests)

    proxy.clear()
    assert proxy.operations() == []


def test_bulk_and_bucket_level_operations_are_named(proxy: S3Proxy, s3: Any) -> None:
    make_bucket(s3, "site")  # versioned
    s3.get_bucket_versioning(Bucket="site")
    s3.head_bucket(Bucket="site")
    for key in ("a", "b"):
        s3.put_object(Bucket="site", Key=key, Body=b"x")
    s3.list_objects(Bucket="site")  # v1, as older tools use
    s3.delete_objects(Bucket="site", Delete={"Objects": [{"Key": "a"}, {"Key": "b"}]})
    s3.list_buckets()
    assert [op for op, _ in proxy.operations()] == [
        "CreateBucket",
        "PutBucketVersioning",
        "GetBucketVersioning",
        "HeadBucket",
        "PutObject",
        "PutObject",
        "ListObjects",
        "DeleteObjects",
        "ListBuckets",
    ]


def test_expect_100_continue_is_answered_before_the_body_is_sent(proxy: S3Proxy, direct: Any) -> None:
    make_bucket(direct, "site", versioning=False)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
        sock.sendall(b"PUT /site/hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        interim = b""
        while b"\r\n\r\n" not in interim:
            chunk = sock.recv(1024)
            assert chunk, "connection closed before 100 Continue"
            interim += chunk
        assert interim.startswith(b"HTTP/1.1 100 ")
        sock.sendall(b"hello")
        final = sock.recv(65536)
        assert final.startswith(b"HTTP/1.1 200 ")
    assert direct.get_object(Bucket="site", Key="hello.txt")["Body"].read() == b"hello"


def test_chunked_request_body_reaches_moto_intact(proxy: S3Proxy, direct: Any) -> None:
    import http.client

    make_bucket(direct, "site", versioning=False)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    try:
        conn.request("PUT", "/site/chunked.txt", body=iter([b"abc", b"", b"defg" * 1000]), encode_chunked=True)
        resp = conn.getresponse()
        resp.read()
    finally:
        conn.close()
    assert resp.status == 200
    assert direct.get_object(Bucket="site", Key="chunked.txt")["Body"].read() == b"abc" + b"defg" * 1000
    (rec,) = proxy.requests
    assert rec.operation == "PutObject"
    assert rec.headers["transfer-encoding"] == "chunked"
    assert rec.body_length == 3 + 4000


def test_versioned_put_returns_version_id_and_copy_from_a_version_restores_it(proxy: S3Proxy, s3: Any) -> None:
    make_bucket(s3, "site", versioning=True)
    v1 = s3.put_object(Bucket="site", Key="index.html", Body=b"old")["VersionId"]
    v2 = s3.put_object(Bucket="site", Key="index.html", Body=b"new")["VersionId"]
    assert v1 and v2 and v1 != v2
    assert s3.get_object(Bucket="site", Key="index.html")["Body"].read() == b"new"

    restored = s3.copy_object(Bucket="site", Key="index.html", CopySource={"Bucket": "site", "Key": "index.html", "VersionId": v1})
    assert restored["CopySourceVersionId"] == v1
    assert restored["VersionId"] not in (v1, v2)
    assert s3.get_object(Bucket="site", Key="index.html")["Body"].read() == b"old"
    versions = s3.list_object_versions(Bucket="site", Prefix="index.html")["Versions"]
    assert len(versions) == 3
    copy = next(r for r in proxy.requests if r.operation == "CopyObject")
    assert f"versionId={v1}" in copy.headers["x-amz-copy-source"]
    assert proxy.count("ListObjectVersions") == 1


# ---------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------


def test_throttling_is_retried_by_standard_mode(proxy: S3Proxy, direct: Any, fast_backoff: None) -> None:
    make_bucket(direct, "site")
    proxy.add_fault(Fault(op="PutObject", times=2, status=503, body=slow_down()))
    client = s3_client(proxy.url, retries={"mode": "standard", "total_max_attempts": 5})

    resp = client.put_object(Bucket="site", Key="a.css", Body=b"body{}")

    assert resp["ResponseMetadata"]["RetryAttempts"] == 2
    puts = [r for r in proxy.requests if r.operation == "PutObject"]
    assert [(r.status, r.forwarded) for r in puts] == [(503, False), (503, False), (200, True)]
    assert [r.fault for r in puts] == ["status 503", "status 503", None]
    assert proxy.pending_faults() == []
    assert direct.get_object(Bucket="site", Key="a.css")["Body"].read() == b"body{}"


def test_status_fault_with_key_glob_gives_an_s3_error(proxy: S3Proxy, s3: Any) -> None:
    make_bucket(s3, "site", versioning=False)
    proxy.add_fault(Fault(op="PutObject", key="*.css", times=None, status=403, body=ACCESS_DENIED))
    s3.put_object(Bucket="site", Key="index.html", Body=b"<p>")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        s3.put_object(Bucket="site", Key="style.css", Body=b"p{}")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert _keys(s3, "site") == ["index.html"]


def test_dropped_connection_raises_and_the_object_is_not_written(proxy: S3Proxy, s3: Any, direct: Any) -> None:
    make_bucket(direct, "site")
    proxy.add_fault(Fault(op="PutObject", drop=True))
    with pytest.raises((botocore.exceptions.ConnectionClosedError, botocore.exceptions.EndpointConnectionError)):
        s3.put_object(Bucket="site", Key="a.html", Body=b"a")
    (dropped,) = proxy.requests
    assert (dropped.status, dropped.fault, dropped.forwarded) == (None, "dropped", False)
    assert _keys(direct, "site") == []
    # the fault is used up and the proxy still serves
    s3.put_object(Bucket="site", Key="a.html", Body=b"a")
    assert _keys(direct, "site") == ["a.html"]


def test_forwarded_then_dropped_means_written_but_unacknowledged(proxy: S3Proxy, s3: Any, direct: Any) -> None:
    make_bucket(direct, "site")
    proxy.add_fault(Fault(op="PutObject", drop=True, forward=True))
    with pytest.raises((botocore.exceptions.ConnectionClosedError, botocore.exceptions.EndpointConnectionError)):
        s3.put_object(Bucket="site", Key="a.html", Body=b"a")
    assert proxy.requests[0].forwarded
    assert direct.get_object(Bucket="site", Key="a.html")["Body"].read() == b"a"


def test_faults_apply_in_order_and_after_skips(proxy: S3Proxy, direct: Any) -> None:
    make_bucket(direct, "site", versioning=False)
    proxy.add_fault(
        Fault(op="PutObject", after=1, times=1, status=500, body=b"<Error><Code>InternalError</Code></Error>"),
        Fault(op="PutObject", times=1, status=503, body=slow_down()),
    )
    client = s3_client(proxy.url)
    outcomes = []
    for i in range(4):
        try:
            client.put_object(Bucket="site", Key=f"{i}", Body=b"x")
            outcomes.append("ok")
        except botocore.exceptions.ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])
    assert outcomes == ["ok", "InternalError", "SlowDown", "ok"]


def test_kill_hook_fires_once_after_n_forwarded_before_the_answer(proxy: S3Proxy, s3: Any, direct: Any) -> None:
    make_bucket(direct, "site", versioning=False)
    seen: list[tuple[str | None, list[str]]] = []
    proxy.add_fault(Fault(op="PutObject", after=2, kill=lambda rec: seen.append((rec.key, _keys(direct, "site")))))
    for key in ("0", "1", "2", "3"):
        s3.put_object(Bucket="site", Key=key, Body=b"x")
    # called once, on the 2nd upload, when moto already had it
    assert seen == [("1", ["0", "1"])]
    assert [r.fault for r in proxy.requests if r.operation == "PutObject"] == [None, "killed", None, None]
    assert proxy.hook_errors == []


def test_kill_hook_can_sigkill_an_uploading_subprocess(proxy: S3Proxy, direct: Any) -> None:
    make_bucket(direct, "site", versioning=False)
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(TESTS)!r})
        from s3server import s3_client
        client = s3_client({proxy.url!r})
        for i in range(10):
            client.put_object(Bucket="site", Key=f"page-{{i}}.html", Body=b"x" * 1000)
        """
    )
    procs: list[subprocess.Popen[bytes]] = []
    proxy.add_fault(Fault(op="PutObject", after=3, kill=lambda rec: procs[0].send_signal(signal.SIGKILL)))
    procs.append(subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.DEVNULL))
    try:
        returncode = procs[0].wait(timeout=30)
    finally:
        if procs[0].poll() is None:
            procs[0].kill()
            procs[0].wait()
    assert returncode == -signal.SIGKILL
    # sequential client: the 3rd upload was stored, its answer never read, no 4th sent
    assert _keys(direct, "site") == ["page-0.html", "page-1.html", "page-2.html"]
    assert proxy.count("PutObject") == 3


def test_delay_fault_trips_read_timeout_and_shutdown_does_not_hang(moto: MotoServer, direct: Any) -> None:
    moto.reset()
    make_bucket(direct, "site", versioning=False)
    direct.put_object(Bucket="site", Key="a", Body=b"a")
    proxy = S3Proxy(moto.url).start()
    try:
        proxy.add_fault(Fault(op="GetObject", delay=60))
        client = s3_client(proxy.url, read_timeout=0.2)
        with pytest.raises(botocore.exceptions.ReadTimeoutError):
            client.get_object(Bucket="site", Key="a")
    finally:
        stopper = threading.Thread(target=proxy.shutdown, daemon=True)
        stopper.start()
        stopper.join(20)
        assert not stopper.is_alive(), "S3Proxy.shutdown() hung on a request in flight"
    (rec,) = proxy.requests
    assert rec.fault is not None and rec.fault.startswith("delayed 60s")
    assert not rec.forwarded


# ---------------------------------------------------------------------------
# CloudFront
# ---------------------------------------------------------------------------


def test_cloudfront_invalidation_through_the_proxy(proxy: S3Proxy) -> None:
    cf = cloudfront_client(proxy.url)
    dist = make_distribution(cf, "site.s3.amazonaws.com")
    inv = cf.create_invalidation(
        DistributionId=dist,
        InvalidationBatch={"Paths": {"Quantity": 2, "Items": ["/index.html", "/talks/*"]}, "CallerReference": "r1"},
    )["Invalidation"]
    assert inv["InvalidationBatch"]["Paths"]["Items"] == ["/index.html", "/talks/*"]
    got = cf.get_invalidation(DistributionId=dist, Id=inv["Id"])["Invalidation"]
    assert got["Status"].upper() == "COMPLETED"  # moto completes invalidations at once; newer moto spells it "Completed"
    assert proxy.operations() == [
        ("CreateDistribution", None),
        ("CreateInvalidation", dist),
        ("GetInvalidation", dist),
    ]


# ---------------------------------------------------------------------------
# MotoServer
# ---------------------------------------------------------------------------


def test_reset_forgets_everything(moto: MotoServer, direct: Any) -> None:
    moto.reset()
    make_bucket(direct, "site")
    assert [b["Name"] for b in direct.list_buckets()["Buckets"]] == ["site"]
    moto.reset()
    assert direct.list_buckets()["Buckets"] == []


def test_moto_server_process_is_gone_after_the_block_even_on_error() -> None:
    pids: list[int] = []
    with pytest.raises(RuntimeError, match="boom"), MotoServer() as server:
        assert server.pid is not None
        pids.append(server.pid)
        assert server.running()
        assert s3_client(server.url).list_buckets()["Buckets"] == []
        raise RuntimeError("boom")
    assert not server.running()
    assert server.process is not None and server.process.returncode is not None
    with pytest.raises(ProcessLookupError):  # reaped, not a zombie
        os.kill(pids[0], 0)


# ---------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------

SIGNED_CF = {"authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/cloudfront/aws4_request, ..."}


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "expected"),
    [
        ("GET", "/", "", {}, ("ListBuckets", None, None)),
        ("PUT", "/site", "", {}, ("CreateBucket", "site", None)),
        ("HEAD", "/site", "", {}, ("HeadBucket", "site", None)),
        ("GET", "/site", "versioning", {}, ("GetBucketVersioning", "site", None)),
        ("PUT", "/site", "versioning", {}, ("PutBucketVersioning", "site", None)),
        ("GET", "/site", "list-type=2&prefix=a%2F", {}, ("ListObjectsV2", "site", None)),
        ("GET", "/site/", "prefix=a&marker=b", {}, ("ListObjects", "site", None)),
        ("GET", "/site", "versions&prefix=x", {}, ("ListObjectVersions", "site", None)),
        ("POST", "/site", "delete", {}, ("DeleteObjects", "site", None)),
        ("GET", "/site/a/b%20c.html", "", {}, ("GetObject", "site", "a/b c.html")),
        ("GET", "/site/a", "versionId=v1", {}, ("GetObject", "site", "a")),
        ("HEAD", "/site/a", "", {}, ("HeadObject", "site", "a")),
        ("PUT", "/site/a", "", {}, ("PutObject", "site", "a")),
        ("PUT", "/site/a", "", {"X-Amz-Copy-Source": "/site/a"}, ("CopyObject", "site", "a")),
        ("DELETE", "/site/a", "", {}, ("DeleteObject", "site", "a")),
        ("POST", "/site/big", "uploads", {}, ("CreateMultipartUpload", "site", "big")),
        ("PUT", "/site/big", "partNumber=1&uploadId=u", {}, ("UploadPart", "site", "big")),
        ("POST", "/site/big", "uploadId=u", {}, ("CompleteMultipartUpload", "site", "big")),
        ("DELETE", "/site/big", "uploadId=u", {}, ("AbortMultipartUpload", "site", "big")),
        ("PUT", "/site/a", "tagging", {}, ("PutObjectTagging", "site", "a")),
        # virtual-host style
        ("GET", "/a.html", "", {"host": "site.localhost:8000"}, ("GetObject", "site", "a.html")),
        ("GET", "/", "list-type=2", {"host": "my.site.s3.us-east-1.amazonaws.com"}, ("ListObjectsV2", "my.site", None)),
        ("PUT", "/", "", {"host": "site.s3.amazonaws.com"}, ("CreateBucket", "site", None)),
        ("GET", "/site/a", "", {"host": "127.0.0.1:8000"}, ("GetObject", "site", "a")),
        # CloudFront, signed or not
        ("POST", "/2020-05-31/distribution/E1/invalidation", "", SIGNED_CF, ("CreateInvalidation", None, "E1")),
        ("POST", "/2020-05-31/distribution/E1/invalidation", "", {}, ("CreateInvalidation", None, "E1")),
        ("GET", "/2020-05-31/distribution/E1/invalidation/I1", "", SIGNED_CF, ("GetInvalidation", None, "E1")),
        ("POST", "/2020-05-31/distribution", "", SIGNED_CF, ("CreateDistribution", None, None)),
        ("PATCH", "/2020-05-31/distribution/E1/x", "", SIGNED_CF, ("PATCH /2020-05-31/distribution/E1/x", None, None)),
        # anything else
        ("POST", "/moto-api/reset", "", {}, ("POST /moto-api/reset", None, None)),
        ("POST", "/site/a", "", {}, ("POST /site/a", "site", "a")),
    ],
)
def test_classify(method: str, path: str, query: str, headers: dict[str, str], expected: tuple[Any, ...]) -> None:
    assert classify(method, path, query, headers) == expected
