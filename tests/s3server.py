"""S3 (and CloudFront) over real HTTP on 127.0.0.1, for tests of ``sitegen publish``.

Three pieces, none of them pytest fixtures (conftest.py wraps them):

``MotoServer``
    moto's standalone server (``moto_server`` next to ``sys.executable``) in a
    subprocess on a free loopback port. One process serves S3, CloudFront and
    the ``/moto-api/`` control endpoints; ``reset()`` wipes every backend.

``S3Proxy``
    A recording, fault-injecting reverse proxy (stdlib ``ThreadingHTTPServer``
    in a daemon thread) in front of the moto server. Point the code under test
    at ``proxy.url``; every request is recorded and classified into an S3 or
    CloudFront operation name (``PutObject``, ``CopyObject``, ``DeleteObjects``,
    ``CreateInvalidation``...), and ``Fault``s make it throttle, fail, drop the
    connection, stall, or call a hook (e.g. SIGKILL the publisher) mid-flight.

``s3_client`` / ``cloudfront_client`` / ``make_bucket`` / ``make_distribution``
    boto3 clients with dummy credentials and path-style addressing.

Typical use::

    from s3server import MotoServer, S3Proxy, Fault, slow_down, s3_client, make_bucket

    with MotoServer() as moto, S3Proxy(moto.url) as proxy:
        make_bucket(s3_client(moto.url), "site")            # set-up bypasses the proxy
        proxy.add_fault(Fault(op="PutObject", times=2, status=503, body=slow_down()))
        publish(endpoint_url=proxy.url, bucket="site")      # the code under test
        assert proxy.count("PutObject") == 3
        assert proxy.operations()[0] == ("ListObjectsV2", None)
        moto.reset()                                        # between tests

Killing a publisher after its third upload (the hook runs in the proxy's
handler thread once the third PutObject has been answered by moto, before
that answer is relayed, so the publisher never learns that it succeeded)::

    procs = []  # the fault goes in before the process starts, so no upload can slip past it
    proxy.add_fault(Fault(op="PutObject", after=3, kill=lambda rec: procs[0].kill()))
    procs.append(subprocess.Popen([... "sitegen", "publish", "--endpoint-url", proxy.url, ...]))

With a concurrent publisher, other uploads may be in flight at that moment;
a sequential one has sent exactly three.

Addressing: tests use path style (``http://127.0.0.1:PORT/<bucket>/<key>``);
virtual-host style (``Host: <bucket>.localhost:PORT`` or
``<bucket>.s3.<region>.amazonaws.com``) is classified too. The proxy forwards
the client's Host header unchanged (so SigV4 signatures stay valid and moto
builds URLs that point back at the proxy) and the body byte for byte.
"""

from __future__ import annotations

import contextlib
import fnmatch
import http.client
import ipaddress
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit
from xml.sax.saxutils import escape

__all__ = [
    "DUMMY_ACCESS_KEY",
    "DUMMY_SECRET_KEY",
    "Fault",
    "MotoServer",
    "MotoServerError",
    "Recorded",
    "S3Proxy",
    "access_denied",
    "classify",
    "cloudfront_client",
    "internal_error",
    "make_bucket",
    "make_distribution",
    "no_such_bucket",
    "s3_client",
    "s3_error",
    "slow_down",
    "SLOW_DOWN",
    "ACCESS_DENIED",
    "NO_SUCH_BUCKET",
    "INTERNAL_ERROR",
]

DUMMY_ACCESS_KEY = "testing"
DUMMY_SECRET_KEY = "testing"

_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------------
# moto's standalone server
# ---------------------------------------------------------------------------


class MotoServerError(RuntimeError):
    """moto_server did not come up (the message carries its output)."""


def _moto_command() -> list[str]:
    """``moto_server`` next to the running interpreter (the venv's bin/), else ``python -m moto.server``."""
    bindir = Path(sys.executable).parent
    for name in ("moto_server", "moto_server.exe"):
        candidate = bindir / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate)]
    return [sys.executable, "-m", "moto.server"]


