"""``sitegen publish --rollback``: undo the most recent deploy the manifest's history holds.

Pages the deploy changed are restored from the S3 versions recorded when they
were replaced (assets first, as in a publish), pages it added are deleted, and
the hashed assets the restored pages name are made live again. The manifest
then says deploy ``N - 1`` again, and the next publish takes the number back.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from sitegen.config import Config
from sitegen.errors import Problem, PublishError
from sitegen.progress import Reporter, SilentReporter
from sitegen.publish.headers import Kind
from sitegen.publish.manifest import MANIFEST_KEY, DeployRecord, Manifest, ObjectState
from sitegen.publish.phases import commit, delete_keys, finish_phase
from sitegen.publish.plan import PHASES, invalidation_paths
from sitegen.publish.remote import Bucket
from sitegen.publish.session import PublishReport, Services, connect, finish
from sitegen.publish.state import for_rollback, verify_ours


@dataclass(frozen=True)
class _Undo:
    """What rolling back ``last`` takes."""

    last: DeployRecord
    #: Keys to restore from a recorded version.
    restore: dict[str, ObjectState]
    #: Keys the deploy added.
    remove: list[str]
    #: Keys unchanged since, to make live again.
    revive: dict[str, ObjectState]
    #: Of ``remove``, the pages (deleted now; assets are retired and collected later).
    pages_to_delete: list[str]


def rollback_site(config: Config, services: Services, *, dry_run: bool = False, reporter: Reporter | None = None) -> PublishReport:
    """Undo the most recent deploy still in the history: restore the pages it changed
    from their recorded S3 versions, delete the ones it added, and make the hashed
    assets the restored pages name live again (they were kept for exactly this)."""
    reporter = reporter or SilentReporter()
    started = services.timer()
    bucket, counter = connect(config, services)
    report = PublishReport(bucket.name, bucket.prefix, dry_run, rollback=True)
    manifest, etag = for_rollback(bucket)
    undo = _plan(config, bucket, manifest)
    verify_ours(bucket, manifest, undo.pages_to_delete, config.publish.concurrency)
    _describe(config, report, manifest, undo)
    if not dry_run:
        _roll_back(config, services, bucket, manifest, etag, undo, report, reporter)
    return finish(report, counter, services, started)


def _plan(config: Config, bucket: Bucket, manifest: Manifest) -> _Undo:
    """What undoing the last deploy takes; refused if it cannot be undone, or would delete too much."""
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
    return _Undo(last, restore, remove, revive, pages_to_delete)


def _describe(config: Config, report: PublishReport, manifest: Manifest, undo: _Undo) -> None:
    """Put what the rollback will do in the report (all of it, for a dry run too)."""
    restore, pages_to_delete = undo.restore, undo.pages_to_delete
    report.restored, report.deleted = sorted(restore), pages_to_delete
    report.deferred = sorted(key for key in undo.remove if key not in pages_to_delete)
    report.invalidation_paths = list(
        invalidation_paths(
            [key for key in [*restore, *pages_to_delete] if (restore.get(key) or manifest.objects[key]).kind is not Kind.ASSET],
            config.publish.invalidation_limit,
        )
    )


def _roll_back(
    config: Config,
    services: Services,
    bucket: Bucket,
    manifest: Manifest,
    etag: str,
    undo: _Undo,
    report: PublishReport,
    reporter: Reporter,
) -> None:
    """Restore, revive and retire; delete the added pages; commit deploy ``last - 1``."""
    last = undo.last
    at = services.now().isoformat(timespec="seconds")
    objects = _restored_objects(config, bucket, manifest, undo, at, reporter)
    # Delete before the commit: a rollback that dies before its commit is simply
    # redone by a rerun, instead of a rerun rolling back one deploy further.
    if undo.pages_to_delete:
        objects = delete_keys(bucket, objects, undo.pages_to_delete)
    # The restored state is deploy last.deploy - 1 again; the next publish takes the number back.
    invalidation = report.invalidation_paths if config.publish.cloudfront_distribution else []
    committed = Manifest(
        last.deploy - 1,
        objects,
        manifest.history[:-1],
        manifest.pending,
        tuple(sorted({*invalidation, *manifest.pending_invalidation})),
    )
    commit(config, services, bucket, committed, manifest, etag, (), f"sitegen-rollback-{last.deploy}-{at}", report, reporter)
    report.deploy = committed.deploy


def _restored_objects(
    config: Config, bucket: Bucket, manifest: Manifest, undo: _Undo, at: str, reporter: Reporter
) -> dict[str, ObjectState]:
    """Restore the changed keys from their versions, in phase order; the objects' states after."""
    last, restore = undo.last, undo.restore
    objects = dict(manifest.objects)
    with ThreadPoolExecutor(max_workers=config.publish.concurrency) as pool:
        # Assets first, as in a publish: a restored page must never name a missing one.
        for kind in PHASES:
            batch = {key: state for key, state in restore.items() if state.kind is kind}
            tasks = {key: pool.submit(bucket.restore, key, str(state.version)) for key, state in batch.items()}
            for key, version in finish_phase(tasks, reporter.progress(PHASES[kind], len(tasks))).items():
                objects[key] = replace(batch[key], version=version).revive()
    for key, state in undo.revive.items():
        objects[key] = state.revive()
    for key in undo.remove:
        objects[key] = objects[key].retire(last.deploy, at)
    # The manifest's deploy number goes back to last.deploy - 1, and no object may
    # name a later one: objects retired since count as retired at the deploy restored.
    return {key: _retired_by(state, last.deploy - 1) for key, state in objects.items()}


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
