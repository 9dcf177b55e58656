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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

from sitegen.config import Config
from sitegen.errors import ConfigError, Problem, PublishError
from sitegen.progress import Reporter, SilentReporter
from sitegen.publish.headers import Kind
from sitegen.publish.manifest import MANIFEST_KEY, MAX_ENTRIES, MAX_HISTORY, MAX_INVALIDATION_PATHS, DeployRecord, Manifest, ObjectState
from sitegen.publish.plan import LocalFile, Plan, invalidation_paths, make_plan, next_states, scan_build
from sitegen.publish.remote import Bucket, RequestCounter, invalidate
from sitegen.publish.state import Remote, for_rollback, read_remote, verify_ours
from sitegen.write import whole_output

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


def publish_site(
    config: Config,
    services: Services,
    *,
    dry_run: bool = False,
    reporter: Reporter | None = None,
    rebuild_manifest: bool = False,
) -> PublishReport:
    """Publish the build. ``rebuild_manifest`` ignores the stored manifest (the recovery
    from an invalid one) and rebuilds it from a listing; that run deletes nothing."""
    reporter = reporter or SilentReporter()
    started = services.timer()
    bucket, counter = _connect(config, services)
    report = PublishReport(bucket.name, bucket.prefix, dry_run)
    with whole_output(config.output_dir):  # no build changes build/ while it is read and uploaded
        _publish(config, services, bucket, report, reporter, dry_run=dry_run, rebuild_manifest=rebuild_manifest)
    report.requests = counter.snapshot()
    report.seconds = round(services.timer() - started, 3)
    return report


def _publish(
    config: Config,
    services: Services,
    bucket: Bucket,
    report: PublishReport,
    reporter: Reporter,
    *,
    dry_run: bool,
    rebuild_manifest: bool,
) -> None:
    local = scan_build(config.output_dir, config.publish)
    remote = read_remote(bucket, local, config.publish.concurrency, rebuild=rebuild_manifest)
    report.state_from = remote.source
    if remote.warning:
        _warn(reporter, report, remote.warning)
    now = services.now()
    plan = make_plan(local, remote.manifest, config.publish, now, may_delete=remote.source != "listing")
    verify_ours(bucket, remote.manifest, plan.deletes, config.publish.concurrency)
    _describe(report, plan)
    if config.publish.gzip:
        _warn(reporter, report, Problem("[publish] gzip", COMPRESSION_WARNING, "leave gzip empty to let the CDN compress"))
    if plan.deletes_skipped:
        _warn(reporter, report, Problem(bucket.url(), f"deletes skipped: {plan.deletes_skipped}"))
    if not dry_run:
        _deploy(config, services, bucket, plan, remote, now, report, reporter)


def _connect(config: Config, services: Services) -> tuple[Bucket, RequestCounter]:
    if not config.publish.bucket:
        raise ConfigError.at("[publish] bucket", "is not set", "pass --bucket NAME or set bucket in sitegen.toml")
    counter = RequestCounter()
    counter.attach(services.s3)
    if services.cloudfront is not None:
        counter.attach(services.cloudfront)
    return Bucket(services.s3, config.publish.bucket, config.publish.prefix), counter


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
    config: Config,
    services: Services,
    bucket: Bucket,
    plan: Plan,
    remote: Remote,
    now: datetime,
    report: PublishReport,
    reporter: Reporter,
) -> None:
    manifest, etag, at = remote.manifest, remote.etag, now.isoformat(timespec="seconds")
    writing = {f.path for f in plan.uploads + plan.header_updates}
    if writing - set(manifest.pending):
        # First record which keys are about to change. If this run dies, the next one
        # knows those keys are ours and that their recorded state can no longer be trusted.
        intent = replace(manifest, pending=tuple(sorted({*manifest.pending, *writing})))
        etag = bucket.put_state(MANIFEST_KEY, intent.to_bytes(), replacing=etag)
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
    if versions and any(version is None for version in versions.values()):
        _warn(
            reporter,
            report,
            Problem(
                bucket.url(), "the bucket keeps no object versions, so this deploy cannot be rolled back", "enable versioning on the bucket"
            ),
        )
    objects = next_states(plan, manifest, versions, at)
    before = {key: manifest.objects.get(key) for key in sorted(set(objects) | set(manifest.objects)) if _changed(manifest, objects, key)}
    deploy = manifest.deploy + 1 if before else manifest.deploy  # deletes alone are no deploy to roll back
    history = (
        _trim((*manifest.history, DeployRecord(deploy, at, before)), config.publish.keep_deploys - 1, len(objects))
        if before
        else manifest.history
    )
    report.deploy = deploy
    invalidation = _pending_paths(plan.invalidation, manifest.pending_invalidation) if config.publish.cloudfront_distribution else ()
    # Keys a crashed run created and this one neither rebuilt nor deleted (deletes skipped) stay pending.
    deleting = set(plan.deletes)
    pending = tuple(sorted(k for k in manifest.pending if k not in objects and k not in deleting))
    committed = Manifest(deploy, objects, history, pending, invalidation)
    previous = None if remote.rewrite else manifest  # a missing or invalid manifest is written even if nothing changed
    _commit(config, services, bucket, committed, previous, etag, plan.deletes, f"sitegen-{deploy}-{at}", report, reporter)