def _parent_death_signal() -> Callable[[], None] | None:
    """On Linux, a ``preexec_fn`` that makes the child get SIGTERM when this process dies
    (even by SIGKILL), so a killed test run leaves no moto_server behind. The
    signal comes when the *thread* that started the child ends: start MotoServer
    from the main thread (pytest fixtures are). None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here, not in the forked child
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1
    sigterm = int(signal.SIGTERM)

    def preexec() -> None:
        prctl(pr_set_pdeathsig, sigterm, 0, 0, 0)

    return preexec


def _stop_process(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM, wait ``grace`` seconds, then SIGKILL and reap. Safe to call twice."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(timeout=grace)


class MotoServer:
    """moto's standalone server in a subprocess on ``127.0.0.1:<free port>``.

    ``with MotoServer() as moto:`` starts it and waits (up to ``startup_timeout``
    seconds) until ``GET /moto-api/`` answers; leaving the block terminates it
    and reaps the process, whether or not the block raised. ``.url`` is e.g.
    ``http://127.0.0.1:40123``; ``.reset()`` wipes all state (every bucket,
    distribution...) via ``POST /moto-api/reset``. The server's log (werkzeug's
    access log on stderr) goes to a temporary file: ``.log()`` reads it.
    """

    def __init__(self, *, startup_timeout: float = 15.0, env: Mapping[str, str] | None = None) -> None:
        self.startup_timeout = startup_timeout
        self._extra_env = dict(env or {})
        self._proc: subprocess.Popen[bytes] | None = None
        self._logdir: tempfile.TemporaryDirectory[str] | None = None
        self._log_path: Path | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self.port: int | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> MotoServer:
        if self._proc is not None:
            raise RuntimeError("MotoServer already started")
        self._logdir = tempfile.TemporaryDirectory(prefix="moto-server-")
        self._log_path = Path(self._logdir.name) / "moto_server.log"
        env = dict(os.environ)
        # The server needs no credentials; make sure a developer's real ones
        # never reach anything through it.
        env.update(
            AWS_ACCESS_KEY_ID=DUMMY_ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=DUMMY_SECRET_KEY,
            AWS_DEFAULT_REGION="us-east-1",
            PYTHONUNBUFFERED="1",
        )
        env.pop("AWS_SESSION_TOKEN", None)
        env.pop("AWS_PROFILE", None)
        env.update(self._extra_env)
        last_error = ""
        # A port picked free can be taken before moto binds it: try a few.
        for _attempt in range(3):
            self.port = _free_port()
            with open(self._log_path, "ab") as log:
                self._proc = subprocess.Popen(
                    [*_moto_command(), "-H", "127.0.0.1", "-p", str(self.port)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    preexec_fn=_parent_death_signal() if threading.current_thread() is threading.main_thread() else None,
                )
            # Backstop: reap the process even if nobody calls stop() (e.g. a
            # fixture that never got to its teardown); stop() detaches it.
            self._finalizer = weakref.finalize(self, _stop_process, self._proc)
            try:
                self._wait_until_up()
                return self
            except MotoServerError as exc:
                last_error = str(exc)
                self._kill_quietly()
                if "Address already in use" not in last_error:
                    break
        self._cleanup_logdir()
        raise MotoServerError(last_error)

    def _wait_until_up(self) -> None:
        assert self._proc is not None and self.port is not None
        deadline = time.monotonic() + self.startup_timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise MotoServerError(
                    f"moto_server exited with status {self._proc.returncode} before answering on {self.url}; its output:\n{self.log()}"
                )
            try:
                status, _ = self._request("GET", "/moto-api/", timeout=1.0)
                if status == 200:
                    return
                last = f"GET /moto-api/ answered {status}"
            except OSError as exc:
                last = repr(exc)
            time.sleep(0.05)
        raise MotoServerError(
            f"moto_server did not answer on {self.url} within {self.startup_timeout:g}s ({last}); its output:\n{self.log()}"
        )

    def stop(self) -> None:
        """Terminate the server and wait for it (idempotent)."""
        if self._proc is not None:
            _stop_process(self._proc)
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        self._cleanup_logdir()

    def _kill_quietly(self) -> None:
        if self._proc is not None:
            _stop_process(self._proc, grace=2.0)
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None

    def _cleanup_logdir(self) -> None:
        if self._logdir is not None:
            self._logdir.cleanup()
            self._logdir = None

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # -- use -----------------------------------------------------------------

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("MotoServer not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return self._proc

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def reset(self) -> None:
        """Forget every bucket, object, distribution... (``POST /moto-api/reset``)."""
        status, body = self._request("POST", "/moto-api/reset", timeout=10.0)
        if status != 200:
            raise MotoServerError(f"POST /moto-api/reset answered {status}: {body[:500]!r}")

    def log(self) -> str:
        """What moto_server has printed so far (its request log and any traceback)."""
        if self._log_path is None or not self._log_path.exists():
            return ""
        return self._log_path.read_text(encoding="utf-8", errors="replace")

    def _request(self, method: str, path: str, *, timeout: float) -> tuple[int, bytes]:
        assert self.port is not None
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=b"" if method == "POST" else None)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()


# ---------------------------------------------------------------------------
# S3-style error bodies
# ---------------------------------------------------------------------------


def s3_error(code: str, message: str, *, resource: str = "", request_id: str = "0000000000000000") -> bytes:
    """An S3 error document, as S3 sends with a 4xx/5xx."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<Resource>{escape(resource)}</Resource><RequestId>{escape(request_id)}</RequestId>"
        f"<HostId>proxy</HostId></Error>"
    ).encode()


