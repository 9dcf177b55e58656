"""The publish stage: upload only what changed, in an order that never breaks a page.

Phases, each finished before the next starts:

1. hashed assets;  2. other static files;  3. pages, feeds and the rest;
4. the deploy manifest;  5. CDN invalidation of changed pages;  6. deletes.

A page is uploaded only after every asset it names, and old hashed assets are
deleted only when none of the last ``keep_deploys`` deploys used them and the
grace period has passed, so no visitor, and no cache holding an older page,
ever meets a page whose CSS or JS is gone. The manifest is the commit point:
a publish killed before it is written is simply redone by the next run; one
killed after it finishes its deletes next time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

from sitegen.config import Config
from sitegen.errors import Problem, PublishError
from sitegen.progress import Reporter, SilentReporter
from sitegen.publish.headers import Kind
from sitegen.publish.manifest import MANIFEST_KEY, DeployRecord, Manifest, ManifestUnreadable, ObjectState
from sitegen.publish.plan import LocalFile, Plan, invalidation_paths, make_plan, next_states, scan_build
from sitegen.publish.remote import Bucket, RequestCounter, invalidate

#: Upload phases, in order: hashed assets, other static files, then pages, feeds and the rest.
PHASES = {Kind.ASSET: "assets", Kind.STATIC: "static", Kind.DOCUMENT: "pages"}
COMPRESSION_WARNING = (
    "objects are uploaded gzip-compressed; S3 cannot negotiate encodings, so every client gets gzip"
    " and a CDN will neither compress them with brotli nor decompress them for clients without gzip"
)


@dataclass
class PublishReport:
    bucket: str
    prefix: str
    dry_run: bool
    rollback: bool = False
    #: How the bucket's state was known: "manifest", "listing" (no usable manifest) or "none".
    state_from: str = "manifest"
    deploy: int = 0
    uploaded: list[str] = field(default_factory=list)
    header_updated: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    skipped: int = 0
    deleted: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    deletes_skipped: str | None = None
    bytes_uploaded: int = 0
    phases: dict[str, dict[str, int]] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    invalidation_id: str | None = None
    invalidation_paths: list[str] = field(default_factory=list)
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        # Field order, not sorted: the phases read in the order they run.
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class Services:
    """Injected I/O: the S3 and CloudFront clients and the clocks."""

    s3: object
    cloudfront: object | None = None
    now: Callable[[], datetime] = lambda: datetime.now().astimezone()
    timer: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def publish_site(config: Config, services: Services, *, dry_run: bool = False, reporter: Reporter | None = None) -> PublishReport:
    reporter = reporter or SilentReporter()
    started = services.timer()
    bucket, counter = _connect(config, services)
    report = PublishReport(bucket.name, bucket.prefix, dry_run)
    local = scan_build(config.output_dir, config.publish)
    manifest, report.state_from = _remote_state(bucket, local, reporter, report)
    now = services.now()
    plan = make_plan(local, manifest, config.publish, now, may_delete=report.state_from != "listing")
    _describe(report, plan)
    if config.publish.gzip:
        _warn(reporter, report, Problem("[publish] gzip", COMPRESSION_WARNING, "leave gzip empty to let the CDN compress"))
    if plan.deletes_skipped:
        _warn(reporter, report, Problem(bucket.url(), f"deletes skipped: {plan.deletes_skipped}"))
    if not dry_run:
        _deploy(config, services, bucket, plan, manifest, now, report, reporter)
    report.requests = counter.snapshot()
    report.seconds = round(services.timer() - started, 3)
    return report


def _connect(config: Config, services: Services) -> tuple[Bucket, RequestCounter]:
    if not config.publish.bucket:
        raise PublishError.at("[publish] bucket", "is not set", "pass --bucket NAME or set bucket in sitegen.toml")
    counter = RequestCounter()
    counter.attach(services.s3)
    if services.cloudfront is not None:
        counter.attach(services.cloudfront)
    return Bucket(services.s3, config.publish.bucket, config.publish.prefix), counter


def _remote_state(bucket: Bucket, local: Mapping[str, LocalFile], reporter: Reporter, report: PublishReport) -> tuple[Manifest, str]:
    """The manifest, or (when it is missing or unreadable) the same facts rebuilt from a listing."""
    data = bucket.get(MANIFEST_KEY)
    if data is not None:
        try:
            return Manifest.from_bytes(data), "manifest"
        except ManifestUnreadable as exc:
            reason = f"the deploy manifest is unreadable ({exc})"
    else:
        reason = "there is no deploy manifest yet"
    listing = bucket.listing()
    if not listing:
        return Manifest(), "none"
    _warn(reporter, report, Problem(bucket.url(MANIFEST_KEY), f"{reason}; comparing against a listing of {len(listing)} keys instead"))
    return _manifest_from_listing(bucket, local, listing), "listing"


def _manifest_from_listing(bucket: Bucket, local: Mapping[str, LocalFile], listing: Mapping[str, str]) -> Manifest:
    """Objects whose ETag matches our bytes are confirmed (and their headers read) from metadata;
    the ETag is only a hint, since multipart and SSE-KMS ETags are not MD5s."""
    objects: dict[str, ObjectState] = {}
    candidates = [f for path, f in local.items() if listing.get(path) == f.md5]
    for file in candidates:
        if bucket.metadata(file.path).get("sitegen-sha256") == file.sha256:
            # The headers are unknown: an empty fingerprint makes the plan restate them (a cheap copy).
            objects[file.path] = ObjectState(file.sha256, "", file.size, file.kind, None, True, 0, "")
    return Manifest(0, objects, ())


def _describe(report: PublishReport, plan: Plan) -> None:
    report.uploaded = [f.path for f in plan.uploads]
    report.header_updated = [f.path for f in plan.header_updates]
    report.skipped = len(plan.unchanged)
    report.deleted = list(plan.deletes)
    report.deferred = list(plan.deferred)
    report.deletes_skipped = plan.deletes_skipped
    report.invalidation_paths = list(plan.invalidation)
    report.bytes_uploaded = sum(f.size for f in plan.uploads)
    for kind, name in PHASES.items():
        uploads, updates = plan.by_kind(kind)
        report.phases[name] = {"uploaded": len(uploads), "header_updated": len(updates), "bytes": sum(f.size for f in uploads)}


def _deploy(
    config: Config, services: Services, bucket: Bucket, plan: Plan, manifest: Manifest, now: datetime,
    report: PublishReport, reporter: Reporter,
) -> None:
    deploy, at = manifest.deploy + 1, now.isoformat(timespec="seconds")
    report.deploy = deploy
    versions: dict[str, str | None] = {}
    with ThreadPoolExecutor(max_workers=config.publish.concurrency, thread_name_prefix="publish") as pool:
        for kind, name in PHASES.items():
            uploads, updates = plan.by_kind(kind)
            started = services.timer()
            advance = reporter.progress(name, len(uploads) + len(updates))
            tasks = {f.path: pool.submit(_upload, bucket, f) for f in uploads}
            tasks |= {f.path: pool.submit(bucket.set_headers, f.path, f.headers, f.sha256) for f in updates}
            versions |= _finish_phase(tasks, advance)
            reporter.stage_finished(name, services.timer() - started, f"{len(uploads)} uploaded, {len(updates)} headers updated")
    if any(version is None for version in versions.values()) and versions:
        _warn(reporter, report, Problem(bucket.url(), "the bucket keeps no object versions, so this deploy cannot be rolled back",
                                        "enable versioning on the bucket"))
    objects = next_states(plan, manifest, versions, deploy, at)
    changed = {f.path for f in plan.uploads + plan.header_updates} | set(plan.stale) | set(plan.collect) | set(plan.deferred)
    record = DeployRecord(deploy, at, {key: manifest.objects.get(key) for key in sorted(changed) if _changes(manifest, objects, key)})
    if not record.before and not plan.deletes:
        report.deploy = manifest.deploy
        return  # nothing changed: no deploy to record, so not even the manifest is written
    history = (*manifest.history, record)[-config.publish.keep_deploys :]
    updated = Manifest(deploy, objects, history)
    bucket.put_bytes(MANIFEST_KEY, updated.to_bytes())
    reporter.stage_finished("manifest", 0.0, f"deploy {deploy} recorded")
    _invalidate(config, services, plan.invalidation, f"sitegen-{deploy}-{at}", report, reporter)
    if plan.deletes:
        bucket.delete(list(plan.deletes))
        remaining = {k: v for k, v in objects.items() if k not in set(plan.deletes)}
        bucket.put_bytes(MANIFEST_KEY, replace(updated, objects=remaining).to_bytes())
        reporter.stage_finished("delete", 0.0, f"{len(plan.deletes)} deleted")


def _upload(bucket: Bucket, file: LocalFile) -> str | None:
    return bucket.put(file.path, file.body(), file.headers, file.sha256)


def _changes(manifest: Manifest, objects: Mapping[str, ObjectState], key: str) -> bool:
    before, after = manifest.objects.get(key), objects.get(key)
    if before is None or after is None:
        return True
    return (before.sha256, before.headers, before.live) != (after.sha256, after.headers, after.live)


def _finish_phase(tasks: Mapping[str, Future[str | None]], advance: Callable[[int], None]) -> dict[str, str | None]:
    """Wait for every request of a phase; the next phase starts only if all succeeded."""
    for future in tasks.values():
        future.add_done_callback(lambda _: advance(1))
    wait(tasks.values())
    failures = [f.exception() for f in tasks.values() if f.exception() is not None]
    if failures:
        first = failures[0]
        if isinstance(first, PublishError):
            raise first
        raise PublishError.at("publish", f"an upload failed: {first}", "rerun publish; it converges") from first
    return {path: future.result() for path, future in tasks.items()}


def _invalidate(config: Config, services: Services, paths: Sequence[str], reference: str, report: PublishReport, reporter: Reporter) -> None:
    distribution = config.publish.cloudfront_distribution
    if not distribution or not paths or services.cloudfront is None:
        return
    report.invalidation_id = invalidate(services.cloudfront, distribution, paths, reference, services.sleep)
    reporter.stage_finished("invalidate", 0.0, f"{len(paths)} paths, invalidation {report.invalidation_id}")


def rollback_site(config: Config, services: Services, *, dry_run: bool = False, reporter: Reporter | None = None) -> PublishReport:
    """Undo the most recent deploy still in the history: restore the pages it changed
    from their recorded S3 versions, delete the ones it added, and make the hashed
    assets they name live again (they were kept for exactly this)."""
    reporter = reporter or SilentReporter()
    started = services.timer()
    bucket, counter = _connect(config, services)
    report = PublishReport(bucket.name, bucket.prefix, dry_run, rollback=True)
    data = bucket.get(MANIFEST_KEY)
    if data is None:
        raise PublishError.at(bucket.url(MANIFEST_KEY), "does not exist, so there is no deploy to roll back", "publish first")
    try:
        manifest = Manifest.from_bytes(data)
    except ManifestUnreadable as exc:
        raise PublishError.at(bucket.url(MANIFEST_KEY), f"is unreadable ({exc})", "publish again to rewrite it") from exc
    if not manifest.history:
        raise PublishError.at(bucket.url(MANIFEST_KEY), "holds no earlier deploy to roll back to", "nothing to do")
    last = manifest.history[-1]
    restore, remove, revive = _rollback_plan(manifest, last)
    versions_to_restore = {key: state.version for key, state in restore.items() if state.version is not None}
    unversioned = sorted(set(restore) - set(versions_to_restore))
    if unversioned:
        raise PublishError(
            f"{bucket.url()}: deploy {last.deploy} cannot be rolled back: no earlier S3 version was recorded for {len(unversioned)} key(s)",
            [Problem(bucket.url(key), "has no recorded version", "enable bucket versioning; later deploys can then be rolled back") for key in unversioned[:5]],
        )
    report.restored = sorted(restore)
    report.deleted = sorted(key for key in remove if manifest.objects[key].kind is not Kind.ASSET)
    report.deferred = sorted(key for key in remove if manifest.objects[key].kind is Kind.ASSET)
    report.invalidation_paths = list(_rollback_invalidation(config, manifest, [*restore, *remove]))
    if not dry_run:
        deploy, at = manifest.deploy + 1, services.now().isoformat(timespec="seconds")
        objects = dict(manifest.objects)
        with ThreadPoolExecutor(max_workers=config.publish.concurrency) as pool:
            tasks = {key: pool.submit(bucket.restore, key, version) for key, version in versions_to_restore.items()}
            versions = _finish_phase(tasks, reporter.progress("restore", len(tasks)))
        for key, state in restore.items():
            objects[key] = replace(state, version=versions[key], live=True, last_live_deploy=deploy, last_live_at=at)
        for key, state in revive.items():
            objects[key] = replace(state, live=True, last_live_deploy=deploy, last_live_at=at)
        for key in remove:
            objects[key] = objects[key].retired()
        bucket.put_bytes(MANIFEST_KEY, Manifest(deploy, objects, manifest.history[:-1]).to_bytes())
        _invalidate(config, services, report.invalidation_paths, f"sitegen-rollback-{deploy}-{at}", report, reporter)
        pages = [key for key in remove if objects[key].kind is not Kind.ASSET]
        if pages:
            bucket.delete(pages)
            bucket.put_bytes(MANIFEST_KEY, Manifest(deploy, {k: v for k, v in objects.items() if k not in set(pages)}, manifest.history[:-1]).to_bytes())
        report.deploy = deploy
    report.requests = counter.snapshot()
    report.seconds = round(services.timer() - started, 3)
    return report


def _rollback_plan(manifest: Manifest, last: DeployRecord) -> tuple[dict[str, ObjectState], list[str], dict[str, ObjectState]]:
    """(keys to restore from a version, keys the deploy added, keys to make live again)."""
    restore: dict[str, ObjectState] = {}
    remove: list[str] = []
    revive: dict[str, ObjectState] = {}
    for key, before in sorted(last.before.items()):
        current = manifest.objects.get(key)
        if before is None:
            if current is not None:
                remove.append(key)
        elif current is not None and current.sha256 == before.sha256 and current.headers == before.headers:
            revive[key] = current
        elif before.kind is Kind.ASSET and current is not None:
            revive[key] = current  # hashed: the bytes cannot differ
        else:
            restore[key] = before
    return restore, remove, revive


def _rollback_invalidation(config: Config, manifest: Manifest, keys: Iterable[str]) -> tuple[str, ...]:
    pages = [key for key in keys if manifest.objects[key].kind is not Kind.ASSET]
    return invalidation_paths(pages, config.publish.invalidation_limit)


def _warn(reporter: Reporter, report: PublishReport, problem: Problem) -> None:
    report.warnings.append(str(problem))
    reporter.warning(problem)