def _trim(history: tuple[DeployRecord, ...], keep: int, objects: int) -> tuple[DeployRecord, ...]:
    """The newest ``keep`` records (at most MAX_HISTORY, and only as many as the manifest
    has room for): rollback reaches back only as far as old assets are kept."""
    kept = history[-min(keep, MAX_HISTORY) :] if keep > 0 else ()  # not [-0:], which is everything
    while kept and objects + sum(len(record.before) for record in kept) > MAX_ENTRIES:
        kept = kept[1:]
    return kept


def _pending_paths(new: Sequence[str], earlier: Sequence[str]) -> tuple[str, ...]:
    """CDN paths still to invalidate: "/*" once more pile up than a manifest keeps."""
    paths = tuple(sorted({*new, *earlier}))
    return ("/*",) if len(paths) > MAX_INVALIDATION_PATHS else paths


def _commit(
    config: Config,
    services: Services,
    bucket: Bucket,
    committed: Manifest,
    previous: Manifest | None,
    etag: str | None,
    deletes: Sequence[str],
    reference: str,
    report: PublishReport,
    reporter: Reporter,
) -> None:
    """Phases 4-6: record the new state, invalidate, delete, and record again what those did.

    The first write is the commit point. Deletes and the invalidation come after
    it and stay listed in it (as retired keys, as pending paths) until done, so a
    run that dies here has them redone by the next. ``previous`` None: write it in any case."""
    if committed != previous:
        etag = bucket.put_state(MANIFEST_KEY, committed.to_bytes(), replacing=etag)
        reporter.stage_finished("manifest", 0.0, f"deploy {committed.deploy} recorded")
    final = committed
    if committed.pending_invalidation and services.cloudfront is not None:
        report.invalidation_paths = list(committed.pending_invalidation)
        report.invalidation_id = invalidate(
            services.cloudfront, config.publish.cloudfront_distribution, committed.pending_invalidation, reference, services.sleep
        )
        final = replace(final, pending_invalidation=())
        reporter.stage_finished("invalidate", 0.0, f"{len(committed.pending_invalidation)} paths, invalidation {report.invalidation_id}")
    if deletes:
        bucket.delete(list(deletes))
        gone = set(deletes)
        final = replace(final, objects={k: v for k, v in final.objects.items() if k not in gone})
        reporter.stage_finished("delete", 0.0, f"{len(deletes)} deleted")
    if final != committed:
        bucket.put_state(MANIFEST_KEY, final.to_bytes(), replacing=etag)


def _upload(bucket: Bucket, file: LocalFile) -> str | None:
    return bucket.put(file.path, file.body(), file.headers, file.sha256)


def _changed(manifest: Manifest, objects: Mapping[str, ObjectState], key: str) -> bool:
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


