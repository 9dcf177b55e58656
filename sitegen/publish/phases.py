"""A publish's writes, phase by phase (the plan is made beforehand, in ``plan.py``).

Before any upload, the keys about to change are recorded in the manifest as
pending. Then: 1-3. uploads and header updates, one phase per kind, each
finished before the next starts; 4. the new manifest (the commit point);
5. CloudFront invalidation; 6. deletes; then the manifest again, without
what 5 and 6 did. ``commit`` (4-6) and ``finish_phase`` serve the rollback too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace
from datetime import datetime

from sitegen.config import Config
from sitegen.errors import Problem, PublishError
from sitegen.progress import Reporter
from sitegen.publish.manifest import MANIFEST_KEY, MAX_ENTRIES, MAX_HISTORY, MAX_INVALIDATION_PATHS, DeployRecord, Manifest, ObjectState
from sitegen.publish.plan import PHASES, LocalFile, Plan, next_states
from sitegen.publish.remote import Bucket, invalidate
from sitegen.publish.session import PublishReport, Services, warn
from sitegen.publish.state import Remote


def deploy(
    config: Config,
    services: Services,
    bucket: Bucket,
    plan: Plan,
    remote: Remote,
    now: datetime,
    report: PublishReport,
    reporter: Reporter,
) -> None:
    """Carry out the plan: record the intent, upload in phase order, commit the new manifest."""
    manifest, at = remote.manifest, now.isoformat(timespec="seconds")
    etag = _record_intent(bucket, plan, manifest, remote.etag)
    versions = _upload_in_phases(config, services, bucket, plan, reporter)
    if versions and any(version is None for version in versions.values()):
        warn(
            reporter,
            report,
            Problem(
                bucket.url(), "the bucket keeps no object versions, so this deploy cannot be rolled back", "enable versioning on the bucket"
            ),
        )
    committed = _next_manifest(config, plan, manifest, versions, at)
    report.deploy = committed.deploy
    previous = None if remote.rewrite else manifest  # a missing or invalid manifest is written even if nothing changed
    commit(config, services, bucket, committed, previous, etag, plan.deletes, f"sitegen-{committed.deploy}-{at}", report, reporter)


def _record_intent(bucket: Bucket, plan: Plan, manifest: Manifest, etag: str | None) -> str | None:
    """Mark the keys this run writes as pending, before writing them; the manifest's ETag after."""
    writing = {f.path for f in plan.uploads + plan.header_updates}
    if writing - set(manifest.pending):
        # First record which keys are about to change. If this run dies, the next one
        # knows those keys are ours and that their recorded state can no longer be trusted.
        intent = replace(manifest, pending=tuple(sorted({*manifest.pending, *writing})))
        etag = bucket.put_state(MANIFEST_KEY, intent.to_bytes(), replacing=etag)
    return etag


def _upload_in_phases(config: Config, services: Services, bucket: Bucket, plan: Plan, reporter: Reporter) -> dict[str, str | None]:
    """Phases 1-3: each kind's uploads and header updates, finished before the next
    kind starts; the S3 version of every object written (None: unversioned bucket)."""
    versions: dict[str, str | None] = {}
    with ThreadPoolExecutor(max_workers=config.publish.concurrency, thread_name_prefix="publish") as pool:
        for kind, name in PHASES.items():
            uploads, updates = plan.by_kind(kind)
            started = services.timer()
            advance = reporter.progress(name, len(uploads) + len(updates))
            tasks = {f.path: pool.submit(_upload, bucket, f) for f in uploads}
            tasks |= {f.path: pool.submit(bucket.set_headers, f.path, f.headers, f.sha256) for f in updates}
            versions |= finish_phase(tasks, advance)
            reporter.stage_finished(name, services.timer() - started, f"{len(uploads)} uploaded, {len(updates)} headers updated")
    return versions


def _next_manifest(config: Config, plan: Plan, manifest: Manifest, versions: Mapping[str, str | None], at: str) -> Manifest:
    """The manifest after the uploads: every object's new state, this deploy in the
    history (if it changed anything), and the CDN paths and keys still pending."""
    objects = next_states(plan, manifest, versions, at)
    before = {key: manifest.objects.get(key) for key in sorted(set(objects) | set(manifest.objects)) if _changed(manifest, objects, key)}
    number = manifest.deploy + 1 if before else manifest.deploy  # deletes alone are no deploy to roll back
    history = (
        _trim((*manifest.history, DeployRecord(number, at, before)), config.publish.keep_deploys - 1, len(objects))
        if before
        else manifest.history
    )
    invalidation = _pending_paths(plan.invalidation, manifest.pending_invalidation) if config.publish.cloudfront_distribution else ()
    # Keys a crashed run created and this one neither rebuilt nor deleted (deletes skipped) stay pending.
    deleting = set(plan.deletes)
    pending = tuple(sorted(k for k in manifest.pending if k not in objects and k not in deleting))
    return Manifest(number, objects, history, pending, invalidation)


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


def commit(
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
        final = replace(final, objects=delete_keys(bucket, final.objects, deletes))
        reporter.stage_finished("delete", 0.0, f"{len(deletes)} deleted")
    if final != committed:
        bucket.put_state(MANIFEST_KEY, final.to_bytes(), replacing=etag)


def delete_keys(bucket: Bucket, objects: Mapping[str, ObjectState], keys: Sequence[str]) -> dict[str, ObjectState]:
    """Delete the keys from the bucket; the objects without them."""
    bucket.delete(list(keys))
    gone = set(keys)
    return {k: v for k, v in objects.items() if k not in gone}


def _upload(bucket: Bucket, file: LocalFile) -> str | None:
    return bucket.put(file.path, file.body(), file.headers, file.sha256)


def _changed(manifest: Manifest, objects: Mapping[str, ObjectState], key: str) -> bool:
    before, after = manifest.objects.get(key), objects.get(key)
    if before is None or after is None:
        return True
    return (before.sha256, before.headers, before.live) != (after.sha256, after.headers, after.live)


def finish_phase(tasks: Mapping[str, Future[str | None]], advance: Callable[[int], None]) -> dict[str, str | None]:
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
