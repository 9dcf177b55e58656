"""What the bucket holds, as far as publish trusts it.

The deploy manifest, checked whole (``publish.validate``) before anything in it
is used. An invalid one stops publish and rollback before any write, with one
message naming it and the recovery: ``sitegen publish --rebuild-manifest``,
which ignores it and rebuilds the same facts from a listing of the bucket,
trusting only objects whose ``x-amz-meta-sitegen-sha256`` matches the build,
and deletes nothing. A missing manifest is rebuilt the same way, with a
warning. Either way the rebuilt manifest is written even when no file
changed, so the listing is not repeated by every later publish.

A key is deleted only when the object there carries the sha256 sitegen put
on it (the one the manifest records, or any for a key an interrupted run was
writing): a manifest naming someone else's object is refused too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sitegen.bounded import shown
from sitegen.errors import Problem, PublishError
from sitegen.publish.manifest import MANIFEST_KEY, MAX_JSON_BYTES, Manifest, ManifestUnreadable, ObjectState
from sitegen.publish.plan import LocalFile
from sitegen.publish.remote import Bucket, Stored
from sitegen.publish.validate import read_manifest

REBUILD_OPTION = "--rebuild-manifest"
REBUILD_FIX = (
    f"run `sitegen publish {REBUILD_OPTION}`: it rebuilds the manifest from a listing of the bucket,"
    " uploads what differs and deletes nothing"
)
#: The stored manifest is read only up to this many bytes: gzip never makes JSON larger by more.
MAX_STORED_BYTES = MAX_JSON_BYTES + 64 * 1024


@dataclass(frozen=True)
class Remote:
    manifest: Manifest
    #: The manifest object's ETag, for a conditional write; None when there is none.
    etag: str | None
    #: How the state was known: "manifest", "listing" (no usable manifest) or "none" (nothing under the prefix).
    source: str = "manifest"
    #: Write the manifest even if this run changes nothing: the stored one is missing or invalid.
    rewrite: bool = False
    warning: Problem | None = None


def invalid_manifest(bucket: Bucket, reason: str, fix: str = REBUILD_FIX) -> PublishError:
    return PublishError.at(bucket.url(MANIFEST_KEY), f"is not a deploy manifest sitegen can use: {reason}; nothing was changed", fix)


def checked(bucket: Bucket, found: Stored) -> Manifest:
    """The manifest in ``found``; ``ManifestUnreadable`` if it is not one sitegen could have written."""
    if found.data is None:
        raise ManifestUnreadable(f"it is {found.size:,} bytes, more than a manifest may be ({MAX_STORED_BYTES:,})")
    return read_manifest(found.data, bucket.prefix)


def read_remote(bucket: Bucket, local: Mapping[str, LocalFile], concurrency: int, *, rebuild: bool) -> Remote:
    """The manifest, or (when it is missing, or ``rebuild`` is asked) the same facts rebuilt from a listing."""
    found = bucket.get(MANIFEST_KEY, MAX_STORED_BYTES)
    etag = found.etag if found else None
    if found is None:
        reason = "there is no deploy manifest yet"
    else:
        try:
            manifest = checked(bucket, found)
        except ManifestUnreadable as exc:
            if not rebuild:
                raise invalid_manifest(bucket, str(exc)) from None
            reason = f"the deploy manifest is invalid ({exc}); rebuilding it"
        else:
            if not rebuild:
                return Remote(manifest, etag)
            reason = "rebuilding the deploy manifest, as asked (its rollback history starts afresh)"
    count, listing = bucket.listing(local)
    if not count:
        return Remote(Manifest(), etag, "none", rewrite=found is not None)
    others = count - len(listing)
    left = f"; {others} keys the build does not have are left in place, never deleted" if others else ""
    warning = Problem(bucket.url(MANIFEST_KEY), f"{reason}; comparing against a listing of {count} keys instead{left}")
    return Remote(_from_listing(bucket, local, listing, concurrency), etag, "listing", rewrite=True, warning=warning)


def _from_listing(bucket: Bucket, local: Mapping[str, LocalFile], listing: Mapping[str, str], concurrency: int) -> Manifest:
    """Objects whose ETag matches our bytes are confirmed from the sha256 sitegen stored
    on them, and their headers and version read back, so only real differences are
    redone. The ETag is only a hint: multipart and SSE-KMS ETags are not MD5s."""
    candidates = [f for path, f in local.items() if listing.get(path) == f.md5]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        heads = dict(zip([f.path for f in candidates], pool.map(lambda f: bucket.stored(f.path), candidates), strict=True))
    objects = {
        file.path: ObjectState(file.sha256, head.headers.fingerprint(), file.size, file.kind, head.version)
        for file in candidates
        for head in [heads[file.path]]
        if head is not None and head.sha256 == file.sha256
    }
    return Manifest(objects=objects)


def for_rollback(bucket: Bucket) -> tuple[Manifest, str]:
    """The checked manifest and its ETag; rollback needs one."""
    found = bucket.get(MANIFEST_KEY, MAX_STORED_BYTES)
    if found is None:
        raise PublishError.at(bucket.url(MANIFEST_KEY), "does not exist, so there is no deploy to roll back", "publish first")
    try:
        return checked(bucket, found), found.etag
    except ManifestUnreadable as exc:
        raise invalid_manifest(
            bucket,
            str(exc),
            f"nothing can be rolled back with it; {REBUILD_FIX}, and later deploys can be rolled back again",
        ) from None


def verify_ours(bucket: Bucket, manifest: Manifest, deletes: Sequence[str], concurrency: int) -> None:
    """Refuse (before any write) to delete an object sitegen did not put there: one
    without the sha256 sitegen stores on what it uploads, or with another one than
    the manifest records (any is fine for a key an interrupted run was writing)."""
    if not deletes:
        return
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        heads = dict(zip(deletes, pool.map(bucket.stored, deletes), strict=True))
    pending = set(manifest.pending)
    foreign = [
        key
        for key, head in heads.items()
        if head is not None and (head.sha256 is None or (key not in pending and head.sha256 != manifest.objects[key].sha256))
    ]
    if foreign:
        more = f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else ""
        raise invalid_manifest(
            bucket,
            f"it lists {shown(foreign[0])}{more} for deletion, but sitegen did not write the object there"
            " (its x-amz-meta-sitegen-sha256 is missing or differs)",
        )
