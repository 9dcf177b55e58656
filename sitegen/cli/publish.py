"""``sitegen publish``: upload the build to S3 (or roll back the last deploy
with ``--rollback``), with boto3 clients from the standard credential chain,
and print what was done.

boto3 and the publish stage are imported only when the command runs: together
they would double the start-up time of every ``sitegen build``, which an
editor's rebuild cannot afford."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from sitegen.cli.console import console_for, user_errors
from sitegen.cli.options import common_options
from sitegen.config import PublishConfig, load_config
from sitegen.errors import ConfigError, PublishError

if TYPE_CHECKING:
    import boto3

    from sitegen.publish import PublishReport, Services


@click.command()
@common_options
@click.option("--output", "output_dir", help="The built site to publish. [build] output_dir")
@click.option("--bucket", help="S3 bucket. [publish] bucket")
@click.option("--prefix", help="Key prefix in the bucket, ending in '/'. [publish] prefix")
@click.option("--endpoint-url", help="An S3-compatible endpoint instead of AWS. [publish] endpoint_url")
@click.option("--region", help="The bucket's region. [publish] region")
@click.option("--cloudfront-distribution", help="CloudFront distribution to invalidate. [publish] cloudfront_distribution")
@click.option("--max-deletes", type=int, help="Skip all deletes if there would be more. [publish] max_deletes")
@click.option("--dry-run", is_flag=True, help="Plan and print, change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on standard output.")
@click.option("--rollback", is_flag=True, help="Undo the most recent deploy, from the recorded S3 versions.")
@click.option(
    "--rebuild-manifest",
    is_flag=True,
    help="Ignore the deploy manifest in the bucket (say, an invalid one) and "
    "rebuild it from a listing: upload what differs, delete nothing.",
)
def publish(**options: Any) -> None:
    """Upload the build to S3: only what changed, assets before the pages that need them."""
    console, reporter = console_for(options)
    verbosity = reporter.verbosity
    with user_errors(console, interrupted="interrupted; run publish again to finish (it converges)"):
        config = load_config(
            options["root"],
            {
                f"publish.{key}": options[key]
                for key in ("bucket", "prefix", "endpoint_url", "region", "cloudfront_distribution", "max_deletes")
            }
            | {"build.output_dir": options["output_dir"]},
        )
        if options["rollback"] and options["rebuild_manifest"]:
            raise ConfigError.at(
                "--rollback", "cannot be combined with --rebuild-manifest", "rebuild the manifest first, then roll back a later deploy"
            )
        from sitegen.publish import publish_site, rollback_site

        services = aws_services(config.publish)
        if options["rollback"]:
            report = rollback_site(config, services, dry_run=options["dry_run"], reporter=reporter)
        else:
            report = publish_site(
                config, services, dry_run=options["dry_run"], reporter=reporter, rebuild_manifest=options["rebuild_manifest"]
            )
    if options["as_json"]:
        click.echo(report.to_json(), nl=False)
    if verbosity >= 1:
        _print_publish_summary(console, report, verbosity)


def aws_services(publish: PublishConfig) -> Services:
    """boto3 clients from the standard credential chain, retrying throttling and
    dropped connections with backoff. CloudFront's endpoint comes from boto3's own
    configuration (AWS_ENDPOINT_URL_CLOUDFRONT), never from the S3 endpoint."""
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.session.Session(region_name=publish.region or None)
        return _clients(session, publish)
    except BotoCoreError as exc:  # an unknown profile, a malformed region, a broken config file…
        raise PublishError.at("AWS configuration", str(exc), "check AWS_PROFILE, --region and ~/.aws/config") from exc


def _clients(session: boto3.session.Session, publish: PublishConfig) -> Services:
    from botocore.config import Config as BotoConfig

    from sitegen.publish import Services

    settings = BotoConfig(
        retries={"mode": "standard", "total_max_attempts": 8},  # tries, not retries
        max_pool_connections=publish.concurrency + 2,
        connect_timeout=10,
        read_timeout=60,
        # S3-compatible servers (MinIO, moto…) rarely route virtual-hosted names.
        s3={"addressing_style": "path"} if publish.endpoint_url else None,
    )
    s3 = session.client("s3", endpoint_url=publish.endpoint_url or None, config=settings)
    cloudfront = session.client("cloudfront", config=settings) if publish.cloudfront_distribution else None
    return Services(s3=s3, cloudfront=cloudfront)


def _print_publish_summary(console: Console, report: PublishReport, verbosity: int) -> None:
    action = "would " if report.dry_run else ""
    target = f"s3://{report.bucket}/{report.prefix}"
    if report.rollback:
        console.print(
            f"rollback {target}: {action}restore {len(report.restored)}, {action}delete {len(report.deleted)}", markup=False, soft_wrap=True
        )
    else:
        console.print(
            f"publish {target} (state from {report.state_from}): {action}upload {len(report.uploaded)} "
            f"({report.bytes_uploaded:,} bytes), {action}update headers of {len(report.header_updated)}, "
            f"{report.skipped} unchanged, {action}delete {len(report.deleted)}, {len(report.deferred)} old assets kept",
            markup=False,
            soft_wrap=True,
        )
    if report.deletes_skipped:
        console.print(f"deletes skipped: {report.deletes_skipped}", style="yellow", markup=False, soft_wrap=True)
    if report.invalidation_id:
        console.print(f"invalidation {report.invalidation_id}: {len(report.invalidation_paths)} paths", markup=False)
    requests = ", ".join(f"{n} {op}" for op, n in report.requests.items()) or "none"
    console.print(f"requests: {requests}; {report.seconds:.2f} s", markup=False, soft_wrap=True)
    if verbosity >= 2:
        for path in report.uploaded:
            console.print(f"  upload {path}", markup=False)
