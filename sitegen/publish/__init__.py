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

``publish_site`` reads the bucket's state and makes the plan (``state.py``,
``plan.py``); ``phases.py`` carries it out; ``rollback.py`` undoes the last
deploy; ``session.py`` holds the injected services and the report.
"""

from __future__ import annotations

from sitegen.config import Config
from sitegen.errors import Problem
from sitegen.progress import Reporter, SilentReporter
from sitegen.publish.phases import deploy
from sitegen.publish.plan import PHASES, Plan, make_plan, scan_build
from sitegen.publish.remote import Bucket
from sitegen.publish.rollback import rollback_site
from sitegen.publish.session import PublishReport, Services, connect, finish, warn
from sitegen.publish.state import read_remote, verify_ours
from sitegen.write import whole_output

__all__ = ["COMPRESSION_WARNING", "PublishReport", "Services", "publish_site", "rollback_site"]

COMPRESSION_WARNING = (
    "objects are uploaded gzip-compressed; S3 cannot negotiate encodings, so every client gets gzip"
    " and a CDN will neither compress them with brotli nor decompress them for clients without gzip"
)


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
    bucket, counter = connect(config, services)
    report = PublishReport(bucket.name, bucket.prefix, dry_run)
    with whole_output(config.output_dir):  # no build changes build/ while it is read and uploaded
        _publish(config, services, bucket, report, reporter, dry_run=dry_run, rebuild_manifest=rebuild_manifest)
    return finish(report, counter, services, started)


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
        warn(reporter, report, remote.warning)
    now = services.now()
    plan = make_plan(local, remote.manifest, config.publish, now, may_delete=remote.source != "listing")
    verify_ours(bucket, remote.manifest, plan.deletes, config.publish.concurrency)
    _describe(report, plan)
    if config.publish.gzip:
        warn(reporter, report, Problem("[publish] gzip", COMPRESSION_WARNING, "leave gzip empty to let the CDN compress"))
    if plan.deletes_skipped:
        warn(reporter, report, Problem(bucket.url(), f"deletes skipped: {plan.deletes_skipped}"))
    if not dry_run:
        deploy(config, services, bucket, plan, remote, now, report, reporter)


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
