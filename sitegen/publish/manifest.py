"""The deploy manifest: what sitegen has put in the bucket, kept in the bucket.

One object (``.sitegen/manifest.json.gz`` under the prefix) records, for every
key sitegen wrote and has not deleted, the SHA-256 of its bytes, a fingerprint
of its headers, its S3 version id and whether it is part of the live site.
``publish`` diffs the build against it instead of listing the bucket.

It also keeps the last few deploys' *before* states: for each key a deploy
changed, what was there before (or nothing). Rolling back a deploy restores
exactly those, from the S3 versions recorded here.

Two lists make interrupted runs converge: ``pending`` holds the keys a run is
about to write (recorded before it uploads them), so after a crash the next
run knows those keys are sitegen's and uploads them again rather than trust
their recorded state; ``pending_invalidation`` holds CDN paths not yet
invalidated, so a failed invalidation is retried by the next run.

Serialisation is deterministic (sorted keys, gzip mtime 0). What is read back
from the bucket is hostile until checked: ``publish.validate`` reads it within
the limits below, which every manifest sitegen writes keeps.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sitegen.errors import PublishError
from sitegen.publish.headers import Kind

MANIFEST_KEY = ".sitegen/manifest.json.gz"
FORMAT = "sitegen-deploy-manifest/1"

# Limits of a manifest, for reading one back (``publish.validate``) and writing one.
#: S3's limit on a whole key, the prefix included (UTF-8 bytes).
MAX_KEY_BYTES = 1024
#: Object states in all: ``objects`` plus every ``before`` map of the history.
MAX_ENTRIES = 250_000
#: A state entry is ~180 bytes of JSON for a 30-character key (sha256, header
#: fingerprint, size, kind, version id, flags); 256 on average leaves room for longer keys.
ENTRY_BYTES = 256
#: The decompressed JSON may be this long (64 MB): the cap on inflating what the bucket holds.
MAX_JSON_BYTES = MAX_ENTRIES * ENTRY_BYTES
#: Deploy records kept for rollback, whatever [publish] keep_deploys says.
MAX_HISTORY = 100
#: CDN paths waiting to be invalidated; more collapse to "/*" (CloudFront allows 3,000 in progress).
MAX_INVALIDATION_PATHS = 3000
MAX_DEPLOY = 10**9


class ManifestUnreadable(Exception):
    """The manifest object exists but is not a manifest sitegen could have written.
    The text says why, in a few words; every value it echoes is clipped."""


@dataclass(frozen=True)
class ObjectState:
    sha256: str
    headers: str
    size: int
    kind: Kind
    #: S3 version id; None when the bucket does not keep versions.
    version: str | None
    #: Part of the current site. Retired hashed assets stay, not live, until collected.
    live: bool = True
    #: For a retired key: the last deploy it was live in, and when it was retired.
    last_live_deploy: int = 0
    retired_at: str = ""

    def retire(self, last_live_deploy: int, at: str) -> ObjectState:
        return self if not self.live else replace(self, live=False, last_live_deploy=last_live_deploy, retired_at=at)

    def revive(self) -> ObjectState:
        return replace(self, live=True, last_live_deploy=0, retired_at="")

    def to_json(self) -> list[Any]:
        return [self.sha256, self.headers, self.size, int(self.kind), self.version, self.live, self.last_live_deploy, self.retired_at]


@dataclass(frozen=True)
class DeployRecord:
    deploy: int
    at: str
    #: Every key this deploy changed, with its state before (None: it did not exist).
    before: Mapping[str, ObjectState | None]


@dataclass(frozen=True)
class Manifest:
    deploy: int = 0
    #: Keys relative to the prefix.
    objects: Mapping[str, ObjectState] = field(default_factory=dict)
    history: tuple[DeployRecord, ...] = ()
    pending: tuple[str, ...] = ()
    pending_invalidation: tuple[str, ...] = ()

    def needed_by_history(self) -> frozenset[str]:
        """Keys some rollback target would serve: never collect these."""
        return frozenset(key for record in self.history for key, state in record.before.items() if state and state.live)

    def entries(self) -> int:
        """Object states held, the history's included: what the size of a manifest grows with."""
        return len(self.objects) + sum(len(record.before) for record in self.history)

    def to_bytes(self) -> bytes:
        body = {
            "format": FORMAT,
            "deploy": self.deploy,
            "objects": {key: state.to_json() for key, state in sorted(self.objects.items())},
            "history": [
                {
                    "deploy": record.deploy,
                    "at": record.at,
                    "before": {k: (s.to_json() if s else None) for k, s in sorted(record.before.items())},
                }
                for record in self.history
            ],
            "pending": sorted(self.pending),
            "pending_invalidation": sorted(self.pending_invalidation),
        }
        text = json.dumps(body, sort_keys=True, separators=(",", ":"))
        if len(text) > MAX_JSON_BYTES or self.entries() > MAX_ENTRIES:
            raise PublishError.at(
                MANIFEST_KEY,
                f"would hold {self.entries():,} object states in {len(text):,} bytes, more than a manifest may"
                f" ({MAX_ENTRIES:,} states, {MAX_JSON_BYTES:,} bytes)",
                "lower [publish] keep_deploys, or publish the site in parts under several prefixes",
            )
        return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)