def slow_down() -> bytes:
    """Body for 503 throttling (botocore retries it in ``standard``/``adaptive`` mode)."""
    return s3_error("SlowDown", "Please reduce your request rate.")


def access_denied() -> bytes:
    """Body for 403."""
    return s3_error("AccessDenied", "Access Denied")


def no_such_bucket(bucket: str = "") -> bytes:
    """Body for 404 on a missing bucket."""
    return s3_error("NoSuchBucket", "The specified bucket does not exist", resource=bucket)


def internal_error() -> bytes:
    """Body for 500 (retried by botocore)."""
    return s3_error("InternalError", "We encountered an internal error. Please try again.")


SLOW_DOWN = slow_down()  #: use with status=503
ACCESS_DENIED = access_denied()  #: use with status=403
NO_SUCH_BUCKET = no_such_bucket()  #: use with status=404
INTERNAL_ERROR = internal_error()  #: use with status=500


# ---------------------------------------------------------------------------
# Classifying requests into S3 / CloudFront operations
# ---------------------------------------------------------------------------

#: Bucket sub-resources that name an operation: ``GET /b?versioning`` -> GetBucketVersioning.
_BUCKET_SUBRESOURCES = {
    "accelerate": "Accelerate",
    "acl": "Acl",
    "analytics": "AnalyticsConfiguration",
    "cors": "Cors",
    "encryption": "Encryption",
    "intelligent-tiering": "IntelligentTieringConfiguration",
    "inventory": "InventoryConfiguration",
    "lifecycle": "LifecycleConfiguration",
    "location": "Location",
    "logging": "Logging",
    "metrics": "MetricsConfiguration",
    "notification": "NotificationConfiguration",
    "object-lock": "ObjectLockConfiguration",
    "ownershipControls": "OwnershipControls",
    "policy": "Policy",
    "policyStatus": "PolicyStatus",
    "publicAccessBlock": "PublicAccessBlock",
    "replication": "Replication",
    "requestPayment": "RequestPayment",
    "tagging": "Tagging",
    "versioning": "Versioning",
    "website": "Website",
}
_OBJECT_SUBRESOURCES = {
    "acl": "Acl",
    "attributes": "Attributes",
    "legal-hold": "LegalHold",
    "retention": "Retention",
    "tagging": "Tagging",
}
_VHOST = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.\-]*?)\.(?:s3[.\-].*|s3|localhost)$")
_CLOUDFRONT_VERSION = "2020-05-31"


