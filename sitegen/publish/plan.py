"""What a publish will do: the build scanned, diffed against the deploy manifest.

Planning has no side effects, so ``--dry-run`` prints exactly the plan a real
run carries out.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

from sitegen.bounded import shown
from sitegen.config import PublishConfig
from sitegen.errors import Problem, PublishError
from sitegen.publish.headers import HeaderPolicy, Headers, Kind
from sitegen.publish.manifest import Manifest, ObjectState
from sitegen.write import STATE_DIR, output_path_problem
from sitegen.write.built import asset_sources, bundle_hashed, damaged_files

#: Upload phases, in order: hashed assets, other static files, then pages, feeds and the rest.
PHASES = {Kind.ASSET: "assets", Kind.STATIC: "static", Kind.DOCUMENT: "pages"}
#: CloudFront allows 15 wildcard paths in progress per distribution.
WILDCARD_LIMIT = 15
UNPUBLISHABLE_FIX = (
    "rename or remove the theme or content file it comes from (or the file, if put there by hand), then run sitegen build again"
)


@dataclass(frozen=True)
class LocalFile:
    path: str  # relative to the output folder, and to the prefix in the bucket
    source: Path
    kind: Kind
    headers: Headers
    sha256: str  # of the bytes uploaded (after gzip, when compressed)
    md5: str  # the same bytes' MD5: a single-part upload's ETag
    size: int

    def body(self) -> bytes:
        """The bytes to upload; checked against the scan so a build changing under us is caught."""
        data = read_body(self.source, self.headers)
        if hashlib.sha256(data).hexdigest() != self.sha256:
            raise PublishError.at(str(self.source), "changed while publishing", "let sitegen build finish, then publish again")
        return data


@dataclass(frozen=True)
class Plan:
    uploads: tuple[LocalFile, ...]
    header_updates: tuple[LocalFile, ...]
    unchanged: tuple[LocalFile, ...]
    #: Keys of pages and files the build no longer has.
    stale: tuple[str, ...]
    #: Old hashed assets past keep_deploys and the grace period.
    collect: tuple[str, ...]
    #: Old hashed assets kept for now (browsers and caches may still hold pages naming them).
    deferred: tuple[str, ...]
    #: Why deletes are skipped this time, if they are.
    deletes_skipped: str | None
    #: URL paths to invalidate at the CDN.
    invalidation: tuple[str, ...]

    @property
    def deletes(self) -> tuple[str, ...]:
        return () if self.deletes_skipped else self.stale + self.collect

    def by_kind(self, kind: Kind) -> tuple[list[LocalFile], list[LocalFile]]:
        return [f for f in self.uploads if f.kind is kind], [f for f in self.header_updates if f.kind is kind]


def read_body(source: Path, headers: Headers) -> bytes:
    return encode_body(source.read_bytes(), headers)


def encode_body(data: bytes, headers: Headers) -> bytes:
    """The bytes as sent with these headers (compressed for ``Content-Encoding: gzip``)."""
    # mtime=0: the same file must give the same bytes, or every publish re-uploads it.
    return gzip.compress(data, compresslevel=9, mtime=0) if headers.content_encoding == "gzip" else data


def header_policy(output_dir: Path, publish: PublishConfig) -> HeaderPolicy:
    """The headers of a build's files, from its asset manifest and its search bundle's
    names: what ``publish`` uploads with and ``serve`` answers with."""
    hashed = set(asset_sources(output_dir))
    return HeaderPolicy(hashed | bundle_hashed(output_dir), publish.html_cache_control, publish.gzip)


def scan_build(output_dir: Path, publish: PublishConfig) -> dict[str, LocalFile]:
    """Every file of the build (sitegen's own ``.sitegen/`` excepted), with its headers and hashes."""
    damaged = damaged_files(output_dir)  # what sitegen check reports of the build, before anything is read for upload
    if damaged:
        raise PublishError(f"{output_dir}: the build is damaged; nothing was published:", damaged)
    policy = header_policy(output_dir, publish)
    files: dict[str, LocalFile] = {}
    unpublishable: list[Problem] = []
    for source in sorted(output_dir.rglob("*")):
        path = source.relative_to(output_dir).as_posix()
        if not source.is_file() or path.split("/", 1)[0] == STATE_DIR:
            continue
        problem = output_path_problem(path)
        if problem:
            unpublishable.append(Problem(shown(path), f"cannot be an S3 key: its name {problem}", UNPUBLISHABLE_FIX))
            continue
        headers = policy.headers(path)
        data = read_body(source, headers)
        files[path] = LocalFile(
            path,
            source,
            policy.kind(path),
            headers,
            hashlib.sha256(data).hexdigest(),
            hashlib.md5(data, usedforsecurity=False).hexdigest(),
            len(data),
        )
    if unpublishable:
        raise PublishError(f"{output_dir}: the build holds files no build should write; nothing was published:", unpublishable)
    return files


def make_plan(local: Mapping[str, LocalFile], manifest: Manifest, publish: PublishConfig, now: datetime, *, may_delete: bool) -> Plan:
    uploads, header_updates, unchanged = [], [], []
    unsure = set(manifest.pending)  # an interrupted run may have overwritten these
    for path, file in local.items():
        known = manifest.objects.get(path)
        if known is None or known.sha256 != file.sha256 or path in unsure:
            uploads.append(file)
        elif known.headers != file.headers.fingerprint():
            header_updates.append(file)
        else:
            unchanged.append(file)
    stale, collect, deferred = [], [], []
    next_deploy = manifest.deploy + 1
    grace = timedelta(days=publish.asset_grace_days)
    needed = manifest.needed_by_history()
    for key, state in manifest.objects.items():
        if key in local:
            continue
        if state.kind is not Kind.ASSET:
            stale.append(key)
            continue
        # Live until this deploy: its last deploy is the current one, and it retires now.
        last_live = manifest.deploy if state.live else state.last_live_deploy
        retired_at = now if state.live else datetime.fromisoformat(state.retired_at)
        if key not in needed and next_deploy - last_live >= publish.keep_deploys and now - retired_at >= grace:
            collect.append(key)
        else:
            deferred.append(key)
    # Keys an interrupted run was creating and never recorded: ours, and stale unless built again.
    stale += [key for key in manifest.pending if key not in manifest.objects and key not in local]
    deletes_skipped = _why_no_deletes(len(stale) + len(collect), publish.max_deletes, may_delete=may_delete)
    changed_documents = [f.path for f in uploads + header_updates if f.kind is not Kind.ASSET]
    removed = [] if deletes_skipped else stale
    return Plan(
        tuple(sorted(uploads, key=_phase_order)),
        tuple(sorted(header_updates, key=_phase_order)),
        tuple(unchanged),
        tuple(sorted(stale)),
        tuple(sorted(collect)),
        tuple(sorted(deferred)),
        deletes_skipped,
        invalidation_paths(changed_documents + removed, publish.invalidation_limit),
    )


def _why_no_deletes(deletes: int, max_deletes: int, *, may_delete: bool) -> str | None:
    """Why this run deletes nothing though it would, or None when it may."""
    if not may_delete and deletes:
        return "there is no deploy manifest, so sitegen cannot tell its own keys from others'"
    if deletes > max_deletes:
        return (
            f"{deletes} deletes exceed max_deletes = {max_deletes}; nothing was deleted"
            " (check the build is complete, then rerun with a higher --max-deletes)"
        )
    return None


def _phase_order(file: LocalFile) -> tuple[int, str]:
    return (int(file.kind), file.path)


def invalidation_paths(paths: Iterable[str], limit: int) -> tuple[str, ...]:
    """The URLs viewers request for these keys; collapsed to wildcards past ``limit``.

    ``a/b/index.html`` is requested as ``/a/b/`` (and rarely as itself), so both
    are invalidated. Hashed assets never need it: their URLs change instead.
    """
    urls: set[str] = set()
    for path in paths:
        urls.add("/" + path)
        if PurePosixPath(path).name == "index.html":
            urls.add("/" + path[: -len("index.html")])
    if len(urls) <= limit:
        return tuple(sorted(urls))
    by_folder: dict[str, set[str]] = defaultdict(set)
    for url in urls:
        top = url.split("/")[1]
        by_folder[f"/{top}/*" if "/" in url[1:] else url].add(url)
    if len(by_folder) <= min(limit, WILDCARD_LIMIT):
        return tuple(sorted(by_folder))
    return ("/*",)


def next_states(plan: Plan, manifest: Manifest, versions: Mapping[str, str | None], at: str) -> dict[str, ObjectState]:
    """The manifest's objects after this run's uploads (deletes are applied later)."""
    objects = dict(manifest.objects)
    for file in plan.uploads + plan.header_updates + plan.unchanged:
        known = objects.get(file.path)
        version = versions[file.path] if file.path in versions else (known.version if known else None)
        objects[file.path] = ObjectState(file.sha256, file.headers.fingerprint(), file.size, file.kind, version)
    for key in plan.stale + plan.collect + plan.deferred:
        if key in objects:
            objects[key] = objects[key].retire(manifest.deploy, at)
    return objects
