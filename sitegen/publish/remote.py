"""The bucket and the CDN, behind a small interface.

Every botocore failure becomes one ``PublishError`` that names the bucket or
key, says what was being done, and how to fix it. Requests are counted per
operation (retries included) for the report. Uploads are always single-part
PUTs of bytes: a multipart ETag is not an MD5, and the manifest, not ETags,
is what change detection trusts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from threading import Lock
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from sitegen.errors import PublishError, clip
from sitegen.publish.headers import Headers
from sitegen.retry import Again, RetryPolicy, Stop
from sitegen.write import STATE_DIR

DELETE_BATCH = 1000  # the most keys DeleteObjects takes
INVALIDATION_ATTEMPTS = 5
NEEDED_PERMISSIONS = "s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket (s3:GetObjectVersion for --rollback)"
STATE_PREFIX = f"{STATE_DIR}/"
CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired"}
THROTTLE_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}


@dataclass
class RequestCounter:
    """Counts HTTP attempts per operation, from botocore's before-send event."""

    counts: Counter[str] = field(default_factory=Counter)
    lock: Lock = field(default_factory=Lock)

    def attach(self, client: Any) -> None:
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-send.{service}", self._count)

    def _count(self, event_name: str, **_: Any) -> None:
        with self.lock:
            self.counts[event_name.rsplit(".", 1)[-1]] += 1

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(sorted(self.counts.items()))


@dataclass(frozen=True)
class Stored:
    """An object read back: ``data`` is None when it was too large to read."""

    data: bytes | None
    size: int
    etag: str


@dataclass(frozen=True)
class Head:
    """An object's metadata: the sha256 sitegen put on it (None: not sitegen's), headers, version id."""

    sha256: str | None
    headers: Headers
    version: str | None


