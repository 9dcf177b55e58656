"""One run against the bucket, publish or rollback: the injected services, the
connection they give, and the report the run fills in."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sitegen.config import Config
from sitegen.errors import ConfigError, Problem
from sitegen.progress import Reporter
from sitegen.publish.remote import Bucket, RequestCounter


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


def connect(config: Config, services: Services) -> tuple[Bucket, RequestCounter]:
    """The configured bucket, with every request of both clients counted."""
    if not config.publish.bucket:
        raise ConfigError.at("[publish] bucket", "is not set", "pass --bucket NAME or set bucket in sitegen.toml")
    counter = RequestCounter()
    counter.attach(services.s3)
    if services.cloudfront is not None:
        counter.attach(services.cloudfront)
    return Bucket(services.s3, config.publish.bucket, config.publish.prefix), counter


def finish(report: PublishReport, counter: RequestCounter, services: Services, started: float) -> PublishReport:
    """Close the report: the requests made and the run's seconds."""
    report.requests = counter.snapshot()
    report.seconds = round(services.timer() - started, 3)
    return report


def warn(reporter: Reporter, report: PublishReport, problem: Problem) -> None:
    report.warnings.append(str(problem))
    reporter.warning(problem)