def _split_host(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:port
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _signing_service(headers: Mapping[str, str]) -> str | None:
    """The service in a SigV4 ``Authorization`` credential scope (``.../us-east-1/s3/aws4_request``)."""
    auth = headers.get("authorization") or ""
    match = re.search(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request", auth)
    return match.group(1).lower() if match else None


def _classify_cloudfront(method: str, path: str) -> tuple[str | None, str | None] | None:
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] != _CLOUDFRONT_VERSION:
        return None
    rest = parts[1:]
    if rest[:1] != ["distribution"]:
        return None
    if len(rest) == 1:
        return {"GET": "ListDistributions", "POST": "CreateDistribution"}.get(method), None
    dist = unquote(rest[1])
    tail = rest[2:]
    if not tail:
        return {"GET": "GetDistribution", "DELETE": "DeleteDistribution"}.get(method), dist
    if tail == ["config"]:
        return {"GET": "GetDistributionConfig", "PUT": "UpdateDistribution"}.get(method), dist
    if tail == ["invalidation"]:
        return {"POST": "CreateInvalidation", "GET": "ListInvalidations"}.get(method), dist
    if len(tail) == 2 and tail[0] == "invalidation" and method == "GET":
        return "GetInvalidation", dist
    return None


def classify(method: str, path: str, query: str = "", headers: Mapping[str, str] | None = None) -> tuple[str, str | None, str | None]:
    """Name the operation of one request: ``(operation, bucket, key)``.

    ``path`` is the raw (percent-encoded) request path, ``query`` the raw query
    string, ``headers`` the request headers with lower-case names (``host``,
    ``authorization`` and ``x-amz-copy-source`` matter). The key comes back
    percent-decoded. For CloudFront operations ``bucket`` is None and ``key``
    is the distribution id. Anything unrecognised is ``f"{method} {path}"``.
    """
    method = method.upper()
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    fallback = (f"{method} {path}", None, None)
    if path.startswith("/moto-api"):
        return fallback

    service = _signing_service(headers)
    if service == "cloudfront" or (service is None and path.startswith(f"/{_CLOUDFRONT_VERSION}/")):
        cf = _classify_cloudfront(method, path)
        if cf is not None and cf[0] is not None:
            return cf[0], None, cf[1]
        return fallback

    params = dict(parse_qsl(query, keep_blank_values=True))

    host = _split_host(headers.get("host", ""))
    vhost = None if _is_loopback(host) else _VHOST.match(host)
    if vhost:
        bucket: str | None = vhost.group("bucket")
        raw_key = path[1:] if path.startswith("/") else path
    else:
        stripped = path[1:] if path.startswith("/") else path
        if not stripped:
            bucket, raw_key = None, ""
        else:
            first, _, raw_key = stripped.partition("/")
            bucket = unquote(first)
    key = unquote(raw_key) if raw_key else None

    if bucket is None:
        if method == "GET":
            return "ListBuckets", None, None
        return fallback

    if key is None:
        return _classify_bucket(method, params, headers) or f"{method} {path}", bucket, None
    return _classify_object(method, params, headers) or f"{method} {path}", bucket, key


def _classify_bucket(method: str, params: Mapping[str, str], headers: Mapping[str, str]) -> str | None:
    if method == "HEAD":
        return "HeadBucket"
    if method == "POST":
        return "DeleteObjects" if "delete" in params else None
    if method == "GET":
        if "uploads" in params:
            return "ListMultipartUploads"
        if "versions" in params:
            return "ListObjectVersions"
    for sub, name in _BUCKET_SUBRESOURCES.items():
        if sub in params:
            verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method)
            return f"{verb}Bucket{name}" if verb else None
    if method == "GET":
        return "ListObjectsV2" if params.get("list-type") == "2" else "ListObjects"
    if method == "PUT":
        return "CreateBucket"
    if method == "DELETE":
        return "DeleteBucket"
    return None