@dataclass(frozen=True)
class Bucket:
    client: Any
    name: str
    prefix: str

    def key(self, path: str) -> str:
        return self.prefix + path

    def url(self, path: str = "") -> str:
        return f"s3://{self.name}/{self.key(path)}"

    def get(self, path: str, max_bytes: int) -> Stored | None:
        """The object's bytes (None when it is larger than ``max_bytes``: they are
        not read) and ETag, or None if there is no such key."""
        with self.failures("reading", path):
            try:
                answer = self.client.get_object(Bucket=self.name, Key=self.key(path))
            except ClientError as exc:
                if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                    return None
                raise
            body, size = answer["Body"], int(answer.get("ContentLength", 0))
            try:
                data = body.read(max_bytes + 1) if size <= max_bytes else b""
            finally:
                body.close()
            return Stored(data if size <= max_bytes and len(data) <= max_bytes else None, size, answer["ETag"])

    def put(self, path: str, body: bytes, headers: Headers, sha256: str) -> str | None:
        """Upload; returns the new S3 version id (None when the bucket keeps no versions)."""
        with self.failures("uploading", path):
            answer = self.client.put_object(
                Bucket=self.name, Key=self.key(path), Body=body, Metadata={"sitegen-sha256": sha256}, **headers.s3()
            )
        return _version(answer)

    def set_headers(self, path: str, headers: Headers, sha256: str) -> str | None:
        """Change headers without re-uploading: copy the object onto itself, restating every header."""
        with self.failures("updating the headers of", path):
            answer = self.client.copy_object(
                Bucket=self.name,
                Key=self.key(path),
                CopySource={"Bucket": self.name, "Key": self.key(path)},
                MetadataDirective="REPLACE",
                Metadata={"sitegen-sha256": sha256},
                **headers.s3(),
            )
        return _version(answer)

    def restore(self, path: str, version: str) -> str | None:
        """Make an earlier version current again, with the headers it had."""
        with self.failures("restoring an earlier version of", path):
            answer = self.client.copy_object(
                Bucket=self.name,
                Key=self.key(path),
                CopySource={"Bucket": self.name, "Key": self.key(path), "VersionId": version},
                MetadataDirective="COPY",
            )
        return _version(answer)

    def delete(self, paths: Sequence[str]) -> None:
        for start in range(0, len(paths), DELETE_BATCH):
            batch = paths[start : start + DELETE_BATCH]
            with self.failures("deleting", batch[0]):
                answer = self.client.delete_objects(
                    Bucket=self.name, Delete={"Objects": [{"Key": self.key(p)} for p in batch], "Quiet": True}
                )
            errors = answer.get("Errors") or []
            if errors:
                first = errors[0]
                raise PublishError.at(
                    f"s3://{self.name}/{first.get('Key')}",
                    f"could not be deleted: {first.get('Code')} {first.get('Message', '')}".strip(),
                    f"grant {NEEDED_PERMISSIONS}; rerunning publish retries the delete",
                )

    def put_state(self, path: str, data: bytes, *, replacing: str | None) -> str:
        """Write sitegen's own state (the deploy manifest) only if it is still the
        version we read (ETag ``replacing``; None: only if there is none), so two
        publishes at once cannot silently lose each other's record. Returns the new ETag."""
        condition = {"IfMatch": replacing} if replacing else {"IfNoneMatch": "*"}
        with self.failures("writing", path):
            answer = self.client.put_object(
                Bucket=self.name,
                Key=self.key(path),
                Body=data,
                ContentType="application/gzip",
                CacheControl="no-store",
                **condition,
            )
        return str(answer["ETag"])

    def listing(self, wanted: Collection[str]) -> tuple[int, dict[str, str]]:
        """How many keys are under the prefix (sitegen's own ``.sitegen/`` aside), page
        by page, and the ETags of the ``wanted`` ones (keys relative to the prefix):
        memory stays bounded by what is wanted, however large the bucket."""
        count, found = 0, {}
        with self.failures("listing", ""):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=self.prefix):
                for item in page.get("Contents", ()):
                    path = item["Key"][len(self.prefix) :]
                    count += not path.startswith(STATE_PREFIX)
                    if path in wanted:
                        found[path] = item["ETag"].strip('"')
        return count, found

    def stored(self, path: str) -> Head | None:
        """What sitegen recorded on an object (its sha256) and how it is served, or None if there is no such key."""
        with self.failures("reading the metadata of", path):
            try:
                head = self.client.head_object(Bucket=self.name, Key=self.key(path))
            except ClientError as exc:
                if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                    return None
                raise
        headers = Headers(head.get("ContentType", ""), head.get("CacheControl", ""), head.get("Expires"), head.get("ContentEncoding"))
        return Head(head.get("Metadata", {}).get("sitegen-sha256"), headers, head.get("VersionId"))

    def failures(self, action: str, path: str) -> _Failures:
        return _Failures(self, action, path)


@dataclass(frozen=True)
class _Failures:
    """Turns whatever boto3 raises into a PublishError naming the key and the fix."""

    bucket: Bucket
    action: str
    path: str

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None or isinstance(exc, PublishError) or not isinstance(exc, BotoCoreError | ClientError):
            return None
        raise explain(exc, self.action, self.bucket.url(self.path), self.bucket.name) from exc


#: The fix for a failure that another run may not meet (a dropped connection, a 5xx).
RERUN = "rerun publish; it converges from wherever it stopped"
#: The fix for a request S3 refuses as made: rerunning gives the same answer.
CHECK_SETTINGS = "check --bucket, --prefix and --endpoint-url (rerunning gives the same answer)"


def explain(exc: BaseException, action: str, where: str, bucket: str) -> PublishError:
    """One PublishError for a botocore failure, with the fix that fits its kind;
    everything S3 or botocore said is clipped."""
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return PublishError.at(
            where,
            "no AWS credentials were found",
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or run where an IAM role provides them",
        )
    if isinstance(exc, ParamValidationError):  # botocore's own check of a name or value, before any request
        return PublishError.at(clip(where), f"botocore refused the request: {clip(str(exc))}", CHECK_SETTINGS)
    if isinstance(exc, ClientError):
        return _explain_client_error(exc, action, clip(where), clip(bucket))
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        return PublishError.at(
            clip(where),
            f"the S3 endpoint could not be reached while {action} it: {clip(str(exc))}",
            "check the network and --endpoint-url; rerunning publish is safe, it picks up where it stopped",
        )
    return PublishError.at(clip(where), f"{action} failed: {clip(str(exc))}", RERUN)


