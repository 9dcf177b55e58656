"""The deploy manifest: what sitegen has put in the bucket, kept in the bucket.

One object (``.sitegen/manifest.json.gz`` under the prefix) records, for every
key sitegen wrote and has not deleted, the SHA-256 of its bytes, a fingerprint
of its headers, its S3 version id and whether it is part of the live site.
``publish`` diffs the build against it instead of listing the bucket.

It also keeps the last few deploys' *before* states: for each key a deploy
changed, what was there before (or nothing). Rolling back a deploy restores
exactly those, from the S3 versions recorded here.

Serialisation is deterministic (sorted keys, gzip mtime 0).
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sitegen.publish.headers import Kind

MANIFEST_KEY = ".sitegen/manifest.json.gz"
FORMAT = "sitegen-deploy-manifest/1"


class ManifestUnreadable(Exception):
    """The manifest object exists but cannot be used; publish falls back to listing."""


@dataclass(frozen=True)
class ObjectState:
    sha256: str
    headers: str
    size: int
    kind: Kind
    #: S3 version id; None when the bucket does not keep versions.
    version: str | None
    #: Part of the current site (retired hashed assets stay, not live, until collected).
    live: bool
    #: The last deploy, and when, in which this key was live.
    last_live_deploy: int
    last_live_at: str

    def retired(self) -> ObjectState:
        return replace(self, live=False)

    def to_json(self) -> list[Any]:
        return [self.sha256, self.headers, self.size, int(self.kind), self.version, self.live, self.last_live_deploy, self.last_live_at]

    @classmethod
    def from_json(cls, raw: list[Any]) -> ObjectState:
        sha256, headers, size, kind, version, live, last_deploy, last_at = raw
        return cls(sha256, headers, size, Kind(kind), version, live, last_deploy, last_at)


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
        }
        text = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        try:
            body = json.loads(gzip.decompress(data))
            if body.get("format") != FORMAT:
                raise ManifestUnreadable(f"unknown format {body.get('format')!r}")
            objects = {key: ObjectState.from_json(raw) for key, raw in body["objects"].items()}
            history = tuple(
                DeployRecord(
                    record["deploy"], record["at"],
                    {k: (ObjectState.from_json(s) if s else None) for k, s in record["before"].items()},
                )
                for record in body["history"]
            )
            return cls(int(body["deploy"]), objects, history)
        except (OSError, EOFError, zlib.error, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ManifestUnreadable(str(exc) or type(exc).__name__) from exc