def _classify_object(method: str, params: Mapping[str, str], headers: Mapping[str, str]) -> str | None:
    copy = "x-amz-copy-source" in headers
    if "uploadId" in params:
        if method == "PUT":
            return "UploadPartCopy" if copy else "UploadPart"
        return {"POST": "CompleteMultipartUpload", "DELETE": "AbortMultipartUpload", "GET": "ListParts"}.get(method)
    if method == "POST":
        if "uploads" in params:
            return "CreateMultipartUpload"
        if "restore" in params:
            return "RestoreObject"
        return None
    for sub, name in _OBJECT_SUBRESOURCES.items():
        if sub in params:
            verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method)
            return f"{verb}Object{name}" if verb else None
    if method == "PUT":
        return "CopyObject" if copy else "PutObject"
    return {"GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(method)


# ---------------------------------------------------------------------------
# The proxy
# ---------------------------------------------------------------------------


@dataclass
class Recorded:
    """One request through the proxy, recorded when it arrived (so a dropped or
    killed one is still there). Header names are lower-cased; ``path`` and
    ``query`` are raw, as sent."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    #: Status relayed to the client; None while pending, or if the connection was dropped.
    status: int | None
    started_at_monotonic_ns: int
    operation: str = ""
    bucket: str | None = None
    #: Object key, percent-decoded (for CloudFront operations: the distribution id).
    key: str | None = None
    #: Request body length after de-chunking.
    body_length: int = 0
    #: What a Fault did to it: "status 503", "dropped", "delayed 0.5s", "killed" (joined by ", ").
    fault: str | None = None
    #: Whether moto saw it (False for a fault answered without forwarding).
    forwarded: bool = False
    #: Whether the proxy answered the client's ``Expect: 100-continue`` with ``100 Continue``.
    sent_100_continue: bool = False
    finished_at_monotonic_ns: int | None = None

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


@dataclass
class Fault:
    """Misbehave for some requests of one operation (and optionally keys).

    Faults are kept in the order added. Each request goes to the first fault
    that matches it (``op`` and ``key`` glob) and is not used up; that fault
    lets its first ``after`` requests through untouched, then acts on the next
    ``times`` (``None``: forever), then is used up and the next fault in line
    gets its turn.

    Acting on a request means: wait ``delay`` seconds; then answer ``status``
    with ``body``/``headers`` (an S3 error document, see ``slow_down()``), or
    with ``drop=True`` close the connection without answering. Neither reaches
    moto unless ``forward=True`` (the change happens and its answer is lost or
    replaced). With neither, the request is forwarded after the delay.

    ``kill`` is a hook called once with the ``Recorded`` request, in the proxy
    handler thread, as soon as ``after`` matching requests have been forwarded:
    right after moto answered the ``after``-th and before that answer is relayed
    (with ``after=0``: when the first matching request arrives, before it is
    forwarded). A fault with only ``kill`` is used up once it has fired.
    """

    op: str | None = None
    #: fnmatch-style glob on the (decoded) object key, e.g. ``"*.html"``; None matches any.
    key: str | None = None
    times: int | None = 1
    after: int = 0
    status: int | None = None
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    drop: bool = False
    forward: bool = False
    delay: float = 0.0
    kill: Callable[[Recorded], Any] | None = None
    #: How many matching requests this fault has taken so far.
    seen: int = field(default=0, init=False)
    #: Whether ``kill`` has been called.
    fired: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if self.after < 0 or (self.times is not None and self.times < 0):
            raise ValueError("after and times must be >= 0")
        if self.status is not None and self.drop:
            raise ValueError("a fault either answers a status or drops the connection")

    @property
    def acts(self) -> bool:
        return self.status is not None or self.drop or self.delay > 0

    def matches(self, rec: Recorded) -> bool:
        if self.op is not None and rec.operation != self.op:
            return False
        if self.key is not None and (rec.key is None or not fnmatch.fnmatchcase(rec.key, self.key)):
            return False
        return True

    def used_up(self) -> bool:
        if self.acts:
            return self.times is not None and self.seen >= self.after + self.times
        # kill only
        return self.fired or (self.kill is None)


@dataclass
class _Plan:
    """What to do with one request, decided under the lock on arrival."""

    fault: Fault | None = None
    act: bool = False
    kill_before: bool = False
    kill_after_forward: bool = False


_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "expect",  # answered by us (100 Continue); upstream gets the whole body at once
}
_NO_BODY_STATUSES = {204, 304}


class _BadRequest(Exception):
    pass


class _ProxyHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: S3Proxy


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1: keep-alive toward the client, and "Expect: 100-continue" gets
    # its "100 Continue" from BaseHTTPRequestHandler.handle_expect_100.
    protocol_version = "HTTP/1.1"
    server: _ProxyHTTPServer
    #: Idle keep-alive connections are closed after this many seconds.
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def setup(self) -> None:
        super().setup()
        self.server.proxy._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.proxy._track(self.connection, add=False)

    def handle_one_request(self) -> None:
        self._continued = False
        super().handle_one_request()

    def handle_expect_100(self) -> bool:
        self._continued = super().handle_expect_100()
        return self._continued

    def do_GET(self) -> None:
        self._proxy()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    # -- body --------------------------------------------------------------

    def _read_body(self) -> tuple[bytes, bool]:
        """The request body (de-chunked) and whether it came chunked."""
        limit = self.server.proxy.max_body
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks: list[bytes] = []
            total = 0
            while True:
                line = self.rfile.readline(1026)
                if not line.endswith(b"\n"):
                    raise _BadRequest("bad chunk size line")
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError as exc:
                    raise _BadRequest("bad chunk size") from exc
                if size == 0:
                    break
                total += size
                if total > limit:
                    raise _BadRequest("body too large")
                chunk = self.rfile.read(size)
                if len(chunk) != size:
                    raise _BadRequest("truncated chunk")
                chunks.append(chunk)
                if self.rfile.read(2) != b"\r\n":
                    raise _BadRequest("bad chunk terminator")
            for _ in range(100):  # trailers, up to the empty line
                line = self.rfile.readline(65537)
                if line in (b"\r\n", b"\n", b""):
                    break
            return b"".join(chunks), True
        length = self.headers.get("Content-Length")
        if not length:
            return b"", False
        try:
            n = int(length)
        except ValueError as exc:
            raise _BadRequest("bad Content-Length") from exc
        if n < 0 or n > limit:
            raise _BadRequest("bad Content-Length")
        body = self.rfile.read(n)
        if len(body) != n:
            raise _BadRequest("truncated body")
        return body, False

    # -- main path ---------------------------------------------------------

    def _proxy(self) -> None:
        proxy = self.server.proxy
        split = urlsplit(self.path)
        headers_lower = {k.lower(): v for k, v in self.headers.items()}
        op, bucket, key = classify(self.command, split.path, split.query, headers_lower)
        rec = Recorded(
            method=self.command,
            path=split.path,
            query=split.query,
            headers=headers_lower,
            status=None,
            started_at_monotonic_ns=time.monotonic_ns(),
            operation=op,
            bucket=bucket,
            key=key,
            sent_100_continue=getattr(self, "_continued", False),
        )
        proxy._record(rec)
        try:
            body, chunked = self._read_body()
        except (_BadRequest, OSError) as exc:
            rec.fault = f"bad request: {exc}"
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._answer(rec, 400, [("Content-Type", "application/xml")], s3_error("BadRequest", str(exc)))
            return
        rec.body_length = len(body)

        plan = proxy._plan(rec)
        fault = plan.fault
        notes: list[str] = []
        if plan.kill_before:
            notes.append("killed")
            proxy._fire(fault, rec)

        if plan.act and fault is not None and fault.delay > 0:
            notes.append(f"delayed {fault.delay:g}s")
            rec.fault = ", ".join(notes)  # visible while the delay runs, not only after it
            if proxy._stopping.wait(fault.delay):
                self.close_connection = True
                rec.fault = ", ".join(notes + ["proxy shut down"])
                return

        replace = plan.act and fault is not None and (fault.status is not None or fault.drop)
        upstream: tuple[int, str, list[tuple[str, str]], bytes] | None = None
        if not replace or (fault is not None and fault.forward):
            upstream, rec.forwarded = self._forward(body, chunked)

        if plan.kill_after_forward:
            notes.append("killed")
            proxy._fire(fault, rec)

        if replace and fault is not None:
            if fault.drop:
                notes.append("dropped")
                rec.fault = ", ".join(notes)
                rec.finished_at_monotonic_ns = time.monotonic_ns()
                self._drop()
                return
            assert fault.status is not None
            notes.append(f"status {fault.status}")
            rec.fault = ", ".join(notes)
            hdrs = {"Content-Type": "application/xml", **dict(fault.headers)}
            with contextlib.suppress(OSError):
                self._answer(rec, fault.status, list(hdrs.items()), fault.body)
            return

        rec.fault = ", ".join(notes) or None
        assert upstream is not None
        status, reason, resp_headers, resp_body = upstream
        with contextlib.suppress(OSError):
            self._answer(rec, status, resp_headers, resp_body, reason=reason, relay=True)

    def _forward(self, body: bytes, chunked: bool) -> tuple[tuple[int, str, list[tuple[str, str]], bytes], bool]:
        """Send the request to moto; its answer read in full, and whether moto answered at all."""
        proxy = self.server.proxy
        out_headers: list[tuple[str, str]] = []
        for name, value in self.headers.items():
            if name.lower() in _HOP_BY_HOP or name.lower() == "content-length":
                continue
            out_headers.append((name, value))
        if chunked:
            out_headers.append(("Transfer-Encoding", "chunked"))
        elif body or self.command in ("PUT", "POST") or "Content-Length" in self.headers:
            out_headers.append(("Content-Length", str(len(body))))
        conn = http.client.HTTPConnection(proxy._up_host, proxy._up_port, timeout=proxy.upstream_timeout)
        try:
            conn.putrequest(self.command, proxy._up_prefix + self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in out_headers:
                conn.putheader(name, value)
            if "host" not in {n.lower() for n, _ in out_headers}:
                conn.putheader("Host", f"{proxy._up_host}:{proxy._up_port}")
            conn.endheaders(message_body=None)
            if chunked:
                if body:
                    conn.send(f"{len(body):X}\r\n".encode() + body + b"\r\n")
                conn.send(b"0\r\n\r\n")
            elif body:
                conn.send(body)
            resp = conn.getresponse()
            resp_body = resp.read()
            return (resp.status, resp.reason, resp.getheaders(), resp_body), True
        except (OSError, http.client.HTTPException) as exc:
            error = s3_error("ProxyUpstreamError", f"{type(exc).__name__}: {exc}")
            return (502, "Bad Gateway", [("Content-Type", "application/xml")], error), False
        finally:
            conn.close()

    def _answer(
        self,
        rec: Recorded,
        status: int,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        *,
        reason: str | None = None,
        relay: bool = False,
    ) -> None:
        rec.status = status
        rec.finished_at_monotonic_ns = time.monotonic_ns()
        head = self.command == "HEAD"
        self.send_response_only(status, reason)
        sent_length = False
        for name, value in headers:
            lname = name.lower()
            if lname in _HOP_BY_HOP:
                continue
            if lname == "content-length":
                if not (relay and head):
                    continue  # ours below; for HEAD keep upstream's (the object's size)
                sent_length = True
            self.send_header(name, value)
        if not head and status not in _NO_BODY_STATUSES and not (100 <= status < 200):
            self.send_header("Content-Length", str(len(body)))
        elif head and not sent_length and not relay:
            self.send_header("Content-Length", "0")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head and status not in _NO_BODY_STATUSES and body:
            self.wfile.write(body)
        self.wfile.flush()

    def _drop(self) -> None:
        """Close the connection without a byte of answer (a reset, as on a lost network)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
        with contextlib.suppress(OSError):
            # SO_LINGER 0: close sends RST, the client sees the connection die.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class S3Proxy:
    """A recording, fault-injecting reverse proxy on ``127.0.0.1:<port 0>`` in front of ``upstream``.

    ``with S3Proxy(moto.url) as proxy:`` starts it in a daemon thread;
    ``proxy.url`` is what the code under test should use as its endpoint.
    Every request is recorded (``proxy.requests``, ``operations()``,
    ``count()``) and may be subjected to ``Fault``s (``add_fault``).
    """

    def __init__(
        self,
        upstream: str,
        *,
        upstream_timeout: float = 30.0,
        max_body: int = 512 * 1024 * 1024,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http:// URL, not {upstream!r}")
        if not _is_loopback(parts.hostname):
            raise ValueError(f"upstream must be on loopback, not {parts.hostname!r}")
        self.upstream = upstream
        self._up_host = parts.hostname
        self._up_port = parts.port or 80
        self._up_prefix = parts.path.rstrip("/")
        self.upstream_timeout = upstream_timeout
        self.max_body = max_body
        self._lock = threading.Lock()
        self._records: list[Recorded] = []
        self._faults: list[Fault] = []
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server: _ProxyHTTPServer | None = None
        self._thread: threading.Thread | None = None
        #: Exceptions raised by ``Fault.kill`` hooks (the proxy carries on regardless).
        self.hook_errors: list[BaseException] = []
        #: Client connections accepted so far (keep-alive makes this smaller than the request count).
        self.connections_opened = 0

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> S3Proxy:
        if self._server is not None:
            raise RuntimeError("S3Proxy already started")
        self._stopping.clear()
        server = _ProxyHTTPServer(("127.0.0.1", 0), _Handler)
        server.proxy = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="s3proxy", daemon=True)
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop serving, cut open connections, join the thread (idempotent, bounded)."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> S3Proxy:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.shutdown()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("S3Proxy not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("S3Proxy not started")
        return int(self._server.server_address[1])

    # -- faults ------------------------------------------------------------

    def add_fault(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending_faults(self) -> list[Fault]:
        """Faults not used up yet (a test can assert its faults were all hit)."""
        with self._lock:
            return [f for f in self._faults if not f.used_up()]

    def _plan(self, rec: Recorded) -> _Plan:
        with self._lock:
            for fault in self._faults:
                if fault.used_up() or not fault.matches(rec):
                    continue
                fault.seen += 1
                n = fault.seen
                plan = _Plan(fault=fault)
                if fault.acts:
                    plan.act = n > fault.after and (fault.times is None or n <= fault.after + fault.times)
                if fault.kill is not None and not fault.fired:
                    if fault.after == 0 and n == 1:
                        plan.kill_before = True
                        fault.fired = True
                    elif n == fault.after:
                        plan.kill_after_forward = True
                        fault.fired = True
                return plan
        return _Plan()

    def _fire(self, fault: Fault | None, rec: Recorded) -> None:
        assert fault is not None and fault.kill is not None
        try:
            fault.kill(rec)
        except BaseException as exc:  # noqa: BLE001 - reported to the test, never kills the proxy
            with self._lock:
                self.hook_errors.append(exc)

    # -- records -----------------------------------------------------------

    def _record(self, rec: Recorded) -> None:
        with self._lock:
            self._records.append(rec)

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self.connections_opened += 1
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    @property
    def requests(self) -> list[Recorded]:
        """A snapshot of every request so far, in arrival order."""
        with self._lock:
            return list(self._records)

    def operations(self, *, include_moto_api: bool = False) -> list[tuple[str, str | None]]:
        """``(operation, key)`` of every request in arrival order, e.g. ``("PutObject", "index.html")``."""
        return [(r.operation, r.key) for r in self.requests if include_moto_api or not r.path.startswith("/moto-api")]

    def count(self, op: str, key: str | None = None) -> int:
        """How many requests were operation ``op`` (and, if given, had a key matching the glob ``key``)."""
        return sum(
            1 for r in self.requests if r.operation == op and (key is None or (r.key is not None and fnmatch.fnmatchcase(r.key, key)))
        )

    def keys(self, op: str) -> list[str | None]:
        """Keys of the requests of one operation, in arrival order."""
        return [r.key for r in self.requests if r.operation == op]

    def clear(self) -> None:
        """Forget the recorded requests (faults stay; see ``clear_faults``)."""
        with self._lock:
            self._records.clear()

    def wait_for(self, op: str, n: int = 1, *, timeout: float = 10.0) -> bool:
        """Wait until ``count(op) >= n`` (True) or ``timeout`` seconds pass (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count(op) >= n:
                return True
            time.sleep(0.01)
        return self.count(op) >= n


# ---------------------------------------------------------------------------
# boto3 clients
# ---------------------------------------------------------------------------


@cache
def _session(region: str) -> Any:
    """One boto3 session per region (its loaded service models make further clients cheap)."""
    import boto3

    return boto3.session.Session(
        aws_access_key_id=DUMMY_ACCESS_KEY,
        aws_secret_access_key=DUMMY_SECRET_KEY,
        region_name=region,
    )


def _config(retries: Mapping[str, Any] | None, s3: Mapping[str, Any] | None = None, read_timeout: float = 30) -> Any:
    from botocore.config import Config

    return Config(
        s3=dict(s3) if s3 is not None else None,
        # NB botocore's "max_attempts" counts *retries* ({"max_attempts": 1} is two
        # tries); "total_max_attempts" counts tries. One try: faults reach the test.
        retries=dict(retries) if retries is not None else {"total_max_attempts": 1},
        connect_timeout=5,
        read_timeout=read_timeout,
        proxies={},  # loopback only: never through an HTTP(S)_PROXY from the environment
    )


def s3_client(
    endpoint_url: str,
    region: str = "us-east-1",
    *,
    retries: Mapping[str, Any] | None = None,
    read_timeout: float = 30,
) -> Any:
    """A boto3 S3 client for ``endpoint_url`` with dummy credentials and path-style addressing.

    One try, no retries, by default (``{"total_max_attempts": 1}``); pass e.g.
    ``retries={"mode": "standard", "total_max_attempts": 5}`` for botocore's
    retrying. Beware: in ``retries``, botocore's ``max_attempts`` counts retries,
    not tries (``{"max_attempts": 1}`` means up to two requests).
    """
    return _session(region).client("s3", endpoint_url=endpoint_url, config=_config(retries, {"addressing_style": "path"}, read_timeout))


def cloudfront_client(endpoint_url: str, *, retries: Mapping[str, Any] | None = None, read_timeout: float = 30) -> Any:
    """A boto3 CloudFront client for ``endpoint_url`` with dummy credentials (CloudFront is global: us-east-1)."""
    return _session("us-east-1").client("cloudfront", endpoint_url=endpoint_url, config=_config(retries, read_timeout=read_timeout))


def make_bucket(client: Any, name: str, versioning: bool = True) -> None:
    """Create bucket ``name`` in the client's region, with versioning enabled unless told not to."""
    region = client.meta.region_name
    if region == "us-east-1":
        client.create_bucket(Bucket=name)
    else:
        client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    if versioning:
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def make_distribution(client: Any, origin_domain: str = "site.s3.amazonaws.com", *, comment: str = "test") -> str:
    """Create a CloudFront distribution with the smallest config moto accepts; return its id."""
    resp = client.create_distribution(
        DistributionConfig={
            "CallerReference": f"sitegen-test-{time.monotonic_ns()}",
            "Comment": comment,
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [{"Id": "origin", "DomainName": origin_domain, "S3OriginConfig": {"OriginAccessIdentity": ""}}],
            },
            "DefaultCacheBehavior": {"TargetOriginId": "origin", "ViewerProtocolPolicy": "redirect-to-https"},
        }
    )
    return str(resp["Distribution"]["Id"])