def _explain_client_error(exc: ClientError, action: str, where: str, bucket: str) -> PublishError:
    error = exc.response.get("Error", {})
    code, message = clip(str(error.get("Code", ""))), clip(str(error.get("Message", "")))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code == "NoSuchBucket":
        return PublishError.at(f"s3://{bucket}", "the bucket does not exist", "create it, or correct --bucket (and --region)")
    if code == "InvalidBucketName":
        return PublishError.at(f"s3://{bucket}", "is not a valid bucket name", "correct --bucket")
    if code in ("PreconditionFailed", "ConditionalRequestConflict"):
        return PublishError.at(
            where,
            "was changed by someone else during this publish (another publish running at the same time?)",
            "let the other publish finish, then publish again; run one publish at a time",
        )
    if code in CREDENTIAL_CODES:
        return PublishError.at(
            where, f"the AWS credentials were rejected ({code})", "check the access key and secret; temporary ones may have expired"
        )
    if code in ("AccessDenied", "AllAccessDisabled") or status == 403:
        return PublishError.at(
            where, f"access denied while {action} it", f"grant the deploying identity {NEEDED_PERMISSIONS} on the bucket"
        )
    if code in THROTTLE_CODES or status == 503:
        return PublishError.at(
            where,
            f"S3 kept throttling ({code or status}) while {action} it, after retries",
            "publish again later, or lower [publish] concurrency",
        )
    if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"):
        return PublishError.at(f"s3://{bucket}", f"is in another region ({message})", "set --region to the bucket's region")
    fix = RERUN if not isinstance(status, int) or status >= 500 else CHECK_SETTINGS
    return PublishError.at(where, f"{action} failed: {code or status} {message}".strip(), fix)


def invalidate(
    cloudfront: Any,
    distribution: str,
    paths: Sequence[str],
    caller_reference: str,
    sleep: Callable[[float], None],
    attempts: int = INVALIDATION_ATTEMPTS,
) -> str:
    """Start a CloudFront invalidation and return its id. CloudFront refuses new ones
    while too many are in progress; those refusals are retried with backoff."""
    where = f"CloudFront distribution {distribution}"

    def attempt() -> str | Again:
        try:
            answer = cloudfront.create_invalidation(
                DistributionId=distribution,
                InvalidationBatch={"Paths": {"Quantity": len(paths), "Items": list(paths)}, "CallerReference": caller_reference},
            )
            return str(answer["Invalidation"]["Id"])
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "NoSuchDistribution":
                raise PublishError.at(where, "does not exist", "correct --cloudfront-distribution") from exc
            if code == "AccessDenied":
                raise PublishError.at(
                    where, "refused the invalidation: access denied", "grant the deploying identity cloudfront:CreateInvalidation on it"
                ) from exc
            if code != "TooManyInvalidationsInProgress":
                raise explain(exc, "invalidating", where, "") from exc
            return Again(code, "publish again later: the uploads are done, and the invalidation is kept pending until it succeeds")
        except BotoCoreError as exc:
            raise explain(exc, "invalidating", where, "") from exc

    try:
        return RetryPolicy(attempts=attempts, backoff=2.0, sleep=sleep).run(attempt)
    except Stop as stop:  # only Exhausted: no deadline, and CloudFront sends no Retry-After here
        fix = stop.last.fix if stop.last else ""
        raise PublishError.at(where, f"still has too many invalidations in progress after {stop.attempts} tries", fix) from None


def _version(answer: Mapping[str, Any]) -> str | None:
    """The S3 version id of an answer that wrote an object (None when the bucket keeps no versions)."""
    version = answer.get("VersionId")
    return None if version is None else str(version)