def rollback_site(config: Config, services: Services, *, dry_run: bool = False, reporter: Reporter | None = None) -> PublishReport:
    """Undo the most recent deploy still in the history: restore the pages it changed
    from their recorded S3 versions, delete the ones it added, and make the hashed
    assets the restored pages name live again (they were kept for exactly this)."""
    reporter = reporter or SilentReporter()
    started = services.timer()
    bucket, counter = _connect(config, services)
    report = PublishReport(bucket.name, bucket.prefix, dry_run, rollback=True)
    manifest, etag = for_rollback(bucket)
    if not manifest.history:
        raise PublishError.at(bucket.url(MANIFEST_KEY), "holds no earlier deploy to roll back to", "nothing to roll back")
    last = manifest.history[-1]
    if all(state is None for state in last.before.values()):
        raise PublishError.at(
            bucket.url(),
            f"deploy {last.deploy} created the whole site; rolling it back would delete everything",
            "publish the site you want instead",
        )
    restore, remove, revive = _rollback_plan(manifest, last)
    unversioned = sorted(key for key, state in restore.items() if state.version is None)
    if unversioned:
        raise PublishError(
            f"{bucket.url()}: deploy {last.deploy} cannot be rolled back: no earlier S3 version was recorded for {len(unversioned)} key(s)",
            [
                Problem(bucket.url(key), "has no recorded version", "enable bucket versioning; later deploys can then be rolled back")
                for key in unversioned[:5]
            ],
        )
    pages_to_delete = sorted(key for key in remove if manifest.objects[key].kind is not Kind.ASSET)
    if len(pages_to_delete) > config.publish.max_deletes:
        raise PublishError.at(
            bucket.url(),
            f"rolling back deploy {last.deploy} would delete {len(pages_to_delete)} pages, more than max_deletes = {config.publish.max_deletes}",
            "check that this is the deploy you mean, then rerun with a higher --max-deletes",
        )
    verify_ours(bucket, manifest, pages_to_delete, config.publish.concurrency)
    report.restored, report.deleted = sorted(restore), pages_to_delete
    report.deferred = sorted(key for key in remove if key not in pages_to_delete)
    report.invalidation_paths = list(
        invalidation_paths(
            [key for key in [*restore, *pages_to_delete] if (restore.get(key) or manifest.objects[key]).kind is not Kind.ASSET],
            config.publish.invalidation_limit,
        )
    )
    if not dry_run:
        at = services.now().isoformat(timespec="seconds")
        objects = dict(manifest.objects)
        with ThreadPoolExecutor(max_workers=config.publish.concurrency) as pool:
            # Assets first, as in a publish: a restored page must never name a missing one.
            for kind in PHASES:
                batch = {key: state for key, state in restore.items() if state.kind is kind}
                tasks = {key: pool.submit(bucket.restore, key, str(state.version)) for key, state in batch.items()}
                for key, version in _finish_phase(tasks, reporter.progress(PHASES[kind], len(tasks))).items():
                    objects[key] = replace(batch[key], version=version).revive()
        for key, state in revive.items():
            objects[key] = state.revive()
        for key in remove:
            objects[key] = objects[key].retire(last.deploy, at)
        # The manifest's deploy number goes back to last.deploy - 1, and no object may
        # name a later one: objects retired since count as retired at the deploy restored.
        objects = {key: _retired_by(state, last.deploy - 1) for key, state in objects.items()}
        # Delete before the commit: a rollback that dies before its commit is simply
        # redone by a rerun, instead of a rerun rolling back one deploy further.
        if pages_to_delete:
            bucket.delete(pages_to_delete)
            gone = set(pages_to_delete)
            objects = {k: v for k, v in objects.items() if k not in gone}
        # The restored state is deploy last.deploy - 1 again; the next publish takes the number back.
        invalidation = report.invalidation_paths if config.publish.cloudfront_distribution else []
        committed = Manifest(
            last.deploy - 1,
            objects,
            manifest.history[:-1],
            manifest.pending,
            tuple(sorted({*invalidation, *manifest.pending_invalidation})),
        )
        _commit(config, services, bucket, committed, manifest, etag, (), f"sitegen-rollback-{last.deploy}-{at}", report, reporter)
        report.deploy = committed.deploy
    report.requests = counter.snapshot()
    report.seconds = round(services.timer() - started, 3)
    return report


def _retired_by(state: ObjectState, deploy: int) -> ObjectState:
    return replace(state, last_live_deploy=deploy) if not state.live and state.last_live_deploy > deploy else state


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
        elif not before.live:
            continue  # it was already retired before that deploy
        elif current is not None and current.sha256 == before.sha256 and current.headers == before.headers:
            revive[key] = current
        else:
            restore[key] = before
    return restore, remove, revive


def _warn(reporter: Reporter, report: PublishReport, problem: Problem) -> None:
    report.warnings.append(str(problem))
    reporter.warning(problem)
